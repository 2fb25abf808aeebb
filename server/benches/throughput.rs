//! Jobs per second and the cost of the run page's status poll:
//! `cargo bench -p server --bench throughput`.
//!
//! The real binary over HTTP on SQLite and Postgres: a run of 200 independent trivial
//! jobs (`true`) is deployed and timed to completion with `--max-jobs 4`; then the
//! `run_statuses` call the run page makes every 2 s is timed on a 500-job run.

#[path = "../tests/common/mod.rs"]
mod common;

use std::time::{Duration, Instant};

use common::process::ServerProcess;
use serde_json::json;

async fn wait_finished(server: &ServerProcess, run: i64) {
    let start = Instant::now();
    loop {
        let (_, progress) = server
            .post("/api/run_statuses", json!({"run_id": run}))
            .await;
        if progress["run"]["status"] != "RUNNING" {
            return;
        }
        assert!(
            start.elapsed() < Duration::from_secs(120),
            "stuck: {progress}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn wide(name: &str, jobs: usize) -> String {
    let mut yaml = format!("name: {name}\njobs:\n");
    for i in 0..jobs {
        yaml.push_str(&format!("  - {{id: j{i}, run: 'true'}}\n"));
    }
    yaml
}

async fn measure(label: &str, database_url: Option<&str>) {
    let dir = common::temp_dir(&format!("throughput-{label}"));
    let server = ServerProcess::start(&dir, &["--max-jobs", "4"], database_url);

    let (_, deployed) = server
        .post("/api/deploy_pipeline", json!({"spec": wide("wide", 200)}))
        .await;
    let run = deployed["run_id"].as_i64().expect("run id");
    let start = Instant::now();
    wait_finished(&server, run).await;
    let elapsed = start.elapsed();

    let (_, big) = server
        .post("/api/deploy_pipeline", json!({"spec": wide("big", 500)}))
        .await;
    let big = big["run_id"].as_i64().expect("run id");
    let mut polls = Vec::new();
    for _ in 0..30 {
        let start = Instant::now();
        let (status, _) = server
            .post("/api/run_statuses", json!({"run_id": big}))
            .await;
        assert_eq!(status, 200);
        polls.push(start.elapsed());
    }
    polls.sort();
    println!(
        "{label:>8}: 200 jobs in {elapsed:>8.2?} ({:.0} jobs/s, 4 at a time)  |  status poll of a 500-job run: median {:>8.2?}",
        200.0 / elapsed.as_secs_f64(),
        polls[polls.len() / 2]
    );
    drop(server);
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::main]
async fn main() {
    measure("SQLite", None).await;
    let db = common::TestDb::postgres().await;
    measure("Postgres", db.url.as_deref()).await;
    db.finish().await;
}
