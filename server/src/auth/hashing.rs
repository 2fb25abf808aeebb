//! Password hashing and checking on a few threads of its own.
//!
//! Each argon2 call takes a 19 MiB buffer. Run on tokio's blocking pool (up to 512
//! threads), every sign-in could land on another thread, whose allocator arena then
//! keeps the buffer: the server grew from 15 MiB idle to 153 MiB after 8 parallel
//! sign-ins, and a burst of them could take gigabytes. Here at most [`threads`] calls
//! run at once, which bounds the buffers alive at one time; calls beyond them wait in a
//! queue of [`QUEUE`], and past that the server answers "busy" instead of piling up
//! work. And [`give_big_buffers_back`] makes the allocator return each buffer to the
//! system when freed: glibc otherwise raises its mmap threshold after the first one and
//! keeps the next ones in its arenas (measured: 347 MiB after 20 hashes on 2 threads).

use std::sync::mpsc::{Receiver, SyncSender, TrySendError, sync_channel};
use std::sync::{Arc, Mutex, OnceLock};

use super::secrets;

/// Calls that may wait for a hashing thread.
const QUEUE: usize = 256;

type Work = Box<dyn FnOnce() + Send>;

/// Why a password could not be hashed or checked now.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum HashingError {
    #[error("the server is busy checking passwords: try again in a moment")]
    Busy,
    #[error("the password hashing thread stopped")]
    Stopped,
}

/// Allocations of this size or more are mapped on their own and unmapped when freed.
const BIG_BUFFER_BYTES: i32 = 4 << 20;

/// Makes glibc map every allocation of [`BIG_BUFFER_BYTES`] or more on its own and
/// return it to the system when it is freed (a fixed mmap threshold, where glibc's
/// default moves it up to 32 MiB after the first large free). Costs an `mmap` and the
/// page faults of 19 MiB per hash, about a millisecond next to argon2's tens. Call once
/// at start, before the threads that hash.
pub fn give_big_buffers_back() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only changes the allocator's settings.
    if unsafe { libc::mallopt(libc::M_MMAP_THRESHOLD, BIG_BUFFER_BYTES) } != 1 {
        tracing::warn!(
            "cannot set the allocator's mmap threshold: password hashing may keep memory"
        );
    }
}

/// How many threads hash: the cores, at most 4 (4 x 19 MiB at most held at once).
pub fn threads() -> usize {
    std::thread::available_parallelism().map_or(2, |n| n.get().min(4))
}

fn queue() -> &'static SyncSender<Work> {
    static QUEUE_SENDER: OnceLock<SyncSender<Work>> = OnceLock::new();
    QUEUE_SENDER.get_or_init(|| {
        let (sender, receiver) = sync_channel::<Work>(QUEUE);
        let receiver = Arc::new(Mutex::new(receiver));
        for n in 0..threads() {
            let receiver = receiver.clone();
            let spawned = std::thread::Builder::new()
                .name(format!("password-{n}"))
                .spawn(move || serve(&receiver));
            if let Err(error) = spawned {
                tracing::error!(%error, "cannot start a password hashing thread");
            }
        }
        sender
    })
}

fn serve(receiver: &Mutex<Receiver<Work>>) {
    loop {
        let next = receiver
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .recv();
        match next {
            Ok(work) => work(),
            Err(_) => return,
        }
    }
}

/// Runs `work` on a hashing thread and waits for its answer.
async fn run<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, HashingError> {
    let (answer, answered) = tokio::sync::oneshot::channel();
    let job: Work = Box::new(move || {
        let _ = answer.send(work());
    });
    match queue().try_send(job) {
        Ok(()) => answered.await.map_err(|_| HashingError::Stopped),
        Err(TrySendError::Full(_)) => Err(HashingError::Busy),
        Err(TrySendError::Disconnected(_)) => Err(HashingError::Stopped),
    }
}

/// [`secrets::verify_password`] on a hashing thread.
pub async fn verify(password: &str, stored: Option<String>) -> Result<bool, HashingError> {
    let password = password.to_string();
    run(move || secrets::verify_password(&password, stored.as_deref())).await
}

/// [`secrets::hash_password`] on a hashing thread.
pub async fn hash(password: &str) -> Result<Result<String, String>, HashingError> {
    let password = password.to_string();
    run(move || secrets::hash_password(&password)).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hashes_and_checks_on_its_own_threads() {
        let hashed = hash("correct horse")
            .await
            .expect("queued")
            .expect("hashed");
        assert_eq!(
            verify("correct horse", Some(hashed.clone())).await,
            Ok(true)
        );
        assert_eq!(verify("wrong horse", Some(hashed)).await, Ok(false));
        let on = run(|| std::thread::current().name().map(str::to_string))
            .await
            .expect("ran");
        assert!(on.is_some_and(|name| name.starts_with("password-")));
    }
}
