//! One turn of the scheduler: the events it applied in memory (exits, starts, gate
//! timeouts) are written in one transaction, then their effects are carried out:
//! processes spawned, timers armed, gate logs written.
//!
//! Every change is still a compare-and-set. When the transaction fails (another replica
//! or a person changed one of the runs meanwhile, or the store failed), nothing of it
//! was written: the states held for those runs are dropped and each event is applied
//! again on its own, on the run as stored ([`apply_event`]), exactly as before.

use app::domain::{Effect, Event, NodeKind, Transition};
use tokio::sync::{oneshot, watch};

use super::{Command, RunningTask, Worker, report};
use crate::clock::now_ms;
use crate::engine::{EventError, apply_event, write_gate_logs};
use crate::executor::{TaskLaunch, run_task};
use crate::store::StoreError;

/// The events applied this turn and not yet written.
#[derive(Default)]
pub(super) struct Turn {
    pending: Vec<Pending>,
}

struct Pending {
    run: i64,
    event: Event,
    transition: Transition,
    /// For a start: the process to spawn once the start is written.
    launch: Option<Launch>,
}

struct Launch {
    task: TaskLaunch,
    killed: oneshot::Receiver<()>,
}

impl Worker {
    /// Applies one of this scheduler's own events to the run in memory; it is written
    /// at the end of the turn. Tasks it makes ready are queued at once, so they can
    /// start in the same turn. Returns where the event sits in the turn.
    pub(super) async fn apply_here(&mut self, run: i64, event: Event) -> Option<usize> {
        if self.runs.get(run).is_none() {
            if self.store_down() {
                self.hold(run, event, None);
                return None;
            }
            match self.store.load_versioned(run).await {
                Ok((state, version)) => self.runs.insert(run, state, version),
                Err(error) if error.is_unavailable() => {
                    self.hold(run, event, Some(&error));
                    return None;
                }
                Err(error) => {
                    tracing::error!(run, %error, "cannot load run");
                    return None;
                }
            }
        }
        let state = self.runs.get_mut(run)?;
        let transition = match state.apply(event.clone(), now_ms()) {
            Ok(transition) => transition,
            Err(refused) => {
                tracing::debug!(run, %refused, "event refused");
                return None;
            }
        };
        for effect in &transition.effects {
            if let Effect::StartJob { job } = effect {
                self.enqueue(run, job.clone());
            }
        }
        self.turn.pending.push(Pending {
            run,
            event,
            transition,
            launch: None,
        });
        Some(self.turn.pending.len() - 1)
    }

    /// Starts a queued task: the start is applied now, and takes a slot; its process is
    /// spawned once the start is written.
    pub(super) async fn start(&mut self, run: i64, job: String) {
        let event = Event::JobStarted { job: job.clone() };
        let Some(at) = self.apply_here(run, event).await else {
            return;
        };
        let Some((
            NodeKind::Task {
                run: command,
                env,
                timeout,
            },
            choices,
        )) = self.runs.get(run).and_then(|state| {
            let node = state.node(&job)?;
            Some((node.kind.clone(), state.choice_env(&job)))
        })
        else {
            return;
        };
        let (kill, killed) = oneshot::channel();
        let task = TaskLaunch {
            run_id: run,
            job_id: job.clone(),
            command,
            env,
            choices,
            timeout_secs: timeout,
            workspace: self.workspaces.dir(run),
        };
        self.running.insert(
            (run, job),
            RunningTask {
                started: std::time::Instant::now(),
                kill: Some(kill),
            },
        );
        self.turn.pending[at].launch = Some(Launch { task, killed });
    }

    /// An event that could not be judged because the store does not answer: a start
    /// goes back to the queue, anything else waits for the store (`outage.rs`).
    fn hold(&mut self, run: i64, event: Event, error: Option<&StoreError>) {
        if let Some(error) = error {
            self.store_failed(error);
        }
        match event {
            Event::JobStarted { job } => {
                self.running.remove(&(run, job.clone()));
                self.enqueue(run, job);
            }
            event => self.defer(run, event),
        }
    }

    /// Writes the turn in one transaction and carries out what it says. While the store
    /// does not answer the turn is kept as it is, to be written when it does.
    pub(super) async fn finish_turn(&mut self) {
        if self.turn.pending.is_empty() || self.store_down() {
            return;
        }
        let pending = std::mem::take(&mut self.turn.pending);
        let batch: Vec<(i64, &Transition)> = pending
            .iter()
            .map(|item| (item.run, &item.transition))
            .collect();
        let written = self.store.apply_all(&batch).await;
        drop(batch);
        match written {
            Ok(versions) => {
                for (item, version) in pending.into_iter().zip(versions) {
                    self.runs.wrote(item.run, version);
                    self.carry_out(item.run, item.transition, item.launch).await;
                }
            }
            Err(error) if error.is_unavailable() => {
                self.store_failed(&error);
                self.turn.pending = pending;
            }
            Err(error) => {
                tracing::debug!(%error, "a turn's writes were refused: applying them one by one");
                for item in &pending {
                    self.runs.forget(item.run);
                }
                for item in pending {
                    self.retry(item).await;
                }
            }
        }
    }

    /// One event of a turn that could not be written, applied again on the run as
    /// stored now.
    async fn retry(&mut self, item: Pending) {
        if self.store_down() {
            let job = item.launch.map(|launch| launch.task.job_id);
            return self.hold_retry(item.run, item.event, job, None);
        }
        let applied = match apply_event(&self.store, item.run, item.event.clone()).await {
            Err(EventError::Store(error)) if error.is_unavailable() => {
                let job = item.launch.map(|launch| launch.task.job_id);
                return self.hold_retry(item.run, item.event, job, Some(&error));
            }
            other => report(other),
        };
        match applied {
            Some(applied) => {
                match applied.exact_version {
                    Some(version) => self.runs.insert(item.run, applied.state, version),
                    None => self.runs.insert_unversioned(item.run, applied.state),
                }
                self.carry_out(item.run, applied.transition, item.launch)
                    .await;
            }
            None => {
                if let Some(launch) = item.launch {
                    self.running.remove(&(item.run, launch.task.job_id));
                }
            }
        }
    }

    /// A retried event the store did not take: held like any other (its launch, if
    /// any, is dropped: the start is applied again from the queue).
    fn hold_retry(
        &mut self,
        run: i64,
        event: Event,
        job: Option<String>,
        error: Option<&StoreError>,
    ) {
        if let Some(job) = job {
            self.running.remove(&(run, job));
        }
        self.hold(run, event, error);
    }

    /// What a written transition asks for: processes, timers, kills, gate log lines.
    async fn carry_out(&mut self, run: i64, transition: Transition, launch: Option<Launch>) {
        crate::gate_records::record_decisions(&self.workspaces, run, &transition);
        if let Some(state) = self.runs.get(run) {
            write_gate_logs(&self.store, run, state, &transition).await;
        }
        for effect in transition.effects {
            match effect {
                Effect::StartJob { job } => self.enqueue(run, job),
                Effect::ArmGateTimer { gate, deadline_ms } => {
                    self.deadlines.insert((deadline_ms, run, gate));
                }
                Effect::KillJob { job } => self.kill(run, job),
            }
        }
        if let Some(launch) = launch {
            self.spawn(run, launch);
        }
        if transition
            .run_status
            .is_some_and(|status| status.is_finished())
        {
            self.runs.forget(run);
        }
    }

    fn spawn(&self, run: i64, launch: Launch) {
        let job = launch.task.job_id.clone();
        tracing::info!(run, job = %job, replica = %self.replica, "job started");
        let store = self.store.clone();
        let commands = self.commands.clone();
        let fenced = self.fenced.clone();
        tokio::spawn(async move {
            let (kill, killed) = oneshot::channel();
            let mut task = std::pin::pin!(run_task(launch.task, store, killed));
            let exit = tokio::select! {
                exit = &mut task => exit,
                () = stop_requested(launch.killed, fenced) => {
                    let _ = kill.send(());
                    task.await
                }
            };
            let _ = commands.send(Command::Exited { run, job, exit });
        });
    }
}

/// Resolves when the scheduler kills the job, or when the server fences itself: the
/// heartbeat task says so directly, so a scheduler stuck on a store that does not
/// answer cannot keep the job running past its lease.
async fn stop_requested(killed: oneshot::Receiver<()>, mut fenced: watch::Receiver<bool>) {
    tokio::select! {
        Ok(()) = killed => {}
        // The guard `wait_for` returns is dropped at once (it must not be held).
        Ok(()) = async { fenced.wait_for(|fenced| *fenced).await.map(drop) } => {}
        else => std::future::pending().await,
    }
}
