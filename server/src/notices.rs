//! What a transition tells the webhook endpoints: a gate waiting, decided or timed out,
//! a run finished. Each notice is a JSON body with a Slack-compatible `text` and the
//! same facts as fields; the delivery adds the deep link (`url`), which needs the
//! server's public address.

use app::domain::{GateChange, GateDecision, NodeKind, RunState, Transition};
use serde_json::{Value, json};

use crate::engine::rfc3339;
use crate::store::Notice;

/// The notices of `transition`, applied to `run` (`state` is the run after it).
pub fn of(run: i64, state: &RunState, transition: &Transition) -> Vec<Notice> {
    let pipeline = &state.graph().pipeline;
    let at = rfc3339(transition.at_ms);
    let mut notices = Vec::new();
    for change in transition.changes.iter().filter(|change| change.is_gate) {
        let Some(NodeKind::Gate { message, .. }) = state.node(&change.job).map(|n| &n.kind) else {
            continue;
        };
        let gate = &change.job;
        let (kind, suffix, text, mut body) = match &change.gate {
            Some(GateChange::Activated { deadline_ms }) => (
                "gate_waiting",
                "waiting",
                format!("Run {run} of {pipeline} waits at {gate}: {message}"),
                json!({"deadline": rfc3339(*deadline_ms)}),
            ),
            Some(GateChange::Decided {
                decision,
                by,
                comment,
                choice,
            }) => {
                let (kind, suffix, what) = match decision {
                    GateDecision::Approved => ("gate_decided", "decided", "approved"),
                    GateDecision::Rejected => ("gate_decided", "decided", "rejected"),
                    GateDecision::TimedOut => ("gate_timed_out", "timed_out", "timed out"),
                };
                let who = by
                    .as_deref()
                    .map(|by| format!(" by {by}"))
                    .unwrap_or_default();
                let option = choice
                    .option
                    .as_deref()
                    .map(|option| format!(" (option {option})"))
                    .unwrap_or_default();
                let said = comment
                    .as_deref()
                    .map(|comment| format!(": {comment}"))
                    .unwrap_or_default();
                (
                    kind,
                    suffix,
                    format!("{gate} of run {run} ({pipeline}) was {what}{who}{option}{said}"),
                    json!({
                        "decision": decision.as_str(),
                        "by": by,
                        "comment": comment,
                        "option": choice.option,
                        "inputs": choice.inputs,
                    }),
                )
            }
            None => continue,
        };
        extend(
            &mut body,
            json!({
                "event": kind,
                "id": format!("{run}/{gate}/{suffix}"),
                "text": text,
                "run_id": run,
                "pipeline": pipeline,
                "gate": gate,
                "message": message,
                "status": change.to.as_str(),
                "reason": change.reason,
                "at": at,
                "path": format!("/runs/{run}/gates/{gate}"),
            }),
        );
        notices.push(notice(run, kind, body, &state.graph().notify));
    }
    if let Some(status) = transition.run_status.filter(|status| status.is_finished()) {
        let body = json!({
            "event": "run_finished",
            "id": format!("{run}/finished"),
            "text": format!("Run {run} of {pipeline} finished: {status}"),
            "run_id": run,
            "pipeline": pipeline,
            "status": status.as_str(),
            "at": at,
            "path": format!("/runs/{run}"),
        });
        notices.push(notice(run, "run_finished", body, &state.graph().notify));
    }
    notices
}

fn notice(run: i64, kind: &'static str, body: Value, endpoints: &[String]) -> Notice {
    Notice {
        run,
        event_id: body["id"].as_str().unwrap_or_default().to_string(),
        kind,
        body,
        endpoints: endpoints.to_vec(),
    }
}

/// Adds `more`'s fields to `body` (both objects).
fn extend(body: &mut Value, more: Value) {
    if let (Some(body), Value::Object(more)) = (body.as_object_mut(), more) {
        body.extend(more);
    }
}
