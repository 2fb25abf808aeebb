//! The scheduler with real processes, through the real binary's HTTP API: gates that
//! wait, decisions, timeouts, cancels, limits and restarts.

mod common;

use std::time::Duration;

use common::process::ServerProcess;
use common::runs::{deploy, job, log, run, status_of, wait_finished, wait_for_status, wait_until};
use common::{TestDb, temp_dir};
use serde_json::{Value, json};

async fn decide(
    server: &ServerProcess,
    id: i64,
    gate: &str,
    decision: &str,
    by: &str,
) -> (u16, Value) {
    server
        .post_as(
            by,
            "/api/decide_gate",
            json!({"run_id": id, "gate": gate, "decision": decision, "comment": "checked"}),
        )
        .await
}

const REVIEW: &str = "
name: review
jobs:
  - id: preprocess
    run: echo rows=10 > preprocessing_report.txt && echo preprocessed
    gate:
      message: Review data quality report before training begins
      timeout: 300
  - id: train
    run: echo \"run=$TOLLGATE_RUN_ID job=$TOLLGATE_JOB_ID ws=$TOLLGATE_WORKSPACE\"
    depends_on: [preprocess]
  - id: evaluate
    run: echo evaluated
    depends_on: [train]
  - id: docs
    run: sleep 1 && echo docs built
";

#[tokio::test]
async fn approval_releases_the_downstream_jobs() {
    let server = ServerProcess::start(&temp_dir("approve"), &[], None);
    let id = deploy(&server, REVIEW).await;
    let waiting = wait_for_status(&server, id, "hitl-gate-preprocess", "RUNNING").await;
    assert_eq!(
        status_of(&waiting, "train"),
        "PENDING",
        "train waits for the gate"
    );
    let gate = &job(&waiting, "hitl-gate-preprocess")["gate"];
    let (activated, deadline) = (
        gate["activated_at_ms"].as_i64(),
        gate["deadline_at_ms"].as_i64(),
    );
    assert_eq!(deadline.zip(activated).map(|(d, a)| d - a), Some(300_000));

    let (_, pending) = server
        .post("/api/pending_gates", json!({"run_id": id}))
        .await;
    assert_eq!(pending[0]["gate"], "hitl-gate-preprocess");
    assert_eq!(
        pending[0]["message"],
        "Review data quality report before training begins"
    );

    let (status, decided) = decide(&server, id, "hitl-gate-preprocess", "approve", "ana").await;
    assert_eq!(status, 200, "{decided}");
    assert_eq!(decided["status"], "COMPLETED");
    assert_eq!(decided["gate"]["decided_by"], "ana");

    let done = wait_finished(&server, id).await;
    assert_eq!(done["run"]["status"], "COMPLETED", "{done:#}");
    let train_log = log(&server, id, "train").await;
    let workspace = server.data_dir.join("workspaces").join(id.to_string());
    assert_eq!(
        train_log,
        format!("run={id} job=train ws={}\n", workspace.display())
    );
    let gate_log = log(&server, id, "hitl-gate-preprocess").await;
    assert!(
        gate_log.starts_with(
            "[tollgate] gate hitl-gate-preprocess is waiting for approval: \"Review data quality report before training begins\" (timeout 5m, deadline 20"
        ),
        "{gate_log}"
    );
    assert!(gate_log.contains("approved by ana at"), "{gate_log}");
    assert!(gate_log.contains("comment: checked"), "{gate_log}");

    let (_, after) = server.post("/api/pending_gates", json!({})).await;
    assert_eq!(after, json!([]));

    let (status, metrics) = server.get("/metrics").await;
    assert_eq!(status, 200);
    for line in [
        "tollgate_runs{status=\"COMPLETED\"} 1",
        "tollgate_jobs{status=\"COMPLETED\"} 5",
        "tollgate_gates_waiting 0",
        "tollgate_decision_seconds_count 1",
        "tollgate_job_duration_seconds_count 4",
    ] {
        assert!(
            metrics.lines().any(|l| l == line),
            "no `{line}` in\n{metrics}"
        );
    }
    assert!(
        metrics.contains("tollgate_scheduler_wakeups_total "),
        "{metrics}"
    );
}

#[tokio::test]
async fn rejection_cancels_downstream_and_other_branches_finish() {
    let server = ServerProcess::start(&temp_dir("reject"), &[], None);
    let id = deploy(&server, REVIEW).await;
    wait_for_status(&server, id, "hitl-gate-preprocess", "RUNNING").await;
    let (status, decided) = decide(&server, id, "hitl-gate-preprocess", "reject", "bob").await;
    assert_eq!(status, 200, "{decided}");
    assert_eq!(decided["reason"], "rejected by bob");

    let done = wait_finished(&server, id).await;
    assert_eq!(done["run"]["status"], "FAILED");
    assert_eq!(status_of(&done, "hitl-gate-preprocess"), "FAILED");
    for never_ran in ["train", "evaluate"] {
        let job = job(&done, never_ran);
        assert_eq!(job["status"], "CANCELLED", "{job}");
        assert_eq!(
            job["started_at_ms"],
            Value::Null,
            "{never_ran} never started"
        );
        assert_eq!(job["reason"], "upstream `hitl-gate-preprocess` failed");
    }
    assert_eq!(
        status_of(&done, "docs"),
        "COMPLETED",
        "the other branch ran"
    );
    assert_eq!(
        log(&server, id, "train").await,
        "",
        "no output from a job that never ran"
    );

    let (status, late) = decide(&server, id, "hitl-gate-preprocess", "approve", "carol").await;
    assert_eq!(status, 409);
    assert!(
        late["message"].as_str().is_some_and(
            |m| m.starts_with("gate `hitl-gate-preprocess` was already rejected by bob at ")
        ),
        "{late}"
    );
}

#[tokio::test]
async fn a_gate_times_out_at_its_deadline() {
    let server = ServerProcess::start(&temp_dir("timeout"), &[], None);
    let yaml = "
name: quick
jobs:
  - id: a
    run: echo a
    gate: {message: Look quickly, timeout: 2}
  - id: b
    run: echo b
    depends_on: [a]
";
    let id = deploy(&server, yaml).await;
    let done = wait_finished(&server, id).await;
    let gate = job(&done, "hitl-gate-a");
    assert_eq!(gate["status"], "FAILED");
    assert_eq!(gate["reason"], "timed out after 2s");
    assert_eq!(gate["gate"]["decision"], "timed_out");
    let activated = gate["gate"]["activated_at_ms"].as_i64().expect("activated");
    let decided = gate["gate"]["decided_at_ms"].as_i64().expect("decided");
    let waited = decided - activated;
    assert!(
        (2000..2500).contains(&waited),
        "timed out after {waited} ms, not at 2 s"
    );
    assert_eq!(status_of(&done, "b"), "CANCELLED");

    let (status, late) = decide(&server, id, "hitl-gate-a", "approve", "ana").await;
    assert_eq!(status, 409);
    assert!(
        late["message"]
            .as_str()
            .is_some_and(|m| m.contains("timed out after 2s")),
        "{late}"
    );
}

#[tokio::test]
async fn two_gates_wait_independently_in_activation_order() {
    let server = ServerProcess::start(&temp_dir("two"), &[], None);
    let yaml = "
name: branches
jobs:
  - id: left
    run: echo left
    gate: {message: Check left}
  - id: left_next
    run: echo left next
    depends_on: [left]
  - id: right
    run: sleep 0.5 && echo right
    gate: {message: Check right}
  - id: right_next
    run: echo right next
    depends_on: [right]
";
    let id = deploy(&server, yaml).await;
    wait_until(&server, id, |d| {
        status_of(d, "hitl-gate-left") == "RUNNING" && status_of(d, "hitl-gate-right") == "RUNNING"
    })
    .await;
    let (_, pending) = server
        .post("/api/pending_gates", json!({"run_id": id}))
        .await;
    let order: Vec<&str> = pending
        .as_array()
        .expect("list")
        .iter()
        .filter_map(|g| g["gate"].as_str())
        .collect();
    assert_eq!(order, ["hitl-gate-left", "hitl-gate-right"]);

    assert_eq!(
        decide(&server, id, "hitl-gate-right", "reject", "bob")
            .await
            .0,
        200
    );
    let mid = run(&server, id).await;
    assert_eq!(
        status_of(&mid, "hitl-gate-left"),
        "RUNNING",
        "the other gate still waits"
    );
    assert_eq!(
        decide(&server, id, "hitl-gate-left", "approve", "ana")
            .await
            .0,
        200
    );
    let done = wait_finished(&server, id).await;
    assert_eq!(status_of(&done, "left_next"), "COMPLETED");
    assert_eq!(status_of(&done, "right_next"), "CANCELLED");
    assert_eq!(done["run"]["status"], "FAILED");
}

#[tokio::test]
async fn waiting_gates_take_no_job_slot() {
    let server = ServerProcess::start(&temp_dir("slots"), &["--max-jobs", "1"], None);
    let mut gated = String::from("name: many_gates\njobs:\n");
    for i in 0..8 {
        gated.push_str(&format!(
            "  - id: g{i}\n    run: echo {i}\n    gate: {{message: Gate {i}}}\n"
        ));
    }
    let gates = deploy(&server, &gated).await;
    wait_until(&server, gates, |d| d["run"]["waiting_gates"] == 8).await;

    let plain = deploy(
        &server,
        "name: plain\njobs:\n  - {id: work, run: echo still works}\n",
    )
    .await;
    let done = wait_finished(&server, plain).await;
    assert_eq!(done["run"]["status"], "COMPLETED", "{done:#}");
    assert_eq!(log(&server, plain, "work").await, "still works\n");
}

#[tokio::test]
async fn at_most_max_jobs_run_at_once() {
    let server = ServerProcess::start(&temp_dir("limit"), &["--max-jobs", "2"], None);
    let mut yaml = String::from("name: wide\njobs:\n");
    for i in 0..5 {
        yaml.push_str(&format!("  - {{id: j{i}, run: sleep 0.4}}\n"));
    }
    let id = deploy(&server, &yaml).await;
    let done = wait_finished(&server, id).await;
    assert_eq!(done["run"]["status"], "COMPLETED");
    let spans: Vec<(i64, i64)> = done["jobs"]
        .as_array()
        .expect("jobs")
        .iter()
        .filter_map(|j| Some((j["started_at_ms"].as_i64()?, j["finished_at_ms"].as_i64()?)))
        .collect();
    assert_eq!(spans.len(), 5);
    let most = spans
        .iter()
        .map(|(start, _)| {
            spans
                .iter()
                .filter(|(s, e)| s <= start && start < e)
                .count()
        })
        .max();
    assert_eq!(most, Some(2), "{spans:?}");
}

#[tokio::test]
async fn failures_and_job_timeouts_say_why_and_kill_the_process_group() {
    let dir = temp_dir("fail");
    let server = ServerProcess::start(&dir, &[], None);
    let marker = dir.join("grandchild-survived");
    let yaml = format!(
        "
name: failing
jobs:
  - id: broken
    run: echo about to fail >&2; exit 3
  - id: after_broken
    run: echo never
    depends_on: [broken]
  - id: slow
    run: (sleep 2; touch {marker}) & sleep 30
    timeout: 1
",
        marker = marker.display()
    );
    let id = deploy(&server, &yaml).await;
    let done = wait_finished(&server, id).await;
    assert_eq!(job(&done, "broken")["reason"], "exit code 3");
    assert_eq!(job(&done, "broken")["exit_code"], 3);
    assert_eq!(
        log(&server, id, "broken").await,
        "about to fail\n",
        "stderr is captured"
    );
    assert_eq!(status_of(&done, "after_broken"), "CANCELLED");
    assert_eq!(job(&done, "slow")["reason"], "timed out after 1s");
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert!(
        !marker.exists(),
        "the timed-out job's whole process group was killed"
    );
}

#[tokio::test]
async fn cancelling_a_run_kills_its_processes_and_keeps_finished_jobs() {
    let dir = temp_dir("cancel");
    let server = ServerProcess::start(&dir, &[], None);
    let marker = dir.join("should-not-exist");
    let yaml = format!(
        "
name: cancel_me
jobs:
  - id: quick
    run: echo quick
    gate: {{message: Wait here}}
  - id: behind_gate
    run: echo never
    depends_on: [quick]
  - id: long
    run: sleep 3 && touch {marker}
  - id: after_long
    run: echo never
    depends_on: [long]
",
        marker = marker.display()
    );
    let id = deploy(&server, &yaml).await;
    wait_until(&server, id, |d| {
        status_of(d, "long") == "RUNNING" && status_of(d, "hitl-gate-quick") == "RUNNING"
    })
    .await;
    let (status, summary) = server
        .post_as("ana", "/api/cancel_run", json!({"run_id": id}))
        .await;
    assert_eq!(status, 200, "{summary}");
    assert_eq!(summary["status"], "CANCELLED");
    let detail = run(&server, id).await;
    assert_eq!(
        status_of(&detail, "quick"),
        "COMPLETED",
        "finished jobs keep their status"
    );
    for cancelled in ["hitl-gate-quick", "behind_gate", "long", "after_long"] {
        assert_eq!(status_of(&detail, cancelled), "CANCELLED", "{cancelled}");
    }
    assert_eq!(job(&detail, "long")["reason"], "run cancelled by ana");
    tokio::time::sleep(Duration::from_millis(3500)).await;
    assert!(!marker.exists(), "the running job was killed");
    let (status, again) = server.post("/api/cancel_run", json!({"run_id": id})).await;
    assert_eq!(status, 409, "{again}");
}

#[tokio::test]
async fn cancelling_one_job_cancels_its_downstream() {
    let server = ServerProcess::start(&temp_dir("cancel-job"), &[], None);
    let yaml = "
name: partial
jobs:
  - {id: long, run: sleep 30}
  - {id: after, run: echo never, depends_on: [long]}
  - {id: other, run: echo other}
";
    let id = deploy(&server, yaml).await;
    wait_for_status(&server, id, "long", "RUNNING").await;
    let (status, cancelled) = server
        .post_as(
            "ana",
            "/api/cancel_job",
            json!({"run_id": id, "job": "long"}),
        )
        .await;
    assert_eq!(status, 200, "{cancelled}");
    assert_eq!(cancelled["reason"], "cancelled by ana");
    let done = wait_finished(&server, id).await;
    assert_eq!(status_of(&done, "after"), "CANCELLED");
    assert_eq!(status_of(&done, "other"), "COMPLETED");
    assert_eq!(done["run"]["status"], "CANCELLED");
}

#[tokio::test]
async fn workspace_files_are_listed_and_downloaded_and_escapes_refused() {
    let server = ServerProcess::start(&temp_dir("files"), &[], None);
    let yaml = "
name: files
jobs:
  - id: report
    run: mkdir -p out && echo rows=10 > out/report.txt && ln -s /etc/passwd out/link
";
    let id = deploy(&server, yaml).await;
    wait_finished(&server, id).await;
    let (status, files) = server.post("/api/list_files", json!({"run_id": id})).await;
    assert_eq!(status, 200, "{files}");
    assert_eq!(
        files.as_array().map(Vec::len),
        Some(1),
        "links are not listed: {files}"
    );
    assert_eq!(files[0]["path"], "out/report.txt");
    assert_eq!(files[0]["size"], 8);
    assert_eq!(files[0]["written_by"], "report");

    let (status, body) = server.get(&format!("/files/{id}/out/report.txt")).await;
    assert_eq!((status, body.as_str()), (200, "rows=10\n"));
    for (path, expected) in [
        ("out/link", 400),
        ("..%2F..%2Ftollgate.db", 400),
        ("out/%2e%2e/%2e%2e/%2e%2e/tollgate.db", 400),
        ("%2Fetc%2Fpasswd", 400),
        ("out/../../../tollgate.db", 400),
        ("nothing.txt", 404),
    ] {
        let (status, body) = server.raw_get(&format!("/files/{id}/{path}"));
        assert_eq!(status, expected, "{path}: {body}");
        assert!(!body.contains("SQLite"), "{path} leaked the database");
    }
    let (status, body) = server.get("/files/999/out/report.txt").await;
    assert_eq!(status, 404, "{body}");
    let (status, body) = server.get(&format!("/logs/{id}/report")).await;
    assert_eq!((status, body.as_str()), (200, ""));
}

/// A file is served from the descriptor the server opened without following links, and
/// keeps what a file download had: its type from its name, ranges, `304 Not Modified`,
/// the inline preview as text. A link is refused even when it stays inside.
#[tokio::test]
async fn a_workspace_file_keeps_its_type_ranges_and_dates() {
    let server = ServerProcess::start(&temp_dir("file-headers"), &[], None);
    let id = deploy(
        &server,
        "name: h\njobs:\n  - {id: a, run: 'printf \"a,b\\n1,2\\n\" > data.csv && ln -s data.csv inside'}\n",
    )
    .await;
    wait_finished(&server, id).await;
    let cookie = server.session("admin").await;
    let get = |path: String, headers: Vec<(&'static str, String)>| {
        let mut request = reqwest::Client::new()
            .get(format!("{}{path}", server.base_url))
            .header("cookie", cookie.clone());
        for (name, value) in headers {
            request = request.header(name, value);
        }
        async move {
            let response = request.send().await.expect("request");
            let status = response.status().as_u16();
            let headers = response.headers().clone();
            (status, headers, response.text().await.expect("body"))
        }
    };
    let header = |headers: &reqwest::header::HeaderMap, name: &str| {
        headers
            .get(name)
            .and_then(|value| value.to_str().ok())
            .unwrap_or_default()
            .to_string()
    };

    let (status, headers, body) = get(format!("/files/{id}/data.csv"), vec![]).await;
    assert_eq!((status, body.as_str()), (200, "a,b\n1,2\n"));
    assert_eq!(header(&headers, "content-type"), "text/csv");
    assert_eq!(
        header(&headers, "content-disposition"),
        "attachment; filename=\"data.csv\""
    );
    assert_eq!(header(&headers, "x-content-type-options"), "nosniff");
    let modified = header(&headers, "last-modified");
    assert!(!modified.is_empty(), "{headers:?}");

    let (status, _, body) = get(
        format!("/files/{id}/data.csv"),
        vec![("range", "bytes=4-6".into())],
    )
    .await;
    assert_eq!((status, body.as_str()), (206, "1,2"));
    let (status, _, _) = get(
        format!("/files/{id}/data.csv"),
        vec![("if-modified-since", modified)],
    )
    .await;
    assert_eq!(status, 304);
    let (status, headers, _) = get(format!("/files/{id}/data.csv?inline=1"), vec![]).await;
    assert_eq!(status, 200);
    assert_eq!(
        header(&headers, "content-type"),
        "text/plain; charset=utf-8"
    );
    let (status, _, body) = get(format!("/files/{id}/inside"), vec![]).await;
    assert_eq!(status, 400, "{body}");
}

#[tokio::test]
async fn bad_requests_name_what_is_wrong() {
    let server = ServerProcess::start(&temp_dir("bad"), &[], None);
    let (status, error) = server.post("/api/get_run", json!({"run_id": 4242})).await;
    assert_eq!(
        (status, error["message"].as_str()),
        (404, Some("run 4242 does not exist"))
    );
    let id = deploy(&server, REVIEW).await;
    let (status, error) = decide(&server, id, "hitl-gate-nope", "approve", "ana").await;
    assert_eq!(status, 404);
    assert_eq!(
        error["message"],
        format!("run {id} has no job `hitl-gate-nope`")
    );
    let (status, error) = decide(&server, id, "train", "approve", "ana").await;
    assert_eq!(status, 400, "{error}");
    let (status, error) = decide(&server, id, "hitl-gate-preprocess", "maybe", "ana").await;
    assert_eq!(status, 400, "{error}");
    let (status, error) = server
        .post(
            "/api/deploy_pipeline",
            json!({"spec": "name: x\njobs: []\n"}),
        )
        .await;
    assert_eq!(status, 422, "{error}");
    let slow = deploy(
        &server,
        "name: slow\njobs:\n  - {id: a, run: sleep 5, gate: {message: later}}\n",
    )
    .await;
    let (status, error) = decide(&server, slow, "hitl-gate-a", "approve", "ana").await;
    assert_eq!(status, 409);
    assert_eq!(
        error["message"],
        "gate `hitl-gate-a` is not waiting yet: its source job `a` has not completed"
    );
    let (status, error) = server.post("/api/deploy_pipeline", json!({})).await;
    assert_eq!(status, 400, "{error}");
    let (status, error) = server
        .post("/api/deploy_pipeline", json!({"name": "nope"}))
        .await;
    assert_eq!(status, 404, "{error}");
}

#[tokio::test]
async fn concurrent_decisions_over_http_count_once_on_postgres() {
    let db = TestDb::postgres().await;
    let url = db.url.clone().expect("url");
    let server = ServerProcess::start(&temp_dir("race"), &[], Some(&url));
    let id = deploy(&server, REVIEW).await;
    wait_for_status(&server, id, "hitl-gate-preprocess", "RUNNING").await;
    let server = std::sync::Arc::new(server);
    let attempts: Vec<_> = (0..20)
        .map(|i| {
            let server = std::sync::Arc::clone(&server);
            tokio::spawn(async move {
                let decision = if i % 2 == 0 { "approve" } else { "reject" };
                let (status, body) = decide(
                    &server,
                    id,
                    "hitl-gate-preprocess",
                    decision,
                    &format!("p{i}"),
                )
                .await;
                (i, status, body)
            })
        })
        .collect();
    let mut winners = Vec::new();
    for attempt in attempts {
        let (i, status, body) = attempt.await.expect("task");
        match status {
            200 => winners.push(i),
            409 => assert!(
                body["message"]
                    .as_str()
                    .is_some_and(|m| m.contains("was already")),
                "{body}"
            ),
            other => panic!("unexpected {other}: {body}"),
        }
    }
    assert_eq!(winners.len(), 1, "exactly one decision counts: {winners:?}");
    let detail = run(&server, id).await;
    assert_eq!(
        job(&detail, "hitl-gate-preprocess")["gate"]["decided_by"],
        format!("p{}", winners[0])
    );
    drop(server);
    db.finish().await;
}

/// A server killed with SIGKILL and started again loses nothing and runs nothing it
/// should not: waiting gates keep waiting with their deadline, decided and timed-out
/// gates keep their downstream cancelled, running jobs fail with a clear reason, and a
/// deadline that passed while it was down times out at start.
async fn restart_keeps_every_gate_promise(database_url: Option<&str>) {
    let dir = temp_dir("restart");
    // A short lease, so that on Postgres the killed server's jobs count as abandoned by
    // the time it is back.
    let lease = ["--lease-secs", "2"];
    let server = ServerProcess::start(&dir, &lease, database_url);
    let yaml = "
name: restart
jobs:
  - {id: waiting, run: echo waiting, gate: {message: Approve after the restart, timeout: 300}}
  - {id: after_waiting, run: echo released, depends_on: [waiting]}
  - {id: rejected, run: echo rejected, gate: {message: Reject me}}
  - {id: after_rejected, run: echo never, depends_on: [rejected]}
  - {id: timed, run: echo timed, gate: {message: Too slow, timeout: 1}}
  - {id: after_timed, run: echo never, depends_on: [timed]}
  - {id: soon, run: echo soon, gate: {message: Times out while down, timeout: 3}}
  - {id: after_soon, run: echo never, depends_on: [soon]}
  - {id: long, run: echo started && sleep 5}
  - {id: after_long, run: echo never, depends_on: [long]}
";
    let id = deploy(&server, yaml).await;
    let before = wait_until(&server, id, |d| {
        status_of(d, "hitl-gate-waiting") == "RUNNING"
            && status_of(d, "hitl-gate-rejected") == "RUNNING"
            && status_of(d, "hitl-gate-soon") == "RUNNING"
            && status_of(d, "hitl-gate-timed") == "FAILED"
            && status_of(d, "long") == "RUNNING"
    })
    .await;
    assert_eq!(
        decide(&server, id, "hitl-gate-rejected", "reject", "bob")
            .await
            .0,
        200
    );
    wait_until(&server, id, |d| log_bytes(d, "long") > 0).await;
    let deadline = job(&before, "hitl-gate-waiting")["gate"]["deadline_at_ms"].clone();
    let soon_deadline = job(&before, "hitl-gate-soon")["gate"]["deadline_at_ms"]
        .as_i64()
        .expect("deadline");

    drop(server); // SIGKILL: no chance to clean up
    let wait = u64::try_from(soon_deadline - now_ms() + 300).unwrap_or(0);
    tokio::time::sleep(Duration::from_millis(wait.max(2300))).await;
    let server = ServerProcess::start(&dir, &lease, database_url);

    let after = run(&server, id).await;
    let gate = job(&after, "hitl-gate-waiting");
    assert_eq!(gate["status"], "RUNNING", "still waiting: {gate}");
    assert_eq!(
        gate["gate"]["deadline_at_ms"], deadline,
        "with its original deadline"
    );
    assert_eq!(status_of(&after, "after_waiting"), "PENDING");

    let rejected = job(&after, "hitl-gate-rejected");
    assert_eq!(
        rejected["gate"]["decided_by"], "bob",
        "the decision survived"
    );
    let soon = job(&after, "hitl-gate-soon");
    assert_eq!(soon["status"], "FAILED");
    assert_eq!(soon["reason"], "timed out after 3s");
    // Both outcomes are in the gate records too: the rejection from before the kill,
    // the timeout from the recovery at start.
    let records = server
        .data_dir
        .join("workspaces")
        .join(format!(".gates-{id}"));
    for (gate, said) in [
        ("hitl-gate-rejected", "\"by\": \"bob\""),
        ("hitl-gate-soon", "\"decision\": \"timed_out\""),
    ] {
        let record = std::fs::read_to_string(records.join(format!("{gate}.json")))
            .unwrap_or_else(|error| panic!("{gate}: {error}"));
        assert!(record.contains(said), "{gate}: {record}");
    }
    let long = job(&after, "long");
    assert_eq!(long["status"], "FAILED");
    assert_eq!(long["reason"], "interrupted by server restart");
    assert_eq!(
        log(&server, id, "long").await,
        "started\n",
        "its log survived"
    );
    for never in ["after_rejected", "after_timed", "after_soon", "after_long"] {
        let job = job(&after, never);
        assert_eq!(job["status"], "CANCELLED", "{never}: {job}");
        assert_eq!(job["started_at_ms"], Value::Null, "{never} never ran");
    }

    assert_eq!(
        decide(&server, id, "hitl-gate-waiting", "approve", "ana")
            .await
            .0,
        200
    );
    let done = wait_finished(&server, id).await;
    assert_eq!(status_of(&done, "after_waiting"), "COMPLETED");
    assert_eq!(log(&server, id, "after_waiting").await, "released\n");
    assert_eq!(done["run"]["status"], "FAILED");
    assert!(
        done["jobs"]
            .as_array()
            .expect("jobs")
            .iter()
            .all(|j| j["status"] != "RUNNING"),
        "nothing is left running: {done:#}"
    );
}

fn log_bytes(detail: &Value, id: &str) -> u64 {
    job(detail, id)["log_bytes"].as_u64().unwrap_or(0)
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

#[tokio::test]
async fn a_killed_server_restarts_without_breaking_a_gate_on_sqlite() {
    restart_keeps_every_gate_promise(None).await;
}

#[tokio::test]
async fn a_killed_server_restarts_without_breaking_a_gate_on_postgres() {
    let db = TestDb::postgres().await;
    restart_keeps_every_gate_promise(db.url.as_deref()).await;
    db.finish().await;
}

#[tokio::test]
async fn a_log_is_readable_while_the_job_runs_and_is_capped() {
    let server = ServerProcess::start(&temp_dir("logs"), &[], None);
    let yaml = "
name: logs
jobs:
  - {id: talker, run: 'echo first; sleep 1.5; echo second >&2'}
  - {id: flood, run: 'yes 0123456789abcdefghijklmnopqrstuvwxyz | head -c 12000000'}
  - id: gated
    run: echo gated
    gate: {message: Nobody signs}
";
    let id = deploy(&server, yaml).await;
    let running = wait_until(&server, id, |d| {
        status_of(d, "talker") == "RUNNING" && log_bytes(d, "talker") > 0
    })
    .await;
    assert_eq!(status_of(&running, "talker"), "RUNNING");
    let (_, page) = server
        .post("/api/job_log", json!({"run_id": id, "job": "talker"}))
        .await;
    assert_eq!(
        (page["text"].as_str(), page["finished"].as_bool()),
        (Some("first\n"), Some(false))
    );
    let next = page["next_offset"].as_u64().expect("offset");
    wait_for_status(&server, id, "talker", "COMPLETED").await;
    let (_, rest) = server
        .post(
            "/api/job_log",
            json!({"run_id": id, "job": "talker", "offset": next}),
        )
        .await;
    assert_eq!(
        (rest["text"].as_str(), rest["finished"].as_bool()),
        (Some("second\n"), Some(true))
    );

    let flooded = wait_for_status(&server, id, "flood", "COMPLETED").await;
    let kept = log_bytes(&flooded, "flood");
    assert!(kept <= 10 * 1024 * 1024 + 200, "kept {kept} bytes");
    let (status, whole) = server.get(&format!("/logs/{id}/flood")).await;
    assert_eq!(status, 200);
    assert_eq!(whole.matches("[tollgate] log truncated").count(), 1);
    assert!(
        whole.ends_with("the rest is dropped\n"),
        "the notice comes last"
    );

    let (_, decided) = server
        .post_as(
            "rita",
            "/api/decide_gate",
            json!({"run_id": id, "gate": "hitl-gate-gated", "decision": "reject"}),
        )
        .await;
    assert_eq!(decided["gate"]["decided_by"], "rita", "{decided}");
    assert_eq!(decided["gate"]["comment"], Value::Null);
}

#[tokio::test]
async fn sigterm_lets_jobs_finish_within_the_grace_period_and_keeps_gates() {
    let dir = temp_dir("shutdown");
    let mut server =
        ServerProcess::start(&dir, &["--shutdown-grace", "2", "--max-jobs", "4"], None);
    let yaml = "
name: stopping
jobs:
  - {id: short, run: sleep 1 && echo finished}
  - {id: long, run: sleep 30}
  - {id: gated, run: echo gated, gate: {message: Still here after a restart}}
";
    let id = deploy(&server, yaml).await;
    wait_until(&server, id, |d| {
        status_of(d, "short") == "RUNNING"
            && status_of(d, "long") == "RUNNING"
            && status_of(d, "hitl-gate-gated") == "RUNNING"
    })
    .await;
    server.terminate();
    let code = server.wait_for_exit(Duration::from_secs(10));
    assert_eq!(code, Some(0), "a clean exit after the grace period");
    drop(server);

    let server = ServerProcess::start(&dir, &[], None);
    let after = run(&server, id).await;
    assert_eq!(
        status_of(&after, "short"),
        "COMPLETED",
        "it had time to finish"
    );
    assert_eq!(log(&server, id, "short").await, "finished\n");
    let long = job(&after, "long");
    assert_eq!(long["status"], "FAILED");
    assert_eq!(
        long["reason"],
        "stopped by server shutdown after the 2s grace period"
    );
    assert_eq!(
        status_of(&after, "hitl-gate-gated"),
        "RUNNING",
        "a waiting gate is untouched"
    );
}

/// Two servers on one Postgres database: a change made through one wakes the other at
/// once (LISTEN/NOTIFY), and each job runs exactly once.
#[tokio::test]
async fn a_second_replica_hears_about_a_gate_and_times_it_out() {
    let db = TestDb::postgres().await;
    let url = db.url.clone().expect("url");
    let shared = temp_dir("replicas");
    let first = ServerProcess::start(&shared, &[], Some(&url));
    let second = ServerProcess::start(&shared, &[], Some(&url));
    let yaml = "
name: two_replicas
jobs:
  - {id: source, run: echo $TOLLGATE_JOB_ID >> markers, gate: {message: Only the other replica is left, timeout: 2}}
  - {id: after, run: echo $TOLLGATE_JOB_ID >> markers, depends_on: [source]}
  - {id: side, run: echo $TOLLGATE_JOB_ID >> markers}
";
    let id = deploy(&first, yaml).await;
    wait_for_status(&second, id, "hitl-gate-source", "RUNNING").await;
    drop(first); // SIGKILL: only the second replica can time the gate out

    let done = wait_finished(&second, id).await;
    let gate = job(&done, "hitl-gate-source");
    assert_eq!(gate["reason"], "timed out after 2s");
    let waited = gate["gate"]["decided_at_ms"].as_i64().unwrap_or(0)
        - gate["gate"]["activated_at_ms"].as_i64().unwrap_or(0);
    assert!(
        (2000..2500).contains(&waited),
        "timed out after {waited} ms"
    );
    assert_eq!(status_of(&done, "after"), "CANCELLED");

    let markers = std::fs::read_to_string(shared.join(format!("workspaces/{id}/markers")))
        .unwrap_or_default();
    let mut ran: Vec<&str> = markers.lines().collect();
    ran.sort_unstable();
    assert_eq!(ran, ["side", "source"], "each job ran exactly once");
    drop(second);
    db.finish().await;
}

/// Two replicas on one Postgres database: runs deployed through both, every gate
/// decided through the replica that did not deploy it, one replica killed with SIGKILL
/// while it runs jobs. No job runs twice, none is lost, every gate is decided once, and
/// the survivor fails the dead replica's jobs after the lease and finishes the rest.
#[tokio::test]
async fn replicas_share_the_work_and_survive_one_dying() {
    let db = TestDb::postgres().await;
    let url = db.url.clone().expect("url");
    let shared = temp_dir("two-replicas");
    let args = ["--lease-secs", "2", "--max-jobs", "8"];
    let yaml = "
name: shared
jobs:
  - {id: prep, run: echo $TOLLGATE_RUN_ID/$TOLLGATE_JOB_ID >> markers, gate: {message: Decide from the other replica}}
  - {id: work, run: echo $TOLLGATE_RUN_ID/$TOLLGATE_JOB_ID >> markers, depends_on: [prep]}
  - {id: long, run: echo $TOLLGATE_RUN_ID/$TOLLGATE_JOB_ID >> markers && sleep 6}
";
    // The first replica alone takes the first runs, so it surely holds running jobs.
    let first = ServerProcess::start(&shared, &args, Some(&url));
    let mut deployed = Vec::new();
    for _ in 0..3 {
        deployed.push((deploy(&first, yaml).await, 0));
    }
    for &(id, _) in &deployed {
        wait_for_status(&first, id, "long", "RUNNING").await;
    }
    let second = ServerProcess::start(&shared, &args, Some(&url));
    for _ in 0..3 {
        deployed.push((deploy(&second, yaml).await, 1));
    }
    let servers = [&first, &second];
    for &(id, _) in &deployed {
        wait_for_status(&second, id, "hitl-gate-prep", "RUNNING").await;
    }
    // Decide each gate through the replica that did not run its source job.
    let mut deciders = Vec::new();
    for &(id, _) in &deployed {
        let detail = run(&second, id).await;
        let ran_source = job(&detail, "prep")["owner"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        let other = usize::from(ran_source == first.replica);
        let (status, body) = decide(
            servers[other],
            id,
            "hitl-gate-prep",
            "approve",
            &format!("via-{other}"),
        )
        .await;
        assert_eq!(status, 200, "{body}");
        deciders.push(other);
    }
    let first_replica = first.replica.clone();
    let held: Vec<(i64, String)> = {
        let mut held = Vec::new();
        for &(id, _) in &deployed {
            let detail = run(&second, id).await;
            for job in detail["jobs"].as_array().expect("jobs") {
                if job["status"] == "RUNNING" && job["owner"] == first_replica.as_str() {
                    held.push((id, job["id"].as_str().unwrap_or_default().to_string()));
                }
            }
        }
        held
    };
    assert!(
        !held.is_empty(),
        "the first replica runs something when it dies"
    );
    drop(first); // SIGKILL

    for (&(id, _), decider) in deployed.iter().zip(&deciders) {
        let done = wait_finished(&second, id).await;
        let gate = job(&done, "hitl-gate-prep");
        assert_eq!(
            gate["gate"]["decided_by"],
            format!("via-{decider}"),
            "decided once"
        );
        for node in done["jobs"].as_array().expect("jobs") {
            let key = (id, node["id"].as_str().unwrap_or_default().to_string());
            if held.contains(&key) {
                assert_eq!(node["status"], "FAILED", "{node}");
                let reason = node["reason"].as_str().unwrap_or_default();
                assert!(
                    reason.starts_with(&format!(
                        "interrupted: server {first_replica} stopped answering"
                    )),
                    "{reason}"
                );
            } else {
                assert_eq!(node["status"], "COMPLETED", "run {id}: {node}");
            }
        }
    }
    let markers: String = deployed
        .iter()
        .map(|(id, _)| {
            std::fs::read_to_string(shared.join(format!("workspaces/{id}/markers")))
                .unwrap_or_default()
        })
        .collect();
    let mut seen = std::collections::HashSet::new();
    for line in markers.lines() {
        assert!(seen.insert(line.to_string()), "{line} ran twice");
    }
    assert_eq!(
        seen.len(),
        deployed.len() * 3,
        "every job ran once: {markers}"
    );
    drop(second);
    db.finish().await;
}

/// A wide run goes through the scheduler's batched writes: every job runs exactly once
/// (one start and one exit in the history), the run's counts add up, and the run
/// page's poll with `since` hears only what changed after the version it holds.
#[tokio::test]
async fn a_wide_run_runs_each_job_once_and_the_poll_sends_only_changes() {
    let server = ServerProcess::start(&temp_dir("wide"), &["--max-jobs", "6"], None);
    let mut yaml = String::from("name: wide\njobs:\n");
    for n in 0..300 {
        yaml.push_str(&format!("  - {{id: j{n}, run: 'true'}}\n"));
    }
    yaml.push_str("  - {id: last, run: 'true', depends_on: [j0, j299], gate: {message: done?}}\n");
    yaml.push_str("  - {id: after, run: 'echo after', depends_on: [last]}\n");
    let id = deploy(&server, &yaml).await;
    wait_for_status(&server, id, "hitl-gate-last", "RUNNING").await;

    let (status, progress) = server
        .post("/api/run_statuses", json!({"run_id": id}))
        .await;
    assert_eq!(status, 200, "{progress}");
    assert_eq!(progress["jobs"].as_array().map(Vec::len), Some(303));
    assert_eq!(progress["run"]["completed_jobs"], 301);
    assert_eq!(progress["run"]["waiting_gates"], 1);
    let version = progress["version"].as_i64().expect("version");
    let (_, unchanged) = server
        .post("/api/run_statuses", json!({"run_id": id, "since": version}))
        .await;
    assert_eq!(
        unchanged["jobs"],
        json!([]),
        "nothing changed while the gate waits"
    );

    let (status, body) = decide(&server, id, "hitl-gate-last", "approve", "ana").await;
    assert_eq!(status, 200, "{body}");
    wait_finished(&server, id).await;
    let (_, changed) = server
        .post("/api/run_statuses", json!({"run_id": id, "since": version}))
        .await;
    let ids: Vec<&str> = changed["jobs"]
        .as_array()
        .expect("jobs")
        .iter()
        .filter_map(|job| job["id"].as_str())
        .collect();
    assert_eq!(ids, ["hitl-gate-last", "after"]);
    assert_eq!(changed["run"]["status"], "COMPLETED");
    assert_eq!(changed["run"]["completed_jobs"], 303);

    let (_, audit) = server.post("/api/audit_trail", json!({"run_id": id})).await;
    let events = audit.as_array().cloned().unwrap_or_default();
    for n in 0..300 {
        let job = format!("j{n}");
        let moves: Vec<(&str, &str)> = events
            .iter()
            .filter(|event| event["job"] == job.as_str())
            .filter_map(|event| {
                Some((event["from_status"].as_str()?, event["to_status"].as_str()?))
            })
            .collect();
        assert_eq!(
            moves,
            [("PENDING", "RUNNING"), ("RUNNING", "COMPLETED")],
            "{job} ran once"
        );
    }
}

/// A job that prints a megabyte without a newline cannot make the server hold it as
/// one line: the log keeps it in marked pieces of at most 64 KiB, then goes on.
#[tokio::test]
async fn a_line_without_end_is_kept_in_marked_pieces() {
    let server = ServerProcess::start(&temp_dir("long-line"), &[], None);
    let yaml = "
name: long-line
jobs:
  - id: chatty
    run: head -c 1000000 /dev/zero | tr '\\000' a; echo; echo done
";
    let id = deploy(&server, yaml).await;
    let finished = wait_finished(&server, id).await;
    assert_eq!(status_of(&finished, "chatty"), "COMPLETED");
    let text = log(&server, id, "chatty").await;
    let lines: Vec<&str> = text.lines().collect();
    let mark = server::output_lines::SPLIT_MARK;
    let pieces = lines.iter().filter(|line| line.ends_with(mark)).count();
    assert_eq!(
        pieces,
        1_000_000 / server::output_lines::MAX_LINE_BYTES,
        "marked pieces"
    );
    assert!(
        lines
            .iter()
            .all(|line| line.len() <= server::output_lines::MAX_LINE_BYTES + mark.len()),
        "no line is longer than the limit"
    );
    let kept: usize = lines
        .iter()
        .map(|line| line.trim_end_matches(mark))
        .filter(|line| line.starts_with('a'))
        .map(str::len)
        .sum();
    assert_eq!(kept, 1_000_000, "nothing of the line is lost");
    assert_eq!(lines.last(), Some(&"done"));
    // The download streams the same log in pages of 256 KiB.
    let (status, whole) = server.get(&format!("/logs/{id}/chatty")).await;
    assert_eq!(status, 200);
    assert_eq!(whole.len(), text.len());
    assert!(whole == text, "the download is the log");
}

/// A workspace replaced by a symbolic link to `/` (what a job could do on a kernel
/// without Landlock) serves and lists nothing: the server never follows it.
#[tokio::test]
async fn a_workspace_replaced_by_a_link_serves_nothing_outside() {
    let dir = temp_dir("ws-link");
    let server = ServerProcess::start(&dir, &[], None);
    let id = deploy(
        &server,
        "name: w\njobs:\n  - {id: a, run: 'echo x > kept.txt'}\n",
    )
    .await;
    wait_finished(&server, id).await;
    let (_, files) = server.post("/api/list_files", json!({"run_id": id})).await;
    assert_eq!(files[0]["path"], "kept.txt");

    let workspace = dir.join("workspaces").join(id.to_string());
    std::fs::remove_dir_all(&workspace).expect("remove the workspace");
    std::os::unix::fs::symlink("/", &workspace).expect("link it to /");
    let (status, body) = server.raw_get(&format!("/files/{id}/etc/passwd"));
    assert_eq!(status, 404, "{body}");
    assert!(!body.contains("root:"), "served /etc/passwd");
    let (status, files) = server.post("/api/list_files", json!({"run_id": id})).await;
    assert_eq!(status, 200, "{files}");
    assert_eq!(files, json!([]), "lists nothing through the link");
}

/// A deploy whose workspace cannot be made fails with a reason and stores no run: none
/// is left RUNNING without a place to run.
#[tokio::test]
async fn a_deploy_without_a_workspace_stores_no_run() {
    let dir = temp_dir("no-workspace");
    let server = ServerProcess::start(&dir, &[], None);
    // The first run's workspace path is taken by a file.
    std::fs::create_dir_all(dir.join("workspaces")).expect("workspaces");
    std::fs::write(dir.join("workspaces").join("1"), "in the way").expect("file");
    let spec = "name: w\njobs:\n  - {id: a, run: 'true'}\n";
    let (status, body) = server
        .post("/api/deploy_pipeline", json!({"spec": spec}))
        .await;
    assert_eq!(status, 500, "{body}");
    let message = body["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("cannot create the run's workspace"),
        "{body}"
    );
    assert!(message.contains("nothing was deployed"), "{body}");
    let (_, runs) = server.post("/api/list_runs", json!({})).await;
    assert_eq!(runs, json!([]), "no run was stored");

    std::fs::remove_file(dir.join("workspaces").join("1")).expect("remove");
    let id = deploy(&server, spec).await;
    assert_eq!(
        status_of(&wait_finished(&server, id).await, "a"),
        "COMPLETED"
    );
}

/// The slow tick may read a run that was just deployed, and start its first job,
/// before the deploy's own hand-over reaches the scheduler: the hand-over must not
/// put the run back as deployed, or the job's exit is refused and it stays RUNNING
/// for ever. With the tick turned down to a millisecond, every deploy races it.
#[tokio::test]
async fn a_deploy_that_races_the_slow_tick_still_hears_its_jobs_end() {
    let server = ServerProcess::start(&temp_dir("rescan-race"), &["--rescan-ms", "1"], None);
    let yaml = "name: quick\njobs:\n  - {id: only, run: 'true'}\n  - {id: next, run: 'true', depends_on: [only]}\n";
    let mut ids = Vec::new();
    for _ in 0..30 {
        ids.push(deploy(&server, yaml).await);
    }
    for id in ids {
        let detail = wait_finished(&server, id).await;
        assert_eq!(detail["run"]["status"], "COMPLETED", "run {id}: {detail}");
    }
}

/// A task the store has as RUNNING on this server with no process behind it (what a
/// start leaves when the database wrote it but its acknowledgement was lost) is failed
/// on the slow tick with a reason that says so, instead of staying RUNNING for ever.
async fn a_lost_start_is_failed(database_url: Option<&str>) {
    use sqlx::Connection;
    let dir = temp_dir("lost-start");
    let args = ["--max-jobs", "1", "--rescan-ms", "200"];
    let server = ServerProcess::start(&dir, &args, database_url);
    // `busy` holds the only slot (`sleep 60`, stopped with the server), so `lost` stays
    // PENDING until the test writes its start: the sleep is the slot, not a wait.
    let yaml = "name: lost\njobs:\n  - {id: busy, run: sleep 60}\n  - {id: lost, run: 'true'}\n  - {id: after, run: 'true', depends_on: [lost]}\n";
    let id = deploy(&server, yaml).await;
    let detail = wait_for_status(&server, id, "busy", "RUNNING").await;
    assert_eq!(status_of(&detail, "lost"), "PENDING");

    // The start of `lost`, as the database would have it had the server not heard the
    // commit: RUNNING, taken by this server, counted, a new version of the run.
    sqlx::any::install_default_drivers();
    let url = database_url.map_or_else(
        || format!("sqlite://{}", dir.join("tollgate.db").display()),
        str::to_string,
    );
    let mut database = sqlx::AnyConnection::connect(&url)
        .await
        .expect("connect to the server's database");
    sqlx::query(
        "update jobs set status = 'RUNNING', owner = $1, started_at = 1, version = version + 1 \
         where run_id = $2 and job_id = 'lost'",
    )
    .bind(&server.replica)
    .bind(id)
    .execute(&mut database)
    .await
    .expect("mark the job RUNNING");
    sqlx::query(
        "update runs set pending_jobs = pending_jobs - 1, running_jobs = running_jobs + 1, \
         version = version + 1 where id = $1",
    )
    .bind(id)
    .execute(&mut database)
    .await
    .expect("count it");
    database.close().await.expect("close");

    let detail = wait_for_status(&server, id, "lost", "FAILED").await;
    let lost = job(&detail, "lost");
    assert!(
        lost["reason"]
            .as_str()
            .is_some_and(|reason| reason.contains("the server had no process for this job")),
        "{lost}"
    );
    assert_eq!(status_of(&detail, "after"), "CANCELLED");
    assert_eq!(
        status_of(&detail, "busy"),
        "RUNNING",
        "the real job runs on"
    );
}

#[tokio::test]
async fn a_task_running_in_the_store_without_a_process_is_failed_on_sqlite() {
    a_lost_start_is_failed(None).await;
}

#[tokio::test]
async fn a_task_running_in_the_store_without_a_process_is_failed_on_postgres() {
    let db = TestDb::postgres().await;
    a_lost_start_is_failed(db.url.as_deref()).await;
    db.finish().await;
}
