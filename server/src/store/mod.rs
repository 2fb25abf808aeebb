//! The store: everything Tollgate remembers, in Postgres or in an embedded SQLite file.
//!
//! One [`Store`] type serves both backends through sqlx's `Any` driver. The schema keeps
//! to what both databases share (text, bigint, millisecond timestamps), so every query
//! is written once and the shared test suite (`server/tests/store.rs`) proves it on
//! both. What differs lives in one place each: the migrations (`migrations/<backend>`)
//! and the connection setup below. Writing the queries twice, once per backend, would
//! give two copies to keep in step for no gain.
//!
//! Status writes go through [`Store::apply`] only (see `transitions.rs`).

mod accounts;
mod counts;
mod drafts;
mod environments;
mod gates;
mod logs;
mod notifications;
mod pipelines;
mod records;
mod replicas;
mod retention;
mod runs;
mod transitions;

use std::path::Path;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::migrate::Migrator;
use sqlx::{AnyPool, ConnectOptions, Executor};

pub use accounts::{AccountEvent, Member, NewUser, UserChange};
pub use counts::StatusCounts;
pub use environments::EnvironmentRecord;
pub use gates::{ApprovalRecord, WaitingGate};
pub use notifications::{Delivery, Notice, NotificationRecord};
pub use pipelines::spec_sha256;
pub use records::{
    EventRecord, JobProgressRecord, JobRecord, LogChunk, PipelineRecord, PipelineVersionRecord,
    RunRecord, RunSummary, TokenRecord, UserRecord, gate_choice, gate_form,
};
pub use replicas::AbandonedJob;
pub use runs::{LoadedRun, RunOrigin};
pub use transitions::{GateLogLine, Records};

/// The Postgres channel on which every change to a run is announced (payload: the run
/// id and the server that changed it), so the scheduler of every replica looks at it at
/// once. The trigger of migration 0008 sends on it: the two names must stay equal.
pub const RUN_CHANNEL: &str = "tollgate_runs";

/// Which database a [`Store`] talks to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Postgres,
    Sqlite,
}

/// Why a store call failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A compare-and-set found the row in another state: someone else changed it first.
    #[error("job `{job}` of run {run} is no longer {expected}")]
    Conflict {
        run: i64,
        job: String,
        expected: app::domain::JobStatus,
    },
    #[error("run {0} has already finished")]
    RunFinished(i64),
    #[error("run {0} does not exist")]
    UnknownRun(i64),
    #[error("run {run} has no job `{job}`")]
    UnknownJob { run: i64, job: String },
    #[error("there is no user `{0}`")]
    UnknownUser(String),
    #[error("a user named `{0}` exists already")]
    UserExists(String),
    /// What the server makes for a new run (its workspace) could not be made; the run
    /// was not stored.
    #[error("run {run} could not be prepared: {error}")]
    NotPrepared { run: i64, error: String },
    /// A stored value this version cannot read (e.g. a graph written by a newer version).
    #[error("stored data is unreadable: {0}")]
    Corrupt(String),
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("database migration: {0}")]
    Migration(#[from] sqlx::migrate::MigrateError),
}

impl StoreError {
    /// The database did not answer (down, unreachable, restarting, out of connections),
    /// as opposed to answering "no": the same write may well succeed later, so callers
    /// that must not lose it retry.
    pub fn is_unavailable(&self) -> bool {
        let StoreError::Database(error) = self else {
            return false;
        };
        match error {
            sqlx::Error::Io(_)
            | sqlx::Error::Tls(_)
            | sqlx::Error::Protocol(_)
            | sqlx::Error::PoolTimedOut
            | sqlx::Error::PoolClosed
            | sqlx::Error::WorkerCrashed => true,
            // Postgres: connection exceptions (08...), shutting down or starting up
            // (57P01-57P03), too many connections (53300). SQLite: busy or locked (5, 6
            // and their extended codes).
            sqlx::Error::Database(database) => database.code().is_some_and(|code| {
                code.starts_with("08")
                    || matches!(&*code, "57P01" | "57P02" | "57P03" | "53300")
                    || code.parse::<u32>().is_ok_and(|n| matches!(n & 0xff, 5 | 6))
            }),
            _ => false,
        }
    }
}

/// The database behind Tollgate. Cheap to clone (a pool handle).
#[derive(Clone, Debug)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
    /// The server this store belongs to, sent with every change notification so that
    /// a server can ignore its own (it already knows about them).
    origin: Arc<str>,
    /// The newest migration this build carries, for the readiness check.
    schema_version: i64,
    /// The webhook endpoints every notice is queued for (`--notify-url`).
    endpoints: Arc<[String]>,
}

impl Store {
    /// Connects to `DATABASE_URL` when given (a `postgres://` URL), else to the SQLite
    /// file `tollgate.db` in `data_dir`, and applies the migrations.
    pub async fn open(database_url: Option<&str>, data_dir: &Path) -> Result<Store, StoreError> {
        match database_url {
            Some(url) => Store::open_postgres(url).await,
            None => Store::open_sqlite(&data_dir.join("tollgate.db")).await,
        }
    }

    /// Connects to Postgres and applies its migrations.
    pub async fn open_postgres(url: &str) -> Result<Store, StoreError> {
        let pool = AnyPoolOptions::new()
            .max_connections(16)
            .acquire_timeout(Duration::from_secs(10));
        let migrator = sqlx::migrate!("./migrations/postgres");
        Store::connect(url, pool, &migrator, Backend::Postgres).await
    }

    /// Opens (creating it if needed) the SQLite file at `path` and applies its
    /// migrations.
    ///
    /// SQLite has one writer at a time, so the pool holds a single connection: writes
    /// queue in the pool instead of failing with "database is locked".
    pub async fn open_sqlite(path: &Path) -> Result<Store, StoreError> {
        let url = format!("sqlite://{}?mode=rwc", path.display());
        let pool = AnyPoolOptions::new()
            .max_connections(1)
            .after_connect(|connection, _| {
                Box::pin(async move {
                    connection
                        .execute(
                            "pragma journal_mode = wal; pragma synchronous = normal; \
                             pragma foreign_keys = on; pragma busy_timeout = 5000;",
                        )
                        .await?;
                    Ok(())
                })
            });
        let migrator = sqlx::migrate!("./migrations/sqlite");
        Store::connect(&url, pool, &migrator, Backend::Sqlite).await
    }

    async fn connect(
        url: &str,
        pool: AnyPoolOptions,
        migrator: &Migrator,
        backend: Backend,
    ) -> Result<Store, StoreError> {
        sqlx::any::install_default_drivers();
        let options = AnyConnectOptions::from_str(url)?.disable_statement_logging();
        let pool = pool.connect_with(options).await?;
        migrator.run(&pool).await?;
        let schema_version = migrator.iter().map(|m| m.version).max().unwrap_or(0);
        Ok(Store {
            pool,
            backend,
            origin: Arc::from(""),
            schema_version,
            endpoints: Arc::from(Vec::new()),
        })
    }

    /// The same store, queueing every notice for these webhook endpoints.
    pub fn with_endpoints(mut self, endpoints: &[String]) -> Store {
        self.endpoints = Arc::from(endpoints.to_vec());
        self
    }

    /// The same store, announcing its changes as coming from server `origin`.
    pub fn with_origin(mut self, origin: &str) -> Store {
        self.origin = Arc::from(origin);
        self
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Answers whether the database responds (for `/healthz`).
    pub async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("select 1").execute(&self.pool).await?;
        Ok(())
    }

    /// Whether the store can serve: it answers and every migration this build knows is
    /// applied (the last one is recorded in `_sqlx_migrations`).
    pub async fn ready(&self) -> Result<(), StoreError> {
        let latest = self.schema_version;
        let applied: Option<i64> =
            sqlx::query_scalar("select max(version) from _sqlx_migrations where success = true")
                .fetch_one(&self.pool)
                .await?;
        if applied.unwrap_or(0) < latest {
            return Err(StoreError::Corrupt(format!(
                "the database schema is at migration {}, this server needs {latest}",
                applied.unwrap_or(0)
            )));
        }
        Ok(())
    }

    /// Closes every connection (tests drop their database afterwards).
    pub async fn close(&self) {
        self.pool.close().await;
    }
}
