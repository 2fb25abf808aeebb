//! A job ends when its shell ends: processes it leaves running (in its group, detached
//! with `setsid`, double-forked daemons, ones that ignore SIGTERM) are stopped, and
//! so are they on a timeout, a cancel and a server stop. Checked with real processes
//! through the real binary.
//!
//! Each `sleep` gets a duration unique to its test and to this test process
//! ([`duration`]), passed through the job's `env` so that only the `sleep` itself, not
//! the job's shell, shows it in its command line.

mod common;

use std::time::{Duration, Instant};

use common::process::ServerProcess;
use common::procs::{wait_gone, wait_present, with_marker, zombie_children};
use common::runs::{deploy, job, log, run, status_of, wait_finished, wait_until};
use common::temp_dir;
use serde_json::json;

/// A `sleep` duration long enough to outlive any test, with a fraction unique to this
/// test process.
fn duration(seconds: u32) -> String {
    format!("{seconds}.{}", std::process::id())
}

/// What `sleep <duration>` shows in `/proc`.
fn sleeping(duration: &str) -> String {
    format!("sleep {duration}")
}

/// Asserts that no `sleep <duration>` runs and that the server has no unreaped child.
fn assert_nothing_left(server: &ServerProcess, durations: &[&str]) {
    for duration in durations {
        assert_eq!(
            with_marker(&sleeping(duration)),
            Vec::<u32>::new(),
            "{duration}"
        );
    }
    assert_eq!(zombie_children(server.pid()), Vec::<u32>::new(), "zombies");
}

/// Waits until the job's log contains `text` (at most 10 s) and returns the log.
async fn wait_for_log(server: &ServerProcess, run: i64, job: &str, text: &str) -> String {
    let start = Instant::now();
    loop {
        let log = log(server, run, job).await;
        if log.contains(text) {
            return log;
        }
        assert!(start.elapsed() < Duration::from_secs(10), "log: {log}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn a_detached_process_holding_the_output_does_not_keep_the_job_running() {
    let server = ServerProcess::start(&temp_dir("leftover-setsid"), &[], None);
    let (ok, failing) = (duration(3001), duration(3101));
    let id = deploy(
        &server,
        &format!(
            "
name: detached
jobs:
  - {{id: ok, run: 'setsid sleep $D & echo started', env: {{D: '{ok}'}}}}
  - {{id: failing, run: 'setsid sleep $D & echo started; exit 4', env: {{D: '{failing}'}}}}
"
        ),
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
    assert_nothing_left(&server, &[&ok, &failing]);
}

#[tokio::test]
async fn a_background_process_in_the_jobs_group_is_stopped() {
    let server = ServerProcess::start(&temp_dir("leftover-background"), &[], None);
    let background = duration(3002);
    let id = deploy(
        &server,
        &format!(
            "
name: background
jobs:
  - {{id: bg, run: 'sleep $D & echo started', env: {{D: '{background}'}}}}
"
        ),
    )
    .await;
    let done = wait_finished(&server, id).await;
    assert_eq!(job(&done, "bg")["status"], "COMPLETED", "{done:#}");
    assert_eq!(
        log(&server, id, "bg").await,
        "started\n[tollgate] the job's shell exited; 1 leftover process(es) were stopped\n"
    );
    assert_nothing_left(&server, &[&background]);
}

#[tokio::test]
async fn a_double_forked_daemon_is_stopped_when_its_job_ends() {
    let server = ServerProcess::start(&temp_dir("leftover-daemon"), &[], None);
    // The daemon closes the job's output and leaves its group, session and parent: only
    // the subreaper still sees it.
    let daemon = duration(3003);
    let id = deploy(
        &server,
        &format!(
            r#"
name: daemon
jobs:
  - id: start_daemon
    run: (setsid sh -c 'sleep $D; echo never' </dev/null >/dev/null 2>&1 &) ; echo started
    env: {{D: '{daemon}'}}
"#
        ),
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
    assert_nothing_left(&server, &[&daemon]);
}

#[tokio::test]
async fn a_leftover_ignoring_sigterm_is_killed_after_the_grace() {
    let server = ServerProcess::start(&temp_dir("leftover-stubborn"), &[], None);
    let stubborn = duration(3004);
    let id = deploy(
        &server,
        &format!(
            r#"
name: stubborn
jobs:
  - id: stubborn
    run: setsid sh -c 'trap "" TERM; sleep $D; echo survived' & echo started
    env: {{D: '{stubborn}'}}
"#
        ),
    )
    .await;
    let done = wait_finished(&server, id).await;
    let state = job(&done, "stubborn");
    assert_eq!(state["status"], "COMPLETED", "{done:#}");
    let took = state["finished_at_ms"].as_i64().unwrap_or_default()
        - state["started_at_ms"].as_i64().unwrap_or_default();
    // The drain, then SIGTERM, which is ignored, then SIGKILL after the grace.
    assert!(took >= 3_000, "SIGKILL came after {took} ms");
    let text = log(&server, id, "stubborn").await;
    assert!(text.starts_with("started\n"), "{text}");
    assert!(!text.contains("survived"), "{text}");
    assert!(text.contains("leftover process(es) were stopped"), "{text}");
    assert_nothing_left(&server, &[&stubborn]);
}

#[tokio::test]
async fn a_timeout_stops_the_job_and_its_detached_children() {
    let server = ServerProcess::start(&temp_dir("leftover-timeout"), &[], None);
    let (detached, own) = (duration(3005), duration(3006));
    let id = deploy(
        &server,
        &format!(
            "
name: timing_out
jobs:
  - id: slow
    run: 'setsid sleep $A & sleep $B'
    env: {{A: '{detached}', B: '{own}'}}
    timeout: 1
"
        ),
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
    assert_nothing_left(&server, &[&detached, &own]);
}

#[tokio::test]
async fn a_cancel_stops_the_job_and_its_detached_children() {
    let server = ServerProcess::start(&temp_dir("leftover-cancel"), &[], None);
    let (detached, own) = (duration(3007), duration(3008));
    let id = deploy(
        &server,
        &format!(
            "
name: cancelled
jobs:
  - {{id: long, run: 'setsid sleep $A & sleep $B', env: {{A: '{detached}', B: '{own}'}}}}
"
        ),
    )
    .await;
    wait_present(&sleeping(&detached)).await;
    wait_present(&sleeping(&own)).await;
    let (status, cancelled) = server
        .post("/api/cancel_job", json!({"run_id": id, "job": "long"}))
        .await;
    assert_eq!(status, 200, "{cancelled}");
    let done = wait_finished(&server, id).await;
    assert_eq!(job(&done, "long")["status"], "CANCELLED", "{done:#}");
    wait_gone(&sleeping(&detached), Duration::from_secs(10)).await;
    wait_gone(&sleeping(&own), Duration::from_secs(10)).await;
    wait_for_log(
        &server,
        id,
        "long",
        "[tollgate] the job was stopped; its shell and ",
    )
    .await;
    assert_nothing_left(&server, &[&detached, &own]);
}

#[tokio::test]
async fn a_server_stop_leaves_no_job_process_behind() {
    let dir = temp_dir("leftover-stop");
    let mut server = ServerProcess::start(&dir, &["--shutdown-grace", "1"], None);
    let all: Vec<String> = [3009, 3010, 3011, 3012].map(duration).into();
    let id = deploy(
        &server,
        &format!(
            r#"
name: stopping
jobs:
  - id: detached
    run: setsid sleep $A & sleep $B
    env: {{A: '{}', B: '{}'}}
  - id: daemon
    run: (setsid sleep $A </dev/null >/dev/null 2>&1 &) ; sleep $B
    env: {{A: '{}', B: '{}'}}
"#,
            all[0], all[1], all[2], all[3]
        ),
    )
    .await;
    for duration in &all {
        wait_present(&sleeping(duration)).await;
    }
    server.terminate();
    let code = server.wait_for_exit(Duration::from_secs(15));
    assert_eq!(code, Some(0), "a clean exit");
    for duration in &all {
        assert_eq!(
            with_marker(&sleeping(duration)),
            Vec::<u32>::new(),
            "{duration}"
        );
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
    let daemon = duration(3013);
    // `keeper` starts a daemon and waits; `quick` ends meanwhile, and the search for its
    // leftovers sees keeper's daemon, which must survive until keeper ends.
    let id = deploy(
        &server,
        &format!(
            r#"
name: owners
jobs:
  - id: keeper
    run: |
      (setsid sleep $D </dev/null >/dev/null 2>&1 & echo $! > daemon.pid)
      while [ ! -e go-on ]; do sleep 0.05; done
      kill -0 "$(cat daemon.pid)" && echo daemon-alive
    env: {{D: '{daemon}'}}
  - {{id: quick, run: 'while [ ! -s daemon.pid ]; do sleep 0.05; done'}}
"#
        ),
    )
    .await;
    wait_present(&sleeping(&daemon)).await;
    let detail = wait_until(&server, id, |d| status_of(d, "quick") == "COMPLETED").await;
    assert_eq!(status_of(&detail, "keeper"), "RUNNING");
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
    assert_nothing_left(&server, &[&daemon]);
}

#[tokio::test]
async fn orphans_that_exit_while_their_job_runs_are_reaped_at_once() {
    let server = ServerProcess::start(&temp_dir("leftover-zombies"), &[], None);
    // Short, and unique all the same.
    let short = format!("0.3{}", std::process::id());
    let id = deploy(
        &server,
        &format!(
            "
name: zombies
jobs:
  - id: forker
    run: |
      (sleep $D &); (sleep $D &); (sleep $D &)
      touch spawned
      while [ ! -e go-on ]; do sleep 0.05; done
    env: {{D: '{short}'}}
"
        ),
    )
    .await;
    let workspace = server.data_dir.join("workspaces").join(id.to_string());
    let start = Instant::now();
    while !workspace.join("spawned").exists() {
        assert!(start.elapsed() < Duration::from_secs(10), "never spawned");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // The orphans exit on their own after 0.3 s, while the job still runs.
    loop {
        let running = with_marker(&sleeping(&short));
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
    assert_eq!(status_of(&run(&server, id).await, "forker"), "RUNNING");
    std::fs::write(workspace.join("go-on"), "").expect("write go-on");
    let done = wait_finished(&server, id).await;
    assert_eq!(job(&done, "forker")["status"], "COMPLETED", "{done:#}");
    assert_eq!(
        log(&server, id, "forker").await,
        "",
        "nothing was left to stop"
    );
}

#[tokio::test]
async fn a_timeout_sends_sigterm_first_and_sigkill_after_the_grace() {
    let server = ServerProcess::start(&temp_dir("leftover-term-first"), &[], None);
    let (graceful, stubborn) = (duration(3016), duration(3017));
    let id = deploy(
        &server,
        &format!(
            r#"
name: term_first
jobs:
  - id: graceful
    run: trap 'echo got-term; exit 0' TERM; sleep $D & wait
    env: {{D: '{graceful}'}}
    timeout: 1
  - id: stubborn
    run: trap '' TERM; sleep $D
    env: {{D: '{stubborn}'}}
    timeout: 1
"#
        ),
    )
    .await;
    let done = wait_finished(&server, id).await;
    let took = |name: &str| {
        let state = job(&done, name);
        state["finished_at_ms"].as_i64().unwrap_or_default()
            - state["started_at_ms"].as_i64().unwrap_or_default()
    };
    for name in ["graceful", "stubborn"] {
        assert_eq!(job(&done, name)["reason"], "timed out after 1s", "{done:#}");
    }
    assert!(
        log(&server, id, "graceful").await.starts_with("got-term\n"),
        "SIGTERM reached the shell"
    );
    assert!(
        took("graceful") < 3_000,
        "graceful took {} ms",
        took("graceful")
    );
    assert!(
        took("stubborn") >= 4_000,
        "SIGKILL after {} ms",
        took("stubborn")
    );
    assert_nothing_left(&server, &[&graceful, &stubborn]);
}
