//! When the store does not answer: nothing the scheduler learnt is dropped.
//!
//! The writes of a turn that could not be written stay in the turn, and events that
//! could not even be judged (their run could not be read) wait in `deferred`. Meanwhile
//! no job starts and nothing else is read; exits and gate deadlines that arrive are
//! applied to the runs held in memory, or deferred. The store is asked again after a
//! backoff (0.1 s, doubling up to 5 s); once it answers, the held turn is written, the
//! deferred events are applied, and every running run whose version moved is read
//! again (wake-ups sent meanwhile were lost).

use std::time::Duration;

use app::domain::Event;
use tokio::time::Instant;

use super::Worker;
use crate::store::StoreError;

const FIRST_BACKOFF: Duration = Duration::from_millis(100);
const MAX_BACKOFF: Duration = Duration::from_secs(5);
/// How long one "do you answer?" may take before it counts as no.
const PING_LIMIT: Duration = Duration::from_secs(1);

/// The store stopped answering at `since`.
pub(super) struct Outage {
    since: Instant,
    pub(super) retry_at: Instant,
    backoff: Duration,
    /// Events whose run could not be read, oldest first.
    deferred: Vec<(i64, Event)>,
}

impl Worker {
    /// Whether the store is known not to answer (then the scheduler neither reads nor
    /// starts anything until it does).
    pub(super) fn store_down(&self) -> bool {
        self.outage.is_some()
    }

    /// Notes that the store did not answer: it is asked again after a backoff.
    pub(super) fn store_failed(&mut self, error: &StoreError) {
        if self.outage.is_none() {
            tracing::error!(%error, "the store does not answer: holding what is to be written, retrying");
            self.outage = Some(Outage {
                since: Instant::now(),
                retry_at: Instant::now() + FIRST_BACKOFF,
                backoff: FIRST_BACKOFF,
                deferred: Vec::new(),
            });
        }
    }

    /// A read the slow tick needed failed: said once in the log, and when the store
    /// does not answer, the outage begins.
    pub(super) fn read_failed(&mut self, what: &str, error: &StoreError) {
        tracing::warn!(%error, "cannot {what}");
        if error.is_unavailable() {
            self.store_failed(error);
        }
    }

    /// Keeps an event whose run could not be read, to apply once the store answers
    /// (after [`Worker::store_failed`]).
    pub(super) fn defer(&mut self, run: i64, event: Event) {
        match self.outage.as_mut() {
            Some(outage) => outage.deferred.push((run, event)),
            None => tracing::error!(run, ?event, "an event was deferred with the store up"),
        }
    }

    /// The backoff ran out: if the store answers now, writes what was held, applies the
    /// deferred events and reads again the runs that changed meanwhile.
    pub(super) async fn retry_store(&mut self) {
        // Bounded: the pool would wait for its acquire timeout, and kills and exits
        // wait behind this call.
        let answer = tokio::time::timeout(PING_LIMIT, self.store.ping()).await;
        if !matches!(answer, Ok(Ok(()))) {
            if let Some(outage) = self.outage.as_mut() {
                outage.backoff = (outage.backoff * 2).min(MAX_BACKOFF);
                outage.retry_at = Instant::now() + outage.backoff;
                tracing::warn!(
                    down_secs = outage.since.elapsed().as_secs(),
                    "the store still does not answer"
                );
            }
            return;
        }
        let Some(outage) = self.outage.take() else {
            return;
        };
        tracing::info!(
            down_secs = outage.since.elapsed().as_secs(),
            deferred = outage.deferred.len(),
            "the store answers again: writing what was held"
        );
        self.finish_turn().await;
        for (run, event) in outage.deferred {
            self.apply_here(run, event).await;
        }
        self.finish_turn().await;
        self.rescan().await;
    }
}
