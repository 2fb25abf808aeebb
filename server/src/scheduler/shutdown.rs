//! Stopping for a server shutdown: no new jobs, a grace period for the running ones,
//! then they are killed (and fail with a reason that says so).

use std::time::Duration;

use app::domain::format_duration;

use tokio::sync::oneshot;

use super::{JobKey, Worker};

/// A shutdown in progress.
#[derive(Debug)]
pub(super) struct Draining {
    pub(super) deadline: tokio::time::Instant,
    pub(super) grace: Duration,
    pub(super) done: Option<oneshot::Sender<()>>,
    /// The grace period ran out and what still ran was killed.
    pub(super) killed: bool,
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
        let Some(draining) = self.draining.as_mut() else {
            return;
        };
        draining.killed = true;
        let reason = format!(
            "stopped by server shutdown after the {} grace period",
            format_duration(draining.grace.as_secs())
        );
        self.stop_all(&reason);
    }

    /// Kills every job this server runs; each exit records `reason`.
    pub(super) fn stop_all(&mut self, reason: &str) {
        let keys: Vec<JobKey> = self.running.keys().cloned().collect();
        for (run, job) in keys {
            tracing::warn!(run, job = %job, reason, "stopping the job");
            self.stop_reasons
                .insert((run, job.clone()), reason.to_string());
            self.kill(run, job);
        }
    }
}
