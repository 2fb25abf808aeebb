//! Finding and stopping what a job leaves behind when its shell exits.
//!
//! A job is `sh -c` in a process group of its own, but its processes can leave the
//! group (`setsid`, a daemon that double-forks) and outlive the shell. Killing the group
//! does not reach them, and one that keeps the job's stdout or stderr open would keep
//! the job RUNNING for ever.
//!
//! So the server is a *child subreaper* ([`become_subreaper`]): an orphaned descendant
//! of a job is reparented to the server instead of to init. The server starts no
//! process but job shells, so a child of the server that is not a live job shell
//! ([`shells`]) is a job's leftover, and everything below it too. Whose, is in its
//! environment: each job carries `TOLLGATE_RUN_ID` and `TOLLGATE_JOB_ID`
//! ([`crate::job_env`]). A cgroup per job would find them without the environment, but
//! needs a delegated cgroup v2 subtree, which containers and hybrid v1 hosts do not give;
//! `prctl` works everywhere on Linux.
//!
//! Looking costs one small read per job end ([`procfs::main_thread_children`]), and
//! one per SIGCHLD to reap orphans that exited; the full walk of `/proc` ([`search`])
//! happens only when that read shows an orphan not known to belong to another running
//! job, the job's group still has members, its output is still held open, or it was
//! killed.
//! Stopping ([`stop`]) is SIGTERM, then SIGKILL after [`KILL_GRACE`]; the server
//! reaps the leftovers it stopped, and orphans that exit by themselves ([`zombies`]),
//! with `waitpid` on those pids only: tokio reaps the shells.

mod procfs;
mod search;
pub mod shells;
mod stop;
mod zombies;

use std::sync::atomic::{AtomicBool, Ordering};

pub use stop::{KILL_GRACE, Stopping, sweep};
pub use zombies::reap_exited_orphans;

/// The job a process was started for, as its environment says.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct JobMark {
    pub run: i64,
    pub job: String,
}

static SUBREAPER: AtomicBool = AtomicBool::new(false);

/// Makes this process the reaper of its orphaned descendants. Called once at start,
/// before any job runs (a child inherits whether it has a subreaper above it when it
/// is forked). Without it leftovers are not looked for: orphans would belong to init
/// and a process's children could be anything (a test harness's servers).
pub fn become_subreaper() -> std::io::Result<()> {
    // SAFETY: prctl with integer arguments touches no memory of ours.
    if unsafe { libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    SUBREAPER.store(true, Ordering::Relaxed);
    Ok(())
}

fn is_subreaper() -> bool {
    SUBREAPER.load(Ordering::Relaxed)
}

/// This server's pid, as `/proc` shows it in its children's parent field.
fn server_pid() -> i32 {
    i32::try_from(std::process::id()).unwrap_or(i32::MAX)
}
