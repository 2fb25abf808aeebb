//! A job's stdout and stderr, read line by line into the store while it runs, and for
//! a short drain after its shell exits.
//!
//! A pipe ends when every process holding its write end has closed it. After the shell
//! exits that may never happen (a background process keeps it), so reading can be told
//! to stop: a reader then stops the first time its pipe has nothing waiting, and is
//! dropped if it is still busy after [`LAST_READ`].

use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncRead, BufReader};
use tokio::sync::{mpsc, watch};
use tokio::task::{JoinHandle, JoinSet};

use crate::output_lines::LineCutter;
use crate::store::Store;

/// The most log kept per job; past it one notice is written and the rest dropped.
pub const LOG_CAP_BYTES: u64 = 10 * 1024 * 1024;

/// Output lines are written to the store in batches of at most this many bytes...
const BATCH_BYTES: usize = 64 * 1024;
/// ...or after this long, whichever comes first, so a log is readable while it grows.
const BATCH_DELAY: Duration = Duration::from_millis(100);

/// How long a reader told to stop may still go on reading output that keeps coming
/// (a process that could not be stopped and still writes) before it is dropped.
const LAST_READ: Duration = Duration::from_secs(3);

/// The readers of a job's pipes and the writer of its log.
pub(super) struct Output {
    readers: JoinSet<()>,
    stop: watch::Sender<bool>,
    lines: mpsc::Sender<String>,
    writer: JoinHandle<()>,
}

impl Output {
    /// Starts reading `pipes` into the log of `job` of `run`.
    pub(super) fn start(
        store: Store,
        run: i64,
        job: String,
        pipes: impl IntoIterator<Item = Box<dyn AsyncRead + Send + Unpin>>,
    ) -> Output {
        // A few lines in flight per job: with lines of up to 64 KiB, 64 of them bound
        // what a job's output holds in the server's memory to 4 MiB.
        let (lines, collected) = mpsc::channel::<String>(64);
        let (stop, stopping) = watch::channel(false);
        let mut readers = JoinSet::new();
        for pipe in pipes {
            readers.spawn(forward_lines(pipe, lines.clone(), stopping.clone()));
        }
        let writer = tokio::spawn(write_log(store, run, job, collected));
        Output {
            readers,
            stop,
            lines,
            writer,
        }
    }

    /// Returns once every pipe has ended. Cancel safe: it can be raced against a
    /// deadline and awaited again.
    pub(super) async fn closed(&mut self) {
        while self.readers.join_next().await.is_some() {}
    }

    /// Tells the readers to stop once their pipe has nothing waiting.
    pub(super) fn stop_reading(&self) {
        let _ = self.stop.send(true);
    }

    /// Stops reading (see [`Output::stop_reading`]), appends `note` after the output
    /// read so far, and returns once all of it is in the store.
    pub(super) async fn finish(mut self, note: Option<String>) {
        self.stop_reading();
        if tokio::time::timeout(LAST_READ, self.closed())
            .await
            .is_err()
        {
            self.readers.shutdown().await;
        }
        if let Some(note) = note {
            let _ = self.lines.send(note).await;
        }
        drop(self.lines);
        let _ = self.writer.await;
    }
}

/// Sends the pipe's output line by line, long lines cut ([`crate::output_lines`]), so
/// the server holds at most one line's worth of a job's output per pipe. Once `stop`
/// is set it ends at the first moment nothing is waiting in the pipe.
async fn forward_lines(
    pipe: impl AsyncRead + Unpin,
    lines: mpsc::Sender<String>,
    mut stop: watch::Receiver<bool>,
) {
    let mut reader = BufReader::new(pipe);
    let mut cutter = LineCutter::default();
    loop {
        let chunk = tokio::select! {
            biased;
            chunk = reader.fill_buf() => match chunk {
                Ok(chunk) if !chunk.is_empty() => chunk,
                _ => break,
            },
            _ = stop.wait_for(|stop| *stop) => break,
        };
        let (taken, line) = cutter.take(chunk);
        reader.consume(taken);
        if let Some(line) = line
            && lines.send(line).await.is_err()
        {
            return;
        }
    }
    if let Some(line) = cutter.finish() {
        let _ = lines.send(line).await;
    }
}

/// Appends the lines to the store in small batches, up to [`LOG_CAP_BYTES`].
async fn write_log(store: Store, run: i64, job: String, mut lines: mpsc::Receiver<String>) {
    let mut written: u64 = 0;
    let mut truncated = false;
    let mut batch = String::new();
    loop {
        let next = if batch.is_empty() {
            lines.recv().await
        } else {
            match tokio::time::timeout(BATCH_DELAY, lines.recv()).await {
                Ok(line) => line,
                Err(_) => {
                    flush(&store, run, &job, &mut batch, &mut written).await;
                    continue;
                }
            }
        };
        let Some(line) = next else { break };
        if truncated {
            continue;
        }
        if written + (batch.len() + line.len()) as u64 > LOG_CAP_BYTES {
            flush(&store, run, &job, &mut batch, &mut written).await;
            batch.push_str(&format!(
                "[tollgate] log truncated: the job wrote more than {} MiB; the rest is dropped\n",
                LOG_CAP_BYTES / (1024 * 1024)
            ));
            truncated = true;
            continue;
        }
        batch.push_str(&line);
        if batch.len() >= BATCH_BYTES {
            flush(&store, run, &job, &mut batch, &mut written).await;
        }
    }
    flush(&store, run, &job, &mut batch, &mut written).await;
}

async fn flush(store: &Store, run: i64, job: &str, batch: &mut String, written: &mut u64) {
    if batch.is_empty() {
        return;
    }
    // While the store does not answer the batch is kept and offered again; the job's
    // output waits in its pipe meanwhile (the job blocks when it is full), so nothing
    // is lost and nothing piles up in the server.
    let mut backoff = Duration::from_millis(100);
    loop {
        match store.append_log(run, job, batch).await {
            Ok(total) => *written = total,
            Err(error) if error.is_unavailable() => {
                tracing::warn!(run, job, %error, "could not store log output: retrying");
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(Duration::from_secs(5));
                continue;
            }
            Err(error) => tracing::warn!(run, job, %error, "could not store log output"),
        }
        break;
    }
    batch.clear();
}
