//! How fast the pure rules are on large pipelines: `cargo bench -p app`.
//!
//! Prints the median of several timed repetitions per case. No harness: the numbers go
//! into the README, and a plain loop keeps the dependency list short.

use std::hint::black_box;
use std::time::{Duration, Instant};

use app::domain::{Event, GateSpec, JobExit, JobSpec, Pipeline, RunState, expand};
use app::layout::layout;

/// A pipeline of `width` parallel chains of `depth` jobs, every chain's first job gated,
/// joined by one final job: wide fan-out, fan-in and many gates.
fn wide_pipeline(width: usize, depth: usize) -> Pipeline {
    let mut jobs = Vec::with_capacity(width * depth + 1);
    for chain in 0..width {
        for step in 0..depth {
            let id = format!("c{chain}_s{step}");
            let depends_on = if step == 0 {
                Vec::new()
            } else {
                vec![format!("c{chain}_s{}", step - 1)]
            };
            let gate = (step == 0).then(|| GateSpec {
                message: format!("check chain {chain}"),
                timeout: Some(3600),
                ..Default::default()
            });
            jobs.push(JobSpec {
                id,
                run: "echo step".into(),
                depends_on,
                env: Default::default(),
                timeout: None,
                gate,
                when: None,
                network: None,
            });
        }
    }
    jobs.push(JobSpec {
        id: "join".into(),
        run: "echo join".into(),
        depends_on: (0..width).map(|c| format!("c{c}_s{}", depth - 1)).collect(),
        env: Default::default(),
        timeout: None,
        gate: None,
        when: None,
        network: None,
    });
    Pipeline {
        name: "bench".into(),
        notify: Vec::new(),
        jobs,
    }
}

/// A pseudo-random DAG of `count` jobs, each depending on up to two earlier ones (the same
/// every time): layering and crossing reduction at their hardest.
fn random_pipeline(count: usize) -> Pipeline {
    let mut seed: u64 = 42;
    let mut next = move || {
        seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
        (seed >> 33) as usize
    };
    let jobs = (0..count)
        .map(|to| {
            let mut depends_on: Vec<String> = Vec::new();
            if to > 0 {
                for _ in 0..2 {
                    let from = format!("j{}", next() % to);
                    if !depends_on.contains(&from) {
                        depends_on.push(from);
                    }
                }
            }
            JobSpec {
                id: format!("j{to}"),
                run: "true".into(),
                depends_on,
                env: Default::default(),
                timeout: None,
                gate: None,
                when: None,
                network: None,
            }
        })
        .collect();
    Pipeline {
        name: "random".into(),
        notify: Vec::new(),
        jobs,
    }
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

fn time<T>(repetitions: usize, mut work: impl FnMut() -> T) -> Duration {
    let samples = (0..repetitions)
        .map(|_| {
            let start = Instant::now();
            black_box(work());
            start.elapsed()
        })
        .collect();
    median(samples)
}

/// Drives a whole run: every task starts and exits 0, every gate is approved.
fn run_to_completion(state: &mut RunState) -> usize {
    let mut events = 1;
    let _ = state.apply(Event::Deployed, 0);
    loop {
        let ready: Vec<String> = state.ready_tasks().iter().map(|s| s.to_string()).collect();
        let gates: Vec<String> = state
            .graph()
            .gates()
            .filter(|g| {
                state
                    .job(&g.id)
                    .is_some_and(|j| j.status == app::domain::JobStatus::Running)
            })
            .map(|g| g.id.clone())
            .collect();
        if ready.is_empty() && gates.is_empty() {
            return events;
        }
        for job in ready {
            let _ = state.apply(Event::JobStarted { job: job.clone() }, 1);
            let exit = JobExit::Code(0);
            let _ = state.apply(Event::JobExited { job, exit }, 2);
            events += 2;
        }
        for gate in gates {
            let decision = app::domain::Decision::Approve;
            let by = "bench".to_string();
            let _ = state.apply(
                Event::GateDecided {
                    gate,
                    decision,
                    by,
                    comment: None,
                    overriding: false,
                    choice: Default::default(),
                },
                3,
            );
            events += 1;
        }
    }
}

fn main() {
    for (width, depth) in [(10, 10), (100, 10), (500, 2)] {
        let pipeline = wide_pipeline(width, depth);
        let jobs = pipeline.jobs.len();
        let yaml = pipeline.to_yaml();
        let parse = time(20, || Pipeline::parse(&yaml));
        let expansion = time(20, || expand(&pipeline));
        let graph = expand(&pipeline).expect("valid");
        let nodes = graph.nodes.len();
        let mut events = 0;
        let run = time(10, || {
            let mut state = RunState::new(graph.clone());
            events = run_to_completion(&mut state);
        });
        let drawing = time(5, || app::layout::layout(&graph));
        println!(
            "{jobs:>5} jobs ({nodes} nodes with gates): parse YAML {parse:>10.2?}  \
             validate+inject {expansion:>10.2?}  whole run through the state machine \
             {run:>10.2?} ({events} events)  graph layout {drawing:>10.2?}"
        );
    }
    // The run page lays out the whole graph once when it opens.
    let shapes = [
        ("chains 100x10, gated", wide_pipeline(100, 10)),
        ("chains 500x10, gated", wide_pipeline(500, 10)),
        ("random, 2 deps", random_pipeline(300)),
        ("random, 2 deps", random_pipeline(500)),
        ("random, 2 deps", random_pipeline(1_000)),
        ("random, 2 deps", random_pipeline(5_000)),
    ];
    for (shape, pipeline) in shapes {
        let graph = expand(&pipeline).expect("valid");
        let nodes = graph.nodes.len();
        let drawing = time(3, || layout(&graph));
        println!("layout of {nodes:>5} nodes ({shape}): {drawing:>10.2?}");
    }
}
