//! The HTTP API: types shared by browser and server, and the server functions.
//!
//! Each server function has a stable path under `/api/` and takes and returns JSON, so
//! it is as usable from `curl` as from the UI. Their bodies (compiled with `ssr`) only
//! call the [`backend::Backend`] the server provides.

mod accounts;
#[cfg(feature = "ssr")]
pub mod backend;
mod drafts;
mod environments;
mod error;
mod files;
mod gates;
mod pipelines;
mod runs;
mod types;

pub use accounts::{
    audit_trail, create_token, create_user, list_tokens, list_users, login, logout, notifications,
    revoke_token, set_password, update_user, whoami,
};
pub use drafts::{load_draft, save_draft};
pub use environments::{delete_environment, list_environments, save_environment};
pub use error::{ApiError, DATABASE_UNAVAILABLE, Problem};
pub use files::{job_log, list_files};
pub use gates::{decide_gate, pending_gates};
pub use pipelines::{
    get_pipeline, list_pipelines, parse_pipeline, pipeline_diff, pipeline_history, save_pipeline,
};
pub use runs::{cancel_job, cancel_run, deploy_pipeline, get_run, list_runs, run_statuses};
pub use types::{
    ApprovalView, AuditEntry, DecisionAccess, Deployed, DiffLine, Edge, EnvironmentView, GateView,
    JobKind, JobProgress, JobView, LogPage, NewToken, NotificationView, PendingGate,
    PipelineSource, PipelineSummary, PipelineVersion, RunDetail, RunProgress, RunSource,
    RunSummary, SavedPipeline, TokenView, UserUpdate, UserView, WorkspaceFile,
};

/// The longest comment kept with a decision.
pub const MAX_COMMENT_BYTES: usize = 4096;

/// The `by` field of old clients: who acts is the signed-in user, never a name sent
/// with the request, so a request that still names someone is refused rather than
/// silently recorded under another name.
pub fn refuse_by(by: Option<String>) -> Result<(), ApiError> {
    match by {
        None => Ok(()),
        Some(_) => Err(ApiError::bad_request(
            "`by` is not accepted: actions are recorded under the signed-in user; remove the field",
        )),
    }
}
