//! Rows as the store hands them out.

use app::domain::{GateChoice, GateForm, JobStatus, RunStatus};
use sqlx::FromRow;

use super::StoreError;

/// A saved pipeline: the spec as JSON and the Constructor's layout as JSON.
#[derive(Clone, Debug, PartialEq, Eq, FromRow)]
pub struct PipelineRecord {
    pub name: String,
    pub spec: String,
    pub layout: String,
    pub created_at: i64,
    pub updated_at: i64,
    /// 1 for the first save, one more for each save after it.
    pub version: i64,
}

/// One save of a pipeline, as its history lists it.
#[derive(Clone, Debug, PartialEq, Eq, FromRow)]
pub struct PipelineVersionRecord {
    pub version: i64,
    /// `None`: a `--pipeline` file, or a save from before versions were kept.
    pub saved_by: Option<String>,
    pub saved_at: i64,
    /// `None` for a save from before versions were kept.
    pub spec_sha256: Option<String>,
}

/// One run (the graph snapshot is read with [`crate::store::Store::load_state`]).
#[derive(Clone, Debug, PartialEq, Eq, FromRow)]
pub struct RunRecord {
    pub id: i64,
    pub pipeline: String,
    #[sqlx(try_from = "String")]
    pub status: RunStatus,
    pub created_at: i64,
    pub finished_at: Option<i64>,
}

/// A run with the counts the runs list shows.
#[derive(Clone, Debug, PartialEq, Eq, FromRow)]
pub struct RunSummary {
    #[sqlx(flatten)]
    pub run: RunRecord,
    /// Goes up with every change to the run's jobs (see `Store::job_progress`).
    pub version: i64,
    pub total_jobs: i64,
    pub completed_jobs: i64,
    pub waiting_gates: i64,
    pub skipped_jobs: i64,
}

/// What the run page polls of a job: only what changes while a run goes on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JobProgressRecord {
    pub job_id: String,
    pub status: JobStatus,
    pub reason: Option<String>,
    pub started_at: Option<i64>,
    pub finished_at: Option<i64>,
    pub log_bytes: i64,
}

/// One job or gate of a run, with everything the UI shows about it.
#[derive(Clone, Debug, PartialEq, Eq, FromRow)]
pub struct JobRecord {
    pub run_id: i64,
    pub job_id: String,
    pub position: i64,
    /// `task` or `gate`.
    pub kind: String,
    #[sqlx(try_from = "String")]
    pub status: JobStatus,
    pub reason: Option<String>,
    pub exit_code: Option<i64>,
    pub started_at: Option<i64>,
    pub finished_at: Option<i64>,
    pub log_bytes: i64,
    pub gate_message: Option<String>,
    pub gate_timeout_secs: Option<i64>,
    pub gate_source: Option<String>,
    pub activated_at: Option<i64>,
    pub deadline_at: Option<i64>,
    /// `approved`, `rejected` or `timed_out`.
    pub decision: Option<String>,
    pub decided_by: Option<String>,
    pub decided_at: Option<i64>,
    pub comment: Option<String>,
    /// The server running (or that ran) this task.
    pub owner: Option<String>,
    /// What the approval of a gate with a form chose: the option, and the inputs as
    /// a JSON object.
    pub decision_option: Option<String>,
    pub decision_inputs: Option<String>,
}

/// One entry of a run's history.
#[derive(Clone, Debug, PartialEq, Eq, FromRow)]
pub struct EventRecord {
    pub id: i64,
    /// `None` for account events (sign-in, tokens, users).
    pub run_id: Option<i64>,
    pub job_id: Option<String>,
    /// `deployed`, `status`, `run_status`, or an account event such as `sign_in`.
    pub kind: String,
    pub from_status: Option<String>,
    pub to_status: Option<String>,
    pub detail: Option<String>,
    pub at: i64,
    /// Who caused it; `None` for the scheduler's own events.
    pub actor: Option<String>,
}

/// A user account. `roles` is the stored comma-separated list.
#[derive(Clone, Debug, PartialEq, Eq, FromRow)]
pub struct UserRecord {
    pub username: String,
    pub display_name: String,
    /// An argon2id PHC string; `None` for accounts that sign in through the proxy only.
    pub password_hash: Option<String>,
    pub roles: String,
    pub disabled: i64,
    pub created_at: i64,
    pub password_changed_at: i64,
}

/// An API token as listed (never its secret, which is not stored).
#[derive(Clone, Debug, PartialEq, Eq, FromRow)]
pub struct TokenRecord {
    pub id: i64,
    pub username: String,
    pub name: String,
    pub created_at: i64,
    pub expires_at: Option<i64>,
    pub last_used_at: Option<i64>,
    pub revoked_at: Option<i64>,
}

/// A piece of a job's log read from an offset.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogChunk {
    /// The text from `offset` on, at most the number of bytes asked for.
    pub text: String,
    /// Where `text` starts (bytes).
    pub offset: u64,
    /// Where to read from next time.
    pub next_offset: u64,
    /// The log's whole size so far.
    pub total_bytes: u64,
    /// The job has finished, so the log will not grow any more.
    pub finished: bool,
}

/// What a gate's approval chose, from the row's `decision_option` and `decision_inputs`
/// (a JSON object); `None` for a gate that chose nothing.
pub fn gate_choice(
    option: Option<&str>,
    inputs: Option<&str>,
) -> Result<Option<GateChoice>, StoreError> {
    if option.is_none() && inputs.is_none() {
        return Ok(None);
    }
    let inputs = match inputs {
        Some(json) => serde_json::from_str(json)
            .map_err(|err| StoreError::Corrupt(format!("a gate's inputs: {err}")))?,
        None => Default::default(),
    };
    Ok(Some(GateChoice {
        option: option.map(str::to_string),
        inputs,
    }))
}

/// A gate's options and inputs from its row's `gate_form` (JSON; null: a yes/no gate).
pub fn gate_form(json: Option<&str>) -> Result<GateForm, StoreError> {
    match json {
        Some(json) => serde_json::from_str(json)
            .map_err(|err| StoreError::Corrupt(format!("a gate's form: {err}"))),
        None => Ok(GateForm::default()),
    }
}

impl JobRecord {
    /// What this gate's approval chose (see [`gate_choice`]).
    pub fn choice(&self) -> Result<Option<GateChoice>, StoreError> {
        gate_choice(
            self.decision_option.as_deref(),
            self.decision_inputs.as_deref(),
        )
    }
}
