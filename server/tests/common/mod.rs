//! A fresh database for each test: a new SQLite file, or a new Postgres database that
//! is dropped afterwards.
//!
//! Postgres tests never skip silently: without a server they fail and say how to start
//! one. `TOLLGATE_TEST_POSTGRES_URL` points them at another server (default
//! `postgres://postgres@127.0.0.1:5432/postgres`, which must be allowed to create
//! databases).

#![allow(dead_code)]

use std::sync::atomic::{AtomicU32, Ordering};

use server::store::Store;
use sqlx::{Connection, Executor, PgConnection};

static COUNTER: AtomicU32 = AtomicU32::new(0);

pub const DEFAULT_POSTGRES_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";

/// A store on a database that exists only for one test.
pub struct TestDb {
    pub store: Store,
    pub url: Option<String>,
    pub dir: std::path::PathBuf,
    postgres: Option<(String, String)>,
}

fn unique_name() -> String {
    format!(
        "tollgate_test_{}_{}_{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed),
        rand::random::<u32>()
    )
}

/// A new empty directory under the system's temp folder.
pub fn temp_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("tollgate-{name}-{}", unique_name()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

impl TestDb {
    pub async fn sqlite() -> TestDb {
        let dir = std::env::temp_dir().join(unique_name());
        std::fs::create_dir_all(&dir).expect("temp dir");
        let store = Store::open(None, &dir).await.expect("open sqlite store");
        TestDb {
            store,
            url: None,
            dir,
            postgres: None,
        }
    }

    pub async fn postgres() -> TestDb {
        let admin_url = std::env::var("TOLLGATE_TEST_POSTGRES_URL")
            .unwrap_or_else(|_| DEFAULT_POSTGRES_URL.to_string());
        let mut admin = PgConnection::connect(&admin_url)
            .await
            .unwrap_or_else(|err| {
                panic!(
                    "Postgres tests need a server at {admin_url} ({err}). Start it with \
                 `pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start` \
                 or set TOLLGATE_TEST_POSTGRES_URL."
                )
            });
        let name = unique_name();
        admin
            .execute(sqlx::AssertSqlSafe(format!("create database {name}")))
            .await
            .expect("create test database");
        let url = match admin_url.rsplit_once('/') {
            Some((server, _)) => format!("{server}/{name}"),
            None => panic!("TOLLGATE_TEST_POSTGRES_URL has no database part: {admin_url}"),
        };
        let store = Store::open(Some(&url), std::path::Path::new("."))
            .await
            .expect("open postgres store");
        let dir = std::env::temp_dir().join(&name);
        std::fs::create_dir_all(&dir).expect("temp dir");
        TestDb {
            store,
            url: Some(url),
            dir,
            postgres: Some((admin_url, name)),
        }
    }

    /// Opens a second store on the same database, as a restarted server would.
    pub async fn reopen(&self) -> Store {
        Store::open(self.url.as_deref(), &self.dir)
            .await
            .expect("reopen store")
    }

    /// Closes the store and removes the database.
    pub async fn finish(self) {
        self.store.close().await;
        if let Some((admin_url, name)) = &self.postgres
            && let Ok(mut admin) = PgConnection::connect(admin_url).await
        {
            let _ = admin
                .execute(sqlx::AssertSqlSafe(format!(
                    "drop database if exists {name} with (force)"
                )))
                .await;
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Runs each named async test function against SQLite and against Postgres.
#[macro_export]
macro_rules! on_both_backends {
    ($($test:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test]
                async fn $test() {
                    let db = $crate::common::TestDb::sqlite().await;
                    super::$test(&db).await;
                    db.finish().await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test]
                async fn $test() {
                    let db = $crate::common::TestDb::postgres().await;
                    super::$test(&db).await;
                    db.finish().await;
                }
            )*
        }
    };
}

pub mod cluster;
pub mod process;
pub mod procs;
pub mod runs;
