//! Why a decision was refused, told the way the reviewer needs it: what the gate is
//! now, and who decided it when.

use app::domain::{GateDecision, JobStatus};

use crate::engine::rfc3339;
use crate::store::JobRecord;

/// The message for a decision on a gate that is not waiting.
pub fn not_waiting(gate: &JobRecord) -> String {
    let id = &gate.job_id;
    let when = gate.decided_at.map(rfc3339).unwrap_or_default();
    let who = gate.decided_by.as_deref().unwrap_or("someone");
    match (
        gate.status,
        gate.decision.as_deref().and_then(GateDecision::parse),
    ) {
        (JobStatus::Pending, _) => format!(
            "gate `{id}` is not waiting yet: its source job `{}` has not completed",
            gate.gate_source.as_deref().unwrap_or("?")
        ),
        (_, Some(GateDecision::Approved)) => {
            format!("gate `{id}` was already approved by {who} at {when}")
        }
        (_, Some(GateDecision::Rejected)) => {
            format!("gate `{id}` was already rejected by {who} at {when}")
        }
        (_, Some(GateDecision::TimedOut)) => format!(
            "gate `{id}` {} at {when}; it can no longer be decided",
            gate.reason.as_deref().unwrap_or("timed out")
        ),
        (JobStatus::Cancelled, None) => format!(
            "gate `{id}` was cancelled ({}); it can no longer be decided",
            gate.reason.as_deref().unwrap_or("no reason recorded")
        ),
        (status, None) => format!("gate `{id}` is not waiting for a decision: it is {status}"),
    }
}
