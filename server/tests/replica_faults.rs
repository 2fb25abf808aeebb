//! Faults between replicas on one Postgres database, with real servers and real
//! processes: a cancel made through one replica stops the process on the other.

mod common;

use std::time::Duration;

use common::process::ServerProcess;
use common::procs::{wait_gone, wait_present};
use common::runs::{deploy, job, run, wait_finished, wait_for_status};
use common::{TestDb, temp_dir};
use serde_json::json;

/// A `sleep` long enough to outlive any test, with a fraction unique to this test
/// process, so its processes can be told from anyone else's.
fn marker(seconds: u32) -> String {
    format!("sleep {seconds}.{}", std::process::id())
}

/// The job runs on replica A; the cancel goes to replica B. B records it, A hears of
/// it (NOTIFY) and kills the process: nothing runs on after its job was cancelled.
#[tokio::test]
async fn a_cancel_through_one_replica_stops_the_process_on_the_other() {
    let db = TestDb::postgres().await;
    let url = db.url.clone().expect("url");
    let shared = temp_dir("cancel-replicas");
    let sleep = marker(3911);
    let runner = ServerProcess::start(&shared, &[], Some(&url));
    let yaml = format!("name: long\njobs:\n  - {{id: long, run: '{sleep}'}}\n");
    let id = deploy(&runner, &yaml).await;
    let detail = wait_for_status(&runner, id, "long", "RUNNING").await;
    assert_eq!(job(&detail, "long")["owner"], runner.replica.as_str());
    wait_present(&sleep).await;

    // Started after the job, so it surely runs nothing of it.
    let other = ServerProcess::start(&shared, &[], Some(&url));
    let (status, body) = other.post("/api/cancel_run", json!({"run_id": id})).await;
    assert_eq!(status, 200, "{body}");
    let took = wait_gone(&sleep, Duration::from_secs(10)).await;
    println!("process gone {took:?} after the cancel answered");

    let done = wait_finished(&other, id).await;
    assert_eq!(done["run"]["status"], "CANCELLED", "{done:#}");
    let long = job(&done, "long");
    assert_eq!(long["status"], "CANCELLED", "{long}");
    let again = run(&runner, id).await;
    assert_eq!(
        job(&again, "long")["status"],
        "CANCELLED",
        "the late exit changes nothing"
    );
    drop(other);
    drop(runner);
    db.finish().await;
}
