//! Which processes below the server belong to a job: a walk of the whole process table,
//! done only when the cheap check says there may be something to find.

use std::collections::HashMap;

use super::procfs::{self, Proc};
use super::{JobMark, server_pid, shells};

/// What to look for.
#[derive(Clone, Debug)]
pub(super) enum Scope {
    /// One job's processes: everything below its shell when `shell` is given (it still
    /// runs), and the orphans marked with this job, with no marker, or with the marker
    /// of a job that has ended (nothing else could ever stop those).
    Job { job: JobMark, shell: Option<i32> },
    /// Every process below the server but the live shells and theirs (server stop).
    All,
}

/// A process as it was found.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(super) struct Found {
    pub pid: i32,
    pub start: u64,
    pub zombie: bool,
}

impl From<&Proc> for Found {
    fn from(process: &Proc) -> Found {
        Found {
            pid: process.pid,
            start: process.start,
            zombie: process.zombie,
        }
    }
}

/// The processes in `scope` now. No shell starts meanwhile, so every child of the
/// server is either a recorded shell or a leftover.
pub(super) fn find(scope: &Scope) -> Vec<Found> {
    let _search = shells::searching();
    let (live, running) = shells::snapshot();
    let table = procfs::processes();
    let mut children: HashMap<i32, Vec<&Proc>> = HashMap::new();
    for process in &table {
        children.entry(process.ppid).or_default().push(process);
    }
    let mut found = Vec::new();
    for root in children.get(&server_pid()).into_iter().flatten() {
        if live.contains_key(&root.pid) {
            if let Scope::Job {
                shell: Some(shell), ..
            } = scope
                && *shell == root.pid
            {
                // The shell itself is tokio's to reap: only what is below it.
                let mut below = vec![root.pid];
                while let Some(pid) = below.pop() {
                    for child in children.get(&pid).into_iter().flatten() {
                        found.push(Found::from(*child));
                        below.push(child.pid);
                    }
                }
            }
            continue;
        }
        // An orphan and its descendants: each belongs to the job its own marker
        // names, or, without one, to its parent's.
        let mut pending: Vec<(&Proc, Option<JobMark>)> = vec![(root, None)];
        while let Some((process, inherited)) = pending.pop() {
            let mark = match process.zombie {
                true => inherited,
                false => procfs::mark_of(process.pid).or(inherited),
            };
            let wanted = match (scope, &mark) {
                (Scope::All, _) | (Scope::Job { .. }, None) => true,
                (Scope::Job { job, .. }, Some(mark)) => mark == job || !running.contains(mark),
            };
            if !wanted
                && process.pid == root.pid
                && let Some(owner) = &mark
            {
                shells::owned_by(root.pid, owner.clone());
            }
            if wanted {
                found.push(Found::from(process));
            }
            for child in children.get(&process.pid).into_iter().flatten() {
                pending.push((child, mark.clone()));
            }
        }
    }
    found
}
