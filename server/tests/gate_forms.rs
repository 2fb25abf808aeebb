//! Gates that carry a decision (issue 13): options and typed inputs, checked on the
//! server field by field, handed to the jobs after the gate as variables. Real server,
//! real processes, both stores.

mod common;

use common::process::ServerProcess;
use common::runs::{deploy, log, problems, status_of, wait_finished, wait_for_status};
use common::{TestDb, temp_dir};
use serde_json::{Value, json};

const RELEASE: &str = "
name: release
jobs:
  - id: evaluate
    run: echo evaluated
    gate:
      message: Pick what happens to the model
      options: [retrain, ship, rollback]
      inputs:
        - {name: threshold, type: number, min: 0, max: 1, default: 0.9}
        - {name: ticket, type: string, required: true, pattern: '[A-Z]+-[0-9]+'}
  - id: act
    run: echo \"option=$TOLLGATE_GATE_EVALUATE_OPTION threshold=$TOLLGATE_GATE_EVALUATE_THRESHOLD ticket=$TOLLGATE_GATE_EVALUATE_TICKET\"
    depends_on: [evaluate]
  - id: later
    run: echo \"later=$TOLLGATE_GATE_EVALUATE_OPTION\"
    depends_on: [act]
  - id: apart
    run: echo \"apart=${TOLLGATE_GATE_EVALUATE_OPTION:-none}\"
  - id: reader
    run: cat \"$TOLLGATE_GATES_DIR/hitl-gate-evaluate.json\"
    depends_on: [evaluate]
";

const GATE: &str = "hitl-gate-evaluate";

async fn decide(server: &ServerProcess, run: i64, body: Value) -> (u16, Value) {
    let mut request = json!({"run_id": run, "gate": GATE});
    if let (Some(request), Some(extra)) = (request.as_object_mut(), body.as_object()) {
        request.extend(extra.clone());
    }
    // Not the deployer (`admin`), who may not decide their own run's gate.
    server.post_as("ana", "/api/decide_gate", request).await
}

fn fields(body: &Value) -> Vec<&str> {
    body["fields"]
        .as_array()
        .map(|list| list.iter().filter_map(|f| f["field"].as_str()).collect())
        .unwrap_or_default()
}

async fn a_choice_reaches_the_jobs_after_the_gate(database_url: Option<&str>) {
    let server = ServerProcess::start(&temp_dir("gate-form"), &[], database_url);
    let run = deploy(&server, RELEASE).await;
    wait_for_status(&server, run, GATE, "RUNNING").await;
    // The inbox and the banner get the form to render.
    let (_, pending) = server
        .post_as("ana", "/api/pending_gates", json!({"run_id": run}))
        .await;
    assert_eq!(
        pending[0]["form"]["options"],
        json!(["retrain", "ship", "rollback"])
    );
    assert_eq!(pending[0]["form"]["inputs"][1]["name"], "ticket");

    // Values that do not fit are refused, each named; nothing is decided.
    let (status, refused) = decide(
        &server,
        run,
        json!({"decision": "approve", "option": "deploy",
               "inputs": {"threshold": 3, "colour": "red"}}),
    )
    .await;
    assert_eq!(status, 422, "{refused}");
    assert_eq!(refused["error"], "invalid_input");
    assert_eq!(
        fields(&refused),
        ["option", "colour", "threshold", "ticket"]
    );
    assert_eq!(
        refused["message"],
        "the decision was not recorded: `deploy` is not an option of this gate: choose one of \
         retrain, ship, rollback; `colour` is not an input of this gate: its inputs are \
         threshold, ticket; input `threshold` must be between 0 and 1; input `ticket` is \
         required: give a string"
    );
    let (status, refused) = decide(
        &server,
        run,
        json!({"decision": "approve", "option": "ship", "inputs": {"ticket": "see OPS-7"}}),
    )
    .await;
    assert_eq!(status, 422, "{refused}");
    assert_eq!(fields(&refused), ["ticket"]);
    let (status, refused) = decide(
        &server,
        run,
        json!({"decision": "reject", "option": "ship", "comment": "no"}),
    )
    .await;
    assert_eq!(status, 400, "{refused}");
    assert_eq!(
        refused["message"],
        "a rejection takes no `option` or `inputs`: they go with an approval; say why in `comment`"
    );
    let waiting = wait_for_status(&server, run, GATE, "RUNNING").await;
    assert_eq!(status_of(&waiting, "act"), "PENDING");

    // A fitting approval: the default fills `threshold`; every job after the gate
    // sees the choice, a job beside it does not.
    let (status, decided) = decide(
        &server,
        run,
        json!({"decision": "approve", "option": "rollback", "inputs": {"ticket": "OPS-7"}}),
    )
    .await;
    assert_eq!(status, 200, "{decided}");
    let finished = wait_finished(&server, run).await;
    assert_eq!(finished["run"]["status"], "COMPLETED");
    let gate = finished["jobs"]
        .as_array()
        .and_then(|jobs| jobs.iter().find(|job| job["id"] == GATE))
        .map(|job| job["gate"].clone())
        .unwrap_or_default();
    assert_eq!(
        gate["choice"],
        json!({"option": "rollback", "inputs": {"threshold": 0.9, "ticket": "OPS-7"}})
    );
    assert_eq!(
        log(&server, run, "act").await,
        "option=rollback threshold=0.9 ticket=OPS-7\n"
    );
    assert_eq!(log(&server, run, "later").await, "later=rollback\n");
    assert_eq!(log(&server, run, "apart").await, "apart=none\n");
    // The whole record is in the workspace before the released jobs start.
    let record: Value = serde_json::from_str(&log(&server, run, "reader").await)
        .expect("the gate's record is JSON");
    assert_eq!(record["gate"], GATE);
    assert_eq!(record["decision"], "approved");
    assert_eq!(record["by"], "ana");
    assert_eq!(record["option"], "rollback");
    assert_eq!(
        record["inputs"],
        json!({"threshold": 0.9, "ticket": "OPS-7"})
    );
    assert!(
        record["at"].as_str().is_some_and(|at| at.ends_with('Z')),
        "{record}"
    );
    let gate_log = log(&server, run, GATE).await;
    assert!(
        gate_log.contains(", option: rollback, threshold=0.9, ticket=\"OPS-7\""),
        "{gate_log}"
    );
}

#[tokio::test]
async fn a_choice_reaches_the_jobs_after_the_gate_on_sqlite() {
    a_choice_reaches_the_jobs_after_the_gate(None).await;
}

#[tokio::test]
async fn a_choice_reaches_the_jobs_after_the_gate_on_postgres() {
    let db = TestDb::postgres().await;
    a_choice_reaches_the_jobs_after_the_gate(db.url.as_deref()).await;
    db.finish().await;
}

#[tokio::test]
async fn a_badly_written_form_is_refused_at_deploy() {
    let server = ServerProcess::start(&temp_dir("gate-form-bad"), &[], None);
    let spec = "
name: bad
jobs:
  - id: a
    run: 'true'
    gate:
      message: Check
      inputs:
        - {name: ticket, type: string, pattern: '[A-Z'}
        - {name: level, type: boolean, min: 1}
  - id: b
    run: 'true'
    gate: {message: '', options: [ship]}
";
    let (status, refused) = server
        .post("/api/deploy_pipeline", json!({"spec": spec}))
        .await;
    assert_eq!(status, 422, "{refused}");
    let said = problems(&refused);
    assert_eq!(said.len(), 2, "{said:#?}");
    assert_eq!(
        said[0],
        "job `a`, gate level: input `level` is a boolean: `min` and `max` apply to numbers and strings only"
    );
    assert_eq!(
        said[1],
        "job `b` gives its gate options or inputs but its gate message is blank, so no gate would be injected: write a gate message, or remove `options` and `inputs`"
    );
    // The pattern is compiled once the rest of the pipeline holds.
    let spec = spec
        .replace("min: 1", "")
        .replace("gate: {message: '', options: [ship]}", "depends_on: [a]");
    let (status, refused) = server
        .post("/api/deploy_pipeline", json!({"spec": spec}))
        .await;
    assert_eq!(status, 422, "{refused}");
    let said = problems(&refused);
    assert!(
        said[0].starts_with(
            "job `a`, gate ticket: input `ticket` has a pattern that does not compile:"
        ),
        "{said:#?}"
    );
}

#[tokio::test]
async fn a_timeout_with_a_default_goes_on_and_records_that_nobody_decided() {
    let server = ServerProcess::start(&temp_dir("gate-form-timeout"), &[], None);
    let spec = "
name: nightly
jobs:
  - id: report
    run: echo report
    gate:
      message: Stop tonight's release?
      timeout: 1
      options: [ship, hold]
      inputs: [{name: note, type: string, default: unattended}]
      on_timeout: {option: ship}
  - id: release
    run: echo \"option=$TOLLGATE_GATE_REPORT_OPTION note=$TOLLGATE_GATE_REPORT_NOTE\" && cat \"$TOLLGATE_GATES_DIR/hitl-gate-report.json\"
    depends_on: [report]
";
    let run = deploy(&server, spec).await;
    let finished = wait_finished(&server, run).await;
    assert_eq!(finished["run"]["status"], "COMPLETED");
    let gate = finished["jobs"]
        .as_array()
        .and_then(|jobs| jobs.iter().find(|job| job["id"] == "hitl-gate-report"))
        .cloned()
        .unwrap_or_default();
    assert_eq!(gate["status"], "COMPLETED");
    assert_eq!(
        gate["reason"],
        "timed out after 1s; default applied: option ship"
    );
    assert_eq!(gate["gate"]["decision"], "timed_out");
    assert_eq!(gate["gate"]["decided_by"], Value::Null);
    let text = log(&server, run, "release").await;
    let (first, record) = text.split_once('\n').unwrap_or_default();
    assert_eq!(first, "option=ship note=unattended");
    let record: Value = serde_json::from_str(record).expect("the record is JSON");
    assert_eq!(
        (&record["decision"], &record["by"], &record["option"]),
        (&json!("timed_out"), &Value::Null, &json!("ship"))
    );
    let gate_log = log(&server, run, "hitl-gate-report").await;
    assert!(
        gate_log.contains("timed out after 1s; default applied: option ship at "),
        "{gate_log}"
    );
}

#[tokio::test]
async fn each_timeout_policy_does_what_it_says() {
    let server = ServerProcess::start(&temp_dir("gate-timeout-policies"), &[], None);
    for (policy, run_status, gate_status, reason, release) in [
        (
            "fail",
            "FAILED",
            "FAILED",
            "timed out after 1s",
            "CANCELLED",
        ),
        (
            "approve",
            "COMPLETED",
            "COMPLETED",
            "timed out after 1s; default applied: approved",
            "COMPLETED",
        ),
    ] {
        let spec = format!(
            "name: policy-{policy}\njobs:\n  - id: report\n    run: echo report\n    gate: {{message: Stop it?, timeout: 1, on_timeout: {policy}}}\n  - id: release\n    run: echo released\n    depends_on: [report]\n"
        );
        let run = deploy(&server, &spec).await;
        let finished = wait_finished(&server, run).await;
        assert_eq!(finished["run"]["status"], run_status, "{policy}");
        assert_eq!(
            status_of(&finished, "hitl-gate-report"),
            gate_status,
            "{policy}"
        );
        assert_eq!(status_of(&finished, "release"), release, "{policy}");
        let gate = common::runs::job(&finished, "hitl-gate-report");
        assert_eq!(gate["reason"], reason, "{policy}");
        // Nobody decided, whatever the policy did.
        assert_eq!(gate["gate"]["decision"], "timed_out", "{policy}");
        assert_eq!(gate["gate"]["decided_by"], Value::Null, "{policy}");
    }
}
