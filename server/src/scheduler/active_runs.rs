//! The runs a scheduler works on, held in memory between events.
//!
//! A run's state is read from the store once and then kept up to date by applying this
//! scheduler's own events to it. It is dropped when the run finishes, when someone else
//! changed the run (it is read again), and on the slow tick when the scheduler has
//! nothing queued or running for it (a run that only waits at a gate holds no memory).

use std::collections::{HashMap, HashSet};

use app::domain::RunState;

#[derive(Default)]
pub(super) struct ActiveRuns {
    states: HashMap<i64, RunState>,
    /// The run's version as this scheduler last wrote or read it (absent: unknown).
    versions: HashMap<i64, i64>,
}

impl ActiveRuns {
    pub(super) fn get(&self, run: i64) -> Option<&RunState> {
        self.states.get(&run)
    }

    pub(super) fn get_mut(&mut self, run: i64) -> Option<&mut RunState> {
        self.states.get_mut(&run)
    }

    /// Holds `state`, read or written at `version`.
    pub(super) fn insert(&mut self, run: i64, state: RunState, version: i64) {
        self.states.insert(run, state);
        self.versions.insert(run, version);
    }

    /// Holds `state` whose version is not known (the slow tick reads it again).
    pub(super) fn insert_unversioned(&mut self, run: i64, state: RunState) {
        self.states.insert(run, state);
        self.versions.remove(&run);
    }

    /// This scheduler's write brought the run to `version`.
    pub(super) fn wrote(&mut self, run: i64, version: i64) {
        self.versions.insert(run, version);
    }

    pub(super) fn seen(&self, run: i64) -> Option<i64> {
        self.versions.get(&run).copied()
    }

    /// The held state may be wrong (a write failed): read it again when next needed.
    pub(super) fn forget(&mut self, run: i64) {
        self.states.remove(&run);
        self.versions.remove(&run);
    }

    /// Drops the states of runs not in `busy`; their versions stay, so an unchanged run
    /// is not read again.
    pub(super) fn keep_only(&mut self, busy: &HashSet<i64>) {
        self.states.retain(|run, _| busy.contains(run));
    }

    /// Forgets the versions of runs that are no longer running.
    pub(super) fn keep_versions_of(&mut self, running: &HashSet<i64>) {
        self.versions.retain(|run, _| running.contains(run));
    }
}
