//! Running one task: `sh -c <run>` in the run's workspace, in a process group of its
//! own, with an allowlisted environment ([`crate::job_env`]) inside a sandbox
//! ([`crate::sandbox`]), with its output captured line by line into the store
//! ([`output`]).
//!
//! A job ends when its shell ends. Its output is read on for at most [`DRAIN`] after
//! that; then whatever is left of the job (its group, and processes that left it,
//! found by [`crate::leftovers`]) is stopped, SIGTERM then SIGKILL, and the log says
//! so. A timeout or a kill stops the shell the same way.
//!
//! The executor knows nothing of the state machine: it reports how the process ended
//! ([`JobExit`]) and the scheduler turns that into status changes.

mod output;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use app::domain::JobExit;
use app::domain::network::Network;
use tokio::io::AsyncRead;
use tokio::process::{Child, Command};
use tokio::sync::oneshot;

use crate::job_env::{JobPlace, job_env};
use crate::job_tmp::JobTmp;
use crate::leftovers::{self, JobMark, Stopping, shells};
use crate::sandbox;
use crate::store::Store;
use crate::workspace::gate_records_beside;

pub use output::LOG_CAP_BYTES;
use output::Output;

/// How long output is still read after the job's shell exited while something else
/// holds the job's stdout or stderr open; then that something is stopped.
pub const DRAIN: Duration = Duration::from_secs(1);

/// Everything needed to start one task.
#[derive(Clone, Debug)]
pub struct TaskLaunch {
    pub run_id: i64,
    pub job_id: String,
    pub command: String,
    pub env: BTreeMap<String, String>,
    /// What the gates before the job decided (`TOLLGATE_GATE_*`).
    pub choices: BTreeMap<String, String>,
    pub timeout_secs: Option<u64>,
    pub workspace: PathBuf,
    /// The job's own `network:` rule (the server's default when absent).
    pub network: Option<Network>,
}

/// Runs the task to its end, or until `kill` fires (then the job's processes are
/// stopped and the exit reports the signal that ended the shell). The job gets a
/// private directory, its `TMPDIR` and `HOME`, for as long as it runs.
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
    let gates = gate_records_beside(&launch.workspace, launch.run_id);
    // The sandbox grants it by path: it must exist before the first gate is decided.
    if let Err(error) = std::fs::create_dir_all(&gates) {
        return JobExit::Interrupted {
            reason: format!("could not create the run's gate records directory: {error}"),
        };
    }
    let place = JobPlace {
        run_id: launch.run_id,
        job_id: &launch.job_id,
        workspace: &launch.workspace,
        tmp,
        gates: &gates,
    };
    let mut command = Command::new("/bin/sh");
    command
        .arg("-c")
        .arg(&launch.command)
        .current_dir(&launch.workspace)
        .env_clear()
        .envs(job_env(
            std::env::var_os,
            &launch.env,
            &launch.choices,
            place,
        ))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .kill_on_drop(true);
    let mark = JobMark {
        run: launch.run_id,
        job: launch.job_id.clone(),
    };
    let connect = sandbox::network::policy().ports_for(launch.network.as_ref());
    let spawned = spawn(&mut command, &place, connect.as_deref(), &mark);
    let (mut child, mut shell) = match spawned {
        Ok(spawned) => spawned,
        Err(reason) => return JobExit::Interrupted { reason },
    };
    let pipes = [
        child
            .stdout
            .take()
            .map(|pipe| Box::new(pipe) as Box<dyn AsyncRead + Send + Unpin>),
        child
            .stderr
            .take()
            .map(|pipe| Box::new(pipe) as Box<dyn AsyncRead + Send + Unpin>),
    ];
    let output = Output::start(
        store,
        launch.run_id,
        launch.job_id.clone(),
        pipes.into_iter().flatten(),
    );
    let mut stopping = Stopping::new(mark, child.id());
    let mut kill = Some(kill);
    let (exit, ending) = wait_for_shell(&mut child, launch, &mut stopping, &mut kill).await;
    shell.reaped();
    after_shell(output, stopping, &mut kill, ending).await;
    exit
}

/// Why the shell ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Ending {
    /// By itself.
    Exited,
    /// Stopped at its timeout.
    TimedOut,
    /// Stopped because the scheduler asked (cancel, shutdown).
    Killed,
}

/// Waits for the shell to exit, stopping it at its timeout or when `kill` fires.
async fn wait_for_shell(
    child: &mut Child,
    launch: &TaskLaunch,
    stopping: &mut Stopping,
    kill: &mut Option<oneshot::Receiver<()>>,
) -> (JobExit, Ending) {
    let timeout = launch
        .timeout_secs
        .map(Duration::from_secs)
        .unwrap_or(Duration::MAX);
    tokio::select! {
        status = child.wait() => (exit_of(status), Ending::Exited),
        _ = tokio::time::sleep(timeout) => {
            let _ = stop_shell(child, stopping).await;
            let after_secs = launch.timeout_secs.unwrap_or_default();
            (JobExit::TimedOut { after_secs }, Ending::TimedOut)
        }
        () = killed(kill) => (exit_of(stop_shell(child, stopping).await), Ending::Killed),
    }
}

/// Once the shell is reaped: reads output for at most [`DRAIN`] more (cut short by a
/// kill), stops what is left of the job, and writes the rest of the log with a note
/// of what was stopped.
async fn after_shell(
    mut output: Output,
    stopping: Stopping,
    kill: &mut Option<oneshot::Receiver<()>>,
    ending: Ending,
) {
    let closed = match ending {
        Ending::Exited => tokio::select! {
            closed = tokio::time::timeout(DRAIN, output.closed()) => closed.is_ok(),
            () = killed(kill) => false,
        },
        Ending::TimedOut | Ending::Killed => false,
    };
    output.stop_reading();
    let stopped = stopping.finish(!closed).await;
    let note = (stopped > 0).then(|| match ending {
        Ending::Exited => format!(
            "[tollgate] the job's shell exited; {stopped} leftover process(es) were stopped\n"
        ),
        Ending::TimedOut => format!(
            "[tollgate] the job timed out; its shell and {stopped} other process(es) were stopped\n"
        ),
        Ending::Killed => format!(
            "[tollgate] the job was stopped; its shell and {stopped} other process(es) were stopped\n"
        ),
    });
    output.finish(note).await;
}

/// Starts the shell, sandboxed when the kernel allows, and records it as a live job
/// shell (see [`crate::leftovers::shells`]) before anything can take it for a leftover.
fn spawn(
    command: &mut Command,
    place: &JobPlace<'_>,
    connect: Option<&[u16]>,
    mark: &JobMark,
) -> Result<(Child, Recorded), String> {
    let mut recorded = Recorded::start(mark.clone());
    let _spawning = shells::spawning();
    // Made here, not on the spawning thread: memory that thread allocates and the
    // registry keeps would pin a page of its own malloc arena for the job's lifetime.
    let shell_mark = mark.clone();
    let record = move |child: &Child| {
        if let Some(pid) = child.id() {
            shells::record(pid, shell_mark);
        }
    };
    let child = sandbox::support()
        .confine(place, connect)?
        .spawn(command, record)
        .map_err(|error| format!("could not start `sh` in the job's sandbox: {error}"))?;
    recorded.pid = child.id();
    Ok((child, recorded))
}

/// A job counted as running, and its shell once recorded: the job counts until this
/// is dropped, at the executor's end.
struct Recorded {
    pid: Option<u32>,
    job: JobMark,
}

impl Recorded {
    fn start(job: JobMark) -> Recorded {
        shells::started(job.clone());
        Recorded { pid: None, job }
    }

    /// Tokio has reaped the shell (or given it up).
    fn reaped(&mut self) {
        if let Some(pid) = self.pid.take() {
            shells::reaped(pid);
        }
    }
}

impl Drop for Recorded {
    fn drop(&mut self) {
        self.reaped();
        shells::ended(&self.job);
    }
}

/// Returns once when the scheduler asks for the job to be killed; never after that,
/// and never if it can no longer ask.
async fn killed(kill: &mut Option<oneshot::Receiver<()>>) {
    if let Some(receiver) = kill.as_mut() {
        let asked = receiver.await.is_ok();
        *kill = None;
        if asked {
            return;
        }
    }
    std::future::pending().await
}

/// SIGTERM to the shell's group and the job's other processes, SIGKILL after the grace,
/// and the shell's status once it has exited.
async fn stop_shell(
    child: &mut Child,
    stopping: &mut Stopping,
) -> std::io::Result<std::process::ExitStatus> {
    stopping.terminate();
    let kill_at = stopping
        .kill_at()
        .unwrap_or_else(|| tokio::time::Instant::now() + leftovers::KILL_GRACE);
    tokio::select! {
        status = child.wait() => status,
        _ = tokio::time::sleep_until(kill_at) => {
            stopping.kill();
            child.wait().await
        }
    }
}

/// How the shell ended, from its wait status.
fn exit_of(status: std::io::Result<std::process::ExitStatus>) -> JobExit {
    use std::os::unix::process::ExitStatusExt;
    let status = match status {
        Ok(status) => status,
        Err(error) => {
            return JobExit::Interrupted {
                reason: format!("lost the process: {error}"),
            };
        }
    };
    match (status.code(), status.signal()) {
        (Some(code), _) => JobExit::Code(code),
        (None, Some(signal)) => JobExit::Signal(signal),
        (None, None) => JobExit::Interrupted {
            reason: "the process ended without a status".into(),
        },
    }
}
