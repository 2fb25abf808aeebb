//! Confining a job's process as it starts.
//!
//! Landlock, capabilities and `no_new_privs` are properties of the calling thread, and
//! a process inherits them from the thread that started it. So each job is spawned
//! from a short-lived thread of its own that first confines itself, then spawns the
//! job and ends:
//! - its capabilities go: the ambient set is cleared and, when the server runs as root,
//!   the bounding set is emptied, so a job started as root gets none of root's
//!   capabilities on `exec` (with `CAP_SYS_PTRACE` it could read the server's memory
//!   and environment however the server protects them, see [`super::undumpable`]);
//! - `prctl(PR_SET_NO_NEW_PRIVS)`: set-uid programs such as `sudo` and programs with
//!   file capabilities cannot raise the job's privileges (Landlock also requires it);
//! - `landlock_restrict_self` with the job's ruleset, when the kernel has Landlock.
//!
//! Doing it on a thread rather than in the child between `fork` and `exec` lets the
//! standard library start the job with `posix_spawn` (a `vfork`-style clone that shares
//! the server's memory until `exec`) instead of `fork`, which copies the page tables of
//! the whole server for every job: that copy was the largest cost of starting a
//! trivial job. The ruleset is built before (that opens files); if any step fails, the
//! job is not started: a job never runs with less confinement than was prepared for it.

use std::io;
use std::os::fd::{AsRawFd, OwnedFd, RawFd};

use tokio::process::{Child, Command};

/// What a job's process is confined with, ready to be enforced as it starts.
#[derive(Debug)]
pub struct Confinement {
    /// The job's Landlock ruleset; `None` when the kernel has no Landlock.
    ruleset: Option<OwnedFd>,
}

impl Confinement {
    pub(super) fn new(ruleset: Option<OwnedFd>) -> Confinement {
        Confinement { ruleset }
    }

    /// Spawns `command` from a thread confined as the module says, so the child starts
    /// confined. The thread ends when the child has started, after calling `started`
    /// with it: the child is the thread's until the thread ends, so it shows among the
    /// main thread's children (where [`crate::leftovers`] looks for orphans) only after
    /// `started` has recorded it.
    pub fn spawn(
        self,
        command: &mut Command,
        started: impl FnOnce(&Child) + Send,
    ) -> io::Result<Child> {
        let runtime = tokio::runtime::Handle::current();
        let ruleset = self.ruleset.as_ref().map(AsRawFd::as_raw_fd);
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

/// Confines the calling thread, and so the processes it starts.
fn enforce(ruleset: Option<RawFd>) -> io::Result<()> {
    drop_capabilities()?;
    // SAFETY: prctl with integer arguments touches no memory of ours.
    if unsafe { libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) } != 0 {
        return Err(io::Error::last_os_error());
    }
    if let Some(ruleset) = ruleset {
        // SAFETY: landlock_restrict_self takes a descriptor and flags (0), no pointer.
        if unsafe { libc::syscall(libc::SYS_landlock_restrict_self, ruleset, 0u32) } != 0 {
            return Err(io::Error::last_os_error());
        }
    }
    Ok(())
}

/// Clears the thread's ambient capabilities and, when it may (root has
/// `CAP_SETPCAP`), empties its bounding set. A server that runs as root but cannot
/// empty it refuses to start the job rather than hand it root's capabilities.
fn drop_capabilities() -> io::Result<()> {
    // SAFETY: prctl with integer arguments touches no memory of ours.
    let cleared = unsafe {
        libc::prctl(
            libc::PR_CAP_AMBIENT,
            libc::PR_CAP_AMBIENT_CLEAR_ALL,
            0,
            0,
            0,
        )
    };
    // EINVAL: a kernel without ambient capabilities (before 4.3) has none to clear.
    if cleared != 0 && io::Error::last_os_error().raw_os_error() != Some(libc::EINVAL) {
        return Err(io::Error::last_os_error());
    }
    for capability in 0.. {
        // SAFETY: as above.
        if unsafe { libc::prctl(libc::PR_CAPBSET_DROP, capability, 0, 0, 0) } == 0 {
            continue;
        }
        let error = io::Error::last_os_error();
        return match error.raw_os_error() {
            // Past the last capability this kernel knows: the set is empty.
            Some(libc::EINVAL) => Ok(()),
            // No CAP_SETPCAP: harmless unless `exec` would make the job root.
            // SAFETY: geteuid has no arguments and cannot fail.
            Some(libc::EPERM) if unsafe { libc::geteuid() } != 0 => Ok(()),
            _ => Err(io::Error::other(format!(
                "cannot drop root's capabilities for the job ({error}): run the server as \
                 another user, or give it CAP_SETPCAP"
            ))),
        };
    }
    Ok(())
}
