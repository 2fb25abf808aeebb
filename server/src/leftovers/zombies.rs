//! Reaping orphans that exit on their own while their job still runs.
//!
//! As the subreaper, the server is the parent of every orphan of a job: one that exits
//! stays a zombie until the server waits for it. A job's end reaps those of its own,
//! but a long job that keeps double-forking short-lived processes would otherwise pile
//! up zombies (each holds a pid) until it ends. So each SIGCHLD, the children list is
//! read and the zombies in it that are not live shells (tokio reaps those) are reaped.

use tokio::signal::unix::{SignalKind, signal};

use super::procfs;
use super::shells;
use super::stop::reap_if_child;

/// Starts reaping exited orphans as they exit; logs and gives up if SIGCHLD cannot be
/// listened to (they are then reaped when their job ends).
pub fn reap_exited_orphans() {
    let mut exits = match signal(SignalKind::child()) {
        Ok(exits) => exits,
        Err(error) => {
            tracing::warn!(%error, "cannot listen to SIGCHLD: orphans of a running job are reaped only when it ends");
            return;
        }
    };
    tokio::spawn(async move {
        while exits.recv().await.is_some() {
            reap_now();
        }
    });
}

/// Reaps the zombies among the server's children that are not live shells.
fn reap_now() {
    let Some(children) = procfs::main_thread_children() else {
        return;
    };
    for pid in children {
        if shells::is_live(pid) {
            continue;
        }
        if let Some(process) = procfs::stat(pid).filter(|process| process.zombie) {
            reap_if_child(&(&process).into());
        }
    }
}
