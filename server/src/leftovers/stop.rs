//! Stopping a job's processes: SIGTERM, then SIGKILL for what is still there after
//! [`KILL_GRACE`], then reaping the ones that became the server's children.
//!
//! Signals go to a pid only while `/proc` still shows the start time it had when it was
//! found. Pids are handed out in a cycle, so a pid freed between that check and the
//! signal would have to go round the whole cycle to name another process.

use std::collections::HashMap;
use std::time::Duration;

use tokio::time::Instant;

use super::procfs;
use super::search::{Found, Scope, find};
use super::{JobMark, is_subreaper, server_pid, shells};

/// How long a job's processes have between SIGTERM and SIGKILL.
pub const KILL_GRACE: Duration = Duration::from_secs(3);

/// How long processes sent SIGKILL get to vanish before the search looks again.
const KILLED_WAIT: Duration = Duration::from_secs(1);

/// Searches after SIGKILL at most, for processes forked while the others were stopped.
const KILL_ROUNDS: usize = 5;

/// The first pause between two looks at processes being stopped; it doubles up to
/// [`LONGEST_PAUSE`], so a process that exits at once is seen gone within milliseconds.
const FIRST_PAUSE: Duration = Duration::from_millis(2);
const LONGEST_PAUSE: Duration = Duration::from_millis(100);

/// Stopping one job's processes, across its shell's end.
#[derive(Debug)]
pub struct Stopping {
    job: JobMark,
    /// The job's process group (its shell's pid), signalled while the shell is not
    /// reaped; after that its members are found as orphans.
    group: Option<i32>,
    /// When SIGKILL follows the SIGTERM already sent.
    kill_at: Option<Instant>,
    /// Every process signalled, by pid, with its start time.
    signalled: HashMap<i32, u64>,
}

impl Stopping {
    pub fn new(job: JobMark, group: Option<u32>) -> Stopping {
        Stopping {
            job,
            group: group.and_then(|pid| i32::try_from(pid).ok()),
            kill_at: None,
            signalled: HashMap::new(),
        }
    }

    /// When SIGKILL is due, once [`Stopping::terminate`] has run.
    pub fn kill_at(&self) -> Option<Instant> {
        self.kill_at
    }

    /// The shell still runs and the job must stop (timeout, cancel, shutdown): SIGTERM to
    /// its group and to every other process of the job; the grace starts now.
    pub fn terminate(&mut self) {
        self.kill_at
            .get_or_insert_with(|| Instant::now() + KILL_GRACE);
        signal_group(self.group, libc::SIGTERM);
        if is_subreaper() {
            let scope = Scope::Job {
                job: self.job.clone(),
                shell: self.group,
            };
            self.signal_all(&find(&scope), libc::SIGTERM);
        }
    }

    /// The grace is over and the shell has not exited: SIGKILL to its group and to
    /// everything signalled.
    pub fn kill(&mut self) {
        signal_group(self.group, libc::SIGKILL);
        for (pid, start) in &self.signalled {
            signal_if_same(*pid, *start, libc::SIGKILL);
        }
    }

    /// The shell has been reaped: stops what is left of the job and returns how many
    /// processes were stopped, the ones stopped by [`Stopping::terminate`] included.
    /// `look` says to search even when the cheap checks find nothing (the job's output
    /// is still held open, or it was killed).
    pub async fn finish(mut self, look: bool) -> usize {
        // The shell is reaped: the group's number may be handed out again.
        let group = self.group.take();
        if !is_subreaper() {
            return self.signalled.len();
        }
        if !(look || self.kill_at.is_some() || has_members(group) || orphans_present(&self.job)) {
            return 0;
        }
        let scope = Scope::Job {
            job: self.job.clone(),
            shell: None,
        };
        let found = find(&scope);
        let kill_at = *self
            .kill_at
            .get_or_insert_with(|| Instant::now() + KILL_GRACE);
        self.signal_all(&found, libc::SIGTERM);
        let mut waiting = found;
        if !wait_gone(&mut waiting, kill_at).await {
            self.kill();
        }
        for _ in 0..KILL_ROUNDS {
            wait_gone(&mut waiting, Instant::now() + KILLED_WAIT).await;
            waiting = find(&scope);
            self.signal_all(&waiting, libc::SIGKILL);
            waiting.retain(|process| !process.zombie);
            if waiting.is_empty() {
                break;
            }
        }
        self.signalled.len()
    }

    /// Sends `signal` to the live processes among `found` and remembers them; zombies
    /// are only reaped, and a process is sent SIGTERM once.
    fn signal_all(&mut self, found: &[Found], signal: i32) {
        for process in found {
            let termed = self.signalled.get(&process.pid) == Some(&process.start);
            if process.zombie {
                reap_if_child(process);
            } else if signal == libc::SIGTERM && termed {
                continue;
            } else if signal_if_same(process.pid, process.start, signal) {
                self.signalled.insert(process.pid, process.start);
            }
        }
    }
}

/// Server stop: every process below the server but live shells is stopped (by then the
/// jobs have ended, so these are leftovers the job ends missed, if any). Returns how
/// many there were.
pub async fn sweep() -> usize {
    if !is_subreaper() {
        return 0;
    }
    let mut stopped = 0;
    let mut signal = libc::SIGTERM;
    let mut wait = KILL_GRACE;
    for _ in 0..=KILL_ROUNDS {
        let mut found = find(&Scope::All);
        for process in &found {
            if process.zombie {
                reap_if_child(process);
            } else if signal_if_same(process.pid, process.start, signal) && signal == libc::SIGTERM
            {
                stopped += 1;
            }
        }
        found.retain(|process| !process.zombie);
        if found.is_empty() {
            break;
        }
        wait_gone(&mut found, Instant::now() + wait).await;
        signal = libc::SIGKILL;
        wait = KILLED_WAIT;
    }
    stopped
}

/// Whether the server has a child that may be a leftover of `ending`: one that is not
/// a live shell nor known to belong to another job that still runs. When the kernel
/// does not list children this says no: leftovers are then looked for only when the
/// job's output is held open, its group has members, or it was killed.
fn orphans_present(ending: &JobMark) -> bool {
    procfs::main_thread_children().is_some_and(|children| shells::any_unknown(&children, ending))
}

/// Waits until none of `waiting` runs any more (reaping those that are the server's
/// children) or `deadline` passes; true if none is left.
async fn wait_gone(waiting: &mut Vec<Found>, deadline: Instant) -> bool {
    let mut pause = FIRST_PAUSE;
    loop {
        waiting.retain(|process| match procfs::stat(process.pid) {
            Some(now) if now.start == process.start => {
                if now.zombie {
                    reap_if_child(process);
                    false
                } else {
                    true
                }
            }
            _ => false,
        });
        if waiting.is_empty() {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep_until(deadline.min(Instant::now() + pause)).await;
        pause = (pause * 2).min(LONGEST_PAUSE);
    }
}

/// Sends `signal` to `pid` if it is still the process that started at `start`.
fn signal_if_same(pid: i32, start: u64, signal: i32) -> bool {
    match procfs::stat(pid) {
        Some(now) if now.start == start && !now.zombie => {
            // SAFETY: kill(2) touches no memory of ours; a pid gone meanwhile fails
            // with ESRCH.
            unsafe { libc::kill(pid, signal) == 0 }
        }
        _ => false,
    }
}

/// Whether the group still has a process (a zombie counts).
fn has_members(group: Option<i32>) -> bool {
    // SAFETY: kill(2) with signal 0 only checks that the group exists; no memory is
    // touched.
    group.is_some_and(|pgid| unsafe { libc::kill(-pgid, 0) } == 0)
}

/// Sends `signal` to every process of the group.
fn signal_group(group: Option<i32>, signal: i32) {
    if let Some(pgid) = group {
        // SAFETY: kill(2) with a negative pid signals a process group; it touches no
        // memory of ours and fails harmlessly (ESRCH) when the group is gone.
        unsafe {
            libc::kill(-pgid, signal);
        }
    }
}

/// Reaps `process` if it is a zombie child of the server and not a live shell (those
/// are tokio's to reap, and it would lose their exit status).
pub(super) fn reap_if_child(process: &Found) {
    let Some(now) = procfs::stat(process.pid) else {
        return;
    };
    if now.start != process.start
        || !now.zombie
        || now.ppid != server_pid()
        || shells::is_live(process.pid)
    {
        return;
    }
    let mut status = 0;
    // SAFETY: waitpid on one pid, with a valid pointer to a local; WNOHANG so it never
    // blocks. The pid is a zombie child of ours that tokio does not own.
    if unsafe { libc::waitpid(process.pid, &mut status, libc::WNOHANG) } == process.pid {
        shells::reaped_orphan(process.pid);
    }
}
