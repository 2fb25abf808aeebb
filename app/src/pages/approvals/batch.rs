//! Deciding several gates at once: each decision is its own request, recorded on its own
//! (the server checks each against its gate's rules and form), and each refusal comes
//! back with its reason instead of stopping the rest.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::api::{ApiError, decide_gate};
use crate::domain::{Decision, FieldProblem};

/// One gate to decide, with what its form was filled in with (approvals only).
#[derive(Clone, Debug)]
pub struct Target {
    pub run: i64,
    pub gate: String,
    pub option: Option<String>,
    pub inputs: BTreeMap<String, Value>,
}

/// What one batch did.
#[derive(Clone, Debug)]
pub struct BatchOutcome {
    pub decision: Decision,
    /// Each gate decided: its run and its id.
    pub decided: Vec<(i64, String)>,
    /// Each gate not decided, with the server's reason.
    pub refused: Vec<(String, String)>,
    /// The fields the server refused, by gate, for the inbox's forms to mark.
    pub fields: Vec<((i64, String), Vec<FieldProblem>)>,
}

/// Decides `targets` one after the other with the same comment.
pub async fn decide_all(targets: Vec<Target>, decision: Decision, comment: String) -> BatchOutcome {
    let comment = Some(comment.trim().to_string()).filter(|c| !c.is_empty());
    let mut outcome = BatchOutcome {
        decision,
        decided: Vec::new(),
        refused: Vec::new(),
        fields: Vec::new(),
    };
    for target in targets {
        let named = format!("{} of run {}", target.gate, target.run);
        let (option, inputs) = match decision {
            Decision::Approve => (target.option, Some(target.inputs).filter(|i| !i.is_empty())),
            Decision::Reject => (None, None),
        };
        let answer = decide_gate(
            target.run,
            target.gate.clone(),
            decision,
            None,
            comment.clone(),
            None,
            option,
            inputs,
        )
        .await;
        match answer {
            Ok(_) => outcome.decided.push((target.run, target.gate)),
            Err(error) => {
                if let ApiError::InvalidInput { fields, .. } = &error {
                    outcome
                        .fields
                        .push(((target.run, target.gate.clone()), fields.clone()));
                }
                outcome.refused.push((named, error.to_string()));
            }
        }
    }
    // Listed by run, not in the order the gates started waiting (which jobs finishing
    // at once can swap), so the summary reads the same for the same gates.
    outcome.decided.sort();
    outcome
}
