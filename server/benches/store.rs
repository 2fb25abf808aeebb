//! Store costs on both backends: `cargo bench -p server --bench store`.
//!
//! - a gate decision: load the run, apply the decision, write it (compare-and-set in one
//!   transaction): the database part of approve-to-downstream-start;
//! - a log line appended while a job runs.
//!
//! Postgres is a scratch database on the server at `TOLLGATE_TEST_POSTGRES_URL`, as
//! in the tests.

use std::time::{Duration, Instant};

#[path = "../tests/common/mod.rs"]
mod common;

use app::domain::{Decision, Event, JobExit, Pipeline, expand};
use server::store::Store;

const RUNS: usize = 200;
const LOG_LINES: usize = 2000;

fn percentile(samples: &mut [Duration], fraction: f64) -> Duration {
    samples.sort();
    let index = ((samples.len() as f64 - 1.0) * fraction).round() as usize;
    samples[index]
}

async fn bench(store: &Store, label: &str) {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/pipelines/review-workflow.yaml"
    ))
    .expect("sample pipeline");
    let graph = expand(&Pipeline::parse(&text).expect("parse")).expect("valid");

    let mut runs = Vec::with_capacity(RUNS);
    for _ in 0..RUNS {
        let run = store.create_run(&graph, None, 0).await.expect("create").id;
        for event in [
            Event::JobStarted {
                job: "preprocess".into(),
            },
            Event::JobExited {
                job: "preprocess".into(),
                exit: JobExit::Code(0),
            },
        ] {
            let mut state = store.load_state(run).await.expect("state");
            let transition = state.apply(event, 1).expect("apply");
            store.apply(run, &transition).await.expect("write");
        }
        runs.push(run);
    }

    let mut decisions = Vec::with_capacity(RUNS);
    for &run in &runs {
        let start = Instant::now();
        let mut state = store.load_state(run).await.expect("state");
        let event = Event::GateDecided {
            gate: "hitl-gate-preprocess".into(),
            decision: Decision::Approve,
            by: "bench".into(),
            comment: None,
            overriding: false,
            choice: Default::default(),
        };
        let transition = state.apply(event, 2).expect("decide");
        store.apply(run, &transition).await.expect("write");
        decisions.push(start.elapsed());
    }

    let line = "epoch 3/10 loss=0.1234 accuracy=0.9876 lr=0.001 elapsed=12.3s\n";
    let start = Instant::now();
    for _ in 0..LOG_LINES {
        store
            .append_log(runs[0], "train", line)
            .await
            .expect("append");
    }
    let per_line = start.elapsed() / LOG_LINES as u32;

    println!(
        "{label:>8}: gate decision (load + decide + write) median {:>9.2?}  p99 {:>9.2?}  |  \
         log append {per_line:>9.2?}/line ({:.0} lines/s)",
        percentile(&mut decisions, 0.5),
        percentile(&mut decisions, 0.99),
        1.0 / per_line.as_secs_f64()
    );
}

#[tokio::main]
async fn main() {
    let db = common::TestDb::sqlite().await;
    bench(&db.store, "SQLite").await;
    db.finish().await;

    let db = common::TestDb::postgres().await;
    bench(&db.store, "Postgres").await;
    db.finish().await;
}
