//! The pages of the web client, one file each.

mod not_found;
mod pipelines;
mod run;
mod runs;

pub use not_found::NotFoundPage;
pub use pipelines::PipelinesPage;
pub use run::RunPage;
pub use runs::RunsPage;
