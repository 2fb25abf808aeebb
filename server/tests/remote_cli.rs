//! `tollgate gates`, `approve` and `reject` against a real server, with a real API
//! token: what each prints, and the exit code a script gets (0 done, 1 refused,
//! 2 usage, 3 unreachable).

mod common;

use std::process::Command;

use common::process::ServerProcess;
use common::runs::{deploy, wait_finished, wait_for_status};
use common::temp_dir;
use serde_json::{Value, json};

const GATED: &str = "
name: release
jobs:
  - id: evaluate
    run: 'true'
    gate:
      message: Ship it?
      options: [ship, rollback]
      inputs:
        - {name: threshold, type: number, required: true, min: 0, max: 1}
        - {name: ticket, type: string}
  - id: act
    run: 'echo option=$TOLLGATE_GATE_EVALUATE_OPTION threshold=$TOLLGATE_GATE_EVALUATE_THRESHOLD'
    depends_on: [evaluate]
";

const GATE: &str = "hitl-gate-evaluate";

/// What one run of the command gave: its exit code, standard output and error.
struct Ran {
    code: i32,
    out: String,
    err: String,
}

/// Runs `tollgate <args>` against `url` with `token` (none: `TOLLGATE_TOKEN` unset).
fn tollgate(url: &str, token: Option<&str>, args: &[&str]) -> Ran {
    tollgate_with(url, token, args, &[])
}

/// [`tollgate`] with more variables in its environment.
fn tollgate_with(url: &str, token: Option<&str>, args: &[&str], env: &[(&str, &str)]) -> Ran {
    let mut command = Command::new(env!("CARGO_BIN_EXE_tollgate"));
    command
        .args(args)
        .env("TOLLGATE_URL", url)
        .env_remove("TOLLGATE_TOKEN")
        .env_remove("DATABASE_URL")
        .envs(env.iter().copied());
    if let Some(token) = token {
        command.env("TOLLGATE_TOKEN", token);
    }
    let output = command.output().expect("run tollgate");
    Ran {
        code: output.status.code().unwrap_or(-1),
        out: String::from_utf8_lossy(&output.stdout).into_owned(),
        err: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// An API token of `user` (created with the operator and approver roles).
async fn token_of(server: &ServerProcess, user: &str) -> String {
    let (status, created) = server
        .post_as(user, "/api/create_token", json!({"name": "cli"}))
        .await;
    assert_eq!(status, 200, "{created}");
    created["token"].as_str().expect("secret").to_string()
}

#[tokio::test]
async fn approvers_list_and_decide_gates_from_the_command_line() {
    let server = ServerProcess::start(&temp_dir("remote-cli"), &[], None);
    let url = server.base_url.as_str();
    // Deployed by admin, decided by ana: the deployer may not decide their own run.
    let token = token_of(&server, "ana").await;
    let token = Some(token.as_str());
    let id = deploy(&server, GATED).await;
    wait_for_status(&server, id, GATE, "RUNNING").await;
    let run = id.to_string();

    let listed = tollgate(url, token, &["gates"]);
    assert_eq!(listed.code, 0, "{}", listed.err);
    let row = listed
        .out
        .lines()
        .find(|line| line.starts_with(&format!("{id}\t{GATE}\trelease\t")))
        .unwrap_or_else(|| panic!("a row for the gate: {}", listed.out));
    assert!(row.ends_with("\t0/1\tmay decide"), "{row}");
    assert!(
        listed.out.contains(
            "--option ship|rollback --input threshold=<number, required> --input ticket=<string>"
        ),
        "{}",
        listed.out
    );
    let as_json = tollgate(url, token, &["gates", "--run", &run, "--json"]);
    assert_eq!(as_json.code, 0, "{}", as_json.err);
    let gates: Value = serde_json::from_str(&as_json.out).expect("JSON");
    assert_eq!(gates[0]["gate"], GATE, "{gates}");
    assert_eq!(gates[0]["form"]["options"], json!(["ship", "rollback"]));

    // Refused by the server, naming the field: exit 1, nothing recorded.
    for (value, said) in [
        ("threshold=7", "threshold"),
        ("threshold=high", "input `threshold` must be a number"),
    ] {
        let refused = tollgate(
            url,
            token,
            &["approve", &run, GATE, "--option", "ship", "--input", value],
        );
        assert_eq!(refused.code, 1, "{value}: {}", refused.err);
        assert!(refused.err.contains(said), "{value}: {}", refused.err);
    }
    // Wrong on the command line: exit 2 before anything is sent.
    let malformed = tollgate(url, token, &["approve", &run, GATE, "--input", "threshold"]);
    assert_eq!(malformed.code, 2, "{}", malformed.err);
    assert!(malformed.err.contains("NAME=VALUE"), "{}", malformed.err);
    let missing_gate = tollgate(url, token, &["approve", &run]);
    assert_eq!(missing_gate.code, 2, "{}", missing_gate.err);
    assert_eq!(
        wait_for_status(&server, id, GATE, "RUNNING").await["run"]["status"],
        "RUNNING"
    );

    let approved = tollgate(
        url,
        token,
        &[
            "approve",
            &run,
            GATE,
            "--option",
            "ship",
            "--input",
            "threshold=0.9",
            "--input",
            "ticket=OPS-7",
            "-m",
            "report checked",
        ],
    );
    assert_eq!(approved.code, 0, "{}", approved.err);
    assert_eq!(
        approved.out.trim(),
        format!("run {id}: {GATE} is COMPLETED (approved by ana)")
    );
    let done = wait_finished(&server, id).await;
    assert_eq!(done["run"]["status"], "COMPLETED", "{done:#}");
    let act = common::runs::log(&server, id, "act").await;
    assert_eq!(act.trim(), "option=ship threshold=0.9");

    // Decided already: refused, with who decided it.
    let again = tollgate(url, token, &["reject", &run, GATE, "-m", "too late"]);
    assert_eq!(again.code, 1, "{}", again.err);
    assert!(again.err.contains("ana"), "{}", again.err);
}

#[tokio::test]
async fn a_rejection_from_the_command_line_cancels_what_is_behind_the_gate() {
    let server = ServerProcess::start(&temp_dir("remote-cli-reject"), &[], None);
    let token = token_of(&server, "ana").await;
    let id = deploy(&server, GATED).await;
    wait_for_status(&server, id, GATE, "RUNNING").await;
    let rejected = tollgate(
        &server.base_url,
        Some(&token),
        &[
            "reject",
            &id.to_string(),
            GATE,
            "-m",
            "accuracy dropped",
            "--json",
        ],
    );
    assert_eq!(rejected.code, 0, "{}", rejected.err);
    let gate: Value = serde_json::from_str(&rejected.out).expect("JSON");
    assert_eq!(gate["status"], "FAILED", "{gate}");
    assert_eq!(gate["gate"]["comment"], "accuracy dropped");
    let done = wait_finished(&server, id).await;
    assert_eq!(done["run"]["status"], "FAILED", "{done:#}");
    let act = done["jobs"]
        .as_array()
        .and_then(|jobs| jobs.iter().find(|job| job["id"] == "act"))
        .expect("act");
    assert_eq!(act["status"], "CANCELLED");
}

#[tokio::test]
async fn a_script_can_tell_no_token_a_wrong_token_and_no_server_apart() {
    let server = ServerProcess::start(&temp_dir("remote-cli-codes"), &[], None);
    let url = server.base_url.as_str();

    let no_token = tollgate(url, None, &["gates"]);
    assert_eq!(no_token.code, 2, "{}", no_token.err);
    assert!(no_token.err.contains("TOLLGATE_TOKEN"), "{}", no_token.err);

    let wrong = tollgate(url, Some("tg_not-a-token"), &["gates"]);
    assert_eq!(wrong.code, 1, "{}", wrong.err);

    let scheme = tollgate("ftp://tollgate.example", Some("tg_x"), &["gates"]);
    assert_eq!(scheme.code, 2, "{}", scheme.err);
    assert!(scheme.err.contains("https://"), "{}", scheme.err);
    // TLS is spoken: a plain-HTTP server does not pass for a TLS one.
    let https = url.replacen("http://", "https://", 1);
    let no_tls = tollgate(&https, Some("tg_x"), &["gates"]);
    assert_eq!(no_tls.code, 3, "{}", no_tls.err);
    assert!(
        no_tls.err.contains("cannot reach Tollgate"),
        "{}",
        no_tls.err
    );

    // A port nobody listens on: bound, then released.
    let free = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = free.local_addr().expect("address").port();
    drop(free);
    let nobody = tollgate(
        &format!("http://127.0.0.1:{port}"),
        Some("tg_x"),
        &["gates"],
    );
    assert_eq!(nobody.code, 3, "{}", nobody.err);
    assert!(
        nobody.err.contains("cannot reach Tollgate"),
        "{}",
        nobody.err
    );

    // Something else answers there: a web page, not Tollgate's API.
    let other = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let other_url = format!("http://{}", other.local_addr().expect("address"));
    std::thread::spawn(move || {
        use std::io::{Read, Write};
        if let Ok((mut peer, _)) = other.accept() {
            let mut request = [0u8; 4096];
            let _ = peer.read(&mut request);
            let page = "<html>a login page</html>";
            let _ = write!(
                peer,
                "HTTP/1.1 200 OK\r\ncontent-type: text/html\r\ncontent-length: {}\r\n\
                 connection: close\r\n\r\n{page}",
                page.len()
            );
        }
    });
    let page = tollgate(&other_url, Some("tg_x"), &["gates"]);
    assert_eq!(page.code, 3, "{}", page.err);
    assert!(page.err.contains("check TOLLGATE_URL"), "{}", page.err);
}

#[tokio::test]
async fn operators_deploy_list_and_cancel_runs_from_the_command_line() {
    let dir = temp_dir("remote-cli-runs");
    let server = ServerProcess::start(&dir, &[], None);
    let url = server.base_url.as_str();
    let token = token_of(&server, "ana").await;
    let token = Some(token.as_str());
    let file = dir.join("long.yaml");
    let pipeline = "name: long\njobs:\n  - {id: wait, run: 'sleep 60'}\n  - {id: after, run: 'true', depends_on: [wait]}\n";
    std::fs::write(&file, pipeline).expect("pipeline file");
    let file = file.to_str().expect("a UTF-8 path");

    let deployed = tollgate(url, token, &["deploy", file, "--json"]);
    assert_eq!(deployed.code, 0, "{}", deployed.err);
    let answer: Value = serde_json::from_str(&deployed.out).expect("JSON");
    let id = answer["run_id"].as_i64().expect("run id");
    wait_for_status(&server, id, "wait", "RUNNING").await;
    let listed = tollgate(url, token, &["runs"]);
    assert_eq!(listed.code, 0, "{}", listed.err);
    assert!(
        listed
            .out
            .contains(&format!("\n{id}\tlong\tRUNNING\t0/2\t0\n")),
        "{}",
        listed.out
    );

    let one_job = tollgate(url, token, &["cancel", &id.to_string(), "wait"]);
    assert_eq!(one_job.code, 0, "{}", one_job.err);
    assert_eq!(one_job.out.trim(), format!("run {id}: wait is CANCELLED"));
    let done = wait_finished(&server, id).await;
    assert_eq!(done["run"]["status"], "CANCELLED", "{done:#}");
    let again = tollgate(url, token, &["cancel", &id.to_string()]);
    assert_eq!(again.code, 1, "a finished run: {}", again.err);

    // A saved pipeline by name, and the refusals a script must tell apart.
    let (status, saved) = server
        .post("/api/save_pipeline", json!({"spec": pipeline}))
        .await;
    assert_eq!(status, 200, "{saved}");
    let by_name = tollgate(url, token, &["deploy", "long"]);
    assert_eq!(by_name.code, 0, "{}", by_name.err);
    assert!(
        by_name.out.starts_with("run ") && by_name.out.contains(": long deployed, 2 jobs"),
        "{}",
        by_name.out
    );
    let unknown = tollgate(url, token, &["deploy", "no-such-pipeline"]);
    assert_eq!(unknown.code, 1, "{}", unknown.err);
    let broken = dir.join("broken.yaml");
    std::fs::write(
        &broken,
        "name: broken\njobs:\n  - {id: a, run: 'true', depends_on: [b]}\n",
    )
    .expect("broken file");
    let invalid = tollgate(url, token, &["deploy", broken.to_str().expect("path")]);
    assert_eq!(invalid.code, 1, "{}", invalid.err);
    assert!(
        invalid.err.contains("\n  a: "),
        "the job at fault: {}",
        invalid.err
    );
}

#[tokio::test]
async fn a_run_its_logs_and_its_files_from_the_command_line() {
    let dir = temp_dir("remote-cli-inspect");
    let server = ServerProcess::start(&dir, &[], None);
    let url = server.base_url.clone();
    let token = token_of(&server, "ana").await;
    let yaml = "
name: files
jobs:
  - {id: first, run: 'echo checked > report.txt; echo started; until [ -e go ]; do sleep 0.05; done; echo done'}
  - {id: second, run: 'true', depends_on: [first]}
";
    let id = deploy(&server, yaml).await;
    wait_for_status(&server, id, "first", "RUNNING").await;
    let run = id.to_string();

    // Follows the log from a separate process while the job still runs.
    let follower = {
        let (url, token, run) = (url.clone(), token.clone(), run.clone());
        let (sender, receiver) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let _ = sender.send(tollgate(
                &url,
                Some(&token),
                &["logs", &run, "first", "--follow"],
            ));
        });
        receiver
    };
    let workspace = server.data_dir.join("workspaces").join(&run);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while !common::runs::log(&server, id, "first")
        .await
        .contains("started")
    {
        assert!(
            std::time::Instant::now() < deadline,
            "the job never printed"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    std::fs::write(workspace.join("go"), "").expect("go");
    let followed = follower
        .recv_timeout(std::time::Duration::from_secs(30))
        .expect("--follow ends when the job does");
    assert_eq!(followed.code, 0, "{}", followed.err);
    assert_eq!(followed.out, "started\ndone\n");

    let done = wait_finished(&server, id).await;
    assert_eq!(done["run"]["status"], "COMPLETED", "{done:#}");
    let shown = tollgate(&url, Some(&token), &["run", &run]);
    assert_eq!(shown.code, 0, "{}", shown.err);
    assert!(
        shown
            .out
            .starts_with(&format!("run {id}  files  COMPLETED  2/2 jobs done\n")),
        "{}",
        shown.out
    );
    assert!(
        shown.out.contains("  COMPLETED  second  after first"),
        "{}",
        shown.out
    );
    let files = tollgate(&url, Some(&token), &["files", &run]);
    assert_eq!(files.code, 0, "{}", files.err);
    assert!(
        files.out.contains("8\tfirst\treport.txt\n"),
        "{}",
        files.out
    );
    let log = tollgate(&url, Some(&token), &["logs", &run, "second", "--json"]);
    assert_eq!(log.code, 0, "{}", log.err);
    let page: Value = serde_json::from_str(log.out.trim()).expect("one JSON page");
    assert_eq!(page["finished"], true, "{page}");
    let unknown = tollgate(&url, Some(&token), &["logs", &run, "nope"]);
    assert_eq!(unknown.code, 1, "{}", unknown.err);
}

/// Makes, with the `openssl` command, a certificate authority and a certificate it
/// signed for 127.0.0.1 in `dir`: `ca.pem`, `server.pem`, `server.key`.
fn certificates(dir: &std::path::Path) {
    let openssl = |args: &[&str]| {
        let output = Command::new("openssl")
            .args(args)
            .current_dir(dir)
            .output()
            .expect("openssl (scripts/install-test-tools.sh installs it)");
        assert!(
            output.status.success(),
            "openssl {args:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    };
    let key = [
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
    ];
    openssl(
        &[
            &["req", "-x509"],
            &key[..],
            &[
                "-keyout",
                "ca.key",
                "-out",
                "ca.pem",
                "-days",
                "2",
                "-subj",
                "/CN=Tollgate test CA",
                "-addext",
                "basicConstraints=critical,CA:TRUE",
                "-addext",
                "keyUsage=critical,keyCertSign",
            ],
        ]
        .concat(),
    );
    openssl(
        &[
            &["req"],
            &key[..],
            &[
                "-keyout",
                "server.key",
                "-out",
                "server.csr",
                "-subj",
                "/CN=127.0.0.1",
            ],
        ]
        .concat(),
    );
    std::fs::write(
        dir.join("server.ext"),
        "subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n",
    )
    .expect("extensions");
    openssl(&[
        "x509",
        "-req",
        "-in",
        "server.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-out",
        "server.pem",
        "-days",
        "2",
        "-extfile",
        "server.ext",
    ]);
}

/// Ends TLS with `dir`'s server certificate on a port of its own and passes each
/// connection on to `backend` (as a reverse proxy in front of Tollgate would). Returns
/// its `https://` address.
async fn tls_proxy(dir: &std::path::Path, backend: String) -> String {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(dir.join("server.pem"))
        .expect("server.pem")
        .collect::<Result<_, _>>()
        .expect("certificates");
    let key = PrivateKeyDer::from_pem_file(dir.join("server.key")).expect("server.key");
    let config = rustls::ServerConfig::builder_with_provider(std::sync::Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .expect("protocols")
    .with_no_client_auth()
    .with_single_cert(chain, key)
    .expect("TLS configuration");
    let acceptor = tokio_rustls::TlsAcceptor::from(std::sync::Arc::new(config));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let address = listener.local_addr().expect("address");
    tokio::spawn(async move {
        while let Ok((peer, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            let backend = backend.clone();
            tokio::spawn(async move {
                // A client that refuses the certificate ends here.
                let Ok(mut tls) = acceptor.accept(peer).await else {
                    return;
                };
                if let Ok(mut plain) = tokio::net::TcpStream::connect(&backend).await {
                    let _ = tokio::io::copy_bidirectional(&mut tls, &mut plain).await;
                }
            });
        }
    });
    format!("https://{address}")
}

/// Over https the CLI checks the server's certificate against the trusted roots
/// (`SSL_CERT_FILE` here names them): a certificate they vouch for works end to end, one
/// they do not is refused as unreachable (exit 3), saying why.
#[tokio::test(flavor = "multi_thread")]
async fn the_command_line_speaks_tls_and_checks_the_certificate() {
    let server = ServerProcess::start(&temp_dir("remote-cli-tls"), &[], None);
    let dir = temp_dir("tls");
    certificates(&dir);
    let backend = server.base_url.trim_start_matches("http://").to_string();
    let url = tls_proxy(&dir, backend).await;
    let token = token_of(&server, "ana").await;
    let id = deploy(&server, GATED).await;
    wait_for_status(&server, id, GATE, "RUNNING").await;
    let trusted = dir.join("ca.pem");
    let trusted = [("SSL_CERT_FILE", trusted.to_str().expect("path"))];

    let listed = tollgate_with(&url, Some(&token), &["gates"], &trusted);
    assert_eq!(listed.code, 0, "{}", listed.err);
    assert!(
        listed.out.contains(&format!("{id}\t{GATE}\trelease\t")),
        "{}",
        listed.out
    );
    let run = id.to_string();
    let args = [
        "approve",
        &run,
        GATE,
        "--option",
        "ship",
        "--input",
        "threshold=0.5",
    ];
    let approved = tollgate_with(&url, Some(&token), &args, &trusted);
    assert_eq!(approved.code, 0, "{}", approved.err);
    let done = wait_finished(&server, id).await;
    assert_eq!(done["run"]["status"], "COMPLETED", "{done:#}");

    // The server's own certificate is no authority: nothing vouches for it.
    let other = dir.join("server.pem");
    let untrusted = [("SSL_CERT_FILE", other.to_str().expect("path"))];
    let refused = tollgate_with(&url, Some(&token), &["gates"], &untrusted);
    assert_eq!(refused.code, 3, "{}", refused.err);
    assert!(
        refused.err.contains("cannot reach Tollgate"),
        "{}",
        refused.err
    );
    assert!(
        refused.err.contains("invalid peer certificate") && refused.err.contains("SSL_CERT_FILE"),
        "{}",
        refused.err
    );
}

/// A job's escape sequences reach a person's terminal as visible text (they could
/// rewrite earlier lines or the window title), and a pipe as the job wrote them.
#[tokio::test]
async fn a_jobs_control_characters_are_shown_not_obeyed_on_a_terminal() {
    let dir = temp_dir("remote-cli-terminal");
    let server = ServerProcess::start(&dir, &[], None);
    let token = token_of(&server, "ana").await;
    let id = deploy(
        &server,
        "name: tricky\njobs:\n  - {id: sly, run: 'printf \"failed\\033[1A\\rapproved\\033]0;title\\007\\n\"'}\n",
    )
    .await;
    wait_finished(&server, id).await;
    let run = id.to_string();

    let piped = tollgate(&server.base_url, Some(&token), &["logs", &run, "sly"]);
    assert_eq!(piped.code, 0, "{}", piped.err);
    assert_eq!(piped.out, "failed\u{1b}[1A\rapproved\u{1b}]0;title\u{7}\n");

    // `script` gives the command a real terminal and copies what it printed.
    let command = format!("{} logs {run} sly", env!("CARGO_BIN_EXE_tollgate"));
    let output = Command::new("script")
        .args(["-qec", &command, "/dev/null"])
        .env("TOLLGATE_URL", &server.base_url)
        .env("TOLLGATE_TOKEN", &token)
        .output()
        .expect("run script (util-linux)");
    let shown = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{shown}");
    assert!(
        shown.contains("failed\\x1b[1A\\rapproved\\x1b]0;title\\x07"),
        "{shown:?}"
    );
    assert!(!shown.contains('\u{1b}'), "{shown:?}");
}
