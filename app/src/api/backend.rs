//! The server side of the API (feature `ssr`): the trait the `server` crate implements
//! and the server functions call, handed to them through Leptos context together with
//! the [`Caller`] that the server's sign-in guard worked out.
//!
//! Every operation takes the signed-in [`Actor`]; the backend decides what that person
//! may do. A request body never names who is acting.

use std::net::IpAddr;
use std::sync::Arc;

use async_trait::async_trait;
use leptos::prelude::use_context;
use leptos_axum::ResponseOptions;

use super::{
    ApiError, AuditEntry, Deployed, DiffLine, EnvironmentView, JobView, LogPage, NewToken,
    NotificationView, PendingGate, PipelineSummary, PipelineVersion, RunDetail, RunProgress,
    RunSummary, SavedPipeline, TokenView, UserUpdate, UserView, WorkspaceFile,
};
use crate::domain::{Actor, Decision, Pipeline};

/// Who made the current request, as the server's guard found out.
#[derive(Clone, Debug, Default)]
pub struct Caller {
    /// `None` only on the calls open to everyone (signing in).
    pub actor: Option<Actor>,
    pub address: Option<IpAddr>,
    /// The session id from the cookie, to end it on sign-out.
    pub session: Option<String>,
}

/// A person's decision at a gate, as the API takes it.
#[derive(Clone, Debug)]
pub struct GateDecisionRequest {
    pub decision: Decision,
    pub comment: Option<String>,
    /// An admin bypassing the gate's rules (needs a comment).
    pub overriding: bool,
    /// For a gate with options: the one chosen (approvals only).
    pub option: Option<String>,
    /// For a gate with inputs: the values given, by input name (approvals only).
    pub inputs: std::collections::BTreeMap<String, serde_json::Value>,
}

/// Everything the server functions need from the server.
#[async_trait]
pub trait Backend: Send + Sync + 'static {
    /// The newest `limit` runs, newest first.
    async fn list_runs(&self, actor: &Actor, limit: u32) -> Result<Vec<RunSummary>, ApiError>;
    async fn list_pipelines(&self, actor: &Actor) -> Result<Vec<PipelineSummary>, ApiError>;
    async fn list_environments(&self, actor: &Actor) -> Result<Vec<EnvironmentView>, ApiError>;
    async fn save_environment(
        &self,
        actor: &Actor,
        name: &str,
        rules: crate::domain::environment::EnvironmentRules,
    ) -> Result<EnvironmentView, ApiError>;
    async fn delete_environment(&self, actor: &Actor, name: &str) -> Result<(), ApiError>;
    /// A saved pipeline (its newest version, or `version`), as `actor` may see it.
    async fn get_pipeline(
        &self,
        actor: &Actor,
        name: &str,
        version: Option<i64>,
    ) -> Result<SavedPipeline, ApiError>;
    async fn pipeline_history(
        &self,
        actor: &Actor,
        name: &str,
    ) -> Result<Vec<PipelineVersion>, ApiError>;
    async fn pipeline_diff(
        &self,
        actor: &Actor,
        name: &str,
        from: i64,
        to: i64,
    ) -> Result<Vec<DiffLine>, ApiError>;
    /// Reads a pipeline from YAML or JSON text without validating or saving it.
    async fn parse_pipeline(&self, actor: &Actor, text: &str) -> Result<Pipeline, ApiError>;
    /// Checks the pipeline (the server's jobs-per-run limit, then every rule of
    /// [`crate::domain::validate`]) and saves it under its name, replacing an earlier
    /// version.
    async fn save_pipeline(
        &self,
        actor: &Actor,
        pipeline: Pipeline,
        layout: serde_json::Value,
    ) -> Result<SavedPipeline, ApiError>;
    /// Checks the jobs-per-run limit, validates and expands the pipeline, stores a new
    /// run and starts it.
    /// `version`: the saved version it is (`None`: a spec given whole).
    async fn deploy(
        &self,
        actor: &Actor,
        pipeline: Pipeline,
        version: Option<i64>,
    ) -> Result<Deployed, ApiError>;
    async fn get_run(&self, actor: &Actor, run: i64) -> Result<RunDetail, ApiError>;
    async fn run_statuses(
        &self,
        actor: &Actor,
        run: i64,
        since: Option<i64>,
    ) -> Result<RunProgress, ApiError>;
    /// The pipeline a run was deployed from, and the saved version it was.
    async fn run_pipeline(
        &self,
        actor: &Actor,
        run: i64,
    ) -> Result<(Pipeline, Option<i64>), ApiError>;
    /// A saved pipeline's newest version whole, to deploy it (`get_pipeline` hides what
    /// the actor may not see), and its number.
    async fn saved_pipeline(&self, actor: &Actor, name: &str) -> Result<(Pipeline, i64), ApiError>;
    /// Waiting gates (of one run, or of all), oldest activation first, each saying
    /// whether `actor` may decide it.
    async fn pending_gates(
        &self,
        actor: &Actor,
        run: Option<i64>,
    ) -> Result<Vec<PendingGate>, ApiError>;
    async fn decide_gate(
        &self,
        actor: &Actor,
        run: i64,
        gate: &str,
        request: GateDecisionRequest,
    ) -> Result<JobView, ApiError>;
    async fn cancel_run(&self, actor: &Actor, run: i64) -> Result<RunSummary, ApiError>;
    async fn cancel_job(&self, actor: &Actor, run: i64, job: &str) -> Result<JobView, ApiError>;
    async fn job_log(
        &self,
        actor: &Actor,
        run: i64,
        job: &str,
        offset: u64,
        limit: u64,
    ) -> Result<LogPage, ApiError>;
    async fn list_files(&self, actor: &Actor, run: i64) -> Result<Vec<WorkspaceFile>, ApiError>;
    /// Keeps the Constructor's draft of `actor`; returns when.
    async fn save_draft(
        &self,
        actor: &Actor,
        draft: crate::constructor::Draft,
    ) -> Result<i64, ApiError>;
    async fn load_draft(
        &self,
        actor: &Actor,
    ) -> Result<Option<crate::constructor::Draft>, ApiError>;

    /// Checks a password, opens a session; returns who and the `Set-Cookie` value.
    async fn sign_in(
        &self,
        username: &str,
        password: &str,
        address: Option<IpAddr>,
    ) -> Result<(Actor, String), ApiError>;
    /// Ends the session; returns the `Set-Cookie` value that clears it.
    async fn sign_out(&self, actor: &Actor, session: Option<&str>) -> Result<String, ApiError>;
    async fn list_users(&self, actor: &Actor) -> Result<Vec<UserView>, ApiError>;
    async fn create_user(
        &self,
        actor: &Actor,
        username: &str,
        password: &str,
        update: UserUpdate,
    ) -> Result<UserView, ApiError>;
    async fn update_user(
        &self,
        actor: &Actor,
        username: &str,
        update: UserUpdate,
    ) -> Result<UserView, ApiError>;
    /// Changes a password: one's own (with the current one, whose wrong guesses count
    /// against `address` as failed sign-ins do), or anyone's as an admin.
    async fn set_password(
        &self,
        actor: &Actor,
        username: &str,
        current: Option<String>,
        new: &str,
        address: Option<IpAddr>,
    ) -> Result<(), ApiError>;
    async fn create_token(
        &self,
        actor: &Actor,
        owner: Option<String>,
        name: &str,
        expires_in_days: Option<u32>,
    ) -> Result<NewToken, ApiError>;
    async fn list_tokens(&self, actor: &Actor, all: bool) -> Result<Vec<TokenView>, ApiError>;
    async fn revoke_token(&self, actor: &Actor, id: i64) -> Result<TokenView, ApiError>;
    /// A run's audit trail, or (for admins, `run` absent) the account events.
    async fn audit_trail(
        &self,
        actor: &Actor,
        run: Option<i64>,
    ) -> Result<Vec<AuditEntry>, ApiError>;
    /// The newest webhook notifications and how they went (admins).
    async fn notifications(&self, actor: &Actor) -> Result<Vec<NotificationView>, ApiError>;
}

/// The backend as the server provides it in context.
pub type SharedBackend = Arc<dyn Backend>;

/// The backend of this request, or an internal error if the server did not provide it.
pub fn backend() -> Result<SharedBackend, ApiError> {
    use_context::<SharedBackend>()
        .ok_or_else(|| ApiError::internal("the server provided no backend to the API"))
}

/// Who made this request, as the server's guard found out.
pub fn caller() -> Caller {
    use_context::<Caller>().unwrap_or_default()
}

/// The signed-in person, or 401.
pub fn actor() -> Result<Actor, ApiError> {
    caller().actor.ok_or_else(|| ApiError::Unauthorized {
        message: "sign in first (POST /api/login)".into(),
    })
}

/// Adds a header to the reply (a `Set-Cookie`).
pub fn add_header(name: http::HeaderName, value: &str) {
    if let Some(response) = use_context::<ResponseOptions>()
        && let Ok(value) = http::HeaderValue::from_str(value)
    {
        response.append_header(name, value);
    }
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
