//! The store stops answering in the middle of a run: a Postgres server of the test's
//! own is stopped for longer than any timeout of the server's pool, then started again.
//! Nothing the server learnt meanwhile may be lost or recorded twice.

mod common;

use std::time::{Duration, Instant};

use common::cluster::PrivateCluster;
use common::process::ServerProcess;
use common::procs::{wait_gone, wait_present};
use common::runs::{deploy, job, log, status_of, wait_finished, wait_for_status};
use common::temp_dir;
use serde_json::{Value, json};

/// Longer than the pool's acquire timeout (10 s), so requests fail instead of waiting.
const OUTAGE: Duration = Duration::from_secs(12);

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// Jobs that end while the store is down, a gate whose deadline passes meanwhile, and
/// jobs that can start only afterwards: every job ends up with exactly one recorded
/// outcome, the gate times out once, and the run finishes.
#[tokio::test]
async fn a_store_outage_loses_no_result_and_doubles_none() {
    let cluster = PrivateCluster::start();
    let dir = temp_dir("outage");
    let server = ServerProcess::start(
        &dir,
        &["--lease-secs", "120", "--max-jobs", "8"],
        Some(&cluster.url()),
    );
    // Each job waits for a file the test writes once the store is down; the comment
    // marks its shell, so the test can see it run and end.
    let pid = std::process::id();
    let (short, long) = (format!("outage-short-{pid}"), format!("outage-long-{pid}"));
    let waits = |name: &str, mark: &str| {
        format!("until [ -e go ]; do sleep 0.05; done; echo {name} done # {mark}")
    };
    let yaml = format!(
        "
name: outage
jobs:
  - {{id: short, run: '{}'}}
  - {{id: long, run: '{}'}}
  - {{id: source, run: 'true', gate: {{message: Nobody comes, timeout: 4}}}}
  - {{id: after, run: 'echo after', depends_on: [short, long]}}
  - {{id: behind, run: 'echo never', depends_on: [source]}}
",
        waits("short", &short),
        waits("long", &long)
    );
    let id = deploy(&server, &yaml).await;
    let waiting = wait_for_status(&server, id, "hitl-gate-source", "RUNNING").await;
    let deadline = job(&waiting, "hitl-gate-source")["gate"]["deadline_at_ms"]
        .as_i64()
        .expect("a deadline");
    wait_present(&short).await;
    wait_present(&long).await;

    cluster.stop_server();
    let stopped = Instant::now();
    let (status, body) = server.get("/healthz").await;
    assert_eq!(status, 503, "{body}");
    let health: Value = serde_json::from_str(&body).expect("JSON");
    assert_eq!(health["store"], "unreachable", "{body}");
    let (status, answer) = server.post("/api/list_runs", json!({})).await;
    assert_eq!(status, 503, "{answer}");
    assert_eq!(
        answer["message"],
        "The database does not answer; nothing is lost, retrying."
    );
    // Both jobs end, and the gate's deadline passes, while the store is down.
    std::fs::write(dir.join(format!("workspaces/{id}/go")), "").expect("go");
    wait_gone(&short, Duration::from_secs(20)).await;
    wait_gone(&long, Duration::from_secs(20)).await;
    // This wait is the fault under test, not a wait for the server: the database stays
    // down until the gate's deadline has passed and for longer than the pool's acquire
    // timeout, whatever the server does meanwhile.
    while now_ms() <= deadline || stopped.elapsed() < OUTAGE {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    cluster.start_server();

    let done = wait_finished(&server, id).await;
    assert_eq!(done["run"]["status"], "FAILED", "the gate failed: {done:#}");
    for (node, status) in [
        ("short", "COMPLETED"),
        ("long", "COMPLETED"),
        ("source", "COMPLETED"),
        ("hitl-gate-source", "FAILED"),
        ("after", "COMPLETED"),
        ("behind", "CANCELLED"),
    ] {
        assert_eq!(status_of(&done, node), status, "{node}: {done:#}");
    }
    assert_eq!(
        job(&done, "hitl-gate-source")["reason"],
        "timed out after 4s"
    );
    assert!(log(&server, id, "short").await.contains("short done"));
    assert!(log(&server, id, "long").await.contains("long done"));

    let (status, trail) = server.post("/api/audit_trail", json!({"run_id": id})).await;
    assert_eq!(status, 200, "{trail}");
    let endings = |node: &str| {
        trail
            .as_array()
            .into_iter()
            .flatten()
            .filter(|entry| entry["job"] == node && entry["from_status"] == "RUNNING")
            .count()
    };
    for node in ["short", "long", "hitl-gate-source", "after"] {
        assert_eq!(endings(node), 1, "{node} ended once: {trail:#}");
    }
    let (status, _) = server.get("/healthz").await;
    assert_eq!(status, 200, "the store answers again");
}

/// A server that cannot store its heartbeat for a whole lease stops its own jobs (the
/// other replicas may have failed them already), and says why once the store answers.
#[tokio::test]
async fn a_server_without_its_lease_stops_its_own_jobs() {
    let cluster = PrivateCluster::start();
    let dir = temp_dir("fencing");
    let server = ServerProcess::start(&dir, &["--lease-secs", "3"], Some(&cluster.url()));
    let sleep = format!("sleep 300.{}", std::process::id());
    let yaml = format!("name: fenced\njobs:\n  - {{id: long, run: '{sleep}'}}\n");
    let id = deploy(&server, &yaml).await;
    wait_for_status(&server, id, "long", "RUNNING").await;
    wait_present(&sleep).await;

    cluster.stop_server();
    // The process stops while the store is still down: the lease is 3 s.
    let took = wait_gone(&sleep, Duration::from_secs(30)).await;
    println!("the job was stopped {took:?} after the store went down");
    cluster.start_server();

    let done = wait_finished(&server, id).await;
    let long = job(&done, "long");
    assert_eq!(long["status"], "FAILED", "{long}");
    let reason = long["reason"].as_str().unwrap_or_default();
    assert!(reason.contains("could not store its heartbeat"), "{reason}");
}
