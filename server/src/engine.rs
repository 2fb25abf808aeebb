//! Applying one event to a run: the state machine decides, the store records.
//!
//! Every path that changes a run (the scheduler, a decision, a cancel, recovery at
//! start) goes through [`apply_event`] or writes [`records`] with its turn, so gate
//! log lines, webhook notices and conflict handling are written once.

use app::domain::{
    Event, GateChange, GateDecision, JobStatus, NodeKind, RunState, Transition, TransitionError,
    format_duration,
};

use crate::clock::now_ms;
use crate::store::{GateLogLine, Records, Store, StoreError};

/// How often an event is re-applied when the run changed between reading and writing.
const ATTEMPTS: usize = 5;

/// Why an event could not be applied.
#[derive(Debug, thiserror::Error)]
pub enum EventError {
    /// The state machine refuses the event (e.g. the gate is no longer waiting).
    #[error(transparent)]
    Refused(#[from] TransitionError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// An event written to the store: the run's state after it, what changed, and whether
/// that state is the run exactly as stored.
#[derive(Debug)]
pub struct Applied {
    pub state: RunState,
    pub transition: Transition,
    /// The run's version after the write, when no other write came between reading the
    /// run and writing the event (the version moved by exactly one): then `state` is the
    /// stored run at that version and need not be read again. `None` otherwise.
    pub exact_version: Option<i64>,
}

/// Loads the run, applies `event` at the current time and writes the result, gate log
/// lines included. When the run changed meanwhile (a compare-and-set conflict) it looks
/// again, so the event is judged on the current state: a second decision on a gate is
/// refused, never lost.
pub async fn apply_event(store: &Store, run: i64, event: Event) -> Result<Applied, EventError> {
    let mut last_conflict = None;
    for _ in 0..ATTEMPTS {
        let (mut state, read_at) = store.load_versioned(run).await?;
        let transition = state.apply(event.clone(), now_ms())?;
        let written = records(run, &state, &transition);
        match store.apply_all(&[(run, &transition)], &written).await {
            Ok(versions) => {
                let written_at = versions.first().copied().unwrap_or_default();
                return Ok(Applied {
                    state,
                    transition,
                    exact_version: (written_at == read_at + 1).then_some(written_at),
                });
            }
            Err(conflict @ StoreError::Conflict { .. }) => last_conflict = Some(conflict),
            Err(other) => return Err(other.into()),
        }
    }
    Err(last_conflict
        .unwrap_or(StoreError::Corrupt("no attempt was made".into()))
        .into())
}

/// What `transition` writes besides its status changes: gate log lines and webhook
/// notices.
pub fn records(run: i64, state: &RunState, transition: &Transition) -> Records {
    Records {
        log_lines: gate_log_lines(run, state, transition),
        notices: crate::notices::of(run, state, transition),
    }
}

/// A gate's log tells its story: when it started waiting, until when, and the outcome.
/// These are the lines `transition` adds, to be written with it.
fn gate_log_lines(run: i64, state: &RunState, transition: &Transition) -> Vec<GateLogLine> {
    let mut lines = Vec::new();
    for change in transition.changes.iter().filter(|change| change.is_gate) {
        let Some(NodeKind::Gate { message, .. }) = state.node(&change.job).map(|n| &n.kind) else {
            continue;
        };
        let overridden = change.approval.as_ref().is_some_and(|a| a.overriding);
        let flag = if overridden { " (admin override)" } else { "" };
        let line = match &change.gate {
            Some(GateChange::Activated { deadline_ms }) => {
                let wait = u64::try_from((deadline_ms - transition.at_ms) / 1000).unwrap_or(0);
                format!(
                    "[tollgate] gate {} is waiting for approval: \"{message}\" (timeout {}, deadline {})\n",
                    change.job,
                    format_duration(wait),
                    rfc3339(*deadline_ms)
                )
            }
            Some(GateChange::Decided {
                decision,
                by,
                comment,
                choice,
            }) => {
                let who = by.as_deref().unwrap_or("nobody");
                let said = comment
                    .as_deref()
                    .filter(|c| !c.trim().is_empty())
                    .map(|c| format!(", comment: {c}"))
                    .unwrap_or_default();
                match decision {
                    GateDecision::Approved => format!(
                        "[tollgate] approved by {who}{flag} at {}{said}{}\n",
                        rfc3339(transition.at_ms),
                        chose(choice)
                    ),
                    GateDecision::Rejected => format!(
                        "[tollgate] rejected by {who}{flag} at {}{said}\n",
                        rfc3339(transition.at_ms)
                    ),
                    GateDecision::TimedOut => format!(
                        "[tollgate] {} at {}\n",
                        change.reason.as_deref().unwrap_or("timed out"),
                        rfc3339(transition.at_ms)
                    ),
                }
            }
            // One approval of several: the gate keeps waiting.
            None if change.approval.is_some() => approval_line(change, transition.at_ms),
            // Only gates reach here (see the filter above).
            None if change.to == JobStatus::Cancelled => {
                format!(
                    "[tollgate] cancelled: {}\n",
                    change.reason.as_deref().unwrap_or("cancelled")
                )
            }
            None if change.to == JobStatus::Skipped => {
                format!(
                    "[tollgate] skipped: {}\n",
                    change
                        .reason
                        .as_deref()
                        .unwrap_or("its branch was not taken")
                )
            }
            None => continue,
        };
        lines.push(GateLogLine {
            run,
            job: change.job.clone(),
            text: line,
        });
    }
    lines
}

/// What an approval chose, for its log line: `, option: ship, threshold=0.5`.
fn chose(choice: &app::domain::GateChoice) -> String {
    let mut said = String::new();
    if let Some(option) = &choice.option {
        said.push_str(&format!(", option: {option}"));
    }
    for (name, value) in &choice.inputs {
        said.push_str(&format!(", {name}={value}"));
    }
    said
}

/// The log line of one approval that leaves the gate waiting for more.
fn approval_line(change: &app::domain::StatusChange, at_ms: i64) -> String {
    let Some(approval) = &change.approval else {
        return String::new();
    };
    let said = approval
        .comment
        .as_deref()
        .map(|c| format!(", comment: {c}"))
        .unwrap_or_default();
    format!(
        "[tollgate] approval {} by {} at {}{said}; {}\n",
        approval.count_before + 1,
        approval.by,
        rfc3339(at_ms),
        change.reason.as_deref().unwrap_or("still waiting")
    )
}

/// Milliseconds since the epoch as `2026-11-25T23:59:07.123Z` (UTC).
pub fn rfc3339(epoch_ms: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(epoch_ms) * 1_000_000)
        .ok()
        .and_then(|moment| {
            moment
                .format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_else(|| format!("{epoch_ms} ms after 1970"))
}

#[cfg(test)]
mod tests {
    use super::rfc3339;

    #[test]
    fn rfc3339_renders_utc() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(951_782_400_123), "2000-02-29T00:00:00.123Z");
    }
}
