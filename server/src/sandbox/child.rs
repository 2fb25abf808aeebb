//! Enforcing a job's ruleset on its process, between `fork` and `exec`.
//!
//! The server is multi-threaded, so the forked child may only do async-signal-safe
//! work before `exec`: no allocation, no lock. The ruleset is therefore built in the
//! parent (that opens files and allocates), and the child makes two raw system calls:
//! `prctl(PR_SET_NO_NEW_PRIVS)` (Landlock requires it of unprivileged callers; it also
//! keeps set-uid programs such as `sudo` from raising the job's privileges) and
//! `landlock_restrict_self`. Re-executing the binary as a single-threaded wrapper
//! would allow the crate's own `restrict_self`, but costs an extra `exec` per job, a
//! hidden command line to parse before the server's own, and an extra process between
//! the server and the job's process group; two system calls are simpler to get right.
//!
//! If either call fails the child reports the error and does not `exec`: a job is never
//! run with less confinement than was prepared for it.

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

    /// Spawns `command` with the ruleset enforced on the child before it executes.
    /// Taking `self` keeps the descriptor open until the child has forked; it is
    /// closed when this returns (the child's copy closes at `exec`).
    pub fn spawn(self, command: &mut Command) -> io::Result<Child> {
        let ruleset = self.ruleset.as_raw_fd();
        // SAFETY: the closure runs in the forked child before exec; `enforce` only makes
        // raw system calls on a descriptor the parent keeps open across the fork, and
        // neither allocates nor locks, so it is async-signal-safe.
        unsafe {
            command.pre_exec(move || enforce(ruleset));
        }
        let child = command.spawn();
        drop(self.ruleset);
        child
    }
}

/// Restricts the calling process (the forked child) with `ruleset`.
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
