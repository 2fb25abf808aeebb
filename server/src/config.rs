//! The server's configuration: command-line flags, each with an environment variable.

use std::net::SocketAddr;
use std::num::{NonZeroU32, NonZeroUsize};
use std::path::PathBuf;

use clap::Parser;

/// The default of `--max-jobs-per-run`: 10,000 nodes, far more than a pipeline a
/// person draws or reviews, few enough that one run's rows, graph and run page stay
/// quick.
pub const DEFAULT_MAX_JOBS_PER_RUN: NonZeroUsize = NonZeroUsize::new(10_000).expect("not zero");

/// Tollgate: shell pipelines with human-in-the-loop approval gates.
#[derive(Clone, Debug, Parser)]
#[command(name = "tollgate", version, about)]
pub struct Config {
    /// Address to listen on.
    #[arg(long, env = "TOLLGATE_BIND", default_value = "127.0.0.1:3000")]
    pub bind: SocketAddr,

    /// Postgres URL (`postgres://user@host:5432/db`). Unset: an embedded SQLite file in
    /// the data directory.
    #[arg(long, env = "DATABASE_URL", global = true)]
    pub database_url: Option<String>,

    /// Where the SQLite file and the runs' workspaces live.
    #[arg(
        long,
        env = "TOLLGATE_DATA_DIR",
        default_value = "tollgate-data",
        global = true
    )]
    pub data_dir: PathBuf,

    /// How many jobs may run at once (default: the number of CPU cores).
    #[arg(long, env = "TOLLGATE_MAX_JOBS")]
    pub max_jobs: Option<NonZeroUsize>,

    /// The most nodes one run may have, gates included: a larger pipeline is refused at
    /// save and deploy (422), so one request cannot flood the store and the scheduler.
    #[arg(long, env = "TOLLGATE_MAX_JOBS_PER_RUN", default_value_t = DEFAULT_MAX_JOBS_PER_RUN)]
    pub max_jobs_per_run: NonZeroUsize,

    /// Delete finished runs (their rows, history, logs and workspace) this many days
    /// after they finished. Unset: keep everything.
    #[arg(long, env = "TOLLGATE_RETAIN_DAYS")]
    pub retain_days: Option<NonZeroU32>,

    /// The built web client (Trunk's `dist/`).
    #[arg(long, env = "TOLLGATE_DIST", default_value = "dist")]
    pub dist: PathBuf,

    /// Seconds running jobs and open HTTP requests get to finish on SIGTERM/SIGINT
    /// before jobs are killed and connections closed. No job starts meanwhile.
    #[arg(long, env = "TOLLGATE_SHUTDOWN_GRACE", default_value_t = 30)]
    pub shutdown_grace: u64,

    /// Seconds a server may miss heartbeats before its running jobs are failed by
    /// another server (several replicas on Postgres).
    #[arg(long, env = "TOLLGATE_LEASE_SECS", default_value_t = 15)]
    pub lease_secs: u64,

    /// Milliseconds between the scheduler's checks of every running run for a change it
    /// missed (a lost wake-up). Hidden: only tests that race the check turn it down.
    #[arg(
        long,
        env = "TOLLGATE_RESCAN_MS",
        default_value_t = 30_000,
        hide = true
    )]
    pub rescan_ms: u64,

    /// The TCP ports jobs may connect to unless a job's `network:` says otherwise
    /// (comma-separated), or `any` [default: 22,53,80,443]. The server's own port and
    /// its store's are never allowed (see the README's "What a job can reach").
    #[arg(long, env = "TOLLGATE_JOB_CONNECT_PORTS")]
    pub job_connect_ports: Option<String>,

    /// A directory every job may read and run programs from, e.g. a conda or pyenv
    /// install. Repeat for several (comma-separated in the variable).
    #[arg(
        long = "job-read-path",
        env = "TOLLGATE_JOB_READ_PATHS",
        value_delimiter = ','
    )]
    pub job_read_paths: Vec<PathBuf>,

    /// A directory every job may also write, e.g. a shared dataset directory. Repeat for
    /// several (comma-separated in the variable).
    #[arg(
        long = "job-write-path",
        env = "TOLLGATE_JOB_WRITE_PATHS",
        value_delimiter = ','
    )]
    pub job_write_paths: Vec<PathBuf>,

    /// Log lines as `text` (for people) or `json` (one object per line, for collectors).
    #[arg(long, env = "TOLLGATE_LOG_FORMAT", default_value = "text", value_parser = ["text", "json"])]
    pub log_format: String,

    /// The address people reach Tollgate at, e.g. `https://tollgate.example.com`: the
    /// only host and origin accepted, and `https` makes session cookies `Secure`.
    #[arg(long, env = "TOLLGATE_PUBLIC_URL")]
    pub public_url: Option<String>,

    /// Webhook endpoints told when a gate waits, is decided or times out and when a run
    /// finishes (JSON POSTs, retried until they answer 2xx). Repeat the flag, or give
    /// several comma-separated in `TOLLGATE_NOTIFY_URLS`.
    #[arg(
        long = "notify-url",
        env = "TOLLGATE_NOTIFY_URLS",
        value_delimiter = ','
    )]
    pub notify_urls: Vec<String>,

    /// Let webhooks reach link-local addresses (169.254.0.0/16, fe80::/10,
    /// fd00:ec2::254), where clouds serve instance metadata and credentials.
    #[arg(long, env = "TOLLGATE_NOTIFY_ALLOW_LINK_LOCAL")]
    pub notify_allow_link_local: bool,

    /// The key each webhook body is signed with: `X-Tollgate-Signature: sha256=<hex of
    /// HMAC-SHA256(key, body)>`. Without it notifications are sent unsigned.
    #[arg(long, env = "TOLLGATE_NOTIFY_SECRET", hide_env_values = true)]
    pub notify_secret: Option<String>,

    /// The first `admin` password, used only when the store has no user yet (else a
    /// random one is written to `<data dir>/initial-admin-password`).
    #[arg(long, env = "TOLLGATE_ADMIN_PASSWORD", hide_env_values = true)]
    pub admin_password: Option<String>,

    /// Hours a browser session may go unused before it ends.
    #[arg(long, env = "TOLLGATE_SESSION_IDLE_HOURS", default_value_t = 8)]
    pub session_idle_hours: u64,

    /// Days after sign-in a browser session ends, used or not.
    #[arg(long, env = "TOLLGATE_SESSION_MAX_DAYS", default_value_t = 7)]
    pub session_max_days: u64,

    /// Single sign-on behind a proxy (oauth2-proxy, Pomerium): the header naming the
    /// signed-in user, e.g. `X-Forwarded-User`. Trusted only from `--trusted-proxy`.
    #[arg(long, env = "TOLLGATE_TRUSTED_PROXY_HEADER")]
    pub trusted_proxy_header: Option<String>,

    /// Addresses (CIDR, e.g. `10.0.0.0/8`) of the proxies whose user header is trusted.
    /// Repeat for several.
    #[arg(
        long = "trusted-proxy",
        env = "TOLLGATE_TRUSTED_PROXIES",
        value_delimiter = ','
    )]
    pub trusted_proxies: Vec<String>,

    /// Accept a `--trusted-proxy` range that covers loopback or this host's own
    /// addresses. Jobs run on this host: only set it when they cannot reach the port.
    #[arg(long, env = "TOLLGATE_TRUSTED_PROXY_ALLOW_LOCAL")]
    pub trusted_proxy_allow_local: bool,

    /// Serve `/metrics` without a token (e.g. when only the scraper can reach the port).
    #[arg(long, env = "TOLLGATE_METRICS_PUBLIC")]
    pub metrics_public: bool,

    /// A pipeline file (YAML or JSON) to save at start, replacing a saved pipeline of
    /// the same name. Repeat for several.
    #[arg(long = "pipeline", value_name = "FILE")]
    pub pipelines: Vec<PathBuf>,

    /// Without a command, Tollgate serves; these act on the store and exit.
    #[command(subcommand)]
    pub command: Option<crate::cli::Command>,
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

    /// `--public-url` as an origin (`scheme://host[:port]`), checked.
    pub fn public_origin(&self) -> Result<Option<String>, String> {
        let Some(url) = self
            .public_url
            .as_deref()
            .map(str::trim)
            .filter(|u| !u.is_empty())
        else {
            return Ok(None);
        };
        let bad = || {
            format!(
                "--public-url must look like https://tollgate.example.com (a scheme and a host, no path); got `{url}`"
            )
        };
        let (scheme, rest) = url.split_once("://").ok_or_else(bad)?;
        let authority = rest.strip_suffix('/').unwrap_or(rest);
        if !(scheme == "http" || scheme == "https")
            || authority.is_empty()
            || authority.contains(['/', '?', '#', '@', ' '])
        {
            return Err(bad());
        }
        // Browsers leave the scheme's default port out of Host and Origin.
        let authority = authority.to_ascii_lowercase();
        let default_port = if scheme == "https" { ":443" } else { ":80" };
        let authority = authority.strip_suffix(default_port).unwrap_or(&authority);
        Ok(Some(format!("{scheme}://{authority}")))
    }

    /// `--notify-url`s, checked: each an `http://` or `https://` address.
    pub fn notify_endpoints(&self) -> Result<Vec<String>, String> {
        self.notify_urls
            .iter()
            .map(|url| url.trim())
            .filter(|url| !url.is_empty())
            .map(|url| {
                if let Some(address) = crate::webhooks::literal_link_local(url)
                    .filter(|_| !self.notify_allow_link_local)
                {
                    Err(format!(
                        "--notify-url `{url}` points at {address}, a link-local address where \
                         clouds serve instance metadata: use another endpoint, or add \
                         --notify-allow-link-local"
                    ))
                } else if app::domain::is_webhook_url(url) {
                    Ok(url.to_string())
                } else {
                    Err(format!(
                        "--notify-url `{url}` is not a web address: give one like https://hooks.example.com/tollgate"
                    ))
                }
            })
            .collect()
    }

    /// The sign-in settings, checked.
    pub fn auth_settings(&self) -> Result<crate::auth::AuthSettings, String> {
        use std::time::Duration;
        let public_origin = self.public_origin()?;
        let proxy_header = match self.trusted_proxy_header.as_deref() {
            None => None,
            Some(name) => Some(axum::http::HeaderName::try_from(name).map_err(|_| {
                format!("--trusted-proxy-header `{name}` is not a valid header name")
            })?),
        };
        let trusted_proxies = crate::auth::trusted_proxies(
            &self.trusted_proxies,
            self.bind.ip(),
            self.trusted_proxy_allow_local,
        )?;
        if proxy_header.is_some() && trusted_proxies.is_empty() {
            return Err(
                "--trusted-proxy-header needs --trusted-proxy with the proxy's address".into(),
            );
        }
        Ok(crate::auth::AuthSettings {
            secure_cookies: public_origin
                .as_deref()
                .is_some_and(|o| o.starts_with("https://")),
            public_origin,
            loopback_only: self.bind.ip().is_loopback(),
            session_idle: Duration::from_secs(self.session_idle_hours.max(1) * 3600),
            session_max: Duration::from_secs(self.session_max_days.max(1) * 86_400),
            proxy_header,
            trusted_proxies,
            metrics_public: self.metrics_public,
        })
    }

    /// The port of the Postgres store, when `DATABASE_URL` names one over TCP.
    pub fn store_port(&self) -> Option<u16> {
        let url = url::Url::parse(self.postgres_url().ok()??).ok()?;
        url.host()?;
        Some(url.port().unwrap_or(5432))
    }

    pub fn max_jobs(&self) -> usize {
        self.max_jobs
            .map(NonZeroUsize::get)
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(2, NonZeroUsize::get))
    }
}
