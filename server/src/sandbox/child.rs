//! Enforcing a job's ruleset on its process.
//!
//! Landlock restricts the calling thread, and a process inherits the restriction of the
//! thread that started it. So each job is spawned from a short-lived thread of its own
//! that first restricts itself: `prctl(PR_SET_NO_NEW_PRIVS)` (Landlock requires it of
//! unprivileged callers; it also keeps set-uid programs such as `sudo` from raising the
//! job's privileges) and `landlock_restrict_self`, then spawns the job and ends.
//!
//! Doing it on a thread rather than in the child between `fork` and `exec` lets the
//! standard library start the job with `posix_spawn` (a `vfork`-style clone that shares
//! the server's memory until `exec`) instead of `fork`, which copies the page tables of
//! the whole server for every job: that copy was the largest cost of starting a
//! trivial job. The ruleset is built before (that opens files); if either call fails,
//! the job is not started: a job never runs with less confinement than was prepared
//! for it.

use std::io;
use std::os::fd::{AsRawFd, OwnedFd, RawFd};

use tokio::process::{Child, Command};

/// A job's Landlock ruleset, ready to be enforced on the job's process.
#[derive(Debug)]
pub struct Restriction {
    ruleset: OwnedFd,
}

impl Restriction {
    pub(super) fn new(ruleset: OwnedFd) -> Restriction {
        Restriction { ruleset }
    }

    /// Spawns `command` from a thread restricted by the ruleset, so the child starts
    /// restricted. The thread ends when the child has started, after calling `started`
    /// with it: the child is the thread's until the thread ends, so it shows among the
    /// main thread's children (where [`crate::leftovers`] looks for orphans) only after
    /// `started` has recorded it.
    pub fn spawn(
        self,
        command: &mut Command,
        started: impl FnOnce(&Child) + Send,
    ) -> io::Result<Child> {
        let runtime = tokio::runtime::Handle::current();
        let ruleset = self.ruleset.as_raw_fd();
        std::thread::scope(|scope| {
            let spawner = scope.spawn(|| {
                // The child is registered with the runtime's process reaper.
                let _runtime = runtime.enter();
                enforce(ruleset)?;
                let child = command.spawn()?;
                started(&child);
                Ok(child)
            });
            spawner
                .join()
                .unwrap_or_else(|_| Err(io::Error::other("the job's spawning thread panicked")))
        })
    }
}

/// Restricts the calling thread, and so the processes it starts, with `ruleset`.
fn enforce(ruleset: RawFd) -> io::Result<()> {
    // SAFETY: prctl with integer arguments touches no memory of ours.
    if unsafe { libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) } != 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: landlock_restrict_self takes a descriptor and flags (0), no pointer.
    if unsafe { libc::syscall(libc::SYS_landlock_restrict_self, ruleset, 0u32) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}
