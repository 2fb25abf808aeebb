//! The HTTP API: types shared by browser and server, and the server functions.
//!
//! Each server function has a stable path under `/api/` and takes and returns JSON, so
//! it is as usable from `curl` as from the UI. Their bodies (compiled with `ssr`) only
//! call the [`backend::Backend`] the server provides.

#[cfg(feature = "ssr")]
pub mod backend;
mod drafts;
mod error;
mod files;
mod gates;
mod pipelines;
mod runs;
mod types;

pub use drafts::{load_draft, save_draft};
pub use error::{ApiError, Problem};
pub use files::{job_log, list_files};
pub use gates::{decide_gate, pending_gates};
pub use pipelines::{get_pipeline, list_pipelines, save_pipeline};
pub use runs::{cancel_job, cancel_run, deploy_pipeline, get_run, list_runs, run_statuses};
pub use types::{
    Deployed, Edge, GateView, JobKind, JobProgress, JobView, LogPage, PendingGate, PipelineSource,
    PipelineSummary, RunDetail, RunProgress, RunSummary, SavedPipeline, WorkspaceFile,
};

/// Who made a request: the name sent with it until there is authentication.
pub fn person(by: Option<String>) -> String {
    by.map(|name| name.trim().chars().take(100).collect::<String>())
        .filter(|name| !name.is_empty())
        .unwrap_or_else(|| "anonymous".to_string())
}
