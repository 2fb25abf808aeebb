//! The server's configuration: command-line flags, each with an environment variable.

use std::net::SocketAddr;
use std::num::NonZeroUsize;
use std::path::PathBuf;

use clap::Parser;

/// Tollgate: shell pipelines with human-in-the-loop approval gates.
#[derive(Clone, Debug, Parser)]
#[command(name = "tollgate", version, about)]
pub struct Config {
    /// Address to listen on.
    #[arg(long, env = "TOLLGATE_BIND", default_value = "127.0.0.1:3000")]
    pub bind: SocketAddr,

    /// Postgres URL (`postgres://user@host:5432/db`). Unset: an embedded SQLite file in
    /// the data directory.
    #[arg(long, env = "DATABASE_URL")]
    pub database_url: Option<String>,

    /// Where the SQLite file and the runs' workspaces live.
    #[arg(long, env = "TOLLGATE_DATA_DIR", default_value = "tollgate-data")]
    pub data_dir: PathBuf,

    /// How many jobs may run at once (default: the number of CPU cores).
    #[arg(long, env = "TOLLGATE_MAX_JOBS")]
    pub max_jobs: Option<NonZeroUsize>,

    /// The built web client (Trunk's `dist/`).
    #[arg(long, env = "TOLLGATE_DIST", default_value = "dist")]
    pub dist: PathBuf,

    /// Seconds running jobs get to finish on SIGTERM/SIGINT before they are killed.
    #[arg(long, env = "TOLLGATE_SHUTDOWN_GRACE", default_value_t = 30)]
    pub shutdown_grace: u64,

    /// Seconds a server may miss heartbeats before its running jobs are failed by
    /// another server (several replicas on Postgres).
    #[arg(long, env = "TOLLGATE_LEASE_SECS", default_value_t = 15)]
    pub lease_secs: u64,

    /// Log lines as `text` (for people) or `json` (one object per line, for collectors).
    #[arg(long, env = "TOLLGATE_LOG_FORMAT", default_value = "text", value_parser = ["text", "json"])]
    pub log_format: String,

    /// A pipeline file (YAML or JSON) to save at start, replacing a saved pipeline of
    /// the same name. Repeat for several.
    #[arg(long = "pipeline", value_name = "FILE")]
    pub pipelines: Vec<PathBuf>,
}

impl Config {
    /// `DATABASE_URL` if it names Postgres; `None` (SQLite) if unset or empty.
    /// Anything else is refused with a message saying what is accepted.
    pub fn postgres_url(&self) -> Result<Option<&str>, String> {
        match self.database_url.as_deref().map(str::trim) {
            None | Some("") => Ok(None),
            Some(url) if url.starts_with("postgres://") || url.starts_with("postgresql://") => {
                Ok(Some(url))
            }
            Some(url) => {
                let scheme = url.split("://").next().unwrap_or(url);
                Err(format!(
                    "DATABASE_URL must be a postgres:// URL (got a `{scheme}` URL); \
                     unset it to use the embedded SQLite file in the data directory"
                ))
            }
        }
    }

    pub fn max_jobs(&self) -> usize {
        self.max_jobs
            .map(NonZeroUsize::get)
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(2, NonZeroUsize::get))
    }
}
