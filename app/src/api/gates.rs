//! Server functions about gates: what waits, and deciding.

use leptos::prelude::*;

use super::{ApiError, JobView, PendingGate};
use crate::domain::Decision;

/// `POST /api/pending_gates` `{"run_id": 1}` (or `{}` for every run): the waiting gates
/// in the order they started waiting.
#[server(prefix = "/api", endpoint = "pending_gates", input = server_fn::codec::Json)]
pub async fn pending_gates(run_id: Option<i64>) -> Result<Vec<PendingGate>, ApiError> {
    use super::backend::{backend, reply};
    reply(backend()?.pending_gates(run_id).await)
}

/// `POST /api/decide_gate` `{"run_id": 1, "gate": "hitl-gate-preprocess",
/// "decision": "approve" | "reject", "by": "ana", "comment": "..."}`: exactly one
/// decision counts; a gate that is not waiting is refused with who decided it.
#[server(prefix = "/api", endpoint = "decide_gate", input = server_fn::codec::Json)]
pub async fn decide_gate(
    run_id: i64,
    gate: String,
    decision: Decision,
    by: Option<String>,
    comment: Option<String>,
) -> Result<JobView, ApiError> {
    use super::backend::{backend, reply};
    let comment = comment.filter(|c| !c.trim().is_empty());
    reply(
        backend()?
            .decide_gate(run_id, &gate, decision, super::person(by), comment)
            .await,
    )
}
