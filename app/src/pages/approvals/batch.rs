//! Deciding several gates at once: each decision is its own request, recorded on its own
//! (the server checks each against its gate's rules), and each refusal comes back with
//! its reason instead of stopping the rest.

use crate::api::decide_gate;
use crate::domain::Decision;

/// What one batch did.
#[derive(Clone, Debug)]
pub struct BatchOutcome {
    pub decision: Decision,
    /// `hitl-gate-x of run 3`, for each gate decided.
    pub decided: Vec<String>,
    pub decided_keys: Vec<(i64, String)>,
    /// Each gate not decided, with the server's reason.
    pub refused: Vec<(String, String)>,
}

/// Decides `targets` one after the other with the same comment.
pub async fn decide_all(
    targets: Vec<(i64, String)>,
    decision: Decision,
    comment: String,
) -> BatchOutcome {
    let comment = Some(comment.trim().to_string()).filter(|c| !c.is_empty());
    let mut outcome = BatchOutcome {
        decision,
        decided: Vec::new(),
        decided_keys: Vec::new(),
        refused: Vec::new(),
    };
    for (run, gate) in targets {
        let named = format!("{gate} of run {run}");
        let answer = decide_gate(
            run,
            gate.clone(),
            decision,
            None,
            comment.clone(),
            None,
            None,
            None,
        )
        .await;
        match answer {
            Ok(_) => {
                outcome.decided.push(named);
                outcome.decided_keys.push((run, gate));
            }
            Err(error) => outcome.refused.push((named, error.to_string())),
        }
    }
    outcome
}
