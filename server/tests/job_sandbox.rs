//! A job is a contained thing, checked with real processes through the real binary:
//! its environment is an allowlist, and with Landlock it reaches its own workspace and
//! `TMPDIR` but not the database nor other runs' workspaces.
//!
//! The filesystem tests need a kernel with Landlock (Linux 5.13+, enabled at boot);
//! without it they fail and say so rather than pass without checking anything.

mod common;

use std::path::{Path, PathBuf};

use common::process::ServerProcess;
use common::runs::{deploy, job, log, run, wait_finished};
use common::temp_dir;
use serde_json::Value;

fn workspace(server: &ServerProcess, run: i64) -> PathBuf {
    server.data_dir.join("workspaces").join(run.to_string())
}

/// The Landlock ABI the server found; fails the test, saying why, when this kernel
/// cannot sandbox jobs.
async fn require_landlock(server: &ServerProcess) -> u32 {
    let (status, body) = server.get("/readyz").await;
    assert_eq!(status, 200, "{body}");
    let body: Value = serde_json::from_str(&body).expect("JSON");
    let sandbox = body["sandbox"].as_str().unwrap_or_default();
    sandbox
        .strip_prefix("landlock abi ")
        .and_then(|abi| abi.parse().ok())
        .unwrap_or_else(|| {
            panic!("these tests need a kernel with Landlock; /readyz says `{sandbox}`")
        })
}

/// Asserts that `job` failed and that its log says the kernel refused it.
async fn assert_denied(server: &ServerProcess, detail: &Value, run: i64, id: &str) {
    let state = job(detail, id);
    assert_eq!(state["status"], "FAILED", "{id}: {state}");
    let text = log(server, run, id).await;
    assert!(text.contains("Permission denied"), "{id} logged: {text}");
}

/// Whatever the server was started with stays out of a job's reach: no process's
/// `/proc/<pid>/environ` (the server's, its threads', any other) shows the server's
/// variables, nor its memory map, and the job has no capabilities even when the server
/// runs as root.
#[tokio::test]
async fn a_job_cannot_read_the_servers_environment_or_memory_through_proc() {
    const MARKER: &str = "server-secret-4f1c9a";
    let server = ServerProcess::start_with_env(
        &temp_dir("sandbox-proc"),
        &[],
        None,
        &[("SOME_SERVER_SECRET", MARKER)],
    );
    // The check below could not fail if the marker were not there to find.
    let environ = std::fs::read(format!("/proc/{}/environ", server.pid())).expect("environ");
    assert!(
        String::from_utf8_lossy(&environ).contains(MARKER),
        "the test process reads the server's environment"
    );
    let id = deploy(
        &server,
        &format!(
            r#"
name: proc
jobs:
  - id: peek
    run: |
      for file in /proc/[0-9]*/environ /proc/[0-9]*/task/[0-9]*/environ; do
        if tr '\0' '\n' < "$file" 2>/dev/null | grep -q {MARKER}; then echo "read $file"; fi
      done
      if [ -r /proc/$PPID/maps ] && head -c 1 /proc/$PPID/maps >/dev/null 2>&1; then
        echo "read /proc/$PPID/maps"
      fi
      if head -c 1 /proc/$PPID/environ >/dev/null 2>&1; then echo "opened /proc/$PPID/environ"; fi
      grep CapEff /proc/self/status
      echo looked
"#
        ),
    )
    .await;
    let done = wait_finished(&server, id).await;
    assert_eq!(done["run"]["status"], "COMPLETED", "{done:#}");
    let text = log(&server, id, "peek").await;
    assert!(text.contains("looked"), "{text}");
    assert!(!text.contains("read /proc"), "{text}");
    assert!(!text.contains("opened /proc"), "{text}");
    assert!(
        text.lines().any(|line| line == "CapEff:\t0000000000000000"),
        "{text}"
    );
    let (status, ready) = server.get("/readyz").await;
    assert_eq!(status, 200, "{ready}");
    assert!(ready.contains(r#""server_memory":"closed""#), "{ready}");
}

#[tokio::test]
async fn a_job_sees_only_its_allowlisted_environment() {
    let server = ServerProcess::start_with_env(
        &temp_dir("sandbox-env"),
        &[],
        None,
        &[
            // Set but empty, which the server takes as "use SQLite": the name still
            // must not reach the job.
            ("DATABASE_URL", ""),
            // TOLLGATE_ADMIN_PASSWORD is set on every test server (common/process.rs).
            ("SOME_SERVER_SECRET", "server-only-value"),
            ("LANG", "C.UTF-8"),
        ],
    );
    let id = deploy(
        &server,
        "
name: env
jobs:
  - id: show
    run: env
    env:
      MODEL: small
",
    )
    .await;
    let done = wait_finished(&server, id).await;
    assert_eq!(done["run"]["status"], "COMPLETED", "{done:#}");

    let text = log(&server, id, "show").await;
    for absent in [
        "DATABASE_URL",
        "secret-xyz",
        "SOME_SERVER_SECRET",
        "server-only",
    ] {
        assert!(!text.contains(absent), "`{absent}` leaked into:\n{text}");
    }
    let private = server
        .data_dir
        .join("workspaces")
        .join(format!(".tmp-{id}-show"));
    let private = private.display();
    let workspace = workspace(&server, id);
    let workspace = workspace.display();
    for present in [
        format!("TOLLGATE_RUN_ID={id}"),
        "TOLLGATE_JOB_ID=show".to_string(),
        format!("TOLLGATE_WORKSPACE={workspace}"),
        format!(
            "TOLLGATE_GATES_DIR={}",
            server
                .data_dir
                .join("workspaces")
                .join(format!(".gates-{id}"))
                .display()
        ),
        format!("TMPDIR={private}"),
        format!("HOME={private}"),
        "MODEL=small".to_string(),
        "LANG=C.UTF-8".to_string(),
    ] {
        assert!(
            text.lines().any(|line| line == present),
            "no `{present}` in:\n{text}"
        );
    }
    assert!(
        text.lines().any(|line| line.starts_with("PATH=/")),
        "{text}"
    );
    let allowed = [
        "PATH",
        "HOME",
        "LANG",
        "LC_ALL",
        "LC_CTYPE",
        "TZ",
        "TMPDIR",
        "MODEL",
        "TOLLGATE_RUN_ID",
        "TOLLGATE_JOB_ID",
        "TOLLGATE_WORKSPACE",
        "TOLLGATE_GATES_DIR",
        // Set by the shell itself.
        "PWD",
        "OLDPWD",
        "SHLVL",
        "_",
    ];
    for line in text.lines() {
        let name = line.split('=').next().unwrap_or_default();
        assert!(allowed.contains(&name), "unexpected `{line}` in:\n{text}");
    }
}

#[tokio::test]
async fn a_job_cannot_read_or_write_the_database() {
    let data_dir = temp_dir("sandbox-db");
    let server = ServerProcess::start(&data_dir, &[], None);
    require_landlock(&server).await;
    let db = data_dir.join("tollgate.db");
    assert!(db.is_file(), "the SQLite file is {}", db.display());
    let db = db.display();
    let id = deploy(
        &server,
        &format!(
            "
name: db
jobs:
  - id: read
    run: head -c 16 {db}
  - id: append
    run: echo forged >> {db}
  - id: truncate
    run: truncate -s 0 {db}
  - id: remove
    run: rm -f {db}
  - id: relative
    run: cat ../../tollgate.db > /dev/null
  - id: device
    run: mknod disk b 8 0
"
        ),
    )
    .await;
    let done = wait_finished(&server, id).await;
    assert_eq!(done["run"]["status"], "FAILED", "{done:#}");
    for id_of_job in ["read", "append", "truncate", "remove", "relative"] {
        assert_denied(&server, &done, id, id_of_job).await;
    }
    // A device node for the disk would bypass every path rule. Without root, mknod is
    // refused anyway (EPERM); as root, it is the sandbox that refuses it.
    assert_eq!(job(&done, "device")["status"], "FAILED");
    assert!(!workspace(&server, id).join("disk").exists());

    // The store is intact and still works: the failures are recorded as such, and a
    // new run goes through.
    for id_of_job in ["read", "append", "truncate", "remove", "relative"] {
        let reason = job(&done, id_of_job)["reason"].as_str().unwrap_or_default();
        assert!(reason.starts_with("exit code "), "{id_of_job}: {reason}");
    }
    let next = deploy(
        &server,
        "name: after\njobs:\n  - id: ok\n    run: echo fine\n",
    )
    .await;
    let after = wait_finished(&server, next).await;
    assert_eq!(after["run"]["status"], "COMPLETED", "{after:#}");
    assert_eq!(log(&server, next, "ok").await, "fine\n");
    let again = run(&server, id).await;
    assert_eq!(again["run"]["status"], "FAILED", "{again:#}");
}

#[tokio::test]
async fn a_job_cannot_reach_another_runs_workspace() {
    let server = ServerProcess::start(&temp_dir("sandbox-runs"), &[], None);
    require_landlock(&server).await;
    let first = deploy(
        &server,
        "name: a\njobs:\n  - id: write\n    run: echo a-secret > secret.txt\n",
    )
    .await;
    let done = wait_finished(&server, first).await;
    assert_eq!(done["run"]["status"], "COMPLETED", "{done:#}");
    let other = workspace(&server, first);
    let secret = other.join("secret.txt");
    assert_eq!(
        std::fs::read_to_string(&secret).expect("secret"),
        "a-secret\n"
    );

    let other = other.display();
    let second = deploy(
        &server,
        &format!(
            "
name: b
jobs:
  - id: read
    run: cat {other}/secret.txt
  - id: list
    run: ls {other}
  - id: overwrite
    run: echo forged > {other}/secret.txt
  - id: plant
    run: echo planted > ../{first}/planted.txt
  - id: remove
    run: rm -f {other}/secret.txt
"
        ),
    )
    .await;
    let done = wait_finished(&server, second).await;
    assert_eq!(done["run"]["status"], "FAILED", "{done:#}");
    for id_of_job in ["read", "list", "overwrite", "plant", "remove"] {
        assert_denied(&server, &done, second, id_of_job).await;
    }
    assert_eq!(
        std::fs::read_to_string(&secret).expect("secret"),
        "a-secret\n"
    );
    assert!(!workspace(&server, first).join("planted.txt").exists());
}

#[tokio::test]
async fn a_job_works_in_its_workspace_and_tmpdir() {
    let server = ServerProcess::start(&temp_dir("sandbox-work"), &[], None);
    require_landlock(&server).await;
    let id = deploy(
        &server,
        r#"
name: work
jobs:
  - id: build
    run: |
      set -e
      ls /usr/bin > listing.txt
      test -s listing.txt
      mkdir -p out/deep && echo deep > out/deep/file.txt
      echo scratch > "$TMPDIR/scratch.txt"
      mv "$TMPDIR/scratch.txt" moved.txt
      mkdir "$HOME/.cache" && echo cached > "$HOME/.cache/entry"
      echo discarded > /dev/null
      head -c 8 /dev/urandom | wc -c
      grep -q root /etc/passwd
      head -c 1 /proc/self/status > /dev/null
      echo "tmp=$TMPDIR"
"#,
    )
    .await;
    let done = wait_finished(&server, id).await;
    assert_eq!(done["run"]["status"], "COMPLETED", "{done:#}");

    let private = server
        .data_dir
        .join("workspaces")
        .join(format!(".tmp-{id}-build"));
    assert_eq!(
        log(&server, id, "build").await,
        format!("8\ntmp={}\n", private.display())
    );
    let own = workspace(&server, id);
    let listing = std::fs::read_to_string(own.join("listing.txt")).expect("listing");
    assert!(listing.lines().any(|name| name == "sh"), "{listing}");
    assert_eq!(
        std::fs::read_to_string(own.join("out/deep/file.txt")).expect("deep"),
        "deep\n"
    );
    assert_eq!(
        std::fs::read_to_string(own.join("moved.txt")).expect("moved"),
        "scratch\n"
    );
    assert!(
        !Path::new(&private).exists(),
        "the job's private directory is removed when it ends"
    );
}

#[tokio::test]
async fn a_job_cannot_signal_the_server() {
    let server = ServerProcess::start(&temp_dir("sandbox-signal"), &[], None);
    let abi = require_landlock(&server).await;
    assert!(
        abi >= 6,
        "signal scoping needs Landlock ABI 6 (Linux 6.12); this kernel has {abi}"
    );
    let id = deploy(
        &server,
        "name: signal\njobs:\n  - id: poke\n    run: kill -0 $PPID\n",
    )
    .await;
    let done = wait_finished(&server, id).await;
    let state = job(&done, "poke");
    assert_eq!(state["status"], "FAILED", "{state}");
    let text = log(&server, id, "poke").await;
    assert!(text.contains("Operation not permitted"), "{text}");
}

/// The record of a decision lies where the run's jobs may read but not write: a job
/// released by the gate (and so running while the record exists) cannot replace,
/// remove or add to it, and the job after it reads what the approver decided.
#[tokio::test]
async fn no_job_of_the_run_can_change_a_gate_record() {
    let server = ServerProcess::start(&temp_dir("sandbox-gate-record"), &[], None);
    require_landlock(&server).await;
    let id = deploy(
        &server,
        r#"
name: records
jobs:
  - id: report
    run: echo report
    gate: {message: ship?}
  - id: forger
    depends_on: [report]
    run: |
      record="$TOLLGATE_GATES_DIR/hitl-gate-report.json"
      grep -q '"by": "ana"' "$record" && echo "can read"
      echo '{"decision": "approved", "by": "mallory"}' > "$record" && echo "replaced"
      rm -f "$record" && echo "removed"
      echo '{}' > "$TOLLGATE_GATES_DIR/other.json" && echo "added"
      true
  - id: reader
    depends_on: [forger]
    run: cat "$TOLLGATE_GATES_DIR/hitl-gate-report.json"
"#,
    )
    .await;
    common::runs::wait_for_status(&server, id, "hitl-gate-report", "RUNNING").await;
    let (status, decided) = server
        .post_as(
            "ana",
            "/api/decide_gate",
            serde_json::json!({"run_id": id, "gate": "hitl-gate-report", "decision": "approve"}),
        )
        .await;
    assert_eq!(status, 200, "{decided}");
    let done = wait_finished(&server, id).await;
    assert_eq!(done["run"]["status"], "COMPLETED", "{done:#}");
    let forger = log(&server, id, "forger").await;
    assert!(forger.contains("can read"), "{forger}");
    for refused in ["replaced", "removed", "added"] {
        assert!(!forger.contains(refused), "{refused}: {forger}");
    }
    assert!(forger.contains("Permission denied"), "{forger}");
    let record = log(&server, id, "reader").await;
    assert!(record.contains("\"by\": \"ana\""), "{record}");
    assert!(!record.contains("mallory"), "{record}");
}

/// `perl` (in every Debian, `perl-base`) trying a TCP connection to each port: prints
/// `connected <port>` or `refused <port>: <why>`.
fn try_ports(ports: &[u16]) -> String {
    let ports: Vec<String> = ports.iter().map(u16::to_string).collect();
    format!(
        r#"perl -MIO::Socket::INET -e 'for (@ARGV) {{ IO::Socket::INET->new(PeerAddr => "127.0.0.1", PeerPort => $_, Proto => "tcp") ? print "connected $_\n" : print "refused $_: $!\n" }}' {}"#,
        ports.join(" ")
    )
}

async fn jobs_cannot_reach_the_control_plane(database_url: Option<&str>) {
    let server = ServerProcess::start(&temp_dir("sandbox-network"), &[], database_url);
    require_landlock(&server).await;
    let (_, ready) = server.get("/readyz").await;
    assert!(
        ready.contains("tcp connect to 22,53,80,443 unless a job says otherwise"),
        "{ready}"
    );
    // A service of the test's own, which a job may reach only when it lists the port.
    let service = std::net::TcpListener::bind("127.0.0.1:0").expect("listen");
    let other = service.local_addr().expect("address").port();
    let api: u16 = server
        .base_url
        .rsplit(':')
        .next()
        .and_then(|port| port.parse().ok())
        .expect("the server's port");
    let all = [api, 5432, other];
    let id = deploy(
        &server,
        &format!(
            "name: net\njobs:\n  - id: default\n    run: {default}\n  - id: listed\n    run: {all}\n    network: {{connect: [{other}]}}\n  - id: closed\n    run: {all}\n    network: none\n",
            default = serde_json::to_string(&try_ports(&all)).expect("quote"),
            all = serde_json::to_string(&try_ports(&all)).expect("quote"),
        ),
    )
    .await;
    let done = wait_finished(&server, id).await;
    assert_eq!(done["run"]["status"], "COMPLETED", "{done:#}");
    for (job, reachable) in [
        ("default", vec![]),
        ("listed", vec![other]),
        ("closed", vec![]),
    ] {
        let text = log(&server, id, job).await;
        for port in all {
            let expected = if reachable.contains(&port) {
                format!("connected {port}")
            } else {
                format!("refused {port}: Permission denied")
            };
            assert!(text.contains(&expected), "{job}, {expected}:\n{text}");
        }
    }

    // Listing the control plane's ports is refused before anything runs.
    let mut refused_ports = vec![api];
    if database_url.is_some() {
        refused_ports.push(5432);
    }
    for port in refused_ports {
        let spec = format!(
            "name: sneaky\njobs:\n  - {{id: a, run: 'true', network: {{connect: [443, {port}]}}}}\n"
        );
        let (status, body) = server
            .post("/api/deploy_pipeline", serde_json::json!({"spec": spec}))
            .await;
        assert_eq!(status, 422, "{port}: {body}");
        assert!(
            body.to_string()
                .contains(&format!("job `a` lists port {port}")),
            "{body}"
        );
    }
}

#[tokio::test]
async fn jobs_cannot_reach_the_control_plane_on_sqlite() {
    jobs_cannot_reach_the_control_plane(None).await;
}

#[tokio::test]
async fn jobs_cannot_reach_the_control_plane_on_postgres() {
    let db = common::TestDb::postgres().await;
    jobs_cannot_reach_the_control_plane(db.url.as_deref()).await;
    db.finish().await;
}

/// An operator lets jobs run a tool installed outside the system paths (a conda or
/// pyenv install) and write a shared directory; a path around the data directory is
/// refused at start.
#[tokio::test]
async fn the_operator_may_open_extra_paths_to_jobs_but_never_the_data_directory() {
    use std::os::unix::fs::PermissionsExt;
    let root = temp_dir("sandbox-extra");
    let tools = root.join("conda/bin");
    let shared = root.join("datasets");
    std::fs::create_dir_all(&tools).expect("tools");
    std::fs::create_dir_all(&shared).expect("shared");
    let tool = tools.join("python-ish");
    std::fs::write(&tool, "#!/bin/sh\necho tool ran\n").expect("tool");
    std::fs::set_permissions(&tool, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    let script = format!(
        "{tool}; echo out > {shared}/result.txt && echo wrote; echo x > {tools}/planted && echo tool-dir-written; true",
        tool = tool.display(),
        shared = shared.display(),
        tools = tools.display(),
    );
    let spec = format!(
        "name: extra\njobs:\n  - id: use\n    run: {}\n",
        serde_json::to_string(&script).expect("quote")
    );

    let closed = ServerProcess::start(&root.join("closed"), &[], None);
    require_landlock(&closed).await;
    let id = deploy(&closed, &spec).await;
    wait_finished(&closed, id).await;
    let text = log(&closed, id, "use").await;
    assert!(
        !text.contains("tool ran") && !text.contains("wrote"),
        "{text}"
    );
    drop(closed);

    let tools_arg = root.join("conda").display().to_string();
    let shared_arg = shared.display().to_string();
    let open = ServerProcess::start(
        &root.join("open"),
        &[
            "--job-read-path",
            &tools_arg,
            "--job-write-path",
            &shared_arg,
        ],
        None,
    );
    let id = deploy(&open, &spec).await;
    wait_finished(&open, id).await;
    let text = log(&open, id, "use").await;
    assert!(
        text.contains("tool ran") && text.contains("wrote"),
        "{text}"
    );
    assert!(
        !text.contains("tool-dir-written"),
        "the read path is read-only: {text}"
    );
    assert_eq!(
        std::fs::read_to_string(shared.join("result.txt")).expect("written"),
        "out\n"
    );
    drop(open);

    let data = root.join("data");
    let around = root.display().to_string();
    let refused = common::process::tollgate(&data, &["--job-read-path", &around])
        .output()
        .expect("run tollgate");
    let said = String::from_utf8_lossy(&refused.stderr);
    assert!(!refused.status.success(), "{said}");
    assert!(
        said.contains("would let jobs reach the data directory"),
        "{said}"
    );
}
