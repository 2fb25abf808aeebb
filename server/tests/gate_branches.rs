//! A gate that branches a pipeline (issue 13): `when: {gate, option}` runs a job only
//! for that option; the other branch is SKIPPED (not failed), skips travel down it, a
//! job joining both branches runs, and the run completes. Real server, real processes,
//! both stores.

mod common;

use common::process::ServerProcess;
use common::runs::{deploy, job, log, problems, status_of, wait_finished, wait_for_status};
use common::{TestDb, temp_dir};
use serde_json::json;

const BRANCHES: &str = "
name: branches
jobs:
  - id: evaluate
    run: echo evaluated
    gate:
      message: Ship the model or roll it back?
      options: [ship, rollback]
  - id: ship
    run: echo shipping
    depends_on: [evaluate]
    when: {gate: hitl-gate-evaluate, option: ship}
  - id: announce
    run: echo announced
    depends_on: [ship]
  - id: rollback
    run: echo \"rolling back after $TOLLGATE_GATE_EVALUATE_OPTION\"
    depends_on: [evaluate]
    when: {gate: hitl-gate-evaluate, option: rollback}
  - id: notify
    run: echo notified
    depends_on: [ship, rollback]
";

const GATE: &str = "hitl-gate-evaluate";

async fn a_choice_takes_one_branch_and_skips_the_other(database_url: Option<&str>) {
    let server = ServerProcess::start(&temp_dir("branches"), &[], database_url);
    let run = deploy(&server, BRANCHES).await;
    wait_for_status(&server, run, GATE, "RUNNING").await;
    let (status, decided) = server
        .post_as(
            "ana",
            "/api/decide_gate",
            json!({"run_id": run, "gate": GATE, "decision": "approve", "option": "rollback"}),
        )
        .await;
    assert_eq!(status, 200, "{decided}");

    let finished = wait_finished(&server, run).await;
    assert_eq!(finished["run"]["status"], "COMPLETED", "{finished}");
    for (id, expected) in [
        ("rollback", "COMPLETED"),
        ("notify", "COMPLETED"),
        ("ship", "SKIPPED"),
        ("announce", "SKIPPED"),
    ] {
        assert_eq!(status_of(&finished, id), expected, "{id}");
    }
    assert_eq!(
        job(&finished, "ship")["reason"],
        "hitl-gate-evaluate chose rollback; this job runs for ship"
    );
    assert_eq!(job(&finished, "announce")["reason"], "ship was skipped");
    // A skipped job never ran: no process, no output, but a finish time.
    assert!(
        job(&finished, "ship")["started_at_ms"].is_null(),
        "{finished}"
    );
    assert!(
        job(&finished, "ship")["finished_at_ms"].is_i64(),
        "{finished}"
    );
    assert_eq!(log(&server, run, "ship").await, "");
    assert_eq!(
        log(&server, run, "rollback").await,
        "rolling back after rollback\n"
    );
    // The run's counters: every job is done, two of them skipped.
    let (_, runs) = server.post("/api/list_runs", json!({})).await;
    let listed = runs
        .as_array()
        .and_then(|runs| runs.iter().find(|r| r["id"] == run))
        .cloned()
        .unwrap_or_default();
    assert_eq!(
        (
            &listed["total_jobs"],
            &listed["completed_jobs"],
            &listed["skipped_jobs"]
        ),
        (&json!(6), &json!(4), &json!(2)),
        "{listed}"
    );
    let (_, metrics) = server.get("/metrics").await;
    assert!(
        metrics
            .lines()
            .any(|line| line.contains("SKIPPED") && line.ends_with(" 2")),
        "{metrics}"
    );
}

#[tokio::test]
async fn a_choice_takes_one_branch_and_skips_the_other_on_sqlite() {
    a_choice_takes_one_branch_and_skips_the_other(None).await;
}

#[tokio::test]
async fn a_choice_takes_one_branch_and_skips_the_other_on_postgres() {
    let db = TestDb::postgres().await;
    a_choice_takes_one_branch_and_skips_the_other(db.url.as_deref()).await;
    db.finish().await;
}

#[tokio::test]
async fn a_branch_on_an_option_the_gate_does_not_offer_is_refused_at_deploy() {
    let server = ServerProcess::start(&temp_dir("branches-bad"), &[], None);
    let spec = BRANCHES.replace("option: rollback}", "option: roll-back}");
    let (status, body) = server
        .post("/api/deploy_pipeline", json!({"spec": spec}))
        .await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(
        problems(&body),
        [
            "job `rollback` has `when.option: roll-back`, which gate `hitl-gate-evaluate` does not offer: use one of ship, rollback"
        ]
    );
    let (_, runs) = server.post("/api/list_runs", json!({})).await;
    assert_eq!(runs, json!([]), "nothing was deployed");
}
