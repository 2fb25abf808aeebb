//! Sign-in and access control through the real binary: what needs a session or a
//! token, what a cross-site page or a foreign host name gets, sessions and tokens
//! ending, the roles and each gate's rules (approvers, two approvals, the deployer),
//! the trusted proxy header, and the audit trail. Every refusal is checked for what a
//! person sees (status and message) and for having changed nothing.

mod common;

use std::collections::BTreeSet;

use common::process::{ADMIN_PASSWORD, ServerProcess, tollgate};
use common::runs::{job, log, run, wait_for_status, wait_until};
use common::temp_dir;
use serde_json::{Value, json};

/// The message of a failed sign-in, whatever was wrong.
const WRONG_CREDENTIALS: &str = "wrong username or password (or the account is disabled)";

/// A pipeline with one quick job and nothing to wait for.
const TINY: &str = "
name: tiny
jobs:
  - id: a
    run: echo a
";

// ---------------------------------------------------------------------------------
// Requests with exactly the headers a test chooses.

/// POSTs `body` as JSON to `path` with only `headers` for credentials and origin.
async fn post_with(
    server: &ServerProcess,
    path: &str,
    body: Value,
    headers: &[(&str, &str)],
) -> (u16, Value) {
    let mut request = reqwest::Client::new()
        .post(format!("{}{path}", server.base_url))
        .json(&body);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    answer(request.send().await.expect("request")).await
}

/// GETs `path` with only `headers`.
async fn get_with(server: &ServerProcess, path: &str, headers: &[(&str, &str)]) -> (u16, Value) {
    let mut request = reqwest::Client::new().get(format!("{}{path}", server.base_url));
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    answer(request.send().await.expect("request")).await
}

/// The status and the body, as JSON when it is JSON, else as a string.
async fn answer(response: reqwest::Response) -> (u16, Value) {
    let status = response.status().as_u16();
    let text = response.text().await.expect("body");
    let json = serde_json::from_str(&text).unwrap_or(Value::String(text));
    (status, json)
}

fn cookie(value: &str) -> [(&str, &str); 1] {
    [("cookie", value)]
}

fn bearer(token: &str) -> String {
    format!("Bearer {token}")
}

fn message(body: &Value) -> &str {
    body["message"].as_str().unwrap_or_default()
}

// ---------------------------------------------------------------------------------
// People, runs and gates.

/// Creates `user` with `roles` (as admin) and returns their session cookie.
async fn user_with_roles(server: &ServerProcess, user: &str, roles: &[&str]) -> String {
    let password = format!("password-of-{user}");
    let (status, created) = server
        .post(
            "/api/create_user",
            json!({"username": user, "password": password, "roles": roles}),
        )
        .await;
    assert_eq!(status, 200, "{created}");
    server.sign_in(user, &password).await.expect("sign in")
}

/// Creates an API token named `name` for the holder of `session`; returns the secret
/// and the token's id.
async fn token(server: &ServerProcess, session: &str, name: &str) -> (String, i64) {
    let (status, created) = post_with(
        server,
        "/api/create_token",
        json!({"name": name}),
        &cookie(session),
    )
    .await;
    assert_eq!(status, 200, "{created}");
    let secret = created["token"].as_str().expect("token").to_string();
    let id = created["id"].as_i64().expect("id");
    (secret, id)
}

async fn deploy_as(server: &ServerProcess, user: &str, yaml: &str) -> i64 {
    let (status, deployed) = server
        .post_as(user, "/api/deploy_pipeline", json!({"spec": yaml}))
        .await;
    assert_eq!(status, 200, "{deployed}");
    deployed["run_id"].as_i64().expect("run id")
}

async fn runs(server: &ServerProcess) -> Vec<Value> {
    let (status, list) = server.post("/api/list_runs", json!({})).await;
    assert_eq!(status, 200, "{list}");
    list.as_array().cloned().unwrap_or_default()
}

async fn decide(
    server: &ServerProcess,
    user: &str,
    id: i64,
    gate: &str,
    extra: Value,
) -> (u16, Value) {
    let mut body = json!({"run_id": id, "gate": gate, "decision": "approve"});
    if let (Some(body), Some(extra)) = (body.as_object_mut(), extra.as_object()) {
        body.extend(extra.clone());
    }
    server.post_as(user, "/api/decide_gate", body).await
}

/// The run's waiting gates as `user` sees them.
async fn pending_as(server: &ServerProcess, user: &str, id: i64) -> Vec<Value> {
    let (status, pending) = server
        .post_as(user, "/api/pending_gates", json!({"run_id": id}))
        .await;
    assert_eq!(status, 200, "{pending}");
    pending.as_array().cloned().unwrap_or_default()
}

/// A gate in front of `train`, with `rules` (YAML flow mapping entries) added.
fn gated(rules: &str) -> String {
    format!(
        "
name: gated
jobs:
  - id: prep
    run: echo prepared
    gate: {{message: check, timeout: 300{rules}}}
  - id: train
    run: echo trained
    depends_on: [prep]
"
    )
}

const GATE: &str = "hitl-gate-prep";

// ---------------------------------------------------------------------------------
// 1. Nothing but the probes, sign-in and the static client answers anonymously.

/// Every API endpoint but `login`, by its `endpoint = "..."` attribute.
const SIGNED_IN_ENDPOINTS: [&str; 32] = [
    "audit_trail",
    "cancel_job",
    "cancel_run",
    "create_token",
    "create_user",
    "decide_gate",
    "delete_environment",
    "deploy_pipeline",
    "get_pipeline",
    "get_run",
    "job_log",
    "list_environments",
    "list_files",
    "list_pipelines",
    "list_runs",
    "list_tokens",
    "list_users",
    "load_draft",
    "logout",
    "notifications",
    "parse_pipeline",
    "pending_gates",
    "pipeline_diff",
    "pipeline_history",
    "revoke_token",
    "run_statuses",
    "save_draft",
    "save_environment",
    "save_pipeline",
    "set_password",
    "update_user",
    "whoami",
];

/// The endpoints declared in `app/src/api/*.rs`, so a new one missing from the table
/// above fails the test.
fn declared_endpoints() -> BTreeSet<String> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../app/src/api");
    let mut found = BTreeSet::new();
    for entry in std::fs::read_dir(&dir).expect("app/src/api") {
        let path = entry.expect("entry").path();
        if path.extension().is_none_or(|ext| ext != "rs") {
            continue;
        }
        let text = std::fs::read_to_string(&path).expect("read");
        for piece in text.split("endpoint = \"").skip(1) {
            if let Some((name, _)) = piece.split_once('"') {
                found.insert(name.to_string());
            }
        }
    }
    found
}

#[tokio::test]
async fn every_endpoint_needs_sign_in() {
    let mut declared = declared_endpoints();
    assert!(declared.remove("login"), "login is declared: {declared:?}");
    let listed: BTreeSet<String> = SIGNED_IN_ENDPOINTS.iter().map(|e| e.to_string()).collect();
    assert_eq!(
        listed, declared,
        "the table of endpoints must match the `endpoint = \"...\"` attributes"
    );

    let dist = temp_dir("access-dist");
    std::fs::write(dist.join("index.html"), "<html>tollgate client</html>").expect("index");
    let dist = dist.to_str().expect("utf-8 path").to_string();
    let server = ServerProcess::start(&temp_dir("access-anon"), &["--dist", &dist], None);

    for endpoint in SIGNED_IN_ENDPOINTS {
        let (status, body) = server
            .post_anonymous(&format!("/api/{endpoint}"), json!({}))
            .await;
        assert_eq!(status, 401, "{endpoint}: {body}");
        assert_eq!(body["error"], "unauthorized", "{endpoint}: {body}");
    }
    for path in ["/files/1/x", "/logs/1/x", "/metrics", "/api/list_runs"] {
        let (status, body) = get_with(&server, path, &[]).await;
        assert_eq!(status, 401, "GET {path}: {body}");
        assert_eq!(body["error"], "unauthorized", "GET {path}: {body}");
    }
    let (status, body) = server
        .post_anonymous("/api/no_such_endpoint", json!({}))
        .await;
    assert_eq!(
        (status, &body["error"]),
        (401, &json!("unauthorized")),
        "an unknown endpoint says nothing before sign-in: {body}"
    );

    let (status, body) = get_with(&server, "/healthz", &[]).await;
    assert_eq!(
        (status, body),
        (200, json!({"status": "ok", "store": "ok"}))
    );
    let (status, body) = get_with(&server, "/readyz", &[]).await;
    assert_eq!((status, &body["status"]), (200, &json!("ready")), "{body}");
    for page in ["/", "/runs/42"] {
        let (status, body) = get_with(&server, page, &[]).await;
        assert_eq!(
            (status, body),
            (200, json!("<html>tollgate client</html>")),
            "the client (no data in it) is served at {page}"
        );
    }

    let (status, body) = server
        .post_anonymous(
            "/api/login",
            json!({"username": "admin", "password": ADMIN_PASSWORD}),
        )
        .await;
    assert_eq!(status, 200, "sign-in is open: {body}");
    assert_eq!(body["username"], "admin");
}

// ---------------------------------------------------------------------------------
// 2, 3. Requests a page on another site could make.

#[tokio::test]
async fn a_text_plain_post_is_refused_and_changes_nothing() {
    let server = ServerProcess::start(&temp_dir("access-plain"), &[], None);
    let session = server.session("admin").await;
    let body = json!({"spec": TINY}).to_string();
    let response = reqwest::Client::new()
        .post(format!("{}/api/deploy_pipeline", server.base_url))
        .header("cookie", &session)
        .header("content-type", "text/plain")
        .body(body.clone())
        .send()
        .await
        .expect("request");
    let (status, refused) = answer(response).await;
    assert_eq!(status, 415, "{refused}");
    assert_eq!(refused["error"], "unsupported_media_type");
    assert!(message(&refused).contains("application/json"), "{refused}");

    for content_type in ["application/x-www-form-urlencoded", "multipart/form-data"] {
        let response = reqwest::Client::new()
            .post(format!("{}/api/deploy_pipeline", server.base_url))
            .header("cookie", &session)
            .header("content-type", content_type)
            .body(body.clone())
            .send()
            .await
            .expect("request");
        assert_eq!(response.status().as_u16(), 415, "{content_type}");
    }
    let response = reqwest::Client::new()
        .post(format!("{}/api/deploy_pipeline", server.base_url))
        .header("cookie", &session)
        .body(body)
        .send()
        .await
        .expect("request");
    assert_eq!(response.status().as_u16(), 415, "no content type");

    assert_eq!(
        runs(&server).await,
        Vec::<Value>::new(),
        "no run was created"
    );
}

#[tokio::test]
async fn a_cross_site_cookie_request_is_refused_and_changes_nothing() {
    let server = ServerProcess::start(&temp_dir("access-csrf"), &[], None);
    let session = server.session("admin").await;
    let deploy = json!({"spec": TINY});

    let (status, refused) = post_with(
        &server,
        "/api/deploy_pipeline",
        deploy.clone(),
        &[("cookie", &session), ("origin", "http://evil.example")],
    )
    .await;
    assert_eq!(status, 403, "{refused}");
    assert_eq!(refused["error"], "forbidden");
    assert!(
        message(&refused).contains("http://evil.example"),
        "{refused}"
    );

    let (status, refused) = post_with(
        &server,
        "/api/deploy_pipeline",
        deploy.clone(),
        &[("cookie", &session), ("sec-fetch-site", "cross-site")],
    )
    .await;
    assert_eq!(status, 403, "{refused}");
    assert!(message(&refused).contains("cross-site"), "{refused}");

    let (status, refused) = post_with(
        &server,
        "/api/deploy_pipeline",
        deploy.clone(),
        &[("cookie", &session), ("sec-fetch-site", "same-site")],
    )
    .await;
    assert_eq!(
        status, 403,
        "a sibling subdomain is another page: {refused}"
    );

    let (status, refused) = post_with(
        &server,
        "/api/login",
        json!({"username": "admin", "password": ADMIN_PASSWORD}),
        &[("origin", "http://evil.example")],
    )
    .await;
    assert_eq!(status, 403, "no sign-in from another site: {refused}");

    assert_eq!(
        runs(&server).await,
        Vec::<Value>::new(),
        "no run was created"
    );

    let (secret, _) = token(&server, &session, "ci").await;
    let (status, deployed) = post_with(
        &server,
        "/api/deploy_pipeline",
        deploy.clone(),
        &[
            ("authorization", &bearer(&secret)),
            ("origin", "http://evil.example"),
            ("sec-fetch-site", "cross-site"),
        ],
    )
    .await;
    assert_eq!(status, 200, "a token is not ambient: {deployed}");

    let own = server.base_url.clone();
    let (status, deployed) = post_with(
        &server,
        "/api/deploy_pipeline",
        deploy,
        &[
            ("cookie", &session),
            ("origin", &own),
            ("sec-fetch-site", "same-origin"),
        ],
    )
    .await;
    assert_eq!(status, 200, "Tollgate's own page: {deployed}");
    assert_eq!(runs(&server).await.len(), 2);
}

// ---------------------------------------------------------------------------------
// 4. DNS rebinding.

#[tokio::test]
async fn a_foreign_host_is_refused() {
    let server = ServerProcess::start(&temp_dir("access-host"), &[], None);
    let login = json!({"username": "admin", "password": ADMIN_PASSWORD}).to_string();
    let json_body = [("Content-Type", "application/json")];
    let address = server.base_url.trim_start_matches("http://").to_string();

    let (status, body) =
        server.raw_request("POST", "/api/login", "evil.example", &json_body, &login);
    assert_eq!(status, 403, "{body}");
    let refused: Value = serde_json::from_str(&body).expect("json");
    assert_eq!(refused["error"], "forbidden");
    assert!(message(&refused).contains("evil.example"), "{refused}");
    let (status, _) = server.raw_request("GET", "/", "evil.example:80", &[], "");
    assert_eq!(status, 403, "nor the client");

    for host in [address.as_str(), "localhost"] {
        let (status, body) = server.raw_request("POST", "/api/login", host, &json_body, &login);
        assert_eq!(status, 200, "Host {host}: {body}");
    }
    drop(server);

    let server = ServerProcess::start(
        &temp_dir("access-public"),
        &["--public-url", "http://tollgate.test"],
        None,
    );
    let (status, body) =
        server.raw_request("POST", "/api/login", "tollgate.test", &json_body, &login);
    assert_eq!(status, 200, "its public name: {body}");
    let (status, body) = server.raw_request(
        "POST",
        "/api/login",
        &address_of(&server),
        &json_body,
        &login,
    );
    assert_eq!(status, 403, "not its loopback address: {body}");
    assert!(body.contains("tollgate.test"), "{body}");
    let (status, body) = server.raw_request("GET", "/healthz", &address_of(&server), &[], "");
    assert_eq!(status, 200, "probes still answer: {body}");
    let (status, _) = server.raw_request("GET", "/readyz", &address_of(&server), &[], "");
    assert_eq!(status, 200);
    let (status, body) = server.raw_request(
        "POST",
        "/api/login",
        "tollgate.test",
        &[
            ("Content-Type", "application/json"),
            ("Origin", "http://127.0.0.1"),
        ],
        &login,
    );
    assert_eq!(
        status, 403,
        "only the public origin is its own page: {body}"
    );
    let (status, body) = server.raw_request(
        "POST",
        "/api/login",
        "tollgate.test",
        &[
            ("Content-Type", "application/json"),
            ("Origin", "http://tollgate.test"),
        ],
        &login,
    );
    assert_eq!(status, 200, "{body}");
}

/// Over https the session cookie carries the `__Host-` prefix (so the browser insists
/// on `Secure`, `Path=/` and no `Domain`), and only that name is read.
#[tokio::test]
async fn over_https_the_session_cookie_is_a_host_cookie() {
    let server = ServerProcess::start(
        &temp_dir("access-host-cookie"),
        &["--public-url", "https://tollgate.test"],
        None,
    );
    let client = reqwest::Client::new();
    let login = client
        .post(format!("{}/api/login", server.base_url))
        .header("host", "tollgate.test")
        .json(&json!({"username": "admin", "password": ADMIN_PASSWORD}))
        .send()
        .await
        .expect("login");
    assert_eq!(login.status(), 200);
    let set_cookie = login
        .headers()
        .get("set-cookie")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    assert!(
        set_cookie.starts_with("__Host-tollgate_session=")
            && set_cookie.contains("Secure")
            && set_cookie.contains("Path=/")
            && !set_cookie.contains("Domain"),
        "{set_cookie}"
    );
    let value = set_cookie
        .split(';')
        .next()
        .and_then(|pair| pair.split_once('='))
        .map(|(_, value)| value.to_string())
        .unwrap_or_default();
    let whoami = |cookie: String| {
        let request = client
            .post(format!("{}/api/whoami", server.base_url))
            .header("host", "tollgate.test")
            .header("cookie", cookie)
            .json(&json!({}));
        async move { request.send().await.expect("whoami").status().as_u16() }
    };
    assert_eq!(
        whoami(format!("__Host-tollgate_session={value}")).await,
        200
    );
    assert_eq!(
        whoami(format!("tollgate_session={value}")).await,
        401,
        "the unprefixed name is not read over https"
    );
}

fn address_of(server: &ServerProcess) -> String {
    server.base_url.trim_start_matches("http://").to_string()
}

// ---------------------------------------------------------------------------------
// 5, 6. Sessions and tokens.

#[tokio::test]
async fn sign_in_sessions_and_sign_out() {
    let server = ServerProcess::start(&temp_dir("access-sessions"), &[], None);

    let (status, wrong) = server
        .sign_in("admin", "not-the-password")
        .await
        .expect_err("wrong password");
    assert_eq!(status, 401, "{wrong}");
    assert_eq!(message(&wrong), WRONG_CREDENTIALS);
    let (status, unknown) = server
        .sign_in("nobody", "not-the-password")
        .await
        .expect_err("unknown user");
    assert_eq!(status, 401, "{unknown}");
    assert_eq!(unknown, wrong, "an unknown name gets the same answer");

    user_with_roles(&server, "lou", &["viewer"]).await;
    for attempt in 1..=5 {
        let (status, body) = server
            .sign_in("lou", "guessing-wrong")
            .await
            .expect_err("wrong password");
        assert_eq!(status, 401, "attempt {attempt}: {body}");
    }
    let (status, locked) = server
        .sign_in("lou", "password-of-lou")
        .await
        .expect_err("locked even with the right password");
    assert_eq!(status, 429, "{locked}");
    assert_eq!(locked["error"], "too_many_requests");
    assert!(
        locked["retry_after_secs"].as_u64().is_some_and(|s| s > 0),
        "{locked}"
    );
    server
        .sign_in("admin", ADMIN_PASSWORD)
        .await
        .expect("others still sign in");

    // A session works until it is signed out.
    let session = user_with_roles(&server, "sue", &["viewer"]).await;
    let (status, me) = post_with(&server, "/api/whoami", json!({}), &cookie(&session)).await;
    assert_eq!((status, &me["username"]), (200, &json!("sue")), "{me}");
    let (status, out) = post_with(&server, "/api/logout", json!({}), &cookie(&session)).await;
    assert_eq!(status, 200, "{out}");
    let (status, after) = post_with(&server, "/api/whoami", json!({}), &cookie(&session)).await;
    assert_eq!(status, 401, "the same cookie after sign-out: {after}");
    assert_eq!(after["error"], "unauthorized");

    // A new password ends the sessions opened with the old one.
    let session = server
        .sign_in("sue", "password-of-sue")
        .await
        .expect("sign in again");
    let other = server
        .sign_in("sue", "password-of-sue")
        .await
        .expect("a second browser");
    let (status, changed) = server
        .post(
            "/api/set_password",
            json!({"username": "sue", "password": "a-brand-new-one"}),
        )
        .await;
    assert_eq!(status, 200, "{changed}");
    for old in [&session, &other] {
        let (status, body) = post_with(&server, "/api/whoami", json!({}), &cookie(old)).await;
        assert_eq!(status, 401, "a session from before the change: {body}");
    }
    let (status, _) = server
        .sign_in("sue", "password-of-sue")
        .await
        .expect_err("the old password");
    assert_eq!(status, 401);
    server
        .sign_in("sue", "a-brand-new-one")
        .await
        .expect("the new password");

    // A disabled account: no sign-in, its session and token stop working.
    let session = user_with_roles(&server, "dee", &["operator"]).await;
    let (secret, _) = token(&server, &session, "laptop").await;
    let token_header = bearer(&secret);
    let (status, _) = post_with(
        &server,
        "/api/whoami",
        json!({}),
        &[("authorization", &token_header)],
    )
    .await;
    assert_eq!(status, 200);
    let (status, disabled) = server
        .post(
            "/api/update_user",
            json!({"username": "dee", "disabled": true}),
        )
        .await;
    assert_eq!(
        (status, &disabled["disabled"]),
        (200, &json!(true)),
        "{disabled}"
    );
    let (status, refused) = server
        .sign_in("dee", "password-of-dee")
        .await
        .expect_err("disabled");
    assert_eq!(status, 401, "{refused}");
    assert_eq!(message(&refused), WRONG_CREDENTIALS);
    let (status, body) = post_with(&server, "/api/whoami", json!({}), &cookie(&session)).await;
    assert_eq!(status, 401, "the disabled user's session: {body}");
    let (status, body) = post_with(
        &server,
        "/api/deploy_pipeline",
        json!({"spec": TINY}),
        &[("authorization", &token_header)],
    )
    .await;
    assert_eq!(status, 401, "the disabled user's token: {body}");
    assert_eq!(runs(&server).await, Vec::<Value>::new());
    // Enabled again: a new sign-in works, the old token stays dead.
    let (status, enabled) = server
        .post(
            "/api/update_user",
            json!({"username": "dee", "disabled": false}),
        )
        .await;
    assert_eq!(status, 200, "{enabled}");
    server
        .sign_in("dee", "password-of-dee")
        .await
        .expect("enabled again");
    let (status, body) = post_with(
        &server,
        "/api/whoami",
        json!({}),
        &[("authorization", &token_header)],
    )
    .await;
    assert_eq!(status, 401, "a token from before the disable: {body}");
}

#[tokio::test]
async fn a_burst_of_guesses_gets_no_more_tries_than_one_by_one() {
    let server = std::sync::Arc::new(ServerProcess::start(&temp_dir("access-burst"), &[], None));
    user_with_roles(&server, "max", &["viewer"]).await;
    let mut tasks = Vec::new();
    for n in 0..15 {
        let server = server.clone();
        tasks.push(tokio::spawn(async move {
            server
                .sign_in("max", &format!("guess-number-{n}"))
                .await
                .expect_err("a wrong guess")
        }));
    }
    let mut statuses = Vec::new();
    for task in tasks {
        statuses.push(task.await.expect("task").0);
    }
    statuses.sort_unstable();
    let checked = statuses.iter().filter(|s| **s == 401).count();
    let refused = statuses.iter().filter(|s| **s == 429).count();
    assert_eq!(
        (checked, refused),
        (5, 10),
        "five guesses are checked, the rest refused unseen: {statuses:?}"
    );
    let (status, _) = server
        .sign_in("max", "password-of-max")
        .await
        .expect_err("locked");
    assert_eq!(status, 429);
}

/// Signs `user` in from the loopback address `from` (any 127.x.y.z reaches the server);
/// returns the status.
async fn sign_in_from(server: &ServerProcess, from: &str, user: &str, password: &str) -> u16 {
    let client = reqwest::Client::builder()
        .local_address(from.parse::<std::net::IpAddr>().expect("an address"))
        .build()
        .expect("client");
    client
        .post(format!("{}/api/login", server.base_url))
        .json(&json!({"username": user, "password": password}))
        .send()
        .await
        .expect("login")
        .status()
        .as_u16()
}

#[tokio::test]
async fn a_strangers_guesses_do_not_lock_the_owner_out_and_long_names_are_refused() {
    let server = ServerProcess::start(&temp_dir("access-guessers"), &[], None);
    user_with_roles(&server, "ida", &["viewer"]).await;
    for attempt in 1..=5 {
        let status = sign_in_from(&server, "127.0.0.2", "ida", "guessing-wrong").await;
        assert_eq!(status, 401, "attempt {attempt}");
    }
    let status = sign_in_from(&server, "127.0.0.2", "ida", "password-of-ida").await;
    assert_eq!(status, 429, "the guesser's address is stopped");
    let status = sign_in_from(&server, "127.0.0.3", "ida", "password-of-ida").await;
    assert_eq!(status, 200, "the owner signs in from elsewhere");

    // A name no account can have is refused before the limiter or the trail sees it.
    let before = account_events(&server).await.len();
    let long = "x".repeat(1 << 20);
    let (status, refused) = server
        .sign_in(&long, "whatever-password")
        .await
        .expect_err("too long");
    assert_eq!(status, 400, "{refused}");
    assert_eq!(message(&refused), "a username has at most 64 characters");
    assert_eq!(account_events(&server).await.len(), before);

    // A stolen viewer token cannot guess the current password freely.
    let session = server
        .sign_in("ida", "password-of-ida")
        .await
        .expect("sign in");
    let (secret, _) = token(&server, &session, "stolen").await;
    let stolen = bearer(&secret);
    let guess = |current: &'static str| {
        let server = &server;
        let stolen = stolen.clone();
        async move {
            post_with(
                server,
                "/api/set_password",
                json!({"username": "ida", "current": current, "password": "taken-over-now"}),
                &[("authorization", &stolen)],
            )
            .await
        }
    };
    for attempt in 1..=5 {
        let (status, body) = guess("wrong-current").await;
        assert_eq!(status, 403, "attempt {attempt}: {body}");
    }
    let (status, body) = guess("password-of-ida").await;
    assert_eq!(status, 429, "{body}");
    assert!(
        message(&body).contains("too many wrong passwords for `ida`"),
        "{body}"
    );
    let events = account_events(&server).await;
    let failed = events
        .iter()
        .filter(|e| e["kind"] == "password_check_failed" && e["actor"] == "ida")
        .count();
    assert_eq!(failed, 5, "{events:#?}");
    // Counted with sign-ins at that address; from another, the password is unchanged.
    let (status, _) = server
        .sign_in("ida", "password-of-ida")
        .await
        .expect_err("the same address is locked");
    assert_eq!(status, 429);
    let status = sign_in_from(&server, "127.0.0.4", "ida", "password-of-ida").await;
    assert_eq!(status, 200, "the password did not change");

    // A password change ends the account's tokens with its sessions.
    let (status, changed) = server
        .post(
            "/api/set_password",
            json!({"username": "ida", "password": "a-brand-new-one"}),
        )
        .await;
    assert_eq!(status, 200, "{changed}");
    let (status, body) = post_with(
        &server,
        "/api/whoami",
        json!({}),
        &[("authorization", &stolen)],
    )
    .await;
    assert_eq!(status, 401, "a token from before the change: {body}");
    find(
        &account_events(&server).await,
        "password_changed",
        "its sessions and tokens ended",
    );
}

#[tokio::test]
async fn tokens_act_as_their_user_and_can_be_revoked() {
    let server = ServerProcess::start(&temp_dir("access-tokens"), &[], None);
    let session = user_with_roles(&server, "vic", &["viewer"]).await;
    let (secret, id) = token(&server, &session, "ci").await;
    assert!(secret.starts_with("tg_"), "{secret}");
    let auth = bearer(&secret);
    let with_token = [("authorization", auth.as_str())];

    let (status, me) = post_with(&server, "/api/whoami", json!({}), &with_token).await;
    assert_eq!(status, 200, "{me}");
    assert_eq!(me["username"], "vic");
    assert_eq!(me["roles"], json!(["viewer"]));
    for read in [
        "/api/list_runs",
        "/api/list_pipelines",
        "/api/pending_gates",
    ] {
        let (status, body) = post_with(&server, read, json!({}), &with_token).await;
        assert_eq!(status, 200, "{read}: {body}");
    }
    let (status, refused) = post_with(
        &server,
        "/api/deploy_pipeline",
        json!({"spec": TINY}),
        &with_token,
    )
    .await;
    assert_eq!(status, 403, "{refused}");
    assert_eq!(
        message(&refused),
        "deploying, cancelling and editing pipelines needs the operator role, which vic does not have; ask an admin"
    );
    assert_eq!(runs(&server).await, Vec::<Value>::new());
    for admin_only in ["/api/list_users", "/api/audit_trail", "/api/notifications"] {
        let (status, body) = post_with(&server, admin_only, json!({}), &with_token).await;
        assert_eq!(status, 403, "{admin_only}: {body}");
    }
    let (status, body) = post_with(
        &server,
        "/api/create_token",
        json!({"name": "sneaky", "username": "admin"}),
        &with_token,
    )
    .await;
    assert_eq!(status, 403, "a token for someone else: {body}");

    let (status, listed) =
        post_with(&server, "/api/list_tokens", json!({}), &cookie(&session)).await;
    assert_eq!(status, 200, "{listed}");
    let tokens = listed.as_array().expect("tokens");
    assert_eq!(tokens.len(), 1, "{listed}");
    assert_eq!(tokens[0]["id"], id);
    assert_eq!(tokens[0]["name"], "ci");
    assert_eq!(tokens[0]["username"], "vic");
    assert!(
        tokens[0]["last_used_at_ms"].as_i64().is_some(),
        "used above: {listed}"
    );
    assert_eq!(tokens[0]["revoked_at_ms"], Value::Null);
    let secret_hex = secret.trim_start_matches("tg_");
    assert!(
        !listed.to_string().contains(secret_hex),
        "the secret is never listed: {listed}"
    );
    let (_, everyone) = server.post("/api/list_tokens", json!({"all": true})).await;
    assert!(!everyone.to_string().contains(secret_hex), "{everyone}");

    // Someone else's token is as unknown as a missing one.
    let (admin_secret, admin_token) =
        token(&server, &server.session("admin").await, "admin-ci").await;
    let (status, body) = post_with(
        &server,
        "/api/revoke_token",
        json!({"id": admin_token}),
        &with_token,
    )
    .await;
    assert_eq!(status, 404, "{body}");
    let (status, _) = post_with(
        &server,
        "/api/whoami",
        json!({}),
        &[("authorization", &bearer(&admin_secret))],
    )
    .await;
    assert_eq!(status, 200, "the admin's token still works");

    let (status, revoked) =
        post_with(&server, "/api/revoke_token", json!({"id": id}), &with_token).await;
    assert_eq!(status, 200, "{revoked}");
    assert!(revoked["revoked_at_ms"].as_i64().is_some(), "{revoked}");
    let (status, after) = post_with(&server, "/api/list_runs", json!({}), &with_token).await;
    assert_eq!(status, 401, "a revoked token: {after}");
    assert_eq!(after["error"], "unauthorized");
    let (status, again) = post_with(
        &server,
        "/api/revoke_token",
        json!({"id": id}),
        &cookie(&session),
    )
    .await;
    assert_eq!(status, 409, "{again}");

    for malformed in [
        "Bearer",
        "Bearer not-a-token",
        "Basic dmljOnBhc3N3b3Jk",
        "tg_0000",
        "Bearer tg_0000000000000000000000000000000000000000000000000000000000000000",
    ] {
        let (status, body) = post_with(
            &server,
            "/api/list_runs",
            json!({}),
            &[("authorization", malformed)],
        )
        .await;
        assert_eq!(status, 401, "`{malformed}`: {body}");
        assert_eq!(body["error"], "unauthorized", "`{malformed}`");
    }
    let (status, body) = post_with(
        &server,
        "/api/list_runs",
        json!({}),
        &[
            ("authorization", "Bearer not-a-token"),
            ("cookie", &session),
        ],
    )
    .await;
    assert_eq!(
        status, 401,
        "a bad token is not rescued by a cookie: {body}"
    );
}

/// A saved pipeline's `env` values reach only those who may deploy it, and its
/// `notify` URLs (a Slack hook is a secret) only admins; an operator who saves it back
/// keeps the hidden URL, and a hidden URL in a spec of its own is refused.
#[tokio::test]
async fn env_values_and_webhook_urls_are_shown_only_to_who_may_see_them() {
    let server = ServerProcess::start(&temp_dir("access-redaction"), &[], None);
    let hook = "https://hooks.slack.com/services/T0/B0/s3cr3tpath";
    let spec = format!(
        "name: keyed\nnotify: ['{hook}']\njobs:\n  - {{id: a, run: 'true', env: {{API_KEY: key-v4lue}}}}\n"
    );
    let (status, saved) = server
        .post("/api/save_pipeline", json!({"spec": spec}))
        .await;
    assert_eq!(status, 200, "{saved}");

    let viewer = user_with_roles(&server, "vera", &["viewer"]).await;
    let operator = user_with_roles(&server, "otto", &["operator"]).await;
    let get = |session: &str| {
        let session = session.to_string();
        let server = &server;
        async move {
            let (status, body) = post_with(
                server,
                "/api/get_pipeline",
                json!({"name": "keyed"}),
                &cookie(&session),
            )
            .await;
            assert_eq!(status, 200, "{body}");
            body
        }
    };
    let seen = get(&viewer).await;
    let text = seen.to_string();
    assert!(
        !text.contains("key-v4lue") && !text.contains("s3cr3tpath"),
        "{text}"
    );
    assert_eq!(seen["pipeline"]["jobs"][0]["env"]["API_KEY"], "***");
    assert_eq!(seen["pipeline"]["notify"][0], "https://hooks.slack.com/***");

    let seen = get(&operator).await;
    assert_eq!(seen["pipeline"]["jobs"][0]["env"]["API_KEY"], "key-v4lue");
    assert_eq!(seen["pipeline"]["notify"][0], "https://hooks.slack.com/***");
    assert!(!seen.to_string().contains("s3cr3tpath"), "{seen}");

    // Saved back as shown: the hook stays whole.
    let (status, body) = post_with(
        &server,
        "/api/save_pipeline",
        json!({"spec": seen["pipeline"]}),
        &cookie(&operator),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let (_, whole) = server
        .post("/api/get_pipeline", json!({"name": "keyed"}))
        .await;
    assert_eq!(whole["pipeline"]["notify"][0], hook, "{whole}");
    assert_eq!(whole["pipeline"]["jobs"][0]["env"]["API_KEY"], "key-v4lue");

    // Deployed by name, whole; a hidden URL in a spec of its own stands for nothing.
    let (status, body) = post_with(
        &server,
        "/api/deploy_pipeline",
        json!({"name": "keyed"}),
        &cookie(&operator),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let mut stray = seen["pipeline"].clone();
    stray["name"] = json!("stray");
    for path in ["/api/deploy_pipeline", "/api/save_pipeline"] {
        let (status, body) =
            post_with(&server, path, json!({"spec": stray}), &cookie(&operator)).await;
        assert_eq!(status, 422, "{path}: {body}");
        assert!(body.to_string().contains("hidden from you"), "{body}");
    }
    let (status, body) = post_with(
        &server,
        "/api/deploy_pipeline",
        json!({"name": "keyed"}),
        &cookie(&viewer),
    )
    .await;
    assert_eq!(status, 403, "{body}");
}

// ---------------------------------------------------------------------------------
// 7-10. Who may decide a gate.

#[tokio::test]
async fn a_wrong_group_decision_is_403_and_changes_nothing() {
    let server = ServerProcess::start(&temp_dir("access-group"), &[], None);
    server.session("bob").await;
    server.session("lea").await;
    let (status, lea) = server
        .post(
            "/api/update_user",
            json!({"username": "lea", "groups": ["ml-leads"]}),
        )
        .await;
    assert_eq!(
        (status, &lea["groups"]),
        (200, &json!(["ml-leads"])),
        "{lea}"
    );

    let id = deploy_as(&server, "admin", &gated(", approvers: ['group:ml-leads']")).await;
    wait_for_status(&server, id, GATE, "RUNNING").await;

    let (status, refused) = decide(&server, "bob", id, GATE, json!({})).await;
    assert_eq!(status, 403, "{refused}");
    assert_eq!(
        message(&refused),
        "only group ml-leads may decide this gate"
    );
    let (status, refused) = decide(&server, "bob", id, GATE, json!({"decision": "reject"})).await;
    assert_eq!(status, 403, "nor reject: {refused}");
    let now = run(&server, id).await;
    assert_eq!(job(&now, GATE)["status"], "RUNNING", "{now:#}");
    assert_eq!(job(&now, GATE)["gate"]["decided_by"], Value::Null);
    assert_eq!(job(&now, "train")["status"], "PENDING");

    let pending = pending_as(&server, "bob", id).await;
    assert_eq!(pending.len(), 1, "{pending:?}");
    assert_eq!(pending[0]["approvers"], "group ml-leads");
    let access = &pending[0]["your_access"];
    assert_eq!(access["may_approve"], false, "{access}");
    assert_eq!(access["may_reject"], false, "{access}");
    assert_eq!(access["reason"], "only group ml-leads may decide this gate");
    let pending = pending_as(&server, "lea", id).await;
    assert_eq!(
        pending[0]["your_access"]["may_approve"], true,
        "{pending:?}"
    );

    let (status, approved) = decide(&server, "lea", id, GATE, json!({"comment": "fine"})).await;
    assert_eq!(status, 200, "{approved}");
    assert_eq!(approved["status"], "COMPLETED");
    assert_eq!(approved["gate"]["decided_by"], "lea");
    wait_for_status(&server, id, "train", "COMPLETED").await;
}

#[tokio::test]
async fn the_deployer_cannot_decide_their_own_run() {
    let server = ServerProcess::start(&temp_dir("access-self"), &[], None);

    let id = deploy_as(&server, "olaf", &gated("")).await;
    wait_for_status(&server, id, GATE, "RUNNING").await;
    let (status, refused) = decide(&server, "olaf", id, GATE, json!({})).await;
    assert_eq!(status, 403, "{refused}");
    assert_eq!(
        message(&refused),
        "you deployed this run; another approver must decide"
    );
    let (status, refused) = decide(
        &server,
        "olaf",
        id,
        GATE,
        json!({"override": true, "comment": "I know best"}),
    )
    .await;
    assert_eq!(status, 403, "{refused}");
    assert_eq!(
        message(&refused),
        "only an admin may override a gate's rules"
    );
    let pending = pending_as(&server, "olaf", id).await;
    assert_eq!(pending[0]["deployed_by"], "olaf");
    assert_eq!(pending[0]["your_access"]["may_approve"], false);
    assert_eq!(pending[0]["your_access"]["may_override"], false);
    assert_eq!(
        pending[0]["your_access"]["reason"],
        "you deployed this run; another approver must decide"
    );
    let now = run(&server, id).await;
    assert_eq!(job(&now, GATE)["status"], "RUNNING", "{now:#}");
    assert_eq!(job(&now, "train")["status"], "PENDING");
    let (status, approved) = decide(&server, "ann", id, GATE, json!({})).await;
    assert_eq!(status, 200, "someone else decides: {approved}");

    // An admin deployer is refused too, unless they override and say why.
    let id = deploy_as(&server, "admin", &gated("")).await;
    wait_for_status(&server, id, GATE, "RUNNING").await;
    let (status, refused) = decide(&server, "admin", id, GATE, json!({})).await;
    assert_eq!(status, 403, "{refused}");
    assert!(
        message(&refused).contains("as an admin you may override"),
        "{refused}"
    );
    for comment in [json!({}), json!({"comment": "   "})] {
        let mut body = json!({"override": true});
        if let (Some(body), Some(comment)) = (body.as_object_mut(), comment.as_object()) {
            body.extend(comment.clone());
        }
        let (status, refused) = decide(&server, "admin", id, GATE, body).await;
        assert_eq!(status, 400, "{refused}");
        assert!(message(&refused).contains("comment"), "{refused}");
    }
    assert_eq!(job(&run(&server, id).await, GATE)["status"], "RUNNING");
    let pending = pending_as(&server, "admin", id).await;
    assert_eq!(pending[0]["your_access"]["may_override"], true);
    let (status, approved) = decide(
        &server,
        "admin",
        id,
        GATE,
        json!({"override": true, "comment": "hotfix, approver away"}),
    )
    .await;
    assert_eq!(status, 200, "{approved}");
    assert_eq!(approved["status"], "COMPLETED");
    assert_eq!(approved["reason"], "approved by admin (admin override)");
    assert_eq!(approved["gate"]["decision"], "approved");
    assert_eq!(approved["gate"]["decided_by"], "admin");
    assert_eq!(approved["gate"]["comment"], "hotfix, approver away");
    wait_for_status(&server, id, "train", "COMPLETED").await;
    let gate_log = log(&server, id, GATE).await;
    assert!(
        gate_log.contains("[tollgate] approved by admin (admin override) at ")
            && gate_log.contains("comment: hotfix, approver away"),
        "the override is shown as such in the gate's log: {gate_log}"
    );

    // A gate that allows it lets the deployer decide.
    let id = deploy_as(&server, "olaf", &gated(", allow_self_approval: true")).await;
    wait_for_status(&server, id, GATE, "RUNNING").await;
    let pending = pending_as(&server, "olaf", id).await;
    assert_eq!(pending[0]["your_access"]["may_approve"], true);
    let (status, approved) = decide(&server, "olaf", id, GATE, json!({})).await;
    assert_eq!(status, 200, "{approved}");
    assert_eq!(approved["gate"]["decided_by"], "olaf");
    wait_for_status(&server, id, "train", "COMPLETED").await;
}

#[tokio::test]
async fn a_two_approval_gate_needs_two_people_and_counts_each_once() {
    let server = ServerProcess::start(&temp_dir("access-two"), &[], None);
    server.session("ana").await;
    server.session("bob").await;
    let id = deploy_as(&server, "admin", &gated(", approvals: 2")).await;
    wait_for_status(&server, id, GATE, "RUNNING").await;

    let server = std::sync::Arc::new(server);
    let mut tasks = Vec::new();
    for n in 0..50 {
        let server = server.clone();
        tasks.push(tokio::spawn(async move {
            decide(
                &server,
                "ana",
                id,
                GATE,
                json!({"comment": format!("try {n}")}),
            )
            .await
        }));
    }
    let mut approved = Vec::new();
    for task in tasks {
        let (status, body) = task.await.expect("task");
        match status {
            200 => approved.push(body),
            409 => {}
            403 => assert!(
                message(&body).contains("approved this gate already"),
                "{body}"
            ),
            other => panic!("unexpected {other}: {body}"),
        }
    }
    assert_eq!(
        approved.len(),
        1,
        "exactly one approval of ana counts: {approved:?}"
    );
    assert_eq!(approved[0]["status"], "RUNNING", "{}", approved[0]);
    assert_eq!(
        approved[0]["reason"],
        "waiting for approval: 1 of 2 approvals (ana)"
    );
    let now = run(&server, id).await;
    assert_eq!(job(&now, GATE)["status"], "RUNNING", "{now:#}");
    assert_eq!(job(&now, "train")["status"], "PENDING");
    let pending = pending_as(&server, "ana", id).await;
    assert_eq!(pending[0]["approvals_required"], 2);
    let approvals = pending[0]["approvals"].as_array().expect("approvals");
    assert_eq!(approvals.len(), 1, "{pending:?}");
    assert_eq!(approvals[0]["by"], "ana");
    assert_eq!(pending[0]["your_access"]["may_approve"], false);
    assert!(
        pending[0]["your_access"]["reason"]
            .as_str()
            .is_some_and(|r| r.contains("approved this gate already")),
        "{pending:?}"
    );
    let (status, again) = decide(&server, "ana", id, GATE, json!({})).await;
    assert_eq!(status, 403, "once more, later: {again}");

    let (status, second) = decide(&server, "bob", id, GATE, json!({"comment": "agreed"})).await;
    assert_eq!(status, 200, "{second}");
    assert_eq!(second["status"], "COMPLETED");
    assert_eq!(second["reason"], "approved by ana and bob");
    wait_for_status(&server, id, "train", "COMPLETED").await;

    let (status, trail) = server.post("/api/audit_trail", json!({"run_id": id})).await;
    assert_eq!(status, 200, "{trail}");
    let decisions: Vec<(String, String)> = trail
        .as_array()
        .expect("trail")
        .iter()
        .filter(|e| e["job"] == GATE && e["from_status"] == "RUNNING")
        .map(|e| {
            (
                e["actor"].as_str().unwrap_or("-").to_string(),
                e["to_status"].as_str().unwrap_or("-").to_string(),
            )
        })
        .collect();
    assert_eq!(
        decisions,
        [
            ("ana".to_string(), "RUNNING".to_string()),
            ("bob".to_string(), "COMPLETED".to_string())
        ],
        "{trail:#}"
    );
    let gate_log = log(&server, id, GATE).await;
    assert!(
        gate_log.contains("[tollgate] approval 1 by ana at ")
            && gate_log.contains("waiting for approval: 1 of 2 approvals (ana)"),
        "{gate_log}"
    );
    assert!(
        gate_log.contains("[tollgate] approved by bob at ") && gate_log.contains("comment: agreed"),
        "{gate_log}"
    );
}

#[tokio::test]
async fn a_decision_racing_the_gate_opening_is_still_checked() {
    let server = ServerProcess::start(&temp_dir("access-race"), &[], None);
    let viewer = user_with_roles(&server, "vic", &["viewer"]).await;
    let (secret, _) = token(&server, &viewer, "racer").await;
    let yaml = "
name: race
jobs:
  - id: prep
    run: sleep 1
    gate: {message: check, timeout: 300}
  - id: train
    run: echo trained
    depends_on: [prep]
";
    let id = deploy_as(&server, "admin", yaml).await;
    let server = std::sync::Arc::new(server);
    let opened = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let watcher = {
        let (server, opened) = (server.clone(), opened.clone());
        tokio::spawn(async move {
            wait_until(&server, id, |d| job(d, GATE)["status"] != "PENDING").await;
            opened.store(true, std::sync::atomic::Ordering::SeqCst);
        })
    };
    // A viewer keeps asking while the gate opens, and a few times after.
    let mut racers = Vec::new();
    for _ in 0..4 {
        let (server, opened, auth) = (server.clone(), opened.clone(), bearer(&secret));
        racers.push(tokio::spawn(async move {
            let body = json!({"run_id": id, "gate": GATE, "decision": "approve"});
            let mut after_opening = 0;
            while after_opening < 3 {
                if opened.load(std::sync::atomic::Ordering::SeqCst) {
                    after_opening += 1;
                }
                let headers = [("authorization", auth.as_str())];
                let (status, answer) =
                    post_with(&server, "/api/decide_gate", body.clone(), &headers).await;
                let not_yet = status == 409 && message(&answer).contains("not waiting yet");
                if status != 403 && !not_yet {
                    return Err((status, answer));
                }
            }
            Ok(())
        }));
    }
    watcher.await.expect("watcher");
    for racer in racers {
        if let Err((status, answer)) = racer.await.expect("racer") {
            panic!("a viewer's decision got {status}: {answer}");
        }
    }
    let (status, refused) = post_with(
        &server,
        "/api/decide_gate",
        json!({"run_id": id, "gate": GATE, "decision": "approve"}),
        &[("authorization", &bearer(&secret))],
    )
    .await;
    assert_eq!(status, 403, "{refused}");
    assert!(message(&refused).contains("approver role"), "{refused}");
    let now = run(&server, id).await;
    assert_eq!(job(&now, GATE)["status"], "RUNNING", "{now:#}");
    assert_eq!(job(&now, "train")["status"], "PENDING");
}

#[tokio::test]
async fn the_by_field_is_refused() {
    let server = ServerProcess::start(&temp_dir("access-by"), &[], None);
    let id = deploy_as(&server, "admin", &gated("")).await;
    wait_for_status(&server, id, GATE, "RUNNING").await;

    let (status, refused) = decide(&server, "ana", id, GATE, json!({"by": "someone"})).await;
    assert_eq!(status, 400, "{refused}");
    assert!(message(&refused).contains("`by`"), "{refused}");
    let (status, refused) = server
        .post_as(
            "ana",
            "/api/cancel_run",
            json!({"run_id": id, "by": "someone"}),
        )
        .await;
    assert_eq!(status, 400, "{refused}");
    assert!(message(&refused).contains("`by`"), "{refused}");

    let now = run(&server, id).await;
    assert_eq!(now["run"]["status"], "RUNNING");
    assert_eq!(job(&now, GATE)["status"], "RUNNING", "{now:#}");
    assert_eq!(job(&now, GATE)["gate"]["decided_by"], Value::Null);
    assert_eq!(
        pending_as(&server, "ana", id).await[0]["approvals"],
        json!([])
    );
}

/// The rules of a gate that names an environment come from the environment, which only
/// admins set: the deployer cannot approve their own gate even with
/// `allow_self_approval: true` in the spec (refused at save and deploy), two approvals
/// are two people, and only the environment's deployers may deploy runs that use it.
async fn an_environments_rules_bind_the_pipelines_that_name_it(database_url: Option<&str>) {
    let server = ServerProcess::start(&temp_dir("access-environments"), &[], database_url);
    for user in ["ana", "bob", "carl"] {
        user_with_roles(&server, user, &["operator", "approver"]).await;
    }
    let viewer = user_with_roles(&server, "vic", &["viewer"]).await;
    let production = json!({"name": "production", "rules": {"approvers": ["ana", "bob", "carl"], "approvals": 2}});
    let (status, refused) = server
        .post_as("carl", "/api/save_environment", production.clone())
        .await;
    assert_eq!(status, 403, "only admins: {refused}");
    let (status, saved) = server.post("/api/save_environment", production).await;
    assert_eq!(status, 200, "{saved}");
    let (status, listed) = post_with(
        &server,
        "/api/list_environments",
        json!({}),
        &cookie(&viewer),
    )
    .await;
    assert_eq!(status, 200, "{listed}");
    assert_eq!(listed[0]["rules"]["approvals"], 2, "{listed}");

    // The deployer's own spec asks for self-approval: refused, with the field.
    let waived = "name: release\njobs:\n  - {id: build, run: 'true', gate: {message: ship?, environment: production, approvers: [carl], allow_self_approval: true, approvals: 1}}\n  - {id: ship, run: 'echo shipped', depends_on: [build]}\n";
    for path in ["/api/deploy_pipeline", "/api/save_pipeline"] {
        let (status, body) = server.post_as("carl", path, json!({"spec": waived})).await;
        assert_eq!(status, 422, "{path}: {body}");
        let said: Vec<&str> = body["problems"]
            .as_array()
            .map(|list| list.iter().filter_map(|p| p["message"].as_str()).collect())
            .unwrap_or_default();
        assert_eq!(
            said,
            [
                "job `build`'s gate has `approvals: 1`; it needs at least 2: environment `production` allows only stricter rules",
                "job `build`'s gate sets `allow_self_approval: true`; it does not let whoever deployed a run decide: environment `production` allows only stricter rules"
            ],
            "{body}"
        );
    }
    assert_eq!(
        runs(&server).await,
        Vec::<Value>::new(),
        "nothing was deployed"
    );
    let (status, body) = server
        .post_as(
            "carl",
            "/api/deploy_pipeline",
            json!({"spec": "name: x\njobs:\n  - {id: a, run: 'true', gate: {message: go?, environment: staging}}\n"}),
        )
        .await;
    assert_eq!(status, 422, "{body}");
    assert!(
        body.to_string()
            .contains("environment `staging`, which does not exist"),
        "{body}"
    );

    // As the environment says: not the deployer, and two different people.
    let release = "name: release\njobs:\n  - {id: build, run: 'true', gate: {message: ship?, environment: production}}\n  - {id: ship, run: 'echo shipped', depends_on: [build]}\n";
    let id = deploy_as(&server, "carl", release).await;
    wait_for_status(&server, id, "hitl-gate-build", "RUNNING").await;
    let shown = pending_as(&server, "ana", id).await;
    assert_eq!(
        (&shown[0]["environment"], &shown[0]["approvals_required"]),
        (&json!("production"), &json!(2)),
        "{shown:?}"
    );
    let (status, body) = decide(&server, "carl", id, "hitl-gate-build", json!({})).await;
    assert_eq!(status, 403, "the deployer: {body}");
    let (status, body) = decide(&server, "ana", id, "hitl-gate-build", json!({})).await;
    assert_eq!(status, 200, "{body}");
    let now = run(&server, id).await;
    assert_eq!(job(&now, "ship")["status"], "PENDING", "1 of 2: {now:#}");
    let (status, body) = decide(&server, "bob", id, "hitl-gate-build", json!({})).await;
    assert_eq!(status, 200, "{body}");
    let done = wait_until(&server, id, |detail| detail["run"]["status"] == "COMPLETED").await;
    assert_eq!(job(&done, "ship")["status"], "COMPLETED");

    // Only its deployers may deploy runs that use it.
    let (status, _) = server
        .post(
            "/api/save_environment",
            json!({"name": "production", "rules": {"approvers": ["ana", "bob", "carl"], "approvals": 2, "deployers": ["group:release-managers"]}}),
        )
        .await;
    assert_eq!(status, 200);
    let (status, body) = server
        .post_as("carl", "/api/deploy_pipeline", json!({"spec": release}))
        .await;
    assert_eq!(status, 403, "{body}");
    assert!(
        message(&body).contains("may be deployed only by its deployers"),
        "{body}"
    );

    let events = account_events(&server).await;
    find(&events, "environment_saved", "`production`: created with");
    find(
        &events,
        "environment_saved",
        "deployers [] -> [\"group:release-managers\"]",
    );
    let (status, _) = server
        .post("/api/delete_environment", json!({"name": "production"}))
        .await;
    assert_eq!(status, 200);
    find(
        &account_events(&server).await,
        "environment_deleted",
        "`production`",
    );
}

#[tokio::test]
async fn an_environments_rules_bind_the_pipelines_that_name_it_on_sqlite() {
    an_environments_rules_bind_the_pipelines_that_name_it(None).await;
}

#[tokio::test]
async fn an_environments_rules_bind_the_pipelines_that_name_it_on_postgres() {
    let db = common::TestDb::postgres().await;
    an_environments_rules_bind_the_pipelines_that_name_it(db.url.as_deref()).await;
    db.finish().await;
}

// ---------------------------------------------------------------------------------
// 11, 12. Single sign-on behind a proxy, and metrics.

#[tokio::test]
async fn a_forged_proxy_header_from_an_untrusted_address_is_ignored() {
    let server = ServerProcess::start(
        &temp_dir("access-proxy-far"),
        &[
            "--trusted-proxy-header",
            "X-Forwarded-User",
            "--trusted-proxy",
            "10.0.0.0/8",
        ],
        None,
    );
    let forged = [("x-forwarded-user", "admin")];
    let (status, body) = post_with(&server, "/api/whoami", json!({}), &forged).await;
    assert_eq!(status, 401, "{body}");
    assert_eq!(body["error"], "unauthorized");
    let (status, body) = post_with(
        &server,
        "/api/deploy_pipeline",
        json!({"spec": TINY}),
        &forged,
    )
    .await;
    assert_eq!(status, 401, "{body}");
    let session = user_with_roles(&server, "vic", &["viewer"]).await;
    let (status, me) = post_with(
        &server,
        "/api/whoami",
        json!({}),
        &[("cookie", &session), ("x-forwarded-user", "admin")],
    )
    .await;
    assert_eq!((status, &me["username"]), (200, &json!("vic")), "{me}");
    assert_eq!(runs(&server).await, Vec::<Value>::new());
    drop(server);

    // A range covering this host would let any job send the header: refused at start
    // unless the operator says the proxy is local and jobs cannot reach the port.
    let near = [
        "--trusted-proxy-header",
        "X-Forwarded-User",
        "--trusted-proxy",
        "127.0.0.0/8",
    ];
    let refused = tollgate(&temp_dir("access-proxy-refused"), &near)
        .output()
        .expect("run tollgate");
    let said = String::from_utf8_lossy(&refused.stderr);
    assert!(!refused.status.success(), "{said}");
    assert!(
        said.contains("--trusted-proxy `127.0.0.0/8` contains 127.0.0.1, an address of this host")
            && said.contains("--trusted-proxy-allow-local"),
        "{said}"
    );
    let allowed = [&near[..], &["--trusted-proxy-allow-local"]].concat();
    let server = ServerProcess::start(&temp_dir("access-proxy-near"), &allowed, None);
    let proxied = [("x-forwarded-user", "pat")];
    let (status, me) = post_with(&server, "/api/whoami", json!({}), &proxied).await;
    assert_eq!(status, 200, "{me}");
    assert_eq!(me["username"], "pat");
    // Read only when it appears exactly once.
    let doubled = [("x-forwarded-user", "pat"), ("x-forwarded-user", "admin")];
    let (status, body) = post_with(&server, "/api/whoami", json!({}), &doubled).await;
    assert_eq!(status, 401, "{body}");
    assert!(message(&body).contains("appears 2 times"), "{body}");
    assert_eq!(me["roles"], json!(["viewer"]), "a newcomer is a viewer");
    let (status, body) = post_with(&server, "/api/list_runs", json!({}), &proxied).await;
    assert_eq!((status, body), (200, json!([])));
    let (status, refused) = post_with(
        &server,
        "/api/deploy_pipeline",
        json!({"spec": TINY}),
        &proxied,
    )
    .await;
    assert_eq!(status, 403, "{refused}");
    assert!(message(&refused).contains("operator role"), "{refused}");
    let (status, body) = server.post("/api/list_users", json!({})).await;
    assert_eq!(status, 200, "{body}");
    let pat = body
        .as_array()
        .and_then(|users| users.iter().find(|u| u["username"] == "pat"))
        .unwrap_or_else(|| panic!("pat was created: {body}"));
    assert_eq!(pat["has_password"], false, "{pat}");

    let (status, promoted) = server
        .post(
            "/api/update_user",
            json!({"username": "pat", "roles": ["operator"]}),
        )
        .await;
    assert_eq!(status, 200, "{promoted}");
    let (status, refused) = post_with(
        &server,
        "/api/deploy_pipeline",
        json!({"spec": TINY}),
        &[
            ("x-forwarded-user", "pat"),
            ("origin", "http://evil.example"),
        ],
    )
    .await;
    assert_eq!(
        status, 403,
        "the header is ambient like a cookie: {refused}"
    );
    assert!(message(&refused).contains("evil.example"), "{refused}");
    assert_eq!(runs(&server).await, Vec::<Value>::new());
    let (status, deployed) = post_with(
        &server,
        "/api/deploy_pipeline",
        json!({"spec": TINY}),
        &proxied,
    )
    .await;
    assert_eq!(status, 200, "{deployed}");

    let (status, body) = post_with(
        &server,
        "/api/whoami",
        json!({}),
        &[("x-forwarded-user", "not a name!")],
    )
    .await;
    assert_eq!(status, 401, "a name that is no username: {body}");
    let (status, _) = server
        .post(
            "/api/update_user",
            json!({"username": "pat", "disabled": true}),
        )
        .await;
    assert_eq!(status, 200);
    let (status, body) = post_with(&server, "/api/whoami", json!({}), &proxied).await;
    assert_eq!(status, 401, "a disabled account behind the proxy: {body}");
}

#[tokio::test]
async fn metrics_need_a_token_unless_public() {
    let server = ServerProcess::start(&temp_dir("access-metrics"), &[], None);
    let (status, body) = get_with(&server, "/metrics", &[]).await;
    assert_eq!(status, 401, "{body}");
    assert_eq!(body["error"], "unauthorized");
    let (secret, _) = token(&server, &server.session("admin").await, "scraper").await;
    let (status, body) =
        get_with(&server, "/metrics", &[("authorization", &bearer(&secret))]).await;
    assert_eq!(status, 200, "{body}");
    assert!(
        body.as_str()
            .is_some_and(|text| text.contains("tollgate_gates_waiting")),
        "{body}"
    );
    drop(server);

    let server = ServerProcess::start(
        &temp_dir("access-metrics-public"),
        &["--metrics-public"],
        None,
    );
    let (status, body) = get_with(&server, "/metrics", &[]).await;
    assert_eq!(status, 200, "{body}");
    assert!(
        body.as_str()
            .is_some_and(|text| text.contains("tollgate_gates_waiting")),
        "{body}"
    );
    let (status, _) = server.post_anonymous("/api/list_runs", json!({})).await;
    assert_eq!(status, 401, "only the metrics are public");
}

// ---------------------------------------------------------------------------------
// 13, 14. The record, and the first start.

/// `(kind, actor)` of the account events, newest first, as the admin sees them.
async fn account_events(server: &ServerProcess) -> Vec<Value> {
    let (status, trail) = server.post("/api/audit_trail", json!({})).await;
    assert_eq!(status, 200, "{trail}");
    trail.as_array().cloned().unwrap_or_default()
}

fn find<'a>(events: &'a [Value], kind: &str, detail_contains: &str) -> &'a Value {
    events
        .iter()
        .find(|e| {
            e["kind"] == kind
                && e["detail"]
                    .as_str()
                    .is_some_and(|d| d.contains(detail_contains))
        })
        .unwrap_or_else(|| panic!("no `{kind}` event about `{detail_contains}` in {events:#?}"))
}

#[tokio::test]
async fn the_audit_trail_records_who_did_what() {
    let server = ServerProcess::start(&temp_dir("access-audit"), &[], None);
    let admin = server.session("admin").await;
    let (status, _) = server
        .sign_in("admin", "a-wrong-guess")
        .await
        .expect_err("wrong");
    assert_eq!(status, 401);
    let (_, id) = token(&server, &admin, "deploy-bot").await;
    let (status, _) = server.post("/api/revoke_token", json!({"id": id})).await;
    assert_eq!(status, 200);

    let events = account_events(&server).await;
    let signed_in = events
        .iter()
        .find(|e| e["kind"] == "sign_in")
        .unwrap_or_else(|| panic!("no sign_in in {events:#?}"));
    assert_eq!(signed_in["actor"], "admin");
    assert!(
        signed_in["detail"]
            .as_str()
            .is_some_and(|d| d.contains("127.0.0.1")),
        "{signed_in}"
    );
    let failed = find(&events, "sign_in_failed", "`admin`");
    assert_eq!(failed["actor"], Value::Null, "nobody proved who they are");
    assert!(
        failed["detail"]
            .as_str()
            .is_some_and(|d| d.contains("127.0.0.1"))
    );
    let created = find(&events, "token_created", "`deploy-bot`");
    assert_eq!(created["actor"], "admin");
    let revoked = find(&events, "token_revoked", "`deploy-bot`");
    assert_eq!(revoked["actor"], "admin");
    let at = |e: &Value| e["at_ms"].as_i64().unwrap_or_default();
    assert!(at(created) <= at(revoked), "{created} {revoked}");
    assert!(
        !events
            .iter()
            .any(|e| e.to_string().contains(ADMIN_PASSWORD)),
        "no password in the trail"
    );

    let viewer = user_with_roles(&server, "vic", &["viewer"]).await;
    let (status, refused) =
        post_with(&server, "/api/audit_trail", json!({}), &cookie(&viewer)).await;
    assert_eq!(status, 403, "{refused}");
    assert!(message(&refused).contains("admin role"), "{refused}");

    let run_id = deploy_as(&server, "olaf", &gated("")).await;
    wait_for_status(&server, run_id, GATE, "RUNNING").await;
    let (status, cancelled) = server
        .post_as("carl", "/api/cancel_run", json!({"run_id": run_id}))
        .await;
    assert_eq!(status, 200, "{cancelled}");
    assert_eq!(cancelled["status"], "CANCELLED");
    let (status, trail) = post_with(
        &server,
        "/api/audit_trail",
        json!({"run_id": run_id}),
        &cookie(&viewer),
    )
    .await;
    assert_eq!(
        status, 200,
        "anyone who reads runs reads their trail: {trail}"
    );
    let trail = trail.as_array().cloned().unwrap_or_default();
    assert_eq!(trail[0]["kind"], "deployed", "{trail:#?}");
    assert_eq!(trail[0]["actor"], "olaf");
    let gate_cancelled = trail
        .iter()
        .find(|e| e["job"] == GATE && e["to_status"] == "CANCELLED")
        .unwrap_or_else(|| panic!("the gate's cancel is recorded: {trail:#?}"));
    assert_eq!(gate_cancelled["actor"], "carl");
    let run_cancelled = trail
        .iter()
        .find(|e| e["kind"] == "run_status" && e["to_status"] == "CANCELLED")
        .unwrap_or_else(|| panic!("the run's cancel is recorded: {trail:#?}"));
    assert_eq!(run_cancelled["actor"], "carl");
}

#[tokio::test]
async fn the_first_start_writes_the_admin_password_once() {
    use std::os::unix::fs::PermissionsExt;

    let dir = temp_dir("access-first");
    let file = dir.join("initial-admin-password");
    let server = ServerProcess::start_without_admin_password(&dir, &[]);
    let metadata = std::fs::metadata(&file).expect("the password file exists");
    assert_eq!(
        metadata.permissions().mode() & 0o777,
        0o600,
        "only its owner reads it"
    );
    let written = std::fs::read_to_string(&file).expect("read");
    let password = written.trim().to_string();
    assert_eq!(password.len(), 24, "{written:?}");
    server
        .sign_in("admin", &password)
        .await
        .expect("the written password signs in");
    let (status, _) = server
        .sign_in("admin", ADMIN_PASSWORD)
        .await
        .expect_err("not the test default");
    assert_eq!(status, 401);
    drop(server);

    let server = ServerProcess::start_without_admin_password(&dir, &[]);
    assert_eq!(
        std::fs::read_to_string(&file).expect("still there"),
        written,
        "a restart leaves it alone"
    );
    server
        .sign_in("admin", &password)
        .await
        .expect("the same password after a restart");
}
