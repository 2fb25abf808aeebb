//! `$TOLLGATE_GATES_DIR/<gate id>.json`: each decided gate's outcome (decision, who,
//! when, comment, option and inputs) for the jobs after it to read, in a directory jobs
//! may read but not write ([`crate::workspace::gate_records_beside`]). The variables
//! `TOLLGATE_GATE_*` carry the choice; this file carries the whole record. It is written
//! before the jobs the decision releases are started.

use app::domain::{GateChange, Transition};
use serde_json::json;

use crate::engine::rfc3339;
use crate::workspace::Workspaces;

/// Writes the record of every gate `transition` decides (approved, rejected or timed
/// out). A failure is logged and does not undo the decision, which the store holds.
pub fn record_decisions(workspaces: &Workspaces, run: i64, transition: &Transition) {
    for change in transition.changes.iter().filter(|change| change.is_gate) {
        let Some(GateChange::Decided {
            decision,
            by,
            comment,
            choice,
        }) = &change.gate
        else {
            continue;
        };
        let record = json!({
            "gate": change.job,
            "decision": decision.as_str(),
            "by": by,
            "at": rfc3339(transition.at_ms),
            "at_ms": transition.at_ms,
            "comment": comment,
            "option": choice.option,
            "inputs": choice.inputs,
        });
        let mut text = serde_json::to_vec_pretty(&record).unwrap_or_default();
        text.push(b'\n');
        let name = format!("{}.json", change.job);
        if let Err(error) = workspaces.write_gate_record(run, &name, &text) {
            tracing::warn!(run, gate = %change.job, %error, "could not write the gate's record");
        }
    }
}
