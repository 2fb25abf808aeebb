//! The pages of the web client, one file each.

mod approvals;
mod constructor;
mod not_found;
mod notifications;
mod pipeline_history;
mod pipelines;
mod run;
mod runs;
mod sign_in;
mod users;

pub use approvals::ApprovalsPage;
pub use constructor::ConstructorPage;
pub use not_found::NotFoundPage;
pub use notifications::NotificationsPanel;
pub use pipelines::PipelinesPage;
pub use run::RunPage;
pub use runs::RunsPage;
pub use sign_in::SignInPage;
pub use users::UsersPage;
