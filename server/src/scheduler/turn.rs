//! One turn of the scheduler: the events it applied in memory (exits, starts, gate
//! timeouts) are written in one transaction with the gate log lines they add, then
//! their effects are carried out: processes spawned, timers armed.
//!
//! Every change is still a compare-and-set. When the transaction fails (another replica
//! or a person changed one of the runs meanwhile, or the store failed), nothing of it
//! was written: the states held for those runs are dropped and each event is applied
//! again on its own, on the run as stored ([`apply_event`]), exactly as before.

use std::collections::HashSet;

use app::domain::{Effect, Event, NodeKind, Transition, TransitionError};
use tokio::sync::{oneshot, watch};

use super::decisions::{Decided, Reply};
use super::{Command, RunningTask, Worker, report};
use crate::clock::now_ms;
use crate::engine::{EventError, apply_event, records};
use crate::executor::{TaskLaunch, run_task};
use crate::store::{Records, StoreError};

/// The events applied this turn and not yet written.
#[derive(Default)]
pub(super) struct Turn {
    pending: Vec<Pending>,
    /// Decisions refused on a run this turn changed and has not written yet: they are
    /// answered once it is (see [`Worker::refuse`]).
    refused: Vec<Refused>,
}

struct Refused {
    event: Event,
    error: EventError,
    reply: Reply,
}

struct Pending {
    run: i64,
    event: Event,
    transition: Transition,
    /// What it adds to its gates' logs, and the notices it queues.
    records: Records,
    /// For a start: the process to spawn once the start is written.
    launch: Option<Launch>,
    /// For a person's decision: who waits for the write.
    reply: Option<Reply>,
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
        let held = self.runs.get(run).is_some();
        if !held {
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
        // A process's end or a gate's deadline refused by a state held in memory: if
        // that state were behind the store, the job would stay RUNNING (the gate
        // waiting) for ever. Judged again on the run as stored; a late exit of a
        // killed job is refused again. Only those events are kept for a second look.
        let second_look = (held
            && matches!(event, Event::JobExited { .. } | Event::GateTimedOut { .. }))
        .then(|| event.clone());
        let refused = match self.apply_held(run, event)? {
            Ok(at) => return Some(at),
            Err(refused) => refused,
        };
        if let Some(event) = second_look {
            self.look_at(run).await;
            if let Some(Ok(at)) = self.apply_held(run, event) {
                tracing::warn!(run, %refused, "the run held in memory was behind the store: read it again");
                return Some(at);
            }
        }
        tracing::debug!(run, %refused, "event refused");
        None
    }

    /// Applies an event to the state held for `run` (`None`: none is held) and queues
    /// it for this turn's write, with the tasks it makes ready.
    pub(super) fn apply_held(
        &mut self,
        run: i64,
        event: Event,
    ) -> Option<Result<usize, TransitionError>> {
        let state = self.runs.get_mut(run)?;
        let transition = match state.apply(event.clone(), now_ms()) {
            Ok(transition) => transition,
            Err(refused) => return Some(Err(refused)),
        };
        let written = records(run, state, &transition);
        for effect in &transition.effects {
            if let Effect::StartJob { job } = effect {
                self.enqueue(run, job.clone());
            }
        }
        self.turn.pending.push(Pending {
            run,
            event,
            transition,
            records: written,
            launch: None,
            reply: None,
        });
        Some(Ok(self.turn.pending.len() - 1))
    }

    /// The event at `at` in this turn is answered on `reply` once written.
    pub(super) fn await_write(&mut self, at: usize, reply: Reply) {
        self.turn.pending[at].reply = Some(reply);
    }

    /// A decision refused on `run` as held. When this turn changed the run and has not
    /// written it yet (another person's decision, usually), the refusal waits for that
    /// write: the caller then reads the run with the change that refused it, and if the
    /// write fails the decision goes back to be judged on the run as stored. Answered
    /// at once otherwise, when what is held is what is stored.
    pub(super) fn refuse(&mut self, run: i64, event: Event, error: EventError, reply: Reply) {
        if self.turn.pending.iter().any(|item| item.run == run) {
            self.turn.refused.push(Refused {
                event,
                error,
                reply,
            });
        } else {
            let _ = reply.send(Decided::Failed(error));
        }
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
                network,
                ..
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
            network,
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
    /// does not answer the turn is kept, to be written when it does, except for people's
    /// decisions (see [`Self::keep_for_later`]).
    pub(super) async fn finish_turn(&mut self) {
        if self.turn.pending.is_empty() || self.store_down() {
            answer_refused(std::mem::take(&mut self.turn.refused), false);
            return;
        }
        let refused = std::mem::take(&mut self.turn.refused);
        let pending = std::mem::take(&mut self.turn.pending);
        let batch: Vec<(i64, &Transition)> = pending
            .iter()
            .map(|item| (item.run, &item.transition))
            .collect();
        let mut records = Records::default();
        for item in &pending {
            records.extend(item.records.clone());
        }
        let written = self.store.apply_all(&batch, &records).await;
        drop(batch);
        match written {
            Ok(versions) => {
                let mut replies = Vec::new();
                for (item, version) in pending.into_iter().zip(versions) {
                    self.runs.wrote(item.run, version);
                    replies.extend(item.reply);
                    self.carry_out(item.run, item.transition, item.launch);
                }
                // After the spawns: the released jobs start before the answer goes out.
                for reply in replies {
                    let _ = reply.send(Decided::Written);
                }
                answer_refused(refused, true);
            }
            Err(error) if error.is_unavailable() => {
                self.store_failed(&error);
                self.keep_for_later(pending);
                answer_refused(refused, false);
            }
            Err(error) => {
                tracing::debug!(%error, "a turn's writes were refused: applying them one by one");
                for item in &pending {
                    self.runs.forget(item.run);
                }
                for item in pending {
                    self.retry(item).await;
                }
                answer_refused(refused, false);
            }
        }
    }

    /// A turn the store did not answer for, kept to be written when it does. A person's
    /// decision is not kept (they wait for an answer): it goes back to its caller, and
    /// what the turn applied after it to the same run is judged again later, on the
    /// run as stored then.
    fn keep_for_later(&mut self, pending: Vec<Pending>) {
        let decided: HashSet<i64> = pending
            .iter()
            .filter(|item| item.reply.is_some())
            .map(|item| item.run)
            .collect();
        for item in pending {
            if !decided.contains(&item.run) {
                self.turn.pending.push(item);
                continue;
            }
            self.runs.forget(item.run);
            match item.reply {
                Some(reply) => {
                    let _ = reply.send(Decided::NotTaken(item.event));
                }
                None => {
                    let job = item.launch.map(|launch| launch.task.job_id);
                    self.hold_retry(item.run, item.event, job, None);
                }
            }
        }
    }

    /// One event of a turn that could not be written, applied again on the run as
    /// stored now.
    async fn retry(&mut self, mut item: Pending) {
        let reply = item.reply.take();
        if self.store_down() {
            return self.give_back(item, reply, None);
        }
        let applied = match apply_event(&self.store, item.run, item.event.clone()).await {
            Err(EventError::Store(error)) if error.is_unavailable() => {
                return self.give_back(item, reply, Some(&error));
            }
            Err(error) if reply.is_some() => {
                if let Some(reply) = reply {
                    let _ = reply.send(Decided::Failed(error));
                }
                return;
            }
            other => report(other),
        };
        match applied {
            Some(applied) => {
                match applied.exact_version {
                    Some(version) => self.runs.insert(item.run, applied.state, version),
                    None => self.runs.insert_unversioned(item.run, applied.state),
                }
                self.carry_out(item.run, applied.transition, item.launch);
                if let Some(reply) = reply {
                    let _ = reply.send(Decided::Written);
                }
            }
            None => {
                if let Some(launch) = item.launch {
                    self.running.remove(&(item.run, launch.task.job_id));
                }
            }
        }
    }

    /// A retried event the store could not take: a decision goes back to its caller,
    /// anything else is held (see [`Self::hold_retry`]).
    fn give_back(&mut self, item: Pending, reply: Option<Reply>, error: Option<&StoreError>) {
        match reply {
            Some(reply) => {
                if let Some(error) = error {
                    self.store_failed(error);
                }
                let _ = reply.send(Decided::NotTaken(item.event));
            }
            None => {
                let job = item.launch.map(|launch| launch.task.job_id);
                self.hold_retry(item.run, item.event, job, error);
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

    /// What a written transition asks for: its gate records, processes, timers, kills.
    fn carry_out(&mut self, run: i64, transition: Transition, launch: Option<Launch>) {
        crate::gate_records::record_decisions(&self.workspaces, run, &transition);
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

/// Answers the decisions refused on changes of this turn: refused still when the turn
/// was `written`; otherwise handed back, to be judged on the run as stored.
fn answer_refused(refused: Vec<Refused>, written: bool) {
    for refusal in refused {
        let answer = if written {
            Decided::Failed(refusal.error)
        } else {
            Decided::NotTaken(refusal.event)
        };
        let _ = refusal.reply.send(answer);
    }
}
