//! A SQLite store written by the previous version upgrades in place. Migration 0010
//! rebuilds the `jobs` table (SQLite cannot change a check constraint): every row, log
//! chunk and approval must survive it, and the logs and approvals must still belong to
//! their jobs (deleted with them).

mod common;

use std::str::FromStr;

use server::store::Store;
use sqlx::sqlite::{SqliteConnectOptions, SqlitePoolOptions};

const BEFORE_SKIPPED: i64 = 9;

#[tokio::test]
async fn a_sqlite_store_of_the_previous_version_upgrades_with_its_runs_intact() {
    let path = common::temp_dir("upgrade").join("tollgate.db");
    let options = SqliteConnectOptions::from_str(&format!("sqlite://{}", path.display()))
        .expect("options")
        .create_if_missing(true)
        .foreign_keys(true);
    let pool = SqlitePoolOptions::new()
        .max_connections(1)
        .connect_with(options.clone())
        .await
        .expect("open");
    sqlx::migrate!("./migrations/sqlite")
        .run_to(BEFORE_SKIPPED, &pool)
        .await
        .expect("the previous schema");
    for statement in [
        "insert into runs (id, pipeline, status, graph, created_at, pending_jobs, completed_jobs, waiting_gates) \
         values (1, 'p', 'RUNNING', '{}', 1, 0, 1, 1)",
        "insert into jobs (run_id, job_id, position, kind, status, finished_at, log_bytes, owner, version) \
         values (1, 'a', 0, 'task', 'COMPLETED', 5, 3, 'replica-1', 2)",
        "insert into jobs (run_id, job_id, position, kind, status, gate_message, approval_count, gate_form) \
         values (1, 'hitl-gate-a', 1, 'gate', 'RUNNING', 'Look', 1, '{\"options\":[\"ship\"]}')",
        "insert into job_logs (run_id, job_id, start_offset, end_offset, data) values (1, 'a', 0, 3, 'hi\n')",
        "insert into gate_approvals (run_id, job_id, username, at) values (1, 'hitl-gate-a', 'ana', 4)",
    ] {
        sqlx::query(statement)
            .execute(&pool)
            .await
            .expect(statement);
    }
    let jobs_before: Vec<(String, String, Option<i64>, String)> = sqlx::query_as(
        "select job_id, status, finished_at, coalesce(owner, gate_form, '') from jobs order by position",
    )
    .fetch_all(&pool)
    .await
    .expect("jobs");
    pool.close().await;

    // The server's own open runs the rest of the migrations.
    let store = Store::open_sqlite(&path).await.expect("the upgrade");
    let log = store.read_log(1, "a", 0, 100).await.expect("the log");
    assert_eq!(log.text, "hi\n");
    drop(store);

    let pool = SqlitePoolOptions::new()
        .max_connections(1)
        .connect_with(options)
        .await
        .expect("reopen");
    let jobs_after: Vec<(String, String, Option<i64>, String)> = sqlx::query_as(
        "select job_id, status, finished_at, coalesce(owner, gate_form, '') from jobs order by position",
    )
    .fetch_all(&pool)
    .await
    .expect("jobs");
    assert_eq!(jobs_after, jobs_before);
    let approvals: i64 = sqlx::query_scalar("select count(*) from gate_approvals")
        .fetch_one(&pool)
        .await
        .expect("approvals");
    assert_eq!(approvals, 1);
    // The new status is accepted, with its finish time, and only with it.
    sqlx::query("update jobs set status = 'SKIPPED', finished_at = 9 where job_id = 'hitl-gate-a'")
        .execute(&pool)
        .await
        .expect("SKIPPED with a finish time");
    assert!(
        sqlx::query("update jobs set status = 'SKIPPED', finished_at = null where job_id = 'a'")
            .execute(&pool)
            .await
            .is_err(),
        "a final status without a finish time is refused"
    );
    // Logs and approvals still belong to their jobs.
    sqlx::query("delete from runs where id = 1")
        .execute(&pool)
        .await
        .expect("delete");
    let left: (i64, i64, i64) = sqlx::query_as(
        "select (select count(*) from jobs), (select count(*) from job_logs), \
         (select count(*) from gate_approvals)",
    )
    .fetch_one(&pool)
    .await
    .expect("counts");
    assert_eq!(left, (0, 0, 0));
}
