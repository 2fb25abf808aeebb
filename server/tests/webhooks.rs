//! Webhook notifications (issue 13) against a receiver on loopback: signed JSON for a
//! gate waiting, its decision and the run's end; retried after failures; kept across a
//! `kill -9`; each event delivered to the endpoint once.

mod common;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use common::process::ServerProcess;
use common::runs::{deploy, problems, wait_finished, wait_for_status};
use common::temp_dir;
use serde_json::{Value, json};

const SECRET: &str = "webhook-test-secret";

const REVIEW: &str = "
name: review
jobs:
  - id: report
    run: echo report
    gate: {message: Read the report}
  - id: train
    run: echo train
    depends_on: [report]
";

/// What the receiver saw: every request, answered or not.
#[derive(Default)]
struct Seen {
    requests: usize,
    /// The accepted ones: their headers and bodies.
    accepted: Vec<(HeaderMap, String)>,
}

/// An endpoint on loopback that refuses its first `failures` requests with a 503.
struct Receiver {
    url: String,
    seen: Arc<Mutex<Seen>>,
}

async fn receiver(listener: tokio::net::TcpListener, failures: usize) -> Receiver {
    let address = listener.local_addr().expect("address");
    let seen = Arc::new(Mutex::new(Seen::default()));
    let shared = seen.clone();
    let app = axum::Router::new().route(
        "/hook",
        post(move |headers: HeaderMap, body: String| {
            let seen = shared.clone();
            async move {
                let mut seen = seen.lock().expect("lock");
                seen.requests += 1;
                if seen.requests <= failures {
                    return StatusCode::SERVICE_UNAVAILABLE;
                }
                seen.accepted.push((headers, body));
                StatusCode::NO_CONTENT
            }
        }),
    );
    tokio::spawn(async move { axum::serve(listener, app).await });
    Receiver {
        url: format!("http://{address}/hook"),
        seen,
    }
}

async fn listener() -> tokio::net::TcpListener {
    tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind")
}

impl Receiver {
    /// The accepted bodies once `events` of them arrived (within 30 s).
    async fn wait_for(&self, events: usize) -> Vec<(HeaderMap, Value)> {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let accepted: Vec<(HeaderMap, Value)> = {
                let seen = self.seen.lock().expect("lock");
                seen.accepted
                    .iter()
                    .map(|(h, b)| (h.clone(), serde_json::from_str(b).expect("JSON")))
                    .collect()
            };
            if accepted.len() >= events {
                return accepted;
            }
            assert!(
                Instant::now() < deadline,
                "{} of {events} notifications arrived in 30 s",
                accepted.len()
            );
            // The interval between two looks, not a wait for something to happen.
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    fn requests(&self) -> usize {
        self.seen.lock().expect("lock").requests
    }

    fn raw_bodies(&self) -> Vec<(HeaderMap, String)> {
        self.seen.lock().expect("lock").accepted.clone()
    }
}

/// The admins' view of the outbox once `holds` is true of it (within 30 s).
async fn outbox_until(server: &ServerProcess, holds: impl Fn(&[Value]) -> bool) -> Vec<Value> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let (status, listed) = server.post("/api/notifications", json!({})).await;
        assert_eq!(status, 200, "{listed}");
        let list = listed.as_array().cloned().unwrap_or_default();
        if holds(&list) {
            return list;
        }
        assert!(
            Instant::now() < deadline,
            "the outbox never got there: {listed}"
        );
        // The interval between two looks, not a wait for something to happen.
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Every notification recorded as delivered: the loop never sends those again.
fn all_delivered(list: &[Value]) -> bool {
    !list.is_empty() && list.iter().all(|n| n["state"] == "delivered")
}

fn args(url: &str) -> Vec<String> {
    vec![
        "--notify-url".into(),
        url.into(),
        "--notify-secret".into(),
        SECRET.into(),
    ]
}

#[tokio::test]
async fn each_event_is_signed_delivered_once_and_retried_after_failures() {
    let hook = receiver(listener().await, 2).await;
    let args = args(&hook.url);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let server = ServerProcess::start(&temp_dir("webhooks"), &args, None);
    let run = deploy(&server, REVIEW).await;
    wait_for_status(&server, run, "hitl-gate-report", "RUNNING").await;

    // The first two attempts fail; the third gets through.
    let arrived = hook.wait_for(1).await;
    assert_eq!(hook.requests(), 3, "two refused, then delivered");
    let (headers, waiting) = &arrived[0];
    assert_eq!(waiting["event"], "gate_waiting");
    assert_eq!(headers["x-tollgate-event"], "gate_waiting");
    assert_eq!(
        headers["x-tollgate-delivery"],
        format!("{run}/hitl-gate-report/waiting")
    );
    let link = format!("{}/runs/{run}/gates/hitl-gate-report", server.base_url);
    assert_eq!(waiting["url"], link.as_str());
    assert_eq!(
        waiting["text"],
        format!("Run {run} of review waits at hitl-gate-report: Read the report {link}")
    );
    assert_eq!(waiting["message"], "Read the report");

    let (status, body) = server
        .post_as(
            "ana",
            "/api/decide_gate",
            json!({"run_id": run, "gate": "hitl-gate-report", "decision": "approve", "comment": "fine"}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    wait_finished(&server, run).await;
    let arrived = hook.wait_for(3).await;
    let events: Vec<&str> = arrived
        .iter()
        .map(|(_, body)| body["event"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(events, ["gate_waiting", "gate_decided", "run_finished"]);
    let decided = &arrived[1].1;
    assert_eq!(
        (&decided["decision"], &decided["by"], &decided["comment"]),
        (&json!("approved"), &json!("ana"), &json!("fine"))
    );
    assert_eq!(arrived[2].1["status"], "COMPLETED");
    assert_eq!(
        arrived[2].1["url"],
        format!("{}/runs/{run}", server.base_url)
    );

    // Every body carries the signature of exactly its bytes.
    for (headers, body) in hook.raw_bodies() {
        let signature = headers["x-tollgate-signature"].to_str().expect("ascii");
        assert_eq!(
            signature,
            server::webhooks::signature(SECRET.as_bytes(), body.as_bytes())
        );
    }
    // Once all are recorded delivered nothing is sent again: each event went once.
    // Admins see each delivery, its attempts and its outcome.
    let listed = outbox_until(&server, all_delivered).await;
    assert_eq!(hook.raw_bodies().len(), 3);
    let first = listed
        .iter()
        .find(|n| n["event_id"] == format!("{run}/hitl-gate-report/waiting"))
        .cloned()
        .unwrap_or_default();
    assert_eq!(first["attempts"], 3, "{listed:?}");
    assert_eq!(first["state"], "delivered", "{listed:?}");
    let (status, _) = server.post_as("ana", "/api/notifications", json!({})).await;
    assert_eq!(status, 403, "only admins see the outbox");
}

#[tokio::test]
async fn a_notification_queued_before_a_kill_is_delivered_after_the_restart() {
    // The endpoint is down at first: nothing listens on its port.
    let taken = listener().await;
    let address = taken.local_addr().expect("address");
    drop(taken);
    let url = format!("http://{address}/hook");
    let args = args(&url);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let dir = temp_dir("webhooks-restart");
    let server = ServerProcess::start(&dir, &args, None);
    let run = deploy(&server, REVIEW).await;
    wait_for_status(&server, run, "hitl-gate-report", "RUNNING").await;
    // Admins see it failing, and why.
    let listed = outbox_until(&server, |list| {
        list.first().is_some_and(|n| n["last_error"].is_string())
    })
    .await;
    let failing = &listed[0];
    assert_eq!(failing["state"], "retrying", "{failing}");
    assert!(
        failing["last_error"]
            .as_str()
            .is_some_and(|error| error.starts_with("cannot connect: ")
                && error.contains("refused")),
        "{failing}"
    );
    drop(server); // kill -9, the notification still undelivered

    let hook = receiver(
        tokio::net::TcpListener::bind(address)
            .await
            .expect("the endpoint's port again"),
        0,
    )
    .await;
    let server = ServerProcess::start(&dir, &args, None);
    let arrived = hook.wait_for(1).await;
    assert_eq!(arrived[0].1["event"], "gate_waiting");
    assert_eq!(arrived[0].1["run_id"], run);
    outbox_until(&server, all_delivered).await;
    assert_eq!(hook.raw_bodies().len(), 1, "delivered once");
    drop(server);
}

#[tokio::test]
async fn a_pipeline_tells_its_own_endpoints_and_a_bad_one_is_refused() {
    let hook = receiver(listener().await, 0).await;
    // No server-wide endpoint, no secret: the pipeline's `notify` alone.
    let server = ServerProcess::start(&temp_dir("webhooks-pipeline"), &[], None);
    let spec = format!(
        "name: told\nnotify: [{}]\njobs:\n  - {{id: a, run: 'true'}}\n",
        hook.url
    );
    let run = deploy(&server, &spec).await;
    wait_finished(&server, run).await;
    let arrived = hook.wait_for(1).await;
    assert_eq!(arrived[0].1["event"], "run_finished");
    assert_eq!(arrived[0].1["pipeline"], "told");
    assert!(
        arrived[0].0.get("x-tollgate-signature").is_none(),
        "unsigned without a secret"
    );

    let (status, body) = server
        .post(
            "/api/deploy_pipeline",
            json!({"spec": "name: bad\nnotify: [hooks.example.com]\njobs:\n  - {id: a, run: 'true'}\n"}),
        )
        .await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(
        problems(&body),
        [
            "`notify` has `hooks.example.com`, which is not a web address: give one like https://hooks.example.com/tollgate (http or https, at most 2,048 characters)"
        ]
    );

    // Where clouds serve instance metadata, in any spelling: refused at save and deploy.
    for url in [
        "http://169.254.169.254/latest/meta-data/",
        "http://[fd00:ec2::254]/",
        "http://0xA9FEA9FE/",
    ] {
        let spec =
            format!("name: metadata\nnotify: ['{url}']\njobs:\n  - {{id: a, run: 'true'}}\n");
        for path in ["/api/deploy_pipeline", "/api/save_pipeline"] {
            let (status, body) = server.post(path, json!({"spec": spec})).await;
            assert_eq!(status, 422, "{path} {url}: {body}");
            let said = problems(&body).join("");
            assert!(
                said.contains("a link-local address where clouds serve instance metadata")
                    && said.contains("--notify-allow-link-local"),
                "{said}"
            );
        }
    }
    let (_, runs) = server.post("/api/list_runs", json!({})).await;
    assert!(!runs.to_string().contains("metadata"), "{runs}");
}

#[tokio::test]
async fn the_server_may_allow_link_local_endpoints() {
    let refused = common::process::tollgate(
        &temp_dir("webhooks-link-local-flag"),
        &["--notify-url", "http://169.254.169.254/hook"],
    )
    .output()
    .expect("run tollgate");
    let said = String::from_utf8_lossy(&refused.stderr);
    assert!(!refused.status.success(), "{said}");
    assert!(said.contains("--notify-allow-link-local"), "{said}");

    let server = ServerProcess::start(
        &temp_dir("webhooks-link-local"),
        &["--notify-allow-link-local"],
        None,
    );
    let spec = "name: metadata\nnotify: ['http://169.254.169.254/hook']\njobs:\n  - {id: a, run: 'true'}\n";
    let (status, body) = server
        .post("/api/deploy_pipeline", json!({"spec": spec}))
        .await;
    assert_eq!(status, 200, "{body}");
}

#[tokio::test]
async fn a_gate_that_times_out_is_told_as_such() {
    let hook = receiver(listener().await, 0).await;
    let args = args(&hook.url);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let server = ServerProcess::start(&temp_dir("webhooks-timeout"), &args, None);
    let run = deploy(
        &server,
        "name: late\njobs:\n  - {id: report, run: 'true', gate: {message: Anyone?, timeout: 1}}\n  - {id: after, run: 'true', depends_on: [report]}\n",
    )
    .await;
    wait_finished(&server, run).await;
    let arrived = hook.wait_for(3).await;
    let events: Vec<&str> = arrived
        .iter()
        .map(|(_, body)| body["event"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(events, ["gate_waiting", "gate_timed_out", "run_finished"]);
    let timed_out = &arrived[1].1;
    assert_eq!(
        (
            &timed_out["decision"],
            &timed_out["by"],
            &timed_out["reason"]
        ),
        (
            &json!("timed_out"),
            &Value::Null,
            &json!("timed out after 1s")
        )
    );
    assert_eq!(arrived[2].1["status"], "FAILED");
}
