//! The statuses of jobs, gates and runs, and what moves a row between them.
//!
//! The diagram, with every edge labelled by its event, is in the README ("Run state machine").

use serde::{Deserialize, Serialize};

/// The status of one job or gate of a run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum JobStatus {
    /// Not started. A task leaves it when a worker starts its process (`JobStarted`),
    /// a gate when its source completes (it starts waiting); either may be cancelled.
    Pending,
    /// A task's process is running, or a gate is waiting for a person. Left by the
    /// process's exit, a decision, the gate's deadline, or a cancel.
    Running,
    /// The process exited 0, or the gate was approved. Final.
    Completed,
    /// The process failed or timed out, or the gate was rejected or timed out. Final;
    /// everything downstream is cancelled.
    Failed,
    /// Cancelled by a person or because something upstream failed. Final; never ran
    /// (or was killed).
    Cancelled,
    /// Not run because its branch was not taken: a gate before it chose another option
    /// than its `when`, or everything it depends on was skipped. Final; counts as done
    /// for the run (a run whose jobs all completed or were skipped completed).
    Skipped,
}

impl JobStatus {
    pub const ALL: [JobStatus; 6] = [
        JobStatus::Pending,
        JobStatus::Running,
        JobStatus::Completed,
        JobStatus::Failed,
        JobStatus::Cancelled,
        JobStatus::Skipped,
    ];

    /// The name stored in the database and sent over the API.
    pub fn as_str(self) -> &'static str {
        match self {
            JobStatus::Pending => "PENDING",
            JobStatus::Running => "RUNNING",
            JobStatus::Completed => "COMPLETED",
            JobStatus::Failed => "FAILED",
            JobStatus::Cancelled => "CANCELLED",
            JobStatus::Skipped => "SKIPPED",
        }
    }

    pub fn parse(text: &str) -> Option<JobStatus> {
        JobStatus::ALL.into_iter().find(|s| s.as_str() == text)
    }

    /// Completed, failed, cancelled and skipped never change again.
    pub fn is_terminal(self) -> bool {
        matches!(
            self,
            JobStatus::Completed | JobStatus::Failed | JobStatus::Cancelled | JobStatus::Skipped
        )
    }

    /// What lets the jobs after it go on: completed, or skipped (a branch not taken).
    pub fn is_done(self) -> bool {
        matches!(self, JobStatus::Completed | JobStatus::Skipped)
    }
}

impl std::fmt::Display for JobStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The status of a whole run, derived from its jobs (see [`super::RunState::run_status`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum RunStatus {
    /// Something is pending or running (a waiting gate counts as running).
    Running,
    /// Every job and gate completed (or was skipped: a branch not taken).
    Completed,
    /// Something failed and nothing can run any more.
    Failed,
    /// A person cancelled the run (or a job, and nothing failed).
    Cancelled,
}

impl RunStatus {
    pub const ALL: [RunStatus; 4] = [
        RunStatus::Running,
        RunStatus::Completed,
        RunStatus::Failed,
        RunStatus::Cancelled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            RunStatus::Running => "RUNNING",
            RunStatus::Completed => "COMPLETED",
            RunStatus::Failed => "FAILED",
            RunStatus::Cancelled => "CANCELLED",
        }
    }

    pub fn parse(text: &str) -> Option<RunStatus> {
        RunStatus::ALL.into_iter().find(|s| s.as_str() == text)
    }

    pub fn is_finished(self) -> bool {
        self != RunStatus::Running
    }

    /// The one rule for a run's status, from its jobs' statuses: cancelled when a person
    /// cancelled it; completed when every job completed or was skipped; running while anything is
    /// pending or running; then failed if anything failed; otherwise cancelled.
    pub fn derive(jobs: impl IntoIterator<Item = JobStatus>, cancelled: bool) -> RunStatus {
        RunStatus::of_counts(&StatusCounts::of(jobs), cancelled)
    }

    /// [`RunStatus::derive`] from counts kept up to date, so no job is looked at.
    pub fn of_counts(counts: &StatusCounts, cancelled: bool) -> RunStatus {
        if cancelled {
            RunStatus::Cancelled
        } else if counts.completed + counts.skipped == counts.total() {
            RunStatus::Completed
        } else if counts.pending + counts.running > 0 {
            RunStatus::Running
        } else if counts.failed > 0 {
            RunStatus::Failed
        } else {
            RunStatus::Cancelled
        }
    }
}

impl std::fmt::Display for RunStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How many of a run's nodes are in each status: the run's status follows from them
/// ([`RunStatus::of_counts`]), and each change moves one node from one count to another.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StatusCounts {
    pub pending: i64,
    pub running: i64,
    pub completed: i64,
    pub failed: i64,
    pub cancelled: i64,
    pub skipped: i64,
}

impl StatusCounts {
    pub fn of(statuses: impl IntoIterator<Item = JobStatus>) -> StatusCounts {
        let mut counts = StatusCounts::default();
        for status in statuses {
            *counts.slot(status) += 1;
        }
        counts
    }

    pub fn total(&self) -> i64 {
        self.pending + self.running + self.completed + self.failed + self.cancelled + self.skipped
    }

    /// One node went from `from` to `to`.
    pub fn moved(&mut self, from: JobStatus, to: JobStatus) {
        *self.slot(from) -= 1;
        *self.slot(to) += 1;
    }

    fn slot(&mut self, status: JobStatus) -> &mut i64 {
        match status {
            JobStatus::Pending => &mut self.pending,
            JobStatus::Running => &mut self.running,
            JobStatus::Completed => &mut self.completed,
            JobStatus::Failed => &mut self.failed,
            JobStatus::Cancelled => &mut self.cancelled,
            JobStatus::Skipped => &mut self.skipped,
        }
    }
}

/// How a gate was decided.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GateDecision {
    Approved,
    Rejected,
    /// Nobody decided before the deadline.
    TimedOut,
}

impl GateDecision {
    pub fn as_str(self) -> &'static str {
        match self {
            GateDecision::Approved => "approved",
            GateDecision::Rejected => "rejected",
            GateDecision::TimedOut => "timed_out",
        }
    }

    pub fn parse(text: &str) -> Option<GateDecision> {
        [
            GateDecision::Approved,
            GateDecision::Rejected,
            GateDecision::TimedOut,
        ]
        .into_iter()
        .find(|d| d.as_str() == text)
    }
}

/// An unknown status name, e.g. read from a database another version wrote.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown status `{0}`")]
pub struct UnknownStatus(pub String);

macro_rules! parse_from_string {
    ($($status:ty),*) => {$(
        impl TryFrom<String> for $status {
            type Error = UnknownStatus;
            fn try_from(text: String) -> Result<Self, UnknownStatus> {
                <$status>::parse(&text).ok_or(UnknownStatus(text))
            }
        }
    )*};
}
parse_from_string!(JobStatus, RunStatus, GateDecision);

/// Renders seconds for people: `5s`, `2m 30s`, `1h 30m`, `2d`.
pub fn format_duration(total_secs: u64) -> String {
    let parts = [
        (total_secs / 86_400, "d"),
        (total_secs % 86_400 / 3_600, "h"),
        (total_secs % 3_600 / 60, "m"),
        (total_secs % 60, "s"),
    ];
    let text: Vec<String> = parts
        .iter()
        .filter(|(value, _)| *value > 0)
        .map(|(value, unit)| format!("{value}{unit}"))
        .collect();
    if text.is_empty() {
        "0s".to_string()
    } else {
        text.join(" ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_round_trip_through_their_names() {
        for status in JobStatus::ALL {
            assert_eq!(JobStatus::parse(status.as_str()), Some(status));
        }
        for status in RunStatus::ALL {
            assert_eq!(RunStatus::parse(status.as_str()), Some(status));
        }
        assert_eq!(JobStatus::parse("running"), None);
    }

    #[test]
    fn durations_read_naturally() {
        assert_eq!(format_duration(0), "0s");
        assert_eq!(format_duration(5), "5s");
        assert_eq!(format_duration(150), "2m 30s");
        assert_eq!(format_duration(5_400), "1h 30m");
        assert_eq!(format_duration(172_800), "2d");
        assert_eq!(format_duration(90_061), "1d 1h 1m 1s");
    }
}
