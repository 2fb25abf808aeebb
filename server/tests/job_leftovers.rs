//! A job ends when its shell ends: processes it leaves running (in its group, detached
//! with `setsid`, double-forked daemons, ones that ignore SIGTERM) are stopped, and
//! so are they on a timeout, a cancel and a server stop. Checked with real processes
//! through the real binary; each test's `sleep` has a number of its own, so a process
//! left behind is found by its command line.

mod common;

use std::time::{Duration, Instant};

use common::process::ServerProcess;
use common::runs::{deploy, job, log, run, wait_finished, wait_until};
use common::temp_dir;
use serde_json::json;

/// The pids of processes whose command line starts with `needle` (arguments joined
/// by spaces): `sleep 3001`, not the job's shell, whose command line holds the script.
fn processes_running(needle: &str) -> Vec<i32> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(Result::ok)
        .filter_map(|entry| entry.file_name().to_str()?.parse::<i32>().ok())
        .filter(|pid| {
            std::fs::read(format!("/proc/{pid}/cmdline"))
                .map(|raw| {
                    let text: Vec<u8> = raw
                        .into_iter()
                        .map(|byte| if byte == 0 { b' ' } else { byte })
                        .collect();
                    String::from_utf8_lossy(&text).starts_with(needle)
                })
                .unwrap_or(false)
        })
        .collect()
}

/// Zombie children of `parent`: processes that ended and nobody reaped.
fn zombie_children(parent: u32) -> Vec<i32> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(Result::ok)
        .filter_map(|entry| entry.file_name().to_str()?.parse::<i32>().ok())
        .filter(|pid| {
            let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
                return false;
            };
            let Some((_, rest)) = stat.rsplit_once(')') else {
                return false;
            };
            let fields: Vec<&str> = rest.split_whitespace().collect();
            fields.first() == Some(&"Z") && fields.get(1) == Some(&parent.to_string().as_str())
        })
        .collect()
}

/// Waits until no process runs `needle` (at most 10 s).
async fn wait_none_running(needle: &str) {
    let start = Instant::now();
    loop {
        let left = processes_running(needle);
        if left.is_empty() {
            return;
        }
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "`{needle}` still runs: {left:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Waits until `needle` runs (at most 10 s).
async fn wait_running(needle: &str) {
    let start = Instant::now();
    while processes_running(needle).is_empty() {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "`{needle}` never started"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Asserts that nothing runs `needle` and that the server has no unreaped child.
fn assert_nothing_left(server: &ServerProcess, needle: &str) {
    assert_eq!(processes_running(needle), Vec::<i32>::new(), "{needle}");
    assert_eq!(zombie_children(server.pid()), Vec::<i32>::new(), "zombies");
}

#[tokio::test]
async fn a_detached_process_holding_the_output_does_not_keep_the_job_running() {
    let server = ServerProcess::start(&temp_dir("leftover-setsid"), &[], None);
    let id = deploy(
        &server,
        "
name: detached
jobs:
  - {id: ok, run: 'setsid sleep 3001 & echo started'}
  - {id: failing, run: 'setsid sleep 3101 & echo started; exit 4'}
",
    )
    .await;
    let done = wait_finished(&server, id).await;
    assert_eq!(job(&done, "ok")["status"], "COMPLETED", "{done:#}");
    assert_eq!(job(&done, "failing")["exit_code"], 4, "{done:#}");
    assert_eq!(job(&done, "failing")["reason"], "exit code 4");
    for name in ["ok", "failing"] {
        assert_eq!(
            log(&server, id, name).await,
            "started\n[tollgate] the job's shell exited; 1 leftover process(es) were stopped\n",
            "{name}"
        );
    }
    assert_nothing_left(&server, "sleep 3001");
    assert_nothing_left(&server, "sleep 3101");
}

#[tokio::test]
async fn a_background_process_in_the_jobs_group_is_stopped() {
    let server = ServerProcess::start(&temp_dir("leftover-background"), &[], None);
    let id = deploy(
        &server,
        "
name: background
jobs:
  - {id: bg, run: 'sleep 3002 & echo started'}
",
    )
    .await;
    let done = wait_finished(&server, id).await;
    assert_eq!(job(&done, "bg")["status"], "COMPLETED", "{done:#}");
    assert_eq!(
        log(&server, id, "bg").await,
        "started\n[tollgate] the job's shell exited; 1 leftover process(es) were stopped\n"
    );
    assert_nothing_left(&server, "sleep 3002");
}

#[tokio::test]
async fn a_double_forked_daemon_is_stopped_when_its_job_ends() {
    let server = ServerProcess::start(&temp_dir("leftover-daemon"), &[], None);
    // The daemon closes the job's output and leaves its group, session and parent: only
    // the subreaper still sees it.
    let id = deploy(
        &server,
        r#"
name: daemon
jobs:
  - id: start_daemon
    run: (setsid sh -c 'sleep 3003; echo never' </dev/null >/dev/null 2>&1 &) ; echo started
"#,
    )
    .await;
    let done = wait_finished(&server, id).await;
    assert_eq!(
        job(&done, "start_daemon")["status"],
        "COMPLETED",
        "{done:#}"
    );
    let text = log(&server, id, "start_daemon").await;
    assert!(text.starts_with("started\n"), "{text}");
    assert!(text.contains("leftover process(es) were stopped"), "{text}");
    assert_nothing_left(&server, "sleep 3003");
}

#[tokio::test]
async fn a_leftover_ignoring_sigterm_is_killed_after_the_grace() {
    let server = ServerProcess::start(&temp_dir("leftover-stubborn"), &[], None);
    let id = deploy(
        &server,
        r#"
name: stubborn
jobs:
  - id: stubborn
    run: setsid sh -c 'trap "" TERM; sleep 3004; echo survived' & echo started
"#,
    )
    .await;
    let done = wait_finished(&server, id).await;
    let stubborn = job(&done, "stubborn");
    assert_eq!(stubborn["status"], "COMPLETED", "{done:#}");
    let took = stubborn["finished_at_ms"].as_i64().unwrap_or_default()
        - stubborn["started_at_ms"].as_i64().unwrap_or_default();
    // The drain, then SIGTERM, which is ignored, then SIGKILL after the grace.
    assert!(took >= 3_000, "SIGKILL came after {took} ms");
    let text = log(&server, id, "stubborn").await;
    assert!(text.starts_with("started\n"), "{text}");
    assert!(!text.contains("survived"), "{text}");
    assert!(text.contains("leftover process(es) were stopped"), "{text}");
    assert_nothing_left(&server, "sleep 3004");
}

#[tokio::test]
async fn a_timeout_stops_the_job_and_its_detached_children() {
    let server = ServerProcess::start(&temp_dir("leftover-timeout"), &[], None);
    let id = deploy(
        &server,
        "
name: timing_out
jobs:
  - {id: slow, run: 'setsid sleep 3005 & sleep 3006', timeout: 1}
",
    )
    .await;
    let done = wait_finished(&server, id).await;
    let slow = job(&done, "slow");
    assert_eq!(slow["status"], "FAILED", "{done:#}");
    assert_eq!(slow["reason"], "timed out after 1s");
    let text = log(&server, id, "slow").await;
    assert!(
        text.contains("[tollgate] the job timed out; its shell and ")
            && text.contains(" other process(es) were stopped"),
        "{text}"
    );
    assert_nothing_left(&server, "sleep 3005");
    assert_nothing_left(&server, "sleep 3006");
}

#[tokio::test]
async fn a_cancel_stops_the_job_and_its_detached_children() {
    let server = ServerProcess::start(&temp_dir("leftover-cancel"), &[], None);
    let id = deploy(
        &server,
        "
name: cancelled
jobs:
  - {id: long, run: 'setsid sleep 3007 & sleep 3008'}
",
    )
    .await;
    wait_running("sleep 3007").await;
    wait_running("sleep 3008").await;
    let (status, cancelled) = server
        .post("/api/cancel_job", json!({"run_id": id, "job": "long"}))
        .await;
    assert_eq!(status, 200, "{cancelled}");
    let done = wait_finished(&server, id).await;
    assert_eq!(job(&done, "long")["status"], "CANCELLED", "{done:#}");
    wait_none_running("sleep 3007").await;
    let start = Instant::now();
    loop {
        let text = log(&server, id, "long").await;
        if text.contains("[tollgate] the job was stopped; its shell and ") {
            break;
        }
        assert!(start.elapsed() < Duration::from_secs(10), "log: {text}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    wait_none_running("sleep 3008").await;
    assert_nothing_left(&server, "sleep 3007");
}

#[tokio::test]
async fn a_server_stop_leaves_no_job_process_behind() {
    let dir = temp_dir("leftover-stop");
    let mut server = ServerProcess::start(&dir, &["--shutdown-grace", "1"], None);
    let id = deploy(
        &server,
        r#"
name: stopping
jobs:
  - {id: detached, run: 'setsid sleep 3009 & sleep 3010'}
  - id: daemon
    run: (setsid sleep 3011 </dev/null >/dev/null 2>&1 &) ; sleep 3012
"#,
    )
    .await;
    for needle in ["sleep 3009", "sleep 3010", "sleep 3011", "sleep 3012"] {
        wait_running(needle).await;
    }
    server.terminate();
    let code = server.wait_for_exit(Duration::from_secs(15));
    assert_eq!(code, Some(0), "a clean exit");
    for needle in ["sleep 3009", "sleep 3010", "sleep 3011", "sleep 3012"] {
        assert_eq!(processes_running(needle), Vec::<i32>::new(), "{needle}");
    }
    drop(server);
    let server = ServerProcess::start(&dir, &[], None);
    let after = run(&server, id).await;
    assert_eq!(
        job(&after, "daemon")["reason"],
        "stopped by server shutdown after the 1s grace period"
    );
}

#[tokio::test]
async fn an_orphan_of_a_running_job_is_left_to_it() {
    let server = ServerProcess::start(&temp_dir("leftover-owner"), &["--max-jobs", "4"], None);
    // `keeper` starts a daemon and waits; `quick` ends meanwhile, and the search for its
    // leftovers sees keeper's daemon, which must survive until keeper ends.
    let id = deploy(
        &server,
        r#"
name: owners
jobs:
  - id: keeper
    run: |
      (setsid sleep 3013 </dev/null >/dev/null 2>&1 & echo $! > daemon.pid)
      while [ ! -e go-on ]; do sleep 0.05; done
      kill -0 "$(cat daemon.pid)" && echo daemon-alive
  - {id: quick, run: 'while [ ! -s daemon.pid ]; do sleep 0.05; done'}
"#,
    )
    .await;
    wait_running("sleep 3013").await;
    let detail = wait_until(&server, id, |d| {
        common::runs::status_of(d, "quick") == "COMPLETED"
    })
    .await;
    assert_eq!(common::runs::status_of(&detail, "keeper"), "RUNNING");
    let workspace = server.data_dir.join("workspaces").join(id.to_string());
    std::fs::write(workspace.join("go-on"), "").expect("write go-on");
    let done = wait_finished(&server, id).await;
    assert_eq!(job(&done, "keeper")["status"], "COMPLETED", "{done:#}");
    let text = log(&server, id, "keeper").await;
    assert!(text.starts_with("daemon-alive\n"), "{text}");
    assert!(
        text.contains("1 leftover process(es) were stopped"),
        "{text}"
    );
    assert_nothing_left(&server, "sleep 3013");
}

#[tokio::test]
async fn orphans_that_exit_while_their_job_runs_are_reaped_at_once() {
    let server = ServerProcess::start(&temp_dir("leftover-zombies"), &[], None);
    let id = deploy(
        &server,
        "
name: zombies
jobs:
  - id: forker
    run: |
      (sleep 0.3015 &); (sleep 0.3015 &); (sleep 0.3015 &)
      touch spawned
      while [ ! -e go-on ]; do sleep 0.05; done
",
    )
    .await;
    let workspace = server.data_dir.join("workspaces").join(id.to_string());
    let start = Instant::now();
    while !workspace.join("spawned").exists() {
        assert!(start.elapsed() < Duration::from_secs(10), "never spawned");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // The orphans exit on their own after 0.3 s; the job still runs.
    loop {
        let running = processes_running("sleep 0.3015");
        let zombies = zombie_children(server.pid());
        if running.is_empty() && zombies.is_empty() {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "running {running:?}, unreaped {zombies:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(
        common::runs::status_of(&run(&server, id).await, "forker"),
        "RUNNING"
    );
    std::fs::write(workspace.join("go-on"), "").expect("write go-on");
    let done = wait_finished(&server, id).await;
    assert_eq!(job(&done, "forker")["status"], "COMPLETED", "{done:#}");
    assert_eq!(
        log(&server, id, "forker").await,
        "",
        "nothing was left to stop"
    );
}
