//! `tollgate user ...` and `tollgate token ...` on the store, then checked through a
//! real server: what an operator does at 3 a.m. when nobody can sign in.

mod common;

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

use common::process::ServerProcess;
use common::temp_dir;
use serde_json::json;

/// Runs `tollgate --data-dir <dir> <args>` with `stdin`; returns (success, stdout, stderr).
fn tollgate(dir: &Path, args: &[&str], stdin: &str) -> (bool, String, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_tollgate"))
        .arg("--data-dir")
        .arg(dir)
        .args(args)
        .env_remove("DATABASE_URL")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run tollgate");
    if let Some(mut input) = child.stdin.take() {
        input.write_all(stdin.as_bytes()).expect("stdin");
    }
    let output = child.wait_with_output().expect("wait");
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[tokio::test]
async fn operators_manage_accounts_and_tokens_from_the_command_line() {
    let dir = temp_dir("cli");
    // The store is not empty when the server starts, so it makes no `admin` of its own.
    let admin_password = format!("{}\n", common::process::ADMIN_PASSWORD);
    let (ok, _, err) = tollgate(
        &dir,
        &[
            "user",
            "add",
            "admin",
            "--roles",
            "admin",
            "--password-stdin",
        ],
        &admin_password,
    );
    assert!(ok, "{err}");
    let (ok, out, err) = tollgate(
        &dir,
        &[
            "user",
            "add",
            "ana",
            "--roles",
            "approver,operator",
            "--groups",
            "ml-leads",
            "--password-stdin",
        ],
        "ana-password-1\n",
    );
    assert!(ok, "{out}{err}");
    assert_eq!(out.trim(), "added ana (operator,approver)");

    let (ok, _, err) = tollgate(
        &dir,
        &["user", "add", "ana", "--password-stdin"],
        "whatever-long\n",
    );
    assert!(!ok);
    assert!(err.contains("a user named `ana` exists already"), "{err}");
    let (ok, _, err) = tollgate(&dir, &["user", "add", "bob", "--roles", "boss"], "");
    assert!(!ok);
    assert!(err.contains("`boss` is not a role"), "{err}");
    let (ok, _, err) = tollgate(&dir, &["user", "add", "cy", "--password-stdin"], "short\n");
    assert!(!ok);
    assert!(err.contains("too short"), "{err}");

    let (ok, token, err) = tollgate(
        &dir,
        &["token", "create", "--user", "ana", "--name", "ci"],
        "",
    );
    assert!(ok, "{err}");
    let token = token.trim().to_string();
    assert!(token.starts_with("tg_"), "{token}");

    let server = ServerProcess::start(&dir, &[], None);
    let cookie = server
        .sign_in("ana", "ana-password-1")
        .await
        .expect("ana signs in");
    assert!(cookie.starts_with("tollgate_session="));
    let me = whoami(&server, &token).await;
    assert_eq!(me.status(), 200);
    let me: serde_json::Value = me.json().await.expect("json");
    assert_eq!(me["groups"], json!(["ml-leads"]));

    let (ok, out, _) = tollgate(&dir, &["user", "passwd", "ana"], "");
    assert!(ok);
    let generated = out
        .lines()
        .find_map(|line| line.strip_prefix("password: "))
        .expect("a new password is printed")
        .to_string();
    assert!(
        server.sign_in("ana", "ana-password-1").await.is_err(),
        "old password"
    );
    assert!(
        server.sign_in("ana", &generated).await.is_ok(),
        "new password"
    );
    let after_passwd = whoami(&server, &token).await;
    assert_eq!(
        after_passwd.status(),
        401,
        "a token from before the password change"
    );

    let (ok, _, _) = tollgate(&dir, &["user", "disable", "ana"], "");
    assert!(ok);
    assert!(server.sign_in("ana", &generated).await.is_err(), "disabled");
    let refused = whoami(&server, &token).await;
    assert_eq!(
        refused.status(),
        401,
        "a disabled user's token stops working"
    );

    let (_, trail) = server.post("/api/audit_trail", json!({})).await;
    let kinds: Vec<(&str, &str)> = trail
        .as_array()
        .expect("events")
        .iter()
        .filter(|e| e["actor"] == "cli")
        .filter_map(|e| Some((e["kind"].as_str()?, e["detail"].as_str()?)))
        .collect();
    assert!(
        kinds.contains(&(
            "user_changed",
            "`ana`: disabled; its sessions and tokens ended"
        )),
        "{kinds:?}"
    );
    assert!(
        kinds.iter().any(|(kind, _)| *kind == "token_created"),
        "{kinds:?}"
    );
}

/// `tollgate env` sets, lists and deletes environments on the store, with clear errors
/// for rules that are not JSON or cannot hold, and each change in the audit trail; the
/// server holds gates to what it set.
#[tokio::test]
async fn operators_manage_environments_from_the_command_line() {
    let dir = temp_dir("cli-environments");
    let (ok, _, err) = tollgate(&dir, &["env", "set", "production", "{approvals: 2"], "");
    assert!(!ok);
    assert!(err.contains("are not valid JSON rules"), "{err}");
    let (ok, _, err) = tollgate(
        &dir,
        &[
            "env",
            "set",
            "production",
            r#"{"approvers": ["ana"], "approvals": 2}"#,
        ],
        "",
    );
    assert!(!ok);
    assert!(err.contains("no gate could pass"), "{err}");
    let (ok, out, err) = tollgate(
        &dir,
        &[
            "env",
            "set",
            "production",
            r#"{"approvers": ["ana", "bob"], "approvals": 2}"#,
        ],
        "",
    );
    assert!(ok, "{err}");
    assert!(
        out.starts_with("environment `production`: created with"),
        "{out}"
    );
    let (ok, out, _) = tollgate(&dir, &["env", "list"], "");
    assert!(ok);
    assert!(
        out.starts_with("production\t{\"approvers\":[\"ana\",\"bob\"],\"approvals\":2"),
        "{out}"
    );

    let server = ServerProcess::start(&dir, &[], None);
    let spec = "name: r\njobs:\n  - {id: a, run: 'true', gate: {message: go?, environment: production, approvals: 1}}\n";
    let (status, body) = server
        .post("/api/deploy_pipeline", json!({"spec": spec}))
        .await;
    assert_eq!(status, 422, "{body}");
    assert!(
        body.to_string()
            .contains("`approvals: 1`; it needs at least 2"),
        "{body}"
    );
    let (_, trail) = server.post("/api/audit_trail", json!({})).await;
    assert!(
        trail.as_array().is_some_and(|events| events
            .iter()
            .any(|e| e["kind"] == "environment_saved" && e["actor"] == "cli")),
        "{trail}"
    );
    drop(server);

    let (ok, out, err) = tollgate(&dir, &["env", "delete", "production"], "");
    assert!(ok, "{err}");
    assert_eq!(out.trim(), "environment `production` deleted");
    let (ok, _, err) = tollgate(&dir, &["env", "delete", "production"], "");
    assert!(!ok);
    assert!(
        err.contains("there is no environment `production`"),
        "{err}"
    );
}

/// `POST /api/whoami` with `token`.
async fn whoami(server: &ServerProcess, token: &str) -> reqwest::Response {
    reqwest::Client::new()
        .post(format!("{}/api/whoami", server.base_url))
        .bearer_auth(token)
        .json(&json!({}))
        .send()
        .await
        .expect("whoami")
}
