//! The server as a user meets it: the real binary, its HTTP API and its start-up errors.

mod common;

use common::runs::problems;

use common::process::{ServerProcess, sample_pipeline, tollgate};
use common::{TestDb, temp_dir};
use serde_json::json;

fn start_with_sample(name: &str) -> ServerProcess {
    let sample = sample_pipeline();
    let sample = sample.to_str().expect("utf-8 path");
    ServerProcess::start(&temp_dir(name), &["--pipeline", sample], None)
}

#[tokio::test]
async fn healthz_says_the_store_answers() {
    let server = start_with_sample("health");
    let (status, body) = server.get("/healthz").await;
    assert_eq!(status, 200);
    assert_eq!(body, r#"{"status":"ok","store":"ok"}"#);
}

#[tokio::test]
async fn the_sample_pipeline_is_ready_to_deploy() {
    let server = start_with_sample("sample");
    let (status, list) = server.post("/api/list_pipelines", json!({})).await;
    assert_eq!(status, 200, "{list}");
    assert_eq!(list[0]["name"], "review-workflow");
    assert_eq!(
        (list[0]["jobs"].as_u64(), list[0]["gates"].as_u64()),
        (Some(3), Some(1))
    );

    let (status, saved) = server
        .post("/api/get_pipeline", json!({"name": "review-workflow"}))
        .await;
    assert_eq!(status, 200, "{saved}");
    let gate = &saved["pipeline"]["jobs"][0]["gate"];
    assert_eq!(
        gate["message"],
        "Review data quality report before training begins"
    );
    let yaml = saved["yaml"].as_str().expect("yaml");
    assert!(yaml.contains("depends_on"), "{yaml}");
    let (_, runs) = server.post("/api/list_runs", json!({})).await;
    assert_eq!(runs, json!([]));
}

#[tokio::test]
async fn saving_validates_and_a_bad_pipeline_changes_nothing() {
    let server = start_with_sample("save");
    let bad = "name: broken\njobs:\n  - id: a\n    run: ''\n    depends_on: [b]\n  - id: b\n    run: x\n    depends_on: [a]\n";
    let (status, error) = server
        .post("/api/save_pipeline", json!({"spec": bad}))
        .await;
    assert_eq!(status, 422, "{error}");
    assert_eq!(error["error"], "invalid_pipeline");
    let problems = problems(&error);
    assert_eq!(
        problems,
        [
            "job `a` has an empty `run`: give it a shell command or script",
            "jobs depend on each other in a cycle: a -> b -> a; remove one of these dependencies",
        ]
    );
    let (_, list) = server.post("/api/list_pipelines", json!({})).await;
    assert_eq!(
        list.as_array().map(Vec::len),
        Some(1),
        "nothing was saved: {list}"
    );

    let (status, error) = server
        .post(
            "/api/save_pipeline",
            json!({"spec": "name: x\njobs: [oops"}),
        )
        .await;
    assert_eq!(status, 400, "{error}");
    assert!(
        error["message"]
            .as_str()
            .is_some_and(|m| m.starts_with("the pipeline is not valid YAML")),
        "{error}"
    );
}

#[tokio::test]
async fn a_saved_pipeline_reads_back_with_its_layout() {
    let server = start_with_sample("roundtrip");
    let spec = json!({
        "name": "nightly",
        "jobs": [
            {"id": "fetch", "run": "echo fetch", "gate": {"message": "Check the data"}},
            {"id": "load", "run": "echo load", "depends_on": ["fetch"]}
        ]
    });
    let layout = json!({"fetch": {"x": 40, "y": 80}});
    let (status, saved) = server
        .post(
            "/api/save_pipeline",
            json!({"spec": spec, "layout": layout}),
        )
        .await;
    assert_eq!(status, 200, "{saved}");
    let (_, again) = server
        .post("/api/get_pipeline", json!({"name": "nightly"}))
        .await;
    assert_eq!(again["pipeline"], spec);
    assert_eq!(again["layout"], layout);
    assert_eq!(
        again["pipeline"]["jobs"][0]["gate"]["message"],
        "Check the data"
    );
}

#[tokio::test]
async fn api_mistakes_get_json_errors_that_say_what_to_do() {
    let server = start_with_sample("errors");
    let (status, error) = server.post("/api/no_such_thing", json!({})).await;
    assert_eq!(status, 404);
    assert_eq!(
        error["message"],
        "there is no API endpoint `/api/no_such_thing`; the README lists them"
    );

    let (status, body) = server.get("/api/list_runs").await;
    assert_eq!(status, 405);
    assert!(body.contains("takes a POST with a JSON body"), "{body}");

    let (status, error) = server.post("/api/get_pipeline", json!({"nome": "x"})).await;
    assert_eq!(status, 400, "{error}");
    assert_eq!(error["error"], "bad_request");

    let (status, error) = server
        .post("/api/get_pipeline", json!({"name": "ghost"}))
        .await;
    assert_eq!(status, 404);
    assert_eq!(error["message"], "no saved pipeline is named `ghost`");
}

#[tokio::test]
async fn parse_pipeline_reads_yaml_for_a_signed_in_person_only() {
    let server = start_with_sample("parse");
    let text = std::fs::read_to_string(sample_pipeline()).expect("sample");
    let (status, pipeline) = server
        .post("/api/parse_pipeline", json!({ "text": text }))
        .await;
    assert_eq!(status, 200, "{pipeline}");
    assert_eq!(pipeline["name"], "review-workflow");
    assert_eq!(pipeline["jobs"][1]["depends_on"], json!(["preprocess"]));

    let (status, error) = server
        .post(
            "/api/parse_pipeline",
            json!({"text": "name: p\njobs:\n  - id: [a\n"}),
        )
        .await;
    assert_eq!(status, 400, "{error}");
    let message = error["message"].as_str().expect("message");
    assert!(
        message.starts_with("the pipeline is not valid YAML") && message.contains("line 3"),
        "{message}"
    );

    let (status, _) = server
        .post_anonymous("/api/parse_pipeline", json!({ "text": text }))
        .await;
    assert_eq!(status, 401);
}

#[tokio::test]
async fn each_address_gets_the_page_of_the_bundle_that_draws_it() {
    let dist = temp_dir("dist");
    let page = |area: &str| format!("<html>tollgate {area}</html>");
    std::fs::write(dist.join("index.html"), page("runs")).expect("write");
    for area in ["approvals", "manage", "constructor"] {
        let folder = dist.join("bundles").join(area);
        std::fs::create_dir_all(&folder).expect("mkdir");
        std::fs::write(folder.join("index.html"), page(area)).expect("write");
        std::fs::write(folder.join(format!("{area}-0123456789abcdef.js")), area).expect("write");
    }
    let dist_arg = dist.to_str().expect("utf-8 path");
    let server = ServerProcess::start(&temp_dir("deep"), &["--dist", dist_arg], None);
    for (path, area) in [
        ("/", "runs"),
        ("/runs/42", "runs"),
        ("/runs/42/gates/hitl-gate-train", "runs"),
        ("/approvals", "approvals"),
        ("/pipelines", "manage"),
        ("/users", "manage"),
        ("/constructor", "constructor"),
        // The runs bundle's "not found" page answers what no bundle draws.
        ("/no/such/page", "runs"),
    ] {
        let (status, body) = server.get(path).await;
        assert_eq!((status, body), (200, page(area)), "{path}");
    }
    // A bundle's own files are served from its folder.
    let (status, body) = server
        .get("/bundles/constructor/constructor-0123456789abcdef.js")
        .await;
    assert_eq!((status, body.as_str()), (200, "constructor"));

    // A bundle left unbuilt says so, and how to build it.
    std::fs::remove_file(dist.join("bundles/constructor/index.html")).expect("remove");
    let (status, body) = server.get("/constructor").await;
    assert_eq!(status, 404);
    assert!(
        body.contains("Constructor bundle is not built") && body.contains("scripts/build.sh"),
        "{body}"
    );
}

/// GETs `path` without signing in (the client's files are public), sending
/// `Accept-Encoding` if given; returns the status, the headers and the body as sent.
async fn get_encoded(
    server: &ServerProcess,
    path: &str,
    accept: Option<&str>,
) -> (u16, reqwest::header::HeaderMap, Vec<u8>) {
    let mut request = reqwest::Client::new().get(format!("{}{path}", server.base_url));
    if let Some(accept) = accept {
        request = request.header("accept-encoding", accept);
    }
    let response = request.send().await.expect("request");
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let body = response.bytes().await.expect("body").to_vec();
    (status, headers, body)
}

/// The body decoded as its `Content-Encoding` says.
fn decoded(headers: &reqwest::header::HeaderMap, body: &[u8]) -> Vec<u8> {
    use std::io::Read;
    let mut plain = Vec::new();
    match headers
        .get("content-encoding")
        .map(|v| v.to_str().expect("ascii"))
    {
        None => plain.extend_from_slice(body),
        Some("gzip") => {
            flate2::read::GzDecoder::new(body)
                .read_to_end(&mut plain)
                .expect("gunzip");
        }
        Some("br") => {
            brotli::Decompressor::new(body, 4096)
                .read_to_end(&mut plain)
                .expect("unbrotli");
        }
        Some(other) => panic!("unexpected content-encoding {other}"),
    }
    plain
}

#[tokio::test]
async fn the_client_is_sent_precompressed_and_hashed_files_are_kept() {
    let dist = temp_dir("dist-compressed");
    let index = "<html><body>tollgate client</body></html>\n".repeat(40);
    let wasm_name = "frontend-0123456789abcdef_bg.wasm";
    let wasm: Vec<u8> = (0..40_000u32)
        .flat_map(|i| (i % 251).to_le_bytes())
        .collect();
    std::fs::write(dist.join("index.html"), &index).expect("write");
    std::fs::write(dist.join(wasm_name), &wasm).expect("write");
    // Another area's bundle, in its folder.
    std::fs::create_dir_all(dist.join("bundles/approvals")).expect("mkdir");
    std::fs::write(dist.join("bundles/approvals/index.html"), &index).expect("write");
    let dist_arg = dist.to_str().expect("utf-8 path");
    // The build step, as scripts/build.sh runs it.
    let output = tollgate(&temp_dir("precompress"), &["precompress", dist_arg])
        .output()
        .expect("run tollgate precompress");
    assert!(output.status.success(), "{output:?}");
    for variant in [
        "index.html.gz",
        "index.html.br",
        "frontend-0123456789abcdef_bg.wasm.br",
        "bundles/approvals/index.html.br",
    ] {
        assert!(dist.join(variant).is_file(), "{variant} written");
    }
    let server = ServerProcess::start(&temp_dir("compressed"), &["--dist", dist_arg], None);

    let wasm_path = format!("/{wasm_name}");
    for (accept, encoding) in [
        (Some("gzip, deflate, br, zstd"), Some("br")),
        (Some("gzip"), Some("gzip")),
        (Some("br;q=0.5, gzip"), Some("gzip")),
        (Some("identity"), None),
        (None, None),
    ] {
        let (status, headers, body) = get_encoded(&server, &wasm_path, accept).await;
        assert_eq!(status, 200, "{accept:?}");
        let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
        assert_eq!(header("content-encoding"), encoding, "{accept:?}");
        assert_eq!(
            header("content-type"),
            Some("application/wasm"),
            "{accept:?}"
        );
        assert_eq!(
            header("cache-control"),
            Some("public, max-age=31536000, immutable"),
            "{accept:?}"
        );
        assert_eq!(header("vary"), Some("accept-encoding"), "{accept:?}");
        if encoding.is_some() {
            assert!(
                body.len() < wasm.len() / 2,
                "{accept:?}: {} bytes",
                body.len()
            );
        }
        assert!(
            decoded(&headers, &body) == wasm,
            "{accept:?}: the same bytes"
        );
    }

    // The page, deep links (into the runs area and another) and an old build's hashed
    // name (which falls back to the page) are revalidated on every load.
    for path in [
        "/",
        "/index.html",
        "/runs/42",
        "/approvals",
        "/frontend-fedcba9876543210.js",
    ] {
        for (accept, encoding) in [
            (Some("gzip, br"), Some("br")),
            (Some("gzip"), Some("gzip")),
            (None, None),
        ] {
            let (status, headers, body) = get_encoded(&server, path, accept).await;
            assert_eq!(status, 200, "{path}");
            let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
            assert_eq!(header("content-encoding"), encoding, "{path} {accept:?}");
            assert_eq!(
                header("cache-control"),
                Some("no-cache"),
                "{path} {accept:?}"
            );
            assert_eq!(header("vary"), Some("accept-encoding"), "{path} {accept:?}");
            assert_eq!(
                String::from_utf8(decoded(&headers, &body)).expect("utf-8"),
                index,
                "{path} {accept:?}"
            );
        }
    }
}

#[tokio::test]
async fn the_server_runs_on_postgres_too() {
    let db = TestDb::postgres().await;
    let url = db.url.clone().expect("postgres url");
    let sample = sample_pipeline();
    let sample = sample.to_str().expect("utf-8 path");
    let server = ServerProcess::start(&temp_dir("pg"), &["--pipeline", sample], Some(&url));
    let (status, list) = server.post("/api/list_pipelines", json!({})).await;
    assert_eq!(status, 200, "{list}");
    assert_eq!(list[0]["name"], "review-workflow");
    let saved = db.store.get_pipeline("review-workflow").await.expect("get");
    assert!(saved.is_some(), "the pipeline is in the Postgres database");
    drop(server);
    db.finish().await;
}

/// Runs the binary to completion and returns its exit code and standard error.
fn failed_start(args: &[&str], database_url: Option<&str>) -> (Option<i32>, String) {
    let mut command = tollgate(&temp_dir("fail"), args);
    if let Some(url) = database_url {
        command.env("DATABASE_URL", url);
    }
    let output = command.output().expect("run tollgate");
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stderr).trim().to_string(),
    )
}

#[test]
fn start_up_errors_are_one_clear_line() {
    let (code, stderr) = failed_start(&[], Some("mysql://root@localhost/db"));
    assert_eq!(code, Some(1));
    assert_eq!(
        stderr,
        "tollgate: DATABASE_URL must be a postgres:// URL (got a `mysql` URL); unset it to use the embedded SQLite file in the data directory"
    );

    let (code, stderr) = failed_start(&["--notify-url", "hooks.example.com/x"], None);
    assert_eq!(code, Some(1));
    assert_eq!(
        stderr,
        "tollgate: --notify-url `hooks.example.com/x` is not a web address: give one like https://hooks.example.com/tollgate"
    );

    let (code, stderr) = failed_start(&[], Some("postgres://postgres@127.0.0.1:1/nothing"));
    assert_eq!(code, Some(1));
    assert!(
        stderr.starts_with("tollgate: cannot open the Postgres database in DATABASE_URL:"),
        "{stderr}"
    );
    assert_eq!(stderr.lines().count(), 1, "{stderr}");

    let output = std::process::Command::new(env!("CARGO_BIN_EXE_tollgate"))
        .args([
            "--bind",
            "127.0.0.1:0",
            "--data-dir",
            "/etc/hostname/tollgate",
        ])
        .env_remove("DATABASE_URL")
        .output()
        .expect("run tollgate");
    let (code, stderr) = (
        output.status.code(),
        String::from_utf8_lossy(&output.stderr).trim().to_string(),
    );
    assert_eq!(code, Some(1));
    assert!(
        stderr.starts_with("tollgate: cannot create the data directory /etc/hostname/tollgate:"),
        "{stderr}"
    );
    assert!(
        stderr.ends_with("set TOLLGATE_DATA_DIR to a writable folder"),
        "{stderr}"
    );

    let bad = temp_dir("badfile").join("bad.yaml");
    std::fs::write(
        &bad,
        "name: bad\njobs:\n  - id: a\n    run: echo\n    depends_on: [a]\n",
    )
    .expect("write");
    let bad = bad.to_str().expect("utf-8 path");
    let (code, stderr) = failed_start(&["--pipeline", bad], None);
    assert_eq!(code, Some(1));
    assert!(
        stderr.starts_with(&format!("tollgate: {bad}: the pipeline has 1 problem:")),
        "{stderr}"
    );
    assert!(stderr.contains("job `a` depends on itself"), "{stderr}");
}

#[tokio::test]
async fn readiness_says_the_schema_is_in_place() {
    let server = start_with_sample("ready");
    let (status, body) = server.get("/readyz").await;
    assert_eq!(status, 200, "{body}");
    let body: serde_json::Value = serde_json::from_str(&body).expect("JSON");
    assert_eq!(body["status"], "ready", "{body}");
    let sandbox = body["sandbox"].as_str().unwrap_or_default();
    assert!(
        sandbox.starts_with("landlock abi ") || sandbox.starts_with("unavailable: "),
        "{body}"
    );

    // The newest migration's record goes, as if the file came from an older build: the
    // server must say it is not ready (and why), while it is still alive.
    use sqlx::Connection;
    let file = server.data_dir.join("tollgate.db");
    let options = sqlx::sqlite::SqliteConnectOptions::new().filename(&file);
    let mut database = sqlx::SqliteConnection::connect_with(&options)
        .await
        .expect("open the server's SQLite file");
    let versions: Vec<i64> =
        sqlx::query_scalar("select version from _sqlx_migrations order by version")
            .fetch_all(&mut database)
            .await
            .expect("read the applied migrations");
    assert!(versions.len() >= 2, "{versions:?}");
    let newest = versions[versions.len() - 1];
    let before = versions[versions.len() - 2];
    sqlx::query("delete from _sqlx_migrations where version = ?")
        .bind(newest)
        .execute(&mut database)
        .await
        .expect("remove the newest migration's row");
    database.close().await.expect("close");

    let (status, body) = server.get("/readyz").await;
    assert_eq!(status, 503, "{body}");
    let body: serde_json::Value = serde_json::from_str(&body).expect("JSON");
    assert_eq!(body["status"], "not ready", "{body}");
    assert_eq!(
        body["error"],
        format!(
            "stored data is unreadable: the database schema is at migration {before}, \
             this server needs {newest}"
        ),
        "{body}"
    );
    let (status, body) = server.get("/healthz").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body, r#"{"status":"ok","store":"ok"}"#);
}

#[test]
fn a_second_server_on_the_same_sqlite_file_is_refused() {
    let dir = temp_dir("twice");
    let _first = ServerProcess::start(&dir, &[], None);
    let output = tollgate(&dir, &[]).output().expect("run a second tollgate");
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.starts_with(
            "tollgate: another Tollgate server is already using the SQLite database in"
        ),
        "{stderr}"
    );
}

#[test]
fn json_logs_are_one_object_per_line() {
    let dir = temp_dir("json");
    let mut child = tollgate(&dir, &["--log-format", "json"])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("start");
    let stdout = child.stdout.take().expect("stdout");
    let (sender, receiver) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in std::io::BufRead::lines(std::io::BufReader::new(stdout)) {
            let Ok(line) = line else { break };
            if sender.send(line).is_err() {
                break;
            }
        }
    });
    // Everything it writes, from its start to its stop on SIGTERM.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let mut lines: Vec<String> = Vec::new();
    while !lines
        .iter()
        .any(|line| line.contains("listening on http://"))
    {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        match receiver.recv_timeout(left) {
            Ok(line) => lines.push(line),
            Err(error) => {
                let _ = child.kill();
                let _ = child.wait();
                panic!("the server did not say it listens within 30 s ({error}): {lines:#?}");
            }
        }
    }
    // Once it answers, its signal handler is in place: SIGTERM stops it cleanly (and
    // the lines it writes while stopping are checked too).
    let listening = lines.last().expect("the listening line").clone();
    let address = listening
        [listening.find("listening on http://").expect("address") + "listening on http://".len()..]
        .split(|c: char| c == '"' || c.is_whitespace())
        .next()
        .unwrap_or_default()
        .to_string();
    let mut health = std::net::TcpStream::connect(&address).expect("connect");
    std::io::Write::write_all(
        &mut health,
        format!("GET /healthz HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n").as_bytes(),
    )
    .expect("request");
    let mut answer = String::new();
    std::io::Read::read_to_string(&mut health, &mut answer).expect("answer");
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    // SAFETY: kill(2) on our own child's pid; no memory is touched.
    unsafe {
        libc::kill(i32::try_from(child.id()).expect("pid"), libc::SIGTERM);
    }
    loop {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        match receiver.recv_timeout(left) {
            Ok(line) => lines.push(line),
            Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => break,
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
                let _ = child.kill();
                panic!("the server did not close its output within 30 s of SIGTERM: {lines:#?}");
            }
        }
    }
    let status = child.wait().expect("wait");
    assert!(status.success(), "{status}: {lines:#?}");
    let mut messages = Vec::new();
    for line in &lines {
        let parsed: serde_json::Value = serde_json::from_str(line)
            .unwrap_or_else(|error| panic!("not a JSON log line ({error}): {line}"));
        assert!(parsed.is_object(), "{line}");
        assert!(parsed["timestamp"].is_string(), "{line}");
        assert!(parsed["level"].is_string(), "{line}");
        assert!(parsed["target"].is_string(), "{line}");
        let message = parsed["fields"]["message"].as_str();
        assert!(message.is_some(), "{line}");
        messages.extend(message.map(str::to_string));
    }
    assert!(messages.iter().any(|m| m == "shutting down"), "{lines:#?}");
    assert_eq!(
        messages.last().map(String::as_str),
        Some("stopped"),
        "{lines:#?}"
    );
}

/// Every save is a version with who and when; any version can be read, two compared,
/// and a run says which version it ran (or that it was a spec given whole) and the
/// spec's SHA-256. A restart with the same `--pipeline` file adds no version.
#[tokio::test]
async fn pipelines_keep_their_versions_and_runs_say_which_they_ran() {
    let dir = temp_dir("http-versions");
    let server = ServerProcess::start(&dir, &[], None);
    let save = |spec: &'static str| {
        let server = &server;
        async move {
            let (status, saved) = server
                .post_as("ana", "/api/save_pipeline", json!({"spec": spec}))
                .await;
            assert_eq!(status, 200, "{saved}");
            saved
        }
    };
    let first = save("name: nightly\njobs:\n  - {id: a, run: 'echo one'}\n").await;
    assert_eq!(first["version"], 1);
    let second = save("name: nightly\njobs:\n  - {id: a, run: 'echo two'}\n").await;
    assert_eq!(second["version"], 2);

    let (status, history) = server
        .post("/api/pipeline_history", json!({"name": "nightly"}))
        .await;
    assert_eq!(status, 200, "{history}");
    let versions: Vec<(i64, &str)> = history
        .as_array()
        .expect("versions")
        .iter()
        .map(|v| {
            (
                v["version"].as_i64().unwrap_or(0),
                v["saved_by"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert_eq!(versions, [(2, "ana"), (1, "ana")]);
    assert_eq!(history[0]["spec_sha256"].as_str().map(str::len), Some(64));

    let (_, old) = server
        .post(
            "/api/get_pipeline",
            json!({"name": "nightly", "version": 1}),
        )
        .await;
    assert_eq!(old["pipeline"]["jobs"][0]["run"], "echo one", "{old}");
    let (status, missing) = server
        .post(
            "/api/get_pipeline",
            json!({"name": "nightly", "version": 9}),
        )
        .await;
    assert_eq!(status, 404, "{missing}");
    assert_eq!(
        missing["message"],
        "pipeline `nightly` has no version 9: its versions are 1 to 2"
    );
    let (status, diff) = server
        .post(
            "/api/pipeline_diff",
            json!({"name": "nightly", "from": 1, "to": 2}),
        )
        .await;
    assert_eq!(status, 200, "{diff}");
    let changed: Vec<String> = diff
        .as_array()
        .expect("lines")
        .iter()
        .filter(|line| line["change"] != " ")
        .map(|line| {
            format!(
                "{}{}",
                line["change"].as_str().unwrap_or(""),
                line["text"].as_str().unwrap_or("")
            )
        })
        .collect();
    assert_eq!(changed, ["-    run: echo one", "+    run: echo two"]);

    // The trail says who saved which version.
    let (_, trail) = server.post("/api/audit_trail", json!({})).await;
    assert!(
        trail
            .as_array()
            .expect("events")
            .iter()
            .any(|e| e["kind"] == "pipeline_saved"
                && e["actor"] == "ana"
                && e["detail"]
                    .as_str()
                    .is_some_and(|d| d.starts_with("version 2 of `nightly` (sha256 "))),
        "{trail:#}"
    );

    // A run of a saved version says so; a spec given whole is ad hoc; both carry the
    // spec's digest, equal for equal specs.
    let (_, by_name) = server
        .post("/api/deploy_pipeline", json!({"name": "nightly"}))
        .await;
    let (_, ad_hoc) = server
        .post(
            "/api/deploy_pipeline",
            json!({"spec": "name: nightly\njobs:\n  - {id: a, run: 'echo two'}\n"}),
        )
        .await;
    let source = |run: &serde_json::Value| {
        let server = &server;
        let run = run["run_id"].as_i64().expect("run id");
        async move {
            let (_, detail) = server.post("/api/get_run", json!({"run_id": run})).await;
            detail["source"].clone()
        }
    };
    let named = source(&by_name).await;
    let given = source(&ad_hoc).await;
    assert_eq!(named["pipeline_version"], 2, "{named}");
    assert_eq!(
        given["pipeline_version"],
        serde_json::Value::Null,
        "{given}"
    );
    assert_eq!(named["spec_sha256"], given["spec_sha256"]);
    assert_eq!(named["spec_sha256"], history[0]["spec_sha256"]);
    drop(server);

    // A `--pipeline` file saved again unchanged at each start is one version.
    let file = sample_pipeline();
    let file = file.to_str().expect("path");
    for _ in 0..2 {
        let server = ServerProcess::start(&dir, &["--pipeline", file], None);
        let (_, history) = server
            .post("/api/pipeline_history", json!({"name": "review-workflow"}))
            .await;
        assert_eq!(history.as_array().map(Vec::len), Some(1), "{history}");
        assert_eq!(history[0]["saved_by"], serde_json::Value::Null);
    }
}
