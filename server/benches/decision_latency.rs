//! Approve-to-downstream-start: from the moment a person's approval is sent until the
//! job behind the gate is running its command. `cargo bench -p server --bench
//! decision_latency`.
//!
//! The real binary, over HTTP, on SQLite and on Postgres. The downstream job prints
//! `date +%s%N` as its first act, so the figure includes the HTTP request, the
//! decision's transaction, waking the scheduler, claiming a slot and spawning `sh`.

#[path = "../tests/common/mod.rs"]
mod common;

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use common::process::ServerProcess;
use serde_json::json;

const SAMPLES: usize = 30;

const PIPELINE: &str = "
name: latency
jobs:
  - {id: source, run: 'true', gate: {message: Approve to measure}}
  - {id: released, run: 'date +%s%N', depends_on: [source]}
";

fn now_ns() -> i128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as i128)
}

async fn wait_for(server: &ServerProcess, run: i64, job: &str, status: &str) -> serde_json::Value {
    let start = Instant::now();
    loop {
        let (_, detail) = server.post("/api/get_run", json!({"run_id": run})).await;
        let found = detail["jobs"]
            .as_array()
            .and_then(|jobs| jobs.iter().find(|j| j["id"] == job).cloned());
        if let Some(found) = found
            && found["status"] == status
        {
            return detail;
        }
        assert!(start.elapsed() < Duration::from_secs(20), "stuck: {detail}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn measure(label: &str, database_url: Option<&str>) {
    let dir = common::temp_dir(&format!("latency-{label}"));
    let server = ServerProcess::start(&dir, &[], database_url);
    let mut samples = Vec::with_capacity(SAMPLES);
    for _ in 0..SAMPLES {
        let (_, deployed) = server
            .post("/api/deploy_pipeline", json!({"spec": PIPELINE}))
            .await;
        let run = deployed["run_id"].as_i64().expect("run id");
        wait_for(&server, run, "hitl-gate-source", "RUNNING").await;
        server.session("bench").await;
        let sent = now_ns();
        let (status, _) = server
            .post_as(
                "bench",
                "/api/decide_gate",
                json!({"run_id": run, "gate": "hitl-gate-source", "decision": "approve"}),
            )
            .await;
        assert_eq!(status, 200);
        wait_for(&server, run, "released", "COMPLETED").await;
        let (_, log) = server
            .post("/api/job_log", json!({"run_id": run, "job": "released"}))
            .await;
        let started: i128 = log["text"]
            .as_str()
            .and_then(|text| text.trim().parse().ok())
            .expect("the job printed its start time");
        samples.push(Duration::from_nanos(
            u64::try_from(started - sent).unwrap_or(0),
        ));
    }
    samples.sort();
    println!(
        "{label:>8}: approve -> downstream command running: median {:>8.2?}  p90 {:>8.2?}  max {:>8.2?}  ({SAMPLES} runs)",
        samples[SAMPLES / 2],
        samples[SAMPLES * 9 / 10],
        samples[SAMPLES - 1]
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
