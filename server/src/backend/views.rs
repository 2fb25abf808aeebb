//! Store records turned into what the API answers with.

use app::api::{
    ApiError, AuditEntry, Edge, GateView, JobKind, JobView, NotificationView, PipelineVersion,
    RunSummary, SavedPipeline, TokenView, UserView, WorkspaceFile,
};
use app::domain::{GateDecision, GateForm, NodeKind, Pipeline, RunGraph, RunNode};

use crate::store::{
    EventRecord, JobRecord, NotificationRecord, PipelineRecord, PipelineVersionRecord,
    RunSummary as RunSummaryRecord, StoreError, TokenRecord, UserRecord,
};
use crate::workspace::FileInfo;

pub fn count(value: i64) -> u32 {
    u32::try_from(value).unwrap_or(u32::MAX)
}

pub fn run_summary(summary: RunSummaryRecord) -> RunSummary {
    RunSummary {
        id: summary.run.id,
        pipeline: summary.run.pipeline,
        status: summary.run.status,
        created_at_ms: summary.run.created_at,
        finished_at_ms: summary.run.finished_at,
        total_jobs: count(summary.total_jobs),
        completed_jobs: count(summary.completed_jobs),
        waiting_gates: count(summary.waiting_gates),
        skipped_jobs: count(summary.skipped_jobs),
    }
}

pub fn notification(record: NotificationRecord) -> NotificationView {
    let state = if record.delivered_at.is_some() {
        "delivered"
    } else if record.gave_up_at.is_some() {
        "given_up"
    } else {
        "retrying"
    };
    NotificationView {
        id: record.id,
        event_id: record.event_id,
        endpoint: record.endpoint,
        run_id: record.run_id,
        kind: record.kind,
        created_at_ms: record.created_at,
        attempts: u32::try_from(record.attempts).unwrap_or(u32::MAX),
        state: state.to_string(),
        next_attempt_at_ms: (state == "retrying").then_some(record.next_attempt_at),
        delivered_at_ms: record.delivered_at,
        last_error: record.last_error,
    }
}

pub fn saved_pipeline(record: PipelineRecord) -> Result<SavedPipeline, ApiError> {
    let pipeline: Pipeline = serde_json::from_str(&record.spec)
        .map_err(|err| StoreError::Corrupt(format!("saved pipeline `{}`: {err}", record.name)))?;
    let layout = serde_json::from_str(&record.layout).unwrap_or_else(|_| serde_json::json!({}));
    Ok(SavedPipeline {
        name: record.name,
        version: record.version,
        yaml: pipeline.to_yaml(),
        pipeline,
        layout,
        created_at_ms: record.created_at,
        updated_at_ms: record.updated_at,
    })
}

/// One save of a pipeline, as its history lists it.
pub fn pipeline_version(record: PipelineVersionRecord) -> PipelineVersion {
    PipelineVersion {
        version: record.version,
        saved_by: record.saved_by,
        saved_at_ms: record.saved_at,
        spec_sha256: record.spec_sha256,
    }
}

/// A job as the API shows it; `graph` gives its dependencies.
pub fn job(record: JobRecord, node: Option<&RunNode>) -> JobView {
    let depends_on = node.map(|node| node.depends_on.clone()).unwrap_or_default();
    let gate = (record.kind == "gate").then(|| GateView {
        message: record.gate_message.clone().unwrap_or_default(),
        timeout_secs: record
            .gate_timeout_secs
            .map_or(0, |s| u64::try_from(s).unwrap_or(0)),
        source: record.gate_source.clone().unwrap_or_default(),
        activated_at_ms: record.activated_at,
        deadline_at_ms: record.deadline_at,
        decision: record.decision.as_deref().and_then(GateDecision::parse),
        decided_by: record.decided_by.clone(),
        decided_at_ms: record.decided_at,
        comment: record.comment.clone(),
        form: match node.map(|node| &node.kind) {
            Some(NodeKind::Gate { form, .. }) => form.clone(),
            _ => GateForm::default(),
        },
        // An unreadable stored value shows as no choice rather than failing the page.
        choice: record.choice().ok().flatten(),
    });
    JobView {
        kind: if gate.is_some() {
            JobKind::Gate
        } else {
            JobKind::Task
        },
        id: record.job_id,
        status: record.status,
        depends_on,
        reason: record.reason,
        exit_code: record.exit_code,
        started_at_ms: record.started_at,
        finished_at_ms: record.finished_at,
        log_bytes: u64::try_from(record.log_bytes).unwrap_or(0),
        gate,
        owner: record.owner,
    }
}

pub fn edges(graph: &RunGraph) -> Vec<Edge> {
    graph
        .nodes
        .iter()
        .flat_map(|node| {
            node.depends_on.iter().map(|from| Edge {
                from: from.clone(),
                to: node.id.clone(),
            })
        })
        .collect()
}

/// How far a file's time may lag the server's clock: the kernel stamps files from a
/// coarse clock (one scheduler tick, up to 10 ms), and a job starts within a
/// millisecond of its recorded start.
const FILE_CLOCK_SLACK_MS: i64 = 10;

/// A workspace file, credited to the one task that ran when it was last written.
pub fn workspace_file(file: FileInfo, jobs: &[JobRecord]) -> WorkspaceFile {
    let mut writers = jobs.iter().filter(|job| {
        job.kind == "task"
            && job
                .started_at
                .is_some_and(|start| start - FILE_CLOCK_SLACK_MS <= file.modified_ms)
            && job
                .finished_at
                .is_none_or(|end| file.modified_ms <= end + FILE_CLOCK_SLACK_MS)
    });
    let written_by = match (writers.next(), writers.next()) {
        (Some(only), None) => Some(only.job_id.clone()),
        _ => None,
    };
    WorkspaceFile {
        path: file.path,
        size: file.size,
        modified_at_ms: file.modified_ms,
        written_by,
    }
}

/// A token as listed.
pub fn token(record: TokenRecord) -> TokenView {
    TokenView {
        id: record.id,
        username: record.username,
        name: record.name,
        created_at_ms: record.created_at,
        expires_at_ms: record.expires_at,
        last_used_at_ms: record.last_used_at,
        revoked_at_ms: record.revoked_at,
    }
}

/// An account as admins see it.
pub fn user(record: UserRecord, groups: Vec<String>) -> UserView {
    let has_password = record.password_hash.is_some();
    let disabled = record.disabled != 0;
    let created_at_ms = record.created_at;
    let actor = crate::auth::actor_from(record, groups);
    UserView {
        username: actor.username,
        display_name: actor.display_name,
        roles: actor.roles,
        groups: actor.groups,
        disabled,
        has_password,
        created_at_ms,
    }
}

/// One entry of an audit trail.
pub fn audit_entry(event: EventRecord) -> AuditEntry {
    AuditEntry {
        at_ms: event.at,
        actor: event.actor,
        kind: event.kind,
        job: event.job_id,
        from_status: event.from_status,
        to_status: event.to_status,
        detail: event.detail,
    }
}
