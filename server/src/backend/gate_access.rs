//! Whether the caller may decide a gate, from the stored rules: the same answer for the
//! 403 of a decision and for the banner's disabled buttons.

use app::api::backend::GateDecisionRequest;
use app::api::{ApiError, ApprovalView, DecisionAccess, PendingGate};
use app::domain::{Actor, Decision, GateAccess, GatePolicy};

use crate::store::{ApprovalRecord, WaitingGate};

/// The stored rules of a gate; unreadable or absent JSON means the defaults (anyone
/// with the approver role, once, not the deployer), never "no rules".
fn policy(stored: Option<&str>) -> GatePolicy {
    stored
        .and_then(|json| serde_json::from_str(json).ok())
        .unwrap_or_default()
}

/// Refuses a decision `actor` may not make, with the reason (403).
pub fn check(
    actor: &Actor,
    policy: &GatePolicy,
    deployed_by: Option<&str>,
    approved_by: &[String],
    request: &GateDecisionRequest,
) -> Result<(), ApiError> {
    let access = GateAccess {
        policy,
        deployed_by,
        approved_by,
    };
    let approve = request.decision == Decision::Approve;
    access
        .may_decide(actor, approve, request.overriding)
        .map_err(ApiError::forbidden)
}

/// A waiting gate as the banner and the inbox show it to `actor`.
pub fn pending_gate(gate: WaitingGate, approvals: &[ApprovalRecord], actor: &Actor) -> PendingGate {
    let policy = policy(gate.gate_policy.as_deref());
    let mine: Vec<&ApprovalRecord> = approvals
        .iter()
        .filter(|a| a.run_id == gate.run_id && a.job_id == gate.job_id)
        .collect();
    let approved_by: Vec<String> = mine.iter().map(|a| a.username.clone()).collect();
    let access = GateAccess {
        policy: &policy,
        deployed_by: gate.deployed_by.as_deref(),
        approved_by: &approved_by,
    };
    let approve = access.may_decide(actor, true, false);
    let reject = access.may_decide(actor, false, false);
    let your_access = DecisionAccess {
        may_approve: approve.is_ok(),
        may_reject: reject.is_ok(),
        reason: approve.err().or(reject.err()),
        may_override: actor.is_admin(),
    };
    PendingGate {
        run_id: gate.run_id,
        pipeline: gate.pipeline,
        gate: gate.job_id,
        source: gate.gate_source,
        message: gate.gate_message,
        activated_at_ms: gate.activated_at,
        deadline_at_ms: gate.deadline_at,
        approvers: policy.describe_approvers(),
        approvals_required: policy.approvals,
        environment: policy.environment.clone(),
        approvals: mine
            .into_iter()
            .map(|a| ApprovalView {
                by: a.username.clone(),
                at_ms: a.at,
                comment: a.comment.clone(),
                overriding: a.overriding != 0,
            })
            .collect(),
        deployed_by: gate.deployed_by,
        your_access,
        // As with the rules above: unreadable shows as the default, not an error.
        form: crate::store::gate_form(gate.gate_form.as_deref()).unwrap_or_default(),
    }
}
