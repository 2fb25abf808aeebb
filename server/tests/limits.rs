//! The server's limits, met through the real binary: the API's body size, the size of a
//! pipeline sent as an object, the jobs per run and the length of a job's fields. Each
//! refusal is a JSON error that says what to do, and leaves nothing behind.

mod common;

use common::runs::problems;

use std::io::{Read, Write};
use std::net::TcpStream;

use common::process::ServerProcess;
use common::temp_dir;
use serde_json::{Value, json};

/// The API's body limit (`MAX_API_BODY_BYTES` in src/http.rs).
const BODY_LIMIT: usize = 4 * 1024 * 1024;
/// The pipeline size limit (`app::domain::MAX_SPEC_BYTES`).
const SPEC_LIMIT: usize = 1024 * 1024;

/// A POST to `path` as admin over a plain socket: `head` extra header lines, then `body`
/// (written as is, so it may be chunked or shorter than the declared length). Returns
/// the status and the body as JSON (a string if it is not JSON).
async fn send_raw(server: &ServerProcess, path: &str, head: &[&str], body: &[u8]) -> (u16, Value) {
    let cookie = server.session("admin").await;
    let address = server.base_url.trim_start_matches("http://").to_string();
    let mut request = format!(
        "POST {path} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\ncookie: {cookie}\r\ncontent-type: application/json\r\naccept: application/json\r\n"
    );
    for line in head {
        request.push_str(line);
        request.push_str("\r\n");
    }
    request.push_str("\r\n");
    let body = body.to_vec();
    tokio::task::spawn_blocking(move || {
        let mut stream = TcpStream::connect(&address).expect("connect");
        stream.write_all(request.as_bytes()).expect("send the head");
        // The server may answer and stop reading before the body is all sent.
        let _ = stream.write_all(&body);
        let mut reply = Vec::new();
        let _ = stream.read_to_end(&mut reply);
        let reply = String::from_utf8_lossy(&reply).to_string();
        let status = reply
            .split_whitespace()
            .nth(1)
            .and_then(|code| code.parse().ok())
            .unwrap_or(0);
        let text = reply.split_once("\r\n\r\n").map_or("", |(_, body)| body);
        let json = serde_json::from_str(text).unwrap_or(Value::String(text.to_string()));
        (status, json)
    })
    .await
    .expect("raw request")
}

/// `bytes` of body sent with `Transfer-Encoding: chunked`, in 64 KiB chunks.
fn chunked(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    for chunk in bytes.chunks(64 * 1024) {
        out.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
        out.extend_from_slice(chunk);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"0\r\n\r\n");
    out
}

/// A `save_pipeline` body of valid JSON and exactly `size` bytes: a pipeline text padded
/// with a YAML comment.
fn save_body(size: usize) -> Vec<u8> {
    let start = r#"{"spec": "name: big\njobs:\n  - id: a\n    run: echo a\n#"#;
    let end = r#""}"#;
    let padding = size - start.len() - end.len();
    format!("{start}{}{end}", "x".repeat(padding)).into_bytes()
}

fn assert_too_large(status: u16, body: &Value) {
    assert_eq!(status, 413, "{body}");
    assert_eq!(body["error"], "payload_too_large", "{body}");
    assert_eq!(
        body["message"],
        "the request body is larger than the 4 MiB the API accepts: send a smaller pipeline or draft (a pipeline's text may be at most 1 MiB)"
    );
}

#[tokio::test]
async fn a_body_over_4_mib_is_refused_with_413_json_and_nothing_is_saved() {
    let server = ServerProcess::start(&temp_dir("limits-body"), &[], None);

    // A declared length over the limit is refused before any of the body is read.
    let declared = format!("content-length: {}", BODY_LIMIT + 1);
    let (status, body) = send_raw(&server, "/api/save_pipeline", &[&declared], b"").await;
    assert_too_large(status, &body);

    // A chunked body declares nothing: it is cut off once it passes the limit.
    let (status, body) = send_raw(
        &server,
        "/api/save_pipeline",
        &["transfer-encoding: chunked"],
        &chunked(&save_body(BODY_LIMIT + 1)),
    )
    .await;
    assert_too_large(status, &body);

    // The same through an ordinary client, on another endpoint.
    let (status, body) = server
        .post(
            "/api/save_draft",
            json!({"draft": {"name": "p", "nodes": [], "edges": [], "next_key": "x".repeat(BODY_LIMIT)}}),
        )
        .await;
    assert_too_large(status, &body);

    // At the limit the body is read, and the pipeline's own size limit answers.
    let (status, body) = send_raw(
        &server,
        "/api/save_pipeline",
        &["transfer-encoding: chunked"],
        &chunked(&save_body(BODY_LIMIT)),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["error"], "bad_request");
    let message = body["message"].as_str().unwrap_or_default();
    assert!(
        message.contains(&format!("the limit is {SPEC_LIMIT} bytes")),
        "{message}"
    );

    let (status, list) = server.post("/api/list_pipelines", json!({})).await;
    assert_eq!((status, list), (200, json!([])));
    let (_, draft) = server.post("/api/load_draft", json!({})).await;
    assert_eq!(draft, Value::Null);
}

/// A pipeline object of one job per script, each script `script_bytes` long.
fn pipeline_object(name: &str, jobs: usize, script_bytes: usize) -> Value {
    let jobs: Vec<Value> = (0..jobs)
        .map(|n| json!({"id": format!("j{n}"), "run": format!("echo {}", "x".repeat(script_bytes - 5))}))
        .collect();
    json!({"name": name, "jobs": jobs})
}

#[tokio::test]
async fn a_pipeline_object_over_1_mib_is_refused_like_text() {
    let server = ServerProcess::start(&temp_dir("limits-spec"), &[], None);
    // 20 scripts of 60 KiB: every job is within its own limit, the whole is 1.2 MiB.
    let big = pipeline_object("big", 20, 60 * 1024);
    for path in ["/api/save_pipeline", "/api/deploy_pipeline"] {
        let (status, body) = server.post(path, json!({"spec": big})).await;
        assert_eq!(status, 400, "{path}: {body}");
        assert_eq!(body["error"], "bad_request");
        let message = body["message"].as_str().unwrap_or_default();
        assert!(
            message.starts_with("the pipeline is 122")
                && message.ends_with(&format!(
                    "bytes; the limit is {SPEC_LIMIT} bytes: split it into several pipelines, or move long scripts into files the jobs run"
                )),
            "{path}: {message}"
        );
    }
    let (_, list) = server.post("/api/list_pipelines", json!({})).await;
    assert_eq!(list, json!([]));
    let (_, runs) = server.post("/api/list_runs", json!({})).await;
    assert_eq!(runs, json!([]));

    // Under the limit, the same shape is accepted.
    let (status, body) = server
        .post(
            "/api/save_pipeline",
            json!({"spec": pipeline_object("fits", 10, 60 * 1024)}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
}

#[tokio::test]
async fn a_job_field_over_its_limit_is_an_invalid_pipeline() {
    let server = ServerProcess::start(&temp_dir("limits-fields"), &[], None);
    let spec = json!({"name": "p", "jobs": [
        {"id": "a", "run": "x".repeat(64 * 1024 + 1),
         "gate": {"message": "y".repeat(4097)}},
    ]});
    let (status, body) = server
        .post("/api/deploy_pipeline", json!({"spec": spec}))
        .await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["error"], "invalid_pipeline");
    let problems = problems(&body);
    assert_eq!(
        problems,
        [
            "job `a` has a `run` script of 65,537 bytes; the limit is 65,536 bytes (64 KiB): put the script in a file and run that file",
            "job `a` has a gate message of 4,097 characters; the limit is 4,096: keep it to what the reviewer must check, and put the details in the job's output",
        ]
    );
    let (_, runs) = server.post("/api/list_runs", json!({})).await;
    assert_eq!(runs, json!([]));
}

/// A chain of `jobs` jobs; the first `gates` of them carry a gate.
fn chain(name: &str, jobs: usize, gates: usize) -> Value {
    let jobs: Vec<Value> = (0..jobs)
        .map(|n| {
            let mut job = json!({"id": format!("j{n}"), "run": "true"});
            if n > 0 {
                job["depends_on"] = json!([format!("j{}", n - 1)]);
            }
            if n < gates {
                job["gate"] = json!({"message": "check it"});
            }
            job
        })
        .collect();
    json!({"name": name, "jobs": jobs})
}

#[tokio::test]
async fn a_run_over_the_jobs_limit_is_refused_and_one_at_it_deploys() {
    let server = ServerProcess::start(&temp_dir("limits-jobs"), &["--max-jobs-per-run", "5"], None);
    // 4 jobs and 2 gates: 6 nodes.
    let over = chain("over", 4, 2);
    let expected = "the pipeline has 6 jobs with its gates (4 jobs and 2 gates, each gate a node of the run); the limit is 5 per run (TOLLGATE_MAX_JOBS_PER_RUN): split it into several pipelines";
    for path in ["/api/deploy_pipeline", "/api/save_pipeline"] {
        let (status, body) = server.post(path, json!({"spec": over})).await;
        assert_eq!(status, 422, "{path}: {body}");
        assert_eq!(body["error"], "invalid_pipeline");
        assert_eq!(
            body["problems"],
            json!([{"job": null, "message": expected}]),
            "{path}"
        );
    }
    let (_, runs) = server.post("/api/list_runs", json!({})).await;
    assert_eq!(runs, json!([]));
    let (_, list) = server.post("/api/list_pipelines", json!({})).await;
    assert_eq!(list, json!([]));

    // 3 jobs and 2 gates: exactly the limit.
    let (status, deployed) = server
        .post("/api/deploy_pipeline", json!({"spec": chain("at", 3, 2)}))
        .await;
    assert_eq!(status, 200, "{deployed}");
    assert_eq!(deployed["jobs"].as_array().map(Vec::len), Some(5));
    let (_, runs) = server.post("/api/list_runs", json!({})).await;
    assert_eq!(runs.as_array().map(Vec::len), Some(1));
}
