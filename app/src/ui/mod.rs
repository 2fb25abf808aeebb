//! Small UI helpers shared by the pages: polling, time formatting, status badges.

mod approvals_badge;
mod area_link;
mod arrow_marker;
mod call;
mod comment_field;
mod database_health;
mod fetched;
mod format;
mod gate_form_fields;
mod interval;
mod keys;
mod latest;
mod session;
mod status_badge;

pub use approvals_badge::ApprovalsBadge;
pub use area_link::{area_rel, open_page};
pub use arrow_marker::ArrowMarker;
pub use call::Call;
pub use comment_field::CommentField;
pub use database_health::{DatabaseBanner, DatabaseHealth};
pub use fetched::{ErrorMessage, list_view};
pub use format::{format_bytes, format_elapsed, format_time, now_ms};
pub use gate_form_fields::{FormValues, GateFormFields};
pub use interval::use_interval;
pub use keys::{confirm, is_typing};
pub use latest::latest;
pub use session::{Session, SessionState};
pub use status_badge::StatusBadge;
