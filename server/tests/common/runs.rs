//! Reading and waiting on runs through the API, as the tests and benchmarks need it.

#![allow(dead_code)] // each test file uses a part

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::process::ServerProcess;

/// Deploys a pipeline given as YAML (as `admin`) and returns the run id.
pub async fn deploy(server: &ServerProcess, yaml: &str) -> i64 {
    let (status, deployed) = server
        .post("/api/deploy_pipeline", json!({"spec": yaml}))
        .await;
    assert_eq!(status, 200, "{deployed}");
    deployed["run_id"].as_i64().expect("run id")
}

/// The run with its jobs, as `get_run` answers.
pub async fn run(server: &ServerProcess, id: i64) -> Value {
    let (status, detail) = server.post("/api/get_run", json!({"run_id": id})).await;
    assert_eq!(status, 200, "{detail}");
    detail
}

pub fn job<'a>(detail: &'a Value, id: &str) -> &'a Value {
    detail["jobs"]
        .as_array()
        .and_then(|jobs| jobs.iter().find(|j| j["id"] == id))
        .unwrap_or_else(|| panic!("no job {id} in {detail}"))
}

pub fn status_of(detail: &Value, id: &str) -> String {
    job(detail, id)["status"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

/// Polls the run until `done` holds (at most 20 s) and returns the last view of it.
pub async fn wait_until(server: &ServerProcess, id: i64, done: impl Fn(&Value) -> bool) -> Value {
    let start = Instant::now();
    loop {
        let detail = run(server, id).await;
        if done(&detail) {
            return detail;
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "timed out waiting; last state: {detail:#}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

pub async fn wait_for_status(server: &ServerProcess, id: i64, job_id: &str, status: &str) -> Value {
    wait_until(server, id, |d| status_of(d, job_id) == status).await
}

/// Polls the run until it is no longer RUNNING and returns it.
pub async fn wait_finished(server: &ServerProcess, id: i64) -> Value {
    wait_until(server, id, |d| d["run"]["status"] != "RUNNING").await
}

/// A job's log text from the start.
pub async fn log(server: &ServerProcess, id: i64, job: &str) -> String {
    let (status, page) = server
        .post("/api/job_log", json!({"run_id": id, "job": job}))
        .await;
    assert_eq!(status, 200, "{page}");
    page["text"].as_str().unwrap_or_default().to_string()
}

/// The messages of a 422 `invalid_pipeline` answer, in order.
pub fn problems(body: &Value) -> Vec<&str> {
    body["problems"]
        .as_array()
        .map(|list| list.iter().filter_map(|p| p["message"].as_str()).collect())
        .unwrap_or_default()
}
