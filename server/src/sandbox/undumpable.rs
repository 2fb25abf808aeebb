//! The server's memory and environment are closed to its jobs.
//!
//! Jobs run as the server's user, and Linux lets a process read `/proc/<pid>/environ`
//! of any process of its own user: a job could read the server's starting environment
//! (`TOLLGATE_ADMIN_PASSWORD`, `DATABASE_URL`), which stays in its memory whatever the
//! server does with it afterwards. Landlock does not close this (on Linux 6.18 it
//! refuses `/proc/<parent>/mem` but not `/proc/<parent>/environ`). A process marked
//! not dumpable is different: only a process with `CAP_SYS_PTRACE` may read its
//! `environ`, `mem` or `maps`, and jobs have no capabilities (see [`super::child`]).
//! The mark also keeps core dumps, which would hold the same secrets, from being
//! written.

/// Marks the server not dumpable; a failure is logged (jobs could then read it).
pub fn close_the_server_to_jobs() {
    // SAFETY: prctl with integer arguments touches no memory of ours.
    if unsafe { libc::prctl(libc::PR_SET_DUMPABLE, 0, 0, 0, 0) } != 0 {
        let error = std::io::Error::last_os_error();
        tracing::warn!(
            %error,
            "cannot mark the server not dumpable: jobs can read its environment through /proc"
        );
    }
}

/// Whether the server is marked not dumpable (for `/readyz` and tests).
pub fn is_closed() -> bool {
    // SAFETY: as above.
    unsafe { libc::prctl(libc::PR_GET_DUMPABLE, 0, 0, 0, 0) == 0 }
}
