//! What the API answers with. Times are milliseconds since the Unix epoch.

use serde::{Deserialize, Serialize};

use crate::domain::{GateChoice, GateDecision, GateForm, JobStatus, Pipeline, RunStatus};

/// A run as the runs list shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunSummary {
    pub id: i64,
    pub pipeline: String,
    pub status: RunStatus,
    pub created_at_ms: i64,
    pub finished_at_ms: Option<i64>,
    pub total_jobs: u32,
    pub completed_jobs: u32,
    /// Gates waiting for a decision right now.
    pub waiting_gates: u32,
    /// Jobs and gates whose branch was not taken (`when`): done, without running.
    #[serde(default)]
    pub skipped_jobs: u32,
}

impl RunSummary {
    /// How many jobs are done: completed, or skipped as a branch not taken.
    pub fn done_jobs(&self) -> u32 {
        self.completed_jobs + self.skipped_jobs
    }
}

/// A saved pipeline as the pipelines list shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PipelineSummary {
    pub name: String,
    pub jobs: u32,
    /// Jobs with a gate (a non-blank gate message).
    pub gates: u32,
    pub updated_at_ms: i64,
}

/// A saved pipeline with its spec and the Constructor's layout.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SavedPipeline {
    pub name: String,
    /// Which save this is: 1 for the first, one more for each after it.
    #[serde(default)]
    pub version: i64,
    pub pipeline: Pipeline,
    /// The same pipeline as YAML, as the README documents it.
    pub yaml: String,
    /// Node positions and other editor state; `{}` when saved from a file or the API.
    pub layout: serde_json::Value,
    pub created_at_ms: i64,
    pub updated_at_ms: i64,
}

impl SavedPipeline {
    /// As someone sees it who may or may not see `env` values and whole `notify` URLs
    /// (see [`crate::domain::redaction`]); the YAML follows.
    pub fn redacted_for(self, env_values: bool, notify_urls: bool) -> SavedPipeline {
        if env_values && notify_urls {
            return self;
        }
        let pipeline = self.pipeline.redacted(env_values, notify_urls);
        SavedPipeline {
            yaml: pipeline.to_yaml(),
            pipeline,
            ..self
        }
    }
}

/// A pipeline given to the API: YAML or JSON text, or the pipeline object itself.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum PipelineSource {
    Text(String),
    Spec(Pipeline),
}

impl PipelineSource {
    /// The pipeline, read from text if need be; either form is held to
    /// [`crate::domain::MAX_SPEC_BYTES`]. Server side only, as [`Pipeline::parse`].
    #[cfg(not(feature = "csr"))]
    pub fn into_pipeline(self) -> Result<Pipeline, crate::domain::ParseError> {
        match self {
            PipelineSource::Text(text) => Pipeline::parse(&text),
            PipelineSource::Spec(pipeline) => {
                pipeline.check_size()?;
                Ok(pipeline)
            }
        }
    }
}

/// Whether a node of a run is a shell task or an injected gate.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JobKind {
    Task,
    Gate,
}

/// A gate's own fields: what it asks, until when, and how it was decided.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GateView {
    pub message: String,
    pub timeout_secs: u64,
    /// The job whose output the reviewer looks at.
    pub source: String,
    pub activated_at_ms: Option<i64>,
    pub deadline_at_ms: Option<i64>,
    pub decision: Option<GateDecision>,
    pub decided_by: Option<String>,
    pub decided_at_ms: Option<i64>,
    pub comment: Option<String>,
    /// The options and inputs the approver fills in (absent: a yes/no gate).
    #[serde(default, skip_serializing_if = "GateForm::is_empty")]
    pub form: GateForm,
    /// What the approval chose, once the gate is approved.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub choice: Option<GateChoice>,
}

/// One job or gate of a run.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobView {
    pub id: String,
    pub kind: JobKind,
    pub status: JobStatus,
    pub depends_on: Vec<String>,
    /// Why it is in its status: "exit code 2", "rejected by ana", ...
    pub reason: Option<String>,
    pub exit_code: Option<i64>,
    pub started_at_ms: Option<i64>,
    pub finished_at_ms: Option<i64>,
    pub log_bytes: u64,
    pub gate: Option<GateView>,
    /// The server that runs (or ran) this task.
    pub owner: Option<String>,
}

/// A dependency edge: `to` waits for `from`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Edge {
    pub from: String,
    pub to: String,
}

/// One save of a pipeline, as its history lists it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PipelineVersion {
    pub version: i64,
    /// Who saved it; `None` for a `--pipeline` file or a save from before versions.
    pub saved_by: Option<String>,
    pub saved_at_ms: i64,
    /// The SHA-256 of its spec (hex); `None` for a save from before versions.
    pub spec_sha256: Option<String>,
}

/// An environment as the API shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnvironmentView {
    pub name: String,
    pub rules: crate::domain::environment::EnvironmentRules,
    pub updated_by: Option<String>,
    pub updated_at_ms: i64,
}

/// One line of a diff between two versions' YAML.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DiffLine {
    /// `+` added, `-` removed, ` ` the same.
    pub change: char,
    pub text: String,
}

/// Where a run came from.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunSource {
    /// The saved pipeline's version it was deployed from; `None`: a spec given whole
    /// (or a run from before versions were kept).
    pub pipeline_version: Option<i64>,
    /// The SHA-256 (hex) of the spec it ran, as JSON; `None` for runs from before.
    pub spec_sha256: Option<String>,
}

/// A run with all of its jobs and edges.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunDetail {
    pub run: RunSummary,
    /// Where it came from.
    #[serde(default)]
    pub source: RunSource,
    /// In topological order.
    pub jobs: Vec<JobView>,
    pub edges: Vec<Edge>,
}

/// A gate waiting for a decision.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingGate {
    pub run_id: i64,
    pub pipeline: String,
    pub gate: String,
    pub source: String,
    pub message: String,
    pub activated_at_ms: i64,
    pub deadline_at_ms: i64,
    /// Who may decide, in words ("ana or group ml-leads").
    #[serde(default)]
    pub approvers: String,
    /// How many different people must approve.
    #[serde(default)]
    pub approvals_required: u32,
    /// The environment whose rules these are, if the gate names one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub environment: Option<String>,
    /// The approvals given so far.
    #[serde(default)]
    pub approvals: Vec<ApprovalView>,
    /// Who deployed the run (the two-person rule keeps them from deciding).
    #[serde(default)]
    pub deployed_by: Option<String>,
    /// Whether the person asking may decide this gate, and if not, why.
    #[serde(default)]
    pub your_access: DecisionAccess,
    /// The options and inputs an approval fills in (absent: a yes/no gate).
    #[serde(default, skip_serializing_if = "GateForm::is_empty")]
    pub form: GateForm,
}

/// One person's approval of a gate.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApprovalView {
    pub by: String,
    pub at_ms: i64,
    pub comment: Option<String>,
    /// An admin bypassed the gate's rules.
    pub overriding: bool,
}

/// Whether the signed-in person may decide a gate: the reason is the one the server
/// would give in its 403, so the banner can show it on a disabled button.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DecisionAccess {
    pub may_approve: bool,
    pub may_reject: bool,
    /// Why not, when either is false.
    pub reason: Option<String>,
    /// An admin may still decide with `override: true` and a comment.
    pub may_override: bool,
}

/// An account as admins see it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserView {
    pub username: String,
    pub display_name: String,
    pub roles: Vec<crate::domain::Role>,
    pub groups: Vec<String>,
    pub disabled: bool,
    /// Signs in with a password (else only through the trusted proxy).
    pub has_password: bool,
    pub created_at_ms: i64,
}

/// Changes to an account; absent fields stay as they are.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserUpdate {
    pub display_name: Option<String>,
    pub roles: Option<Vec<crate::domain::Role>>,
    pub groups: Option<Vec<String>>,
    pub disabled: Option<bool>,
}

/// An API token as listed (its secret is shown once, at creation).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenView {
    pub id: i64,
    pub username: String,
    pub name: String,
    pub created_at_ms: i64,
    pub expires_at_ms: Option<i64>,
    pub last_used_at_ms: Option<i64>,
    pub revoked_at_ms: Option<i64>,
}

/// A token just created: `token` is its secret, never shown again.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewToken {
    pub token: String,
    #[serde(flatten)]
    pub view: TokenView,
}

/// One entry of an audit trail.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntry {
    pub at_ms: i64,
    /// Who caused it; `None` for Tollgate's own steps (a job exiting).
    pub actor: Option<String>,
    /// `deployed`, `status`, `run_status`, `sign_in`, `token_created`, ...
    pub kind: String,
    pub job: Option<String>,
    pub from_status: Option<String>,
    pub to_status: Option<String>,
    pub detail: Option<String>,
}

/// A webhook notification and how its delivery went, for admins.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotificationView {
    pub id: i64,
    /// `7/hitl-gate-review/waiting`: the `X-Tollgate-Delivery` header.
    pub event_id: String,
    pub endpoint: String,
    pub run_id: i64,
    /// `gate_waiting`, `gate_decided`, `gate_timed_out` or `run_finished`.
    pub kind: String,
    pub created_at_ms: i64,
    pub attempts: u32,
    /// `delivered`, `retrying` (tried again at `next_attempt_at_ms`) or `given_up`.
    pub state: String,
    pub next_attempt_at_ms: Option<i64>,
    pub delivered_at_ms: Option<i64>,
    /// What the last failed attempt got back.
    pub last_error: Option<String>,
}

/// What a deploy created.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Deployed {
    pub run_id: i64,
    pub pipeline: String,
    /// Every node of the run, gates included.
    pub jobs: Vec<String>,
    /// The injected gates.
    pub gates: Vec<String>,
}

/// A piece of a job's log.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogPage {
    pub text: String,
    /// Where `text` starts (bytes).
    pub offset: u64,
    /// Where to read from next time.
    pub next_offset: u64,
    pub total_bytes: u64,
    /// The job is finished: nothing more will be written.
    pub finished: bool,
}

/// A file in a run's workspace.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkspaceFile {
    /// Relative to the workspace, `/`-separated.
    pub path: String,
    pub size: u64,
    pub modified_at_ms: i64,
    /// The job that last wrote it, when only one job ran at that moment.
    pub written_by: Option<String>,
}

/// What changes while a run goes on: polled by the run page after the first `get_run`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunProgress {
    pub run: RunSummary,
    /// Pass it back as `since` to hear only of later changes.
    pub version: i64,
    /// Every job when the request had no `since`; else only those changed after it.
    pub jobs: Vec<JobProgress>,
}

/// The changing part of one job.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobProgress {
    pub id: String,
    pub status: JobStatus,
    pub reason: Option<String>,
    pub started_at_ms: Option<i64>,
    pub finished_at_ms: Option<i64>,
    pub log_bytes: u64,
}
