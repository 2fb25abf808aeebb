//! A person's decision on a gate, applied in the scheduler's turn: the decision and the
//! starts of the jobs it releases are written in one transaction, and those jobs are
//! spawned as soon as it commits (no second transaction queues behind the first).
//!
//! Whenever the scheduler cannot write it (the store does not answer, the scheduler has
//! stopped), the decision comes back untouched and the caller applies it itself, as any
//! other event ([`crate::engine::apply_event`]): it is never held for later, since a
//! person is waiting for the answer.

use app::domain::{Event, RunState};
use tokio::sync::oneshot;

use super::{Command, Scheduler, Worker};
use crate::engine::EventError;

/// What became of a decision handed to [`Scheduler::decide`].
#[derive(Debug)]
pub enum Decided {
    /// Written, with the starts it released.
    Written,
    /// Refused by the state machine (the gate is not waiting, the person approved it
    /// already) or by the store.
    Failed(EventError),
    /// Not written: the caller applies it itself.
    NotTaken(Event),
}

/// A decision waiting in a turn for its write.
pub(super) type Reply = oneshot::Sender<Decided>;

impl Scheduler {
    /// Applies `event` (a gate decision) to `run` in the scheduler's next turn.
    /// `read` is the run and its version as the caller read them: the scheduler judges
    /// the decision on it unless it holds the run already (a conflict on the write
    /// means it is judged again on the run as stored).
    pub async fn decide(&self, run: i64, read: (RunState, i64), event: Event) -> Decided {
        let (reply, answer) = oneshot::channel();
        let command = Command::Decide {
            run,
            read: Box::new(read),
            event: event.clone(),
            reply,
        };
        if self.commands.send(command).is_err() {
            return Decided::NotTaken(event);
        }
        answer.await.unwrap_or(Decided::NotTaken(event))
    }
}

impl Worker {
    /// Judges a decision on the run as held (or as the caller read it) and queues it
    /// for this turn's write; the answer goes out once the turn is written.
    pub(super) fn decide(&mut self, run: i64, read: (RunState, i64), event: Event, reply: Reply) {
        if self.store_down() {
            let _ = reply.send(Decided::NotTaken(event));
            return;
        }
        let (state, version) = read;
        // The caller's read is taken unless this scheduler wrote the run since.
        if self.runs.get(run).is_none() && self.runs.seen(run).is_none_or(|seen| seen <= version) {
            self.runs.insert(run, state, version);
        }
        match self.apply_held(run, event.clone()) {
            None => {
                let _ = reply.send(Decided::NotTaken(event));
            }
            Some(Err(refused)) => self.refuse(run, event, refused.into(), reply),
            Some(Ok(at)) => self.await_write(at, reply),
        }
    }
}
