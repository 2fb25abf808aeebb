//! Each job's latest progress in a signal of its own, found by id in a map.
//!
//! Built once per graph from `get_run`; a poll merges what it brings in place, so only
//! the nodes (and edges) whose job changed re-render. After the first poll the page asks
//! only for the jobs changed since the version it holds, and that partial list merges
//! the same way as a full one.

use std::collections::HashMap;

use leptos::prelude::*;

use crate::api::{JobProgress, RunDetail};
use crate::domain::JobStatus;

/// How many jobs are in each status, and how many of the running ones are gates that
/// wait for a person.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StatusCounts {
    by_status: [usize; JobStatus::ALL.len()],
    waiting_gates: usize,
}

impl StatusCounts {
    pub fn of(&self, status: JobStatus) -> usize {
        self.by_status[slot(status)]
    }

    /// Running tasks, not counting gates that wait.
    pub fn running_tasks(&self) -> usize {
        self.of(JobStatus::Running) - self.waiting_gates
    }

    pub fn waiting_gates(&self) -> usize {
        self.waiting_gates
    }

    fn add(&mut self, status: JobStatus, gate: bool) {
        self.by_status[slot(status)] += 1;
        if gate && status == JobStatus::Running {
            self.waiting_gates += 1;
        }
    }

    fn remove(&mut self, status: JobStatus, gate: bool) {
        let count = &mut self.by_status[slot(status)];
        *count = count.saturating_sub(1);
        if gate && status == JobStatus::Running {
            self.waiting_gates = self.waiting_gates.saturating_sub(1);
        }
    }
}

fn slot(status: JobStatus) -> usize {
    JobStatus::ALL
        .iter()
        .position(|s| *s == status)
        .unwrap_or_default()
}

/// One job's signal, and whether it is a gate (for the count of waiting gates).
#[derive(Clone, Copy)]
struct Entry {
    progress: RwSignal<JobProgress>,
    gate: bool,
}

/// The jobs of the run on the page, by id.
#[derive(Clone, Copy)]
pub struct JobStates {
    by_id: StoredValue<HashMap<String, Entry>>,
    counts: RwSignal<StatusCounts>,
    /// The run version the jobs are known as of; `None` until a poll said it.
    version: StoredValue<Option<i64>>,
}

impl JobStates {
    pub fn new() -> JobStates {
        JobStates {
            by_id: StoredValue::new(HashMap::new()),
            counts: RwSignal::new(StatusCounts::default()),
            version: StoredValue::new(None),
        }
    }

    /// Starts over with the jobs of `detail`: one signal per job.
    pub fn load(&self, detail: &RunDetail) {
        let mut counts = StatusCounts::default();
        let by_id = detail
            .jobs
            .iter()
            .map(|job| {
                let gate = job.gate.is_some();
                counts.add(job.status, gate);
                let progress = RwSignal::new(JobProgress {
                    id: job.id.clone(),
                    status: job.status,
                    reason: job.reason.clone(),
                    started_at_ms: job.started_at_ms,
                    finished_at_ms: job.finished_at_ms,
                    log_bytes: job.log_bytes,
                });
                (job.id.clone(), Entry { progress, gate })
            })
            .collect();
        self.by_id.set_value(by_id);
        self.counts.set(counts);
        // `get_run` says no version: the next poll asks for every job.
        self.version.set_value(None);
    }

    /// What to pass as `since` to `run_statuses`: the version of the last merged answer.
    pub fn since(&self) -> Option<i64> {
        self.version.get_value()
    }

    /// Merges a poll's answer of run version `version`, with all jobs or only those
    /// changed since the version asked for: each job that differs from what is known is
    /// set (notifying only its own readers). Ids not in the graph are ignored: the
    /// graph's shape never changes after deploy. An answer older than one merged
    /// already (two polls crossed) is dropped, and `false` returned.
    pub fn merge(&self, version: i64, jobs: impl IntoIterator<Item = JobProgress>) -> bool {
        if self
            .version
            .with_value(|known| known.is_some_and(|known| version < known))
        {
            return false;
        }
        self.version.set_value(Some(version));
        let mut counts = self.counts.get_untracked();
        self.by_id.with_value(|by_id| {
            for job in jobs {
                let Some(entry) = by_id.get(&job.id) else {
                    continue;
                };
                let before = entry
                    .progress
                    .with_untracked(|known| (known != &job).then_some(known.status));
                if let Some(before) = before {
                    counts.remove(before, entry.gate);
                    counts.add(job.status, entry.gate);
                    entry.progress.set(job);
                }
            }
        });
        if self.counts.with_untracked(|known| *known != counts) {
            self.counts.set(counts);
        }
        true
    }

    /// The signal of job `id`, to read (and track) its progress.
    pub fn progress(&self, id: &str) -> Option<RwSignal<JobProgress>> {
        self.by_id
            .with_value(|by_id| by_id.get(id).map(|entry| entry.progress))
    }

    /// The counts per status, updated by each merge.
    pub fn counts(&self) -> ReadSignal<StatusCounts> {
        self.counts.read_only()
    }
}

impl Default for JobStates {
    fn default() -> Self {
        JobStates::new()
    }
}

#[cfg(test)]
mod tests;
