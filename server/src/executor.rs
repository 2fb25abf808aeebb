//! Running one task: `sh -c <run>` in the run's workspace, in a process group of its
//! own, with an allowlisted environment ([`crate::job_env`]) inside a sandbox
//! ([`crate::sandbox`]), with its output captured line by line into the store.
//!
//! The executor knows nothing of the state machine: it reports how the process ended
//! ([`JobExit`]) and the scheduler turns that into status changes.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use app::domain::JobExit;
use tokio::io::{AsyncBufReadExt, AsyncRead, BufReader};

use crate::output_lines::LineCutter;
use tokio::process::Command;
use tokio::sync::{mpsc, oneshot};

use crate::job_env::{JobPlace, job_env};
use crate::job_tmp::JobTmp;
use crate::sandbox;
use crate::store::Store;

/// The most log kept per job; past it one notice is written and the rest dropped.
pub const LOG_CAP_BYTES: u64 = 10 * 1024 * 1024;

/// Output lines are written to the store in batches of at most this many bytes...
const BATCH_BYTES: usize = 64 * 1024;
/// ...or after this long, whichever comes first, so a log is readable while it grows.
const BATCH_DELAY: Duration = Duration::from_millis(100);

/// Everything needed to start one task.
#[derive(Clone, Debug)]
pub struct TaskLaunch {
    pub run_id: i64,
    pub job_id: String,
    pub command: String,
    pub env: BTreeMap<String, String>,
    pub timeout_secs: Option<u64>,
    pub workspace: PathBuf,
}

/// Runs the task to its end, or until `kill` fires (then the whole process group is
/// killed and the exit reports the signal). The job gets a private directory, its
/// `TMPDIR` and `HOME`, for as long as it runs.
pub async fn run_task(launch: TaskLaunch, store: Store, kill: oneshot::Receiver<()>) -> JobExit {
    let tmp = match JobTmp::create(&launch.workspace, launch.run_id, &launch.job_id) {
        Ok(tmp) => tmp,
        Err(error) => {
            return JobExit::Interrupted {
                reason: format!("could not create the job's temporary directory: {error}"),
            };
        }
    };
    let exit = run_in(&launch, tmp.path(), store, kill).await;
    // The exit is reported at once; what the job left in its directory is removed
    // meanwhile, off the path from one job's end to the next one's start.
    tokio::spawn(tmp.remove());
    exit
}

/// Starts `sh -c <run>` with the job's environment allowlist, in the sandbox, and waits.
async fn run_in(
    launch: &TaskLaunch,
    tmp: &Path,
    store: Store,
    kill: oneshot::Receiver<()>,
) -> JobExit {
    let place = JobPlace {
        run_id: launch.run_id,
        job_id: &launch.job_id,
        workspace: &launch.workspace,
        tmp,
    };
    let mut command = Command::new("/bin/sh");
    command
        .arg("-c")
        .arg(&launch.command)
        .current_dir(&launch.workspace)
        .env_clear()
        .envs(job_env(std::env::var_os, &launch.env, place))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .kill_on_drop(true);
    let spawned = match sandbox::support().restrict(&launch.workspace, tmp) {
        Ok(Some(restriction)) => restriction
            .spawn(&mut command)
            .map_err(|error| format!("could not start `sh` in the job's sandbox: {error}")),
        Ok(None) => command
            .spawn()
            .map_err(|error| format!("could not start `sh`: {error}")),
        Err(reason) => Err(reason),
    };
    let mut child = match spawned {
        Ok(child) => child,
        Err(reason) => return JobExit::Interrupted { reason },
    };
    let group = child.id().and_then(|pid| i32::try_from(pid).ok());

    // A few lines in flight per job: with lines of up to 64 KiB, 64 of them bound what a
    // job's output holds in the server's memory to 4 MiB.
    let (lines, collected) = mpsc::channel::<String>(64);
    if let Some(stdout) = child.stdout.take() {
        tokio::spawn(forward_lines(stdout, lines.clone()));
    }
    if let Some(stderr) = child.stderr.take() {
        tokio::spawn(forward_lines(stderr, lines.clone()));
    }
    drop(lines);
    let writer = tokio::spawn(write_log(
        store,
        launch.run_id,
        launch.job_id.clone(),
        collected,
    ));

    let timeout = launch
        .timeout_secs
        .map(Duration::from_secs)
        .unwrap_or(Duration::MAX);
    let exit = tokio::select! {
        status = child.wait() => match status {
            Ok(status) => exit_of(status),
            Err(error) => JobExit::Interrupted { reason: format!("lost the process: {error}") },
        },
        _ = tokio::time::sleep(timeout) => {
            kill_group(group);
            let _ = child.wait().await;
            JobExit::TimedOut { after_secs: launch.timeout_secs.unwrap_or_default() }
        }
        Ok(()) = kill => {
            kill_group(group);
            match child.wait().await {
                Ok(status) => exit_of(status),
                Err(_) => JobExit::Signal(libc::SIGKILL),
            }
        }
    };
    // A grandchild may still hold the pipes open; the group is done with either way.
    kill_group(group);
    let _ = writer.await;
    exit
}

fn exit_of(status: std::process::ExitStatus) -> JobExit {
    use std::os::unix::process::ExitStatusExt;
    match (status.code(), status.signal()) {
        (Some(code), _) => JobExit::Code(code),
        (None, Some(signal)) => JobExit::Signal(signal),
        (None, None) => JobExit::Interrupted {
            reason: "the process ended without a status".into(),
        },
    }
}

/// Sends SIGKILL to every process of the task's group.
fn kill_group(group: Option<i32>) {
    if let Some(pgid) = group {
        // SAFETY: kill(2) with a negative pid signals a process group; it touches no
        // memory of ours and fails harmlessly (ESRCH) when the group is gone.
        unsafe {
            libc::kill(-pgid, libc::SIGKILL);
        }
    }
}

/// Sends the pipe's output line by line, long lines cut ([`crate::output_lines`]), so
/// the server holds at most one line's worth of a job's output per pipe.
async fn forward_lines(pipe: impl AsyncRead + Unpin, lines: mpsc::Sender<String>) {
    let mut reader = BufReader::new(pipe);
    let mut cutter = LineCutter::default();
    loop {
        let chunk = match reader.fill_buf().await {
            Ok(chunk) if !chunk.is_empty() => chunk,
            _ => break,
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
