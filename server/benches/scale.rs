//! The scheduler at scale, measured from outside: the release binary over HTTP, a fresh
//! data directory (and a fresh Postgres database) for every round, three rounds, and
//! the range of the three printed. `cargo bench -p server --bench scale`.
//!
//! `TOLLGATE_BENCH_ROUNDS` (default 3), `TOLLGATE_BENCH_BACKENDS` (`sqlite,postgres`)
//! and `TOLLGATE_BENCH_ONLY` (figure groups, see `wanted`) narrow it down. Times are the server's own (`created_at`, `started_at`,
//! `finished_at`, in milliseconds), so the client's polling does not count.

#[path = "../tests/common/mod.rs"]
mod common;

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use common::process::ServerProcess;
use serde_json::{Value, json};

/// One figure per round.
#[derive(Default)]
struct Figures {
    rows: Vec<(String, Vec<f64>, &'static str)>,
}

impl Figures {
    fn add(&mut self, what: &str, value: f64, unit: &'static str) {
        println!("  {what}: {value:.2} {unit}");
        match self.rows.iter_mut().find(|(name, ..)| name == what) {
            Some((_, values, _)) => values.push(value),
            None => self.rows.push((what.to_string(), vec![value], unit)),
        }
    }

    fn print(&self, backend: &str) {
        println!("\n| {backend} | min | max | rounds |\n|---|---|---|---|");
        for (what, values, unit) in &self.rows {
            let min = values.iter().copied().fold(f64::INFINITY, f64::min);
            let max = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            println!(
                "| {what} | {min:.1} {unit} | {max:.1} {unit} | {} |",
                values.len()
            );
        }
    }
}

fn wide(name: &str, jobs: usize) -> String {
    let mut yaml = format!("name: {name}\njobs:\n");
    for i in 0..jobs {
        yaml.push_str(&format!("  - {{id: j{i}, run: 'true'}}\n"));
    }
    yaml
}

fn chain(jobs: usize) -> String {
    let mut yaml = "name: chain\njobs:\n  - {id: j0, run: 'true'}\n".to_string();
    for i in 1..jobs {
        yaml.push_str(&format!(
            "  - {{id: j{i}, run: 'true', depends_on: [j{}]}}\n",
            i - 1
        ));
    }
    yaml
}

async fn deploy(server: &ServerProcess, yaml: &str) -> i64 {
    let (status, deployed) = server
        .post("/api/deploy_pipeline", json!({"spec": yaml}))
        .await;
    assert_eq!(status, 200, "deploy: {deployed}");
    deployed["run_id"].as_i64().expect("run id")
}

/// Polls (only the changes, every 100 ms) until the run has finished; returns its
/// summary.
async fn finished(server: &ServerProcess, run: i64) -> Value {
    let start = Instant::now();
    let mut since: Option<i64> = None;
    loop {
        let (status, progress) = server
            .post("/api/run_statuses", json!({"run_id": run, "since": since}))
            .await;
        assert_eq!(status, 200, "{progress}");
        if progress["run"]["status"] != "RUNNING" {
            assert_eq!(progress["run"]["status"], "COMPLETED", "{progress}");
            return progress["run"].clone();
        }
        since = progress["version"].as_i64();
        assert!(
            start.elapsed() < Duration::from_secs(600),
            "stuck: {}",
            progress["run"]
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Jobs per second from deploy to finish, by the server's clock.
async fn throughput(server: &ServerProcess, jobs: usize) -> f64 {
    let run = deploy(server, &wide("wide", jobs)).await;
    let summary = finished(server, run).await;
    let ms = summary["finished_at_ms"].as_i64().unwrap_or(0)
        - summary["created_at_ms"].as_i64().unwrap_or(0);
    jobs as f64 / (ms.max(1) as f64 / 1000.0)
}

/// The server's peak resident memory so far, in MiB.
fn peak_rss_mib(server: &ServerProcess) -> f64 {
    memory_mib(server, "VmHWM:")
}

/// One memory figure of the server's `/proc/<pid>/status` (`VmRSS:`, `VmHWM:`), in MiB.
fn memory_mib(server: &ServerProcess, field: &str) -> f64 {
    let status =
        std::fs::read_to_string(format!("/proc/{}/status", server.pid())).unwrap_or_default();
    status
        .lines()
        .find_map(|line| line.strip_prefix(field))
        .and_then(|rest| {
            rest.trim()
                .trim_end_matches("kB")
                .trim()
                .parse::<f64>()
                .ok()
        })
        .map_or(0.0, |kib| kib / 1024.0)
}

/// 100 password sign-ins, 20 at a time, each of 20 users from its own loopback
/// address (so the limiter counts none against another): the server's resident memory
/// before, after and at its peak, in MiB.
async fn signins(server: &ServerProcess) -> (f64, f64, f64) {
    const AT_ONCE: usize = 20;
    for k in 0..AT_ONCE {
        let (status, body) = server
            .post(
                "/api/create_user",
                json!({"username": format!("signin{k}"), "password": format!("password-of-signin{k}"), "roles": ["viewer"]}),
            )
            .await;
        assert_eq!(status, 200, "{body}");
    }
    let before = memory_mib(server, "VmRSS:");
    for _ in 0..100 / AT_ONCE {
        let attempts = (0..AT_ONCE).map(|k| async move {
            let client = reqwest::Client::builder()
                .local_address(std::net::IpAddr::from([127, 0, 0, 10 + k as u8]))
                .build()
                .expect("client");
            client
                .post(format!("{}/api/login", server.base_url))
                .json(&json!({"username": format!("signin{k}"), "password": format!("password-of-signin{k}")}))
                .send()
                .await
                .expect("login")
                .status()
                .as_u16()
        });
        let statuses = futures_util::future::join_all(attempts).await;
        assert!(statuses.iter().all(|s| *s == 200), "{statuses:?}");
    }
    (before, memory_mib(server, "VmRSS:"), peak_rss_mib(server))
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values.get(values.len() / 2).copied().unwrap_or(f64::NAN)
}

/// start(k) -> start(k+1) along a chain: the median of the hops (millisecond
/// resolution) and the mean over the whole chain (finer).
async fn chain_hops(server: &ServerProcess, jobs: usize) -> (f64, f64) {
    let run = deploy(server, &chain(jobs)).await;
    finished(server, run).await;
    let (_, detail) = server.post("/api/get_run", json!({"run_id": run})).await;
    let starts: Vec<f64> = (0..jobs)
        .map(|i| {
            let id = format!("j{i}");
            detail["jobs"]
                .as_array()
                .and_then(|all| all.iter().find(|job| job["id"] == id.as_str()))
                .and_then(|job| job["started_at_ms"].as_i64())
                .expect("every job started") as f64
        })
        .collect();
    let hops: Vec<f64> = starts.windows(2).map(|pair| pair[1] - pair[0]).collect();
    let mean = (starts[jobs - 1] - starts[0]) / (jobs - 1) as f64;
    (median(hops), mean)
}

fn now_ns() -> i128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as i128)
}

const GATED: &str = "
name: latency
jobs:
  - {id: source, run: 'true', gate: {message: Approve to measure}}
  - {id: released, run: 'date +%s%N', depends_on: [source]}
";

async fn job_status(server: &ServerProcess, run: i64, job: &str) -> String {
    let (_, detail) = server.post("/api/get_run", json!({"run_id": run})).await;
    detail["jobs"]
        .as_array()
        .and_then(|all| all.iter().find(|j| j["id"] == job))
        .and_then(|j| j["status"].as_str())
        .unwrap_or_default()
        .to_string()
}

async fn wait_for(server: &ServerProcess, run: i64, job: &str, status: &str) {
    let start = Instant::now();
    while job_status(server, run, job).await != status {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "{job} never became {status}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// From sending an approval to the job behind the gate running its first command
/// (it prints `date +%s%N`), the median of 30.
async fn approve_to_start(server: &ServerProcess) -> f64 {
    server.session("bench").await;
    let mut samples = Vec::new();
    for _ in 0..30 {
        let run = deploy(server, GATED).await;
        wait_for(server, run, "hitl-gate-source", "RUNNING").await;
        let sent = now_ns();
        let (status, body) = server
            .post_as(
                "bench",
                "/api/decide_gate",
                json!({"run_id": run, "gate": "hitl-gate-source", "decision": "approve"}),
            )
            .await;
        assert_eq!(status, 200, "{body}");
        wait_for(server, run, "released", "COMPLETED").await;
        let (_, log) = server
            .post("/api/job_log", json!({"run_id": run, "job": "released"}))
            .await;
        let started: i128 = log["text"]
            .as_str()
            .and_then(|text| text.trim().parse().ok())
            .expect("the job printed its start time");
        samples.push((started - sent) as f64 / 1e6);
    }
    median(samples)
}

/// The run page's poll on a finished 5,000-job run, the median of 30: every job, and
/// only the changes since the version the page holds. Timed from the request to the
/// last byte of the answer on a plain socket (the client does not parse the JSON), so
/// it is the server's time plus a loopback transfer.
async fn status_poll(server: &ServerProcess) -> (f64, f64) {
    let run = deploy(server, &wide("poll", 5000)).await;
    finished(server, run).await;
    let (_, progress) = server
        .post("/api/run_statuses", json!({"run_id": run}))
        .await;
    assert_eq!(progress["jobs"].as_array().map(Vec::len), Some(5000));
    let version = progress["version"].as_i64();
    let cookie = server.session("admin").await;
    let timed = |body: Value| {
        let start = Instant::now();
        let (status, text) = server.raw_request(
            "POST",
            "/api/run_statuses",
            "127.0.0.1",
            &[
                ("cookie", cookie.as_str()),
                ("content-type", "application/json"),
                ("accept", "application/json"),
            ],
            &body.to_string(),
        );
        assert_eq!(status, 200, "{text}");
        start.elapsed().as_secs_f64() * 1000.0
    };
    let full: Vec<f64> = (0..30).map(|_| timed(json!({"run_id": run}))).collect();
    let since: Vec<f64> = (0..30)
        .map(|_| timed(json!({"run_id": run, "since": version})))
        .collect();
    (median(full), median(since))
}

/// The wasm each area of the UI downloads, as the release server sends it: one row per
/// area with the bundle's size raw, under gzip and under brotli (the encodings the
/// server chooses by `Accept-Encoding`). Needs the built client in `dist/`
/// (`scripts/build.sh release`). The sizes do not vary, so this runs once.
async fn bundle_sizes() {
    let dist = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../dist");
    if !dist.join("index.html").is_file() {
        println!("bundle sizes skipped: build the client first (scripts/build.sh release)");
        return;
    }
    let dir = common::temp_dir("scale-bundle");
    let dist_arg = dist.to_string_lossy().into_owned();
    let server = ServerProcess::start(&dir, &["--dist", &dist_arg], None);
    let client = reqwest::Client::new();
    let get = |path: String, encoding: &'static str| {
        let request = client
            .get(format!("{}{path}", server.base_url))
            .header("accept-encoding", encoding);
        async move {
            let response = request.send().await.expect("the server answers");
            assert!(
                response.status().is_success(),
                "{path}: {}",
                response.status()
            );
            response.bytes().await.expect("body")
        }
    };
    println!("\n| page | wasm | raw | gzip | brotli |\n|---|---|---|---|---|");
    for page in ["/", "/approvals", "/pipelines", "/constructor"] {
        let html = String::from_utf8_lossy(&get(page.to_string(), "identity").await).into_owned();
        let Some(wasm) = html
            .split('"')
            .find(|part| part.ends_with("_bg.wasm"))
            .map(str::to_string)
        else {
            panic!("{page}: no wasm named in its page");
        };
        let kib = |bytes: usize| format!("{bytes} B ({:.1} KiB)", bytes as f64 / 1024.0);
        let raw = get(wasm.clone(), "identity").await.len();
        let gzip = get(wasm.clone(), "gzip").await.len();
        let brotli = get(wasm.clone(), "br").await.len();
        println!(
            "| {page} | {wasm} | {} | {} | {} |",
            kib(raw),
            kib(gzip),
            kib(brotli)
        );
    }
    drop(server);
    let _ = std::fs::remove_dir_all(&dir);
}

/// Whether a group of figures is measured: `TOLLGATE_BENCH_ONLY` (e.g. `approve,chain`)
/// narrows a run to those groups (`throughput`, `chain`, `approve`, `poll`, `signins`,
/// `big`, `bundle`).
fn wanted(group: &str) -> bool {
    std::env::var("TOLLGATE_BENCH_ONLY").map_or(true, |only| {
        only.split(',').any(|name| name.trim() == group)
    })
}

async fn round(backend: &str, figures: &mut Figures) {
    let db = (backend == "postgres").then_some(common::TestDb::postgres().await);
    let url = db.as_ref().and_then(|db| db.url.clone());
    let dir = common::temp_dir(&format!("scale-{backend}"));
    let server = ServerProcess::start(&dir, &["--max-jobs", "8"], url.as_deref());

    if wanted("throughput") {
        figures.add(
            "1,000 trivial jobs, 8 at a time",
            throughput(&server, 1000).await,
            "jobs/s",
        );
    }
    if wanted("chain") {
        let (hop_median, hop_mean) = chain_hops(&server, 200).await;
        figures.add(
            "chain of 200: start(k) -> start(k+1), median",
            hop_median,
            "ms",
        );
        figures.add("chain of 200: start(k) -> start(k+1), mean", hop_mean, "ms");
    }
    if wanted("approve") {
        figures.add(
            "approve -> downstream command running, median of 30",
            approve_to_start(&server).await,
            "ms",
        );
    }
    if wanted("poll") {
        let (full, since) = status_poll(&server).await;
        figures.add("run_statuses, 5,000 jobs, every job", full, "ms");
        figures.add("run_statuses, 5,000 jobs, changes since", since, "ms");
    }
    drop(server);

    if wanted("signins") {
        // A fresh server, so its memory is the sign-ins'.
        let server = ServerProcess::start(&dir.join("signins"), &[], url.as_deref());
        let (before, after, peak) = signins(&server).await;
        figures.add("100 sign-ins, 20 at a time: RSS before", before, "MiB");
        figures.add("100 sign-ins, 20 at a time: RSS after", after, "MiB");
        figures.add("100 sign-ins, 20 at a time: peak RSS", peak, "MiB");
        drop(server);
    }

    if wanted("big") {
        // A fresh server, so its peak memory is this run's.
        let server = ServerProcess::start(&dir.join("big"), &["--max-jobs", "8"], url.as_deref());
        figures.add(
            "10,000 trivial jobs, 8 at a time",
            throughput(&server, 10_000).await,
            "jobs/s",
        );
        figures.add("10,000 jobs: server peak RSS", peak_rss_mib(&server), "MiB");
        drop(server);
    }

    let _ = std::fs::remove_dir_all(&dir);
    if let Some(db) = db {
        db.finish().await;
    }
}

fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .unwrap_or_default()
        .lines()
        .find_map(|line| {
            line.strip_prefix("model name")
                .map(|rest| rest.trim_start_matches([' ', '\t', ':']).to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let commit = std::process::Command::new("git")
        .args(["rev-parse", "--short", "HEAD"])
        .output()
        .ok()
        .map(|out| String::from_utf8_lossy(&out.stdout).trim().to_string())
        .unwrap_or_default();
    format!("commit {commit}, {cores} cores, {cpu}")
}

#[tokio::main]
async fn main() {
    let rounds: usize = std::env::var("TOLLGATE_BENCH_ROUNDS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(3);
    let backends =
        std::env::var("TOLLGATE_BENCH_BACKENDS").unwrap_or_else(|_| "sqlite,postgres".into());
    println!("{}", machine());
    if wanted("bundle") {
        bundle_sizes().await;
    }
    let per_backend = ["throughput", "chain", "approve", "poll", "signins", "big"];
    if !per_backend.into_iter().any(wanted) {
        return;
    }
    for backend in backends.split(',').map(str::trim) {
        let mut figures = Figures::default();
        for n in 1..=rounds {
            println!("{backend}, round {n} of {rounds}");
            round(backend, &mut figures).await;
        }
        figures.print(backend);
    }
}
