//! Who cleans up after a server that stopped: at start, this server's own leftovers
//! (SQLite) or every server's abandoned jobs (Postgres); while running, the jobs of
//! replicas that stopped heartbeating, and this server's own tasks that the store has
//! as RUNNING with no process behind them.

use std::time::Duration;

use app::domain::{Event, JobExit, JobStatus, RunState, format_duration};

use super::{RESTART_REASON, Settings, Worker, report};
use crate::clock::now_ms;
use crate::engine::{EventError, apply_event};
use crate::store::{Backend, Store};
use crate::workspace::Workspaces;

/// Runs that were RUNNING when the server last stopped: the tasks that were running
/// under a server that is gone fail (and their downstream is cancelled); gates whose
/// deadline passed meanwhile time out now. Waiting gates keep their deadline. Returns
/// the runs to wake.
///
/// SQLite has one server, so every RUNNING task is an orphan. On Postgres other replicas
/// may be running jobs right now: only tasks whose server stopped heartbeating for a
/// whole lease are orphans.
pub(super) async fn recover(
    store: &Store,
    workspaces: &Workspaces,
    settings: &Settings,
) -> Result<Vec<i64>, EventError> {
    let runs = store.running_runs().await?;
    let now = now_ms();
    let orphans: Vec<(i64, String)> = match store.backend() {
        Backend::Sqlite => {
            let mut all = Vec::new();
            for &run in &runs {
                let state = store.load_state(run).await?;
                all.extend(running_tasks(&state).into_iter().map(|job| (run, job)));
            }
            all
        }
        Backend::Postgres => store
            .abandoned_jobs(now - lease_ms(settings.lease), None)
            .await?
            .into_iter()
            .map(|job| (job.run_id, job.job_id))
            .collect(),
    };
    for (run, job) in orphans {
        let exit = JobExit::Interrupted {
            reason: RESTART_REASON.into(),
        };
        report(apply_event(store, run, Event::JobExited { job, exit }).await);
    }
    for &run in &runs {
        let state = store.load_state(run).await?;
        for gate in state.expired_gates(now) {
            let event = Event::GateTimedOut { gate: gate.into() };
            if let Some(applied) = report(apply_event(store, run, event).await) {
                crate::gate_records::record_decisions(workspaces, run, &applied.transition);
            }
        }
    }
    Ok(runs)
}

/// The reason given to a task the store has as RUNNING on this server without a
/// process (see [`Worker::fail_lost_tasks`]).
const LOST_REASON: &str = "interrupted: the server had no process for this job (its start \
     was stored but not confirmed); run it again";

pub(super) fn lease_ms(lease: Duration) -> i64 {
    i64::try_from(lease.as_millis()).unwrap_or(i64::MAX)
}

fn running_tasks(state: &RunState) -> Vec<String> {
    state
        .graph()
        .nodes
        .iter()
        .filter(|node| !node.is_gate())
        .filter(|node| {
            state
                .job(&node.id)
                .is_some_and(|j| j.status == JobStatus::Running)
        })
        .map(|node| node.id.clone())
        .collect()
}

impl Worker {
    /// On Postgres, fails the jobs of servers that have not stored a heartbeat for a
    /// lease (their processes are gone with them, or stopped themselves: see
    /// `heartbeat.rs`).
    pub(super) async fn fail_abandoned(&mut self) {
        if self.store.backend() != Backend::Postgres || self.store_down() {
            return;
        }
        let now = now_ms();
        let lost = match self
            .store
            .abandoned_jobs(now - lease_ms(self.lease), Some(&self.replica))
            .await
        {
            Ok(lost) => lost,
            Err(error) => return self.read_failed("look for abandoned jobs", &error),
        };
        for job in lost {
            let owner = job.owner.as_deref().unwrap_or("unknown");
            tracing::warn!(run = job.run_id, job = %job.job_id, owner, "failing a job whose server stopped");
            let exit = JobExit::Interrupted {
                reason: format!(
                    "interrupted: server {owner} stopped answering (no heartbeat for {})",
                    format_duration(self.lease.as_secs())
                ),
            };
            let event = Event::JobExited {
                job: job.job_id,
                exit,
            };
            if let Some(applied) = report(apply_event(&self.store, job.run_id, event).await) {
                self.after(job.run_id, &applied.transition).await;
            }
        }
    }

    /// Fails the tasks the store has as RUNNING on this server while it runs no process
    /// for them, so none stays RUNNING for ever: a start whose commit was not
    /// acknowledged (the database wrote it, the server did not hear so), or an exit the
    /// scheduler lost. Called on the slow tick, once every write of the turn is done:
    /// a task whose process ended is in `running` until its exit is handled.
    pub(super) async fn fail_lost_tasks(&mut self) {
        if self.store_down() || self.draining.is_some() {
            return;
        }
        self.finish_turn().await;
        if self.store_down() {
            return;
        }
        let owned = match self.store.tasks_run_by(&self.replica).await {
            Ok(owned) => owned,
            Err(error) => return self.read_failed("list this server's running tasks", &error),
        };
        for (run, job) in owned {
            if self.running.contains_key(&(run, job.clone())) {
                continue;
            }
            tracing::warn!(run, job = %job, "a task is RUNNING in the store with no process here: failing it");
            let exit = JobExit::Interrupted {
                reason: LOST_REASON.into(),
            };
            self.apply_here(run, Event::JobExited { job, exit }).await;
        }
    }
}
