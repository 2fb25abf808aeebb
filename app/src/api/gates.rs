//! Server functions about gates: what waits, and deciding.
// A server function's arguments are the fields of its JSON body, which stays flat for
// curl; the `#[server]` macro copies them into functions an attribute cannot reach.
#![allow(clippy::too_many_arguments)]

use leptos::prelude::*;

use super::{ApiError, JobView, PendingGate};
use crate::domain::Decision;

/// `POST /api/pending_gates` `{"run_id": 1}` (or `{}` for every run): the waiting gates
/// in the order they started waiting.
#[server(prefix = "/api", endpoint = "pending_gates", input = server_fn::codec::Json)]
pub async fn pending_gates(run_id: Option<i64>) -> Result<Vec<PendingGate>, ApiError> {
    use super::backend::{actor, backend, reply};
    reply(async { backend()?.pending_gates(&actor()?, run_id).await }.await)
}

/// `POST /api/decide_gate` `{"run_id": 1, "gate": "hitl-gate-preprocess",
/// "decision": "approve" | "reject", "comment": "..."}`: recorded under the signed-in
/// user. A gate with a form takes `"option": "ship"` and `"inputs": {"threshold": 0.9}`
/// with an approval; values that do not fit are refused (422) field by field. Exactly one decision counts (a gate needing several approvals counts each
/// person once); a gate that is not waiting is refused with who decided it; someone the
/// gate does not allow gets 403 with the reason. An admin may bypass the gate's rules
/// with `"override": true` and a comment saying why, recorded as such.
#[server(prefix = "/api", endpoint = "decide_gate", input = server_fn::codec::Json)]
pub async fn decide_gate(
    run_id: i64,
    gate: String,
    decision: Decision,
    by: Option<String>,
    comment: Option<String>,
    #[server(rename = "override")] overriding: Option<bool>,
    option: Option<String>,
    inputs: Option<std::collections::BTreeMap<String, serde_json::Value>>,
) -> Result<JobView, ApiError> {
    use super::backend::{GateDecisionRequest, actor, backend, reply};
    let result = async {
        super::refuse_by(by)?;
        let comment = comment
            .map(|c| c.trim().to_string())
            .filter(|c| !c.is_empty());
        let overriding = overriding.unwrap_or(false);
        if overriding && comment.is_none() {
            return Err(ApiError::bad_request(
                "an override needs a `comment` saying why the gate's rules are bypassed",
            ));
        }
        if comment
            .as_ref()
            .is_some_and(|c| c.len() > super::MAX_COMMENT_BYTES)
        {
            return Err(ApiError::bad_request(format!(
                "the comment is too long: keep it under {} bytes",
                super::MAX_COMMENT_BYTES
            )));
        }
        let request = GateDecisionRequest {
            decision,
            comment,
            overriding,
            option,
            inputs: inputs.unwrap_or_default(),
        };
        backend()?
            .decide_gate(&actor()?, run_id, &gate, request)
            .await
    };
    reply(result.await)
}
