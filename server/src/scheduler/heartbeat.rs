//! The heartbeat: this server stores "still alive" every third of its lease, on a task
//! of its own, so a scheduler busy with a long turn or waiting on a slow store never
//! delays it.
//!
//! Self-fencing: when no beat could be stored for a whole lease, the other replicas may
//! have failed this server's jobs already (`fail_abandoned`). Its processes must not go
//! on as if nothing happened, writing files for a run that has moved on: the server
//! stops them itself, and says why in their exits. Only on Postgres, where there are
//! other replicas to take over; SQLite has one server, whose jobs nobody else fails.

use std::time::Duration;

use tokio::sync::{mpsc, watch};
use tokio::time::Instant;

use super::Command;
use crate::clock::now_ms;
use crate::store::{Backend, Store};

/// How often a server says it is alive: three beats per lease, so one lost beat never
/// costs a lease.
pub(super) fn interval(lease: Duration) -> Duration {
    (lease / 3).max(Duration::from_millis(200))
}

/// Starts the heartbeat task; it ends with the scheduler.
pub(super) fn spawn(
    store: Store,
    replica: String,
    lease: Duration,
    commands: mpsc::UnboundedSender<Command>,
    fence: watch::Sender<bool>,
) {
    tokio::spawn(async move {
        let every = interval(lease);
        let mut ticks = tokio::time::interval(every);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        // The scheduler registered this server just before.
        let mut stored_at = Instant::now();
        let mut fenced = false;
        loop {
            ticks.tick().await;
            if commands.is_closed() {
                return;
            }
            let attempt = Instant::now();
            // A beat that takes longer than the interval counts as failed; the next one
            // is already due.
            match tokio::time::timeout(every, store.heartbeat(&replica, now_ms())).await {
                Ok(Ok(())) => {
                    stored_at = attempt;
                    if fenced {
                        tracing::info!("heartbeat stored again: this server takes jobs again");
                        fenced = false;
                        fence.send_replace(false);
                    }
                }
                Ok(Err(error)) => tracing::warn!(%error, "heartbeat failed"),
                Err(_) => tracing::warn!("heartbeat took longer than {every:?}"),
            }
            let silent = stored_at.elapsed();
            if !fenced && silent >= lease && store.backend() == Backend::Postgres {
                fenced = true;
                tracing::error!(
                    silent_secs = silent.as_secs(),
                    "no heartbeat stored for a whole lease: stopping this server's jobs"
                );
                // The reasons first, so the exits that follow carry them.
                let _ = commands.send(Command::Fence { silent });
                fence.send_replace(true);
            }
        }
    });
}

impl super::Worker {
    /// Stops every job of this server after its lease ran out without a stored beat.
    pub(super) fn fence(&mut self, silent: Duration) {
        let reason = format!(
            "stopped: this server could not store its heartbeat for {} (longer than its \
             lease), so another server may have taken over its jobs",
            app::domain::format_duration(silent.as_secs())
        );
        self.stop_all(&reason);
    }
}
