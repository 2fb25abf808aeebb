//! The server side of the API (feature `ssr`): the trait the `server` crate implements
//! and the server functions call, handed to them through Leptos context.

use std::sync::Arc;

use async_trait::async_trait;
use leptos::prelude::use_context;
use leptos_axum::ResponseOptions;

use super::{
    ApiError, Deployed, JobView, LogPage, PendingGate, PipelineSummary, RunDetail, RunProgress,
    RunSummary, SavedPipeline, WorkspaceFile,
};
use crate::domain::{Decision, Pipeline};

/// Everything the server functions need from the server.
#[async_trait]
pub trait Backend: Send + Sync + 'static {
    /// The newest `limit` runs, newest first.
    async fn list_runs(&self, limit: u32) -> Result<Vec<RunSummary>, ApiError>;
    async fn list_pipelines(&self) -> Result<Vec<PipelineSummary>, ApiError>;
    async fn get_pipeline(&self, name: &str) -> Result<SavedPipeline, ApiError>;
    /// Saves a valid pipeline under its name, replacing an earlier version.
    async fn save_pipeline(
        &self,
        pipeline: Pipeline,
        layout: serde_json::Value,
    ) -> Result<SavedPipeline, ApiError>;
    /// Validates and expands the pipeline, stores a new run and starts it.
    async fn deploy(&self, pipeline: Pipeline) -> Result<Deployed, ApiError>;
    async fn get_run(&self, run: i64) -> Result<RunDetail, ApiError>;
    async fn run_statuses(&self, run: i64) -> Result<RunProgress, ApiError>;
    /// The pipeline a run was deployed from.
    async fn run_pipeline(&self, run: i64) -> Result<Pipeline, ApiError>;
    /// Waiting gates (of one run, or of all), oldest activation first.
    async fn pending_gates(&self, run: Option<i64>) -> Result<Vec<PendingGate>, ApiError>;
    async fn decide_gate(
        &self,
        run: i64,
        gate: &str,
        decision: Decision,
        by: String,
        comment: Option<String>,
    ) -> Result<JobView, ApiError>;
    async fn cancel_run(&self, run: i64, by: String) -> Result<RunSummary, ApiError>;
    async fn cancel_job(&self, run: i64, job: &str, by: String) -> Result<JobView, ApiError>;
    async fn job_log(
        &self,
        run: i64,
        job: &str,
        offset: u64,
        limit: u64,
    ) -> Result<LogPage, ApiError>;
    async fn list_files(&self, run: i64) -> Result<Vec<WorkspaceFile>, ApiError>;
    /// Keeps the Constructor's draft; returns when.
    async fn save_draft(&self, draft: crate::constructor::Draft) -> Result<i64, ApiError>;
    async fn load_draft(&self) -> Result<Option<crate::constructor::Draft>, ApiError>;
}

/// The backend as the server provides it in context.
pub type SharedBackend = Arc<dyn Backend>;

/// The backend of this request, or an internal error if the server did not provide it.
pub fn backend() -> Result<SharedBackend, ApiError> {
    use_context::<SharedBackend>()
        .ok_or_else(|| ApiError::internal("the server provided no backend to the API"))
}

/// Sets the HTTP status of the current reply to the one `error` maps to.
pub fn set_response_status(error: &ApiError) {
    if let Some(response) = use_context::<ResponseOptions>()
        && let Ok(status) = http::StatusCode::from_u16(error.status())
    {
        response.set_status(status);
    }
}

/// Passes a result through, giving an error its HTTP status on the way.
pub fn reply<T>(result: Result<T, ApiError>) -> Result<T, ApiError> {
    if let Err(error) = &result {
        set_response_status(error);
    }
    result
}
