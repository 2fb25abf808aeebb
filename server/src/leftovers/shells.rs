//! The job shells this server is running, by pid, and the jobs not yet ended.
//!
//! A child of the server that is not a live shell is a job's leftover; a live shell
//! belongs to tokio, which reaps it, and must never be signalled or reaped here. A
//! shell is added before anything can see it as the server's child and removed only
//! once tokio has reaped it: spawning and recording happen under the read side of a
//! lock, and a search for leftovers takes the write side, so a search never meets a
//! shell that is starting (between `posix_spawn` and `exec` it still shows the
//! server's environment, no marker).
//!
//! A job stays *running* here after its shell is reaped, until its executor is done
//! with it (the drain, stopping its leftovers): another job's search must leave its
//! orphans to it.

use std::collections::{HashMap, HashSet};
use std::sync::{Mutex, MutexGuard, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};

use super::JobMark;

static SPAWNING: RwLock<()> = RwLock::new(());
static REGISTRY: Mutex<Option<Registry>> = Mutex::new(None);

#[derive(Default)]
struct Registry {
    /// Live shells and the job each runs.
    shells: HashMap<i32, JobMark>,
    /// Jobs whose executor has not ended, with how many times each was started
    /// (once, unless a job is run again while an earlier run of it is ending).
    jobs: HashMap<JobMark, usize>,
    /// Orphans a search found to belong to another job that still runs: while it does,
    /// they do not make the next job's end search again.
    owned: HashMap<i32, JobMark>,
}

fn registry() -> MutexGuard<'static, Option<Registry>> {
    REGISTRY.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Held while a shell is spawned and recorded; spawns do not wait for each other.
pub fn spawning() -> RwLockReadGuard<'static, ()> {
    SPAWNING.read().unwrap_or_else(PoisonError::into_inner)
}

/// Held while leftovers are looked for: no shell is half-started meanwhile.
pub(super) fn searching() -> RwLockWriteGuard<'static, ()> {
    SPAWNING.write().unwrap_or_else(PoisonError::into_inner)
}

/// `job` is about to start; it runs until [`ended`].
pub fn started(job: JobMark) {
    let mut registry = registry();
    let registry = registry.get_or_insert_with(Registry::default);
    *registry.jobs.entry(job).or_default() += 1;
}

/// The shell `pid` was started for `job`.
pub fn record(pid: u32, job: JobMark) {
    let Ok(pid) = i32::try_from(pid) else { return };
    registry()
        .get_or_insert_with(Registry::default)
        .shells
        .insert(pid, job);
}

/// The shell `pid` was reaped.
pub fn reaped(pid: u32) {
    let Ok(pid) = i32::try_from(pid) else { return };
    if let Some(registry) = registry().as_mut() {
        registry.shells.remove(&pid);
    }
}

/// The executor is done with `job`.
pub fn ended(job: &JobMark) {
    if let Some(registry) = registry().as_mut()
        && let Some(count) = registry.jobs.get_mut(job)
    {
        *count -= 1;
        if *count == 0 {
            registry.jobs.remove(job);
            registry.owned.retain(|_, owner| owner != job);
        }
    }
}

/// A search found that the orphan `pid` belongs to `job`, which still runs.
pub(super) fn owned_by(pid: i32, job: JobMark) {
    if let Some(registry) = registry().as_mut() {
        registry.owned.insert(pid, job);
    }
}

/// The orphan `pid` was reaped: its number may name another process next.
pub(super) fn reaped_orphan(pid: i32) {
    if let Some(registry) = registry().as_mut() {
        registry.owned.remove(&pid);
    }
}

/// The live shells with their jobs, and the jobs not yet ended.
pub(super) fn snapshot() -> (HashMap<i32, JobMark>, HashSet<JobMark>) {
    match registry().as_ref() {
        Some(registry) => (
            registry.shells.clone(),
            registry.jobs.keys().cloned().collect(),
        ),
        None => Default::default(),
    }
}

/// Whether any of `pids` is neither a live shell nor an orphan known to belong to a job
/// that still runs, other than `ending` (whose orphans are being looked for).
pub(super) fn any_unknown(pids: &HashSet<i32>, ending: &JobMark) -> bool {
    match registry().as_ref() {
        Some(registry) => pids.iter().any(|pid| {
            !registry.shells.contains_key(pid)
                && !registry
                    .owned
                    .get(pid)
                    .is_some_and(|owner| owner != ending && registry.jobs.contains_key(owner))
        }),
        None => !pids.is_empty(),
    }
}

/// Whether `pid` is a live shell.
pub(super) fn is_live(pid: i32) -> bool {
    registry()
        .as_ref()
        .is_some_and(|registry| registry.shells.contains_key(&pid))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mark(job: &str) -> JobMark {
        JobMark {
            run: -1,
            job: job.into(),
        }
    }

    /// Pids far above any `pid_max`, so no real process is named.
    const KEEPER: u32 = 2_000_000_001;
    const QUICK: u32 = 2_000_000_002;
    const ORPHAN: i32 = 2_000_000_003;

    #[test]
    fn an_orphan_counts_as_known_only_while_another_job_that_owns_it_runs() {
        let (keeper, quick) = (mark("keeper"), mark("quick"));
        for (pid, job) in [(KEEPER, &keeper), (QUICK, &quick)] {
            started(job.clone());
            record(pid, job.clone());
        }
        let shells = HashSet::from([KEEPER as i32, QUICK as i32]);
        let orphan = HashSet::from([ORPHAN]);
        assert!(!any_unknown(&shells, &quick), "live shells are known");
        assert!(any_unknown(&orphan, &quick), "a new orphan is not");

        owned_by(ORPHAN, keeper.clone());
        assert!(!any_unknown(&orphan, &quick), "keeper's, and keeper runs");
        assert!(any_unknown(&orphan, &keeper), "keeper's end looks for it");

        reaped(KEEPER);
        assert!(
            !any_unknown(&orphan, &quick),
            "keeper still runs while its executor stops its leftovers"
        );
        ended(&keeper);
        assert!(any_unknown(&orphan, &quick), "keeper has ended");

        owned_by(ORPHAN, quick.clone());
        reaped_orphan(ORPHAN);
        assert!(any_unknown(&orphan, &mark("other")), "a reaped pid is new");
        reaped(QUICK);
        ended(&quick);
    }
}
