//! Stopping for a server shutdown: no new jobs, a grace period for the running ones,
//! then they are killed (and fail with a reason that says so).

use std::collections::HashSet;
use std::time::Duration;

use tokio::sync::oneshot;

use super::{JobKey, Worker};

/// A shutdown in progress.
#[derive(Debug)]
pub(super) struct Draining {
    pub(super) deadline: tokio::time::Instant,
    pub(super) grace: Duration,
    pub(super) done: Option<oneshot::Sender<()>>,
    /// Jobs killed when the grace period ran out, and so failed with its reason.
    pub(super) forced: HashSet<JobKey>,
}

impl Worker {
    /// During a shutdown: true (and the waiter told) once no job runs any more.
    pub(super) fn drained(&mut self) -> bool {
        let Some(draining) = self.draining.as_mut() else {
            return false;
        };
        if !self.running.is_empty() {
            return false;
        }
        if let Some(done) = draining.done.take() {
            let _ = done.send(());
        }
        true
    }

    /// The grace period ran out: kill what still runs.
    pub(super) fn kill_the_rest(&mut self) {
        let keys: Vec<JobKey> = self.running.keys().cloned().collect();
        if let Some(draining) = self.draining.as_mut() {
            draining.forced.extend(keys.iter().cloned());
        }
        for (run, job) in keys {
            tracing::warn!(run, job = %job, "shutdown grace period over: killing the job");
            self.kill(run, job);
        }
    }
}
