//! The pages of the web client, one file each.

mod not_found;
mod pipelines;
mod runs;

pub use not_found::NotFoundPage;
pub use pipelines::PipelinesPage;
pub use runs::RunsPage;
