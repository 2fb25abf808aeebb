//! Retention: with `--retain-days N`, finished runs are deleted N days after they
//! finished: their rows, history and logs (`Store::delete_finished_runs`) and their
//! workspaces. It works in small batches, so no transaction holds the store for long,
//! and never touches a running run or its gates. Pipelines, users and the account
//! history (sign-ins, tokens) are kept. Off by default.

use std::num::NonZeroU32;
use std::time::Duration;

use crate::clock::now_ms;
use crate::store::{Store, StoreError};
use crate::workspace::Workspaces;

/// Runs deleted per transaction.
const BATCH: i64 = 50;

/// How often the sweep runs (and once at start).
const EVERY: Duration = Duration::from_secs(60 * 60);

const DAY_MS: i64 = 24 * 60 * 60 * 1000;

/// Deletes every run that finished before `before_ms`, batch by batch, and its
/// workspace. Returns how many runs were deleted.
pub async fn sweep(
    store: &Store,
    workspaces: &Workspaces,
    before_ms: i64,
) -> Result<usize, StoreError> {
    let mut deleted = 0;
    loop {
        let runs = store.delete_finished_runs(before_ms, BATCH).await?;
        for &run in &runs {
            // The rows are gone: a workspace left behind is only disk space, so say so
            // and go on.
            if let Err(error) = workspaces.remove(run) {
                tracing::warn!(run, %error, "cannot remove the workspace of a deleted run");
            }
        }
        deleted += runs.len();
        if runs.len() < usize::try_from(BATCH).unwrap_or(usize::MAX) {
            return Ok(deleted);
        }
        // Let requests and the scheduler have the store between batches.
        tokio::task::yield_now().await;
    }
}

/// Starts the hourly sweep for runs older than `days`.
pub fn spawn(store: Store, workspaces: Workspaces, days: NonZeroU32) {
    tokio::spawn(async move {
        let age_ms = i64::from(days.get()) * DAY_MS;
        let mut ticks = tokio::time::interval(EVERY);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticks.tick().await;
            match sweep(&store, &workspaces, now_ms() - age_ms).await {
                Ok(0) => {}
                Ok(deleted) => {
                    tracing::info!(deleted, days = days.get(), "retention: old runs deleted")
                }
                Err(error) => tracing::warn!(%error, "retention sweep failed; next try in an hour"),
            }
        }
    });
}
