//! `tollgate deploy`, `runs`, `run`, `logs`, `files`, `cancel`, `gates`, `approve` and
//! `reject`: a running server's API from a shell or a script, with an API token (`TOLLGATE_URL`, `TOLLGATE_TOKEN`).
//! Text for people by default, the server's JSON with `--json`, and exit codes a script
//! can tell apart ([`Exit`]).

mod connection;
mod gates;
mod inspect;
mod runs;
mod terminal;

pub use connection::{Connect, Failure};
pub use gates::DecisionArgs;

use app::domain::Decision;

/// The commands that talk to a server instead of opening the store.
#[derive(Clone, Debug, clap::Subcommand)]
pub enum RemoteCommand {
    /// Deploys a pipeline file (YAML or JSON), or the saved pipeline of that name.
    Deploy {
        #[command(flatten)]
        server: Connect,
        /// A file such as `pipelines/review.yaml`, or a saved pipeline's name.
        #[arg(value_name = "FILE|NAME")]
        pipeline: String,
    },
    /// Lists the newest runs with their status and progress.
    Runs {
        #[command(flatten)]
        server: Connect,
        /// How many runs (the server's default otherwise).
        #[arg(long)]
        limit: Option<u32>,
    },
    /// Shows a run: each job in dependency order with its status.
    Run {
        #[command(flatten)]
        server: Connect,
        run: i64,
    },
    /// Prints a job's log; `--follow` keeps printing until the job finishes.
    Logs {
        #[command(flatten)]
        server: Connect,
        run: i64,
        job: String,
        #[arg(short, long)]
        follow: bool,
    },
    /// Lists the files in a run's workspace.
    Files {
        #[command(flatten)]
        server: Connect,
        run: i64,
    },
    /// Cancels a run, or one job of it (and everything behind that job).
    Cancel {
        #[command(flatten)]
        server: Connect,
        run: i64,
        job: Option<String>,
    },
    /// Lists the gates waiting for a decision, oldest first, with whether you may decide.
    Gates {
        #[command(flatten)]
        server: Connect,
        /// Only the gates of this run.
        #[arg(long)]
        run: Option<i64>,
    },
    /// Approves a waiting gate: `tollgate approve 3 hitl-gate-evaluate --option ship
    /// --input ticket=OPS-7 -m "report checked"`.
    Approve {
        #[command(flatten)]
        server: Connect,
        #[command(flatten)]
        decision: DecisionArgs,
    },
    /// Rejects a waiting gate, which cancels everything behind it: `tollgate reject 3
    /// hitl-gate-evaluate -m "accuracy dropped"`.
    Reject {
        #[command(flatten)]
        server: Connect,
        #[command(flatten)]
        decision: DecisionArgs,
    },
}

/// How a remote command ended, as its exit code.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exit {
    Ok = 0,
    /// The server answered no (not waiting, not allowed, bad values, unknown run).
    Refused = 1,
    /// The command line is wrong (as clap's own errors).
    Usage = 2,
    /// No answer from Tollgate: the server or its database cannot be reached.
    Unreachable = 3,
}

/// Runs a remote command; prints its result or its failure and returns the exit code.
pub async fn run(command: RemoteCommand) -> i32 {
    let result = match &command {
        RemoteCommand::Deploy { server, pipeline } => runs::deploy(server, pipeline).await,
        RemoteCommand::Runs { server, limit } => runs::list(server, *limit).await,
        RemoteCommand::Run { server, run } => inspect::show_run(server, *run).await,
        RemoteCommand::Logs {
            server,
            run,
            job,
            follow,
        } => inspect::logs(server, *run, job, *follow).await,
        RemoteCommand::Files { server, run } => inspect::files(server, *run).await,
        RemoteCommand::Cancel { server, run, job } => {
            runs::cancel(server, *run, job.as_deref()).await
        }
        RemoteCommand::Gates { server, run } => gates::list(server, *run).await,
        RemoteCommand::Approve { server, decision } => {
            gates::decide(server, decision, Decision::Approve).await
        }
        RemoteCommand::Reject { server, decision } => {
            gates::decide(server, decision, Decision::Reject).await
        }
    };
    match result {
        Ok(()) => Exit::Ok as i32,
        Err(failure) => {
            eprintln!("tollgate: {}", failure.message());
            failure.exit() as i32
        }
    }
}
