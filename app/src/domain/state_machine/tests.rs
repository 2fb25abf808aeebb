use std::collections::BTreeMap;

use super::*;
use crate::domain::expand;
use crate::domain::pipeline::{JobSpec, Pipeline};
use crate::domain::test_support::job;

const T0: i64 = 1_700_000_000_000;

/// A job with a gate of `timeout` seconds after it.
fn gated(id: &str, depends_on: &[&str], timeout: u64) -> JobSpec {
    crate::domain::test_support::gated(id, depends_on, "check", Some(timeout))
}

fn run_of(jobs: Vec<JobSpec>) -> RunState {
    let graph = expand(&Pipeline {
        name: "p".into(),
        notify: Vec::new(),
        jobs,
    })
    .expect("valid pipeline");
    RunState::new(graph)
}

/// preprocess -> hitl-gate-preprocess -> train -> evaluate (gate timeout 300 s).
fn review() -> RunState {
    run_of(vec![
        gated("preprocess", &[], 300),
        job("train", &["preprocess"]),
        job("evaluate", &["train"]),
    ])
}

fn status(run: &RunState, id: &str) -> JobStatus {
    run.job(id).unwrap_or_else(|| panic!("no job {id}")).status
}

fn apply(run: &mut RunState, event: Event) -> Transition {
    run.apply(event.clone(), T0)
        .unwrap_or_else(|err| panic!("{event:?} refused: {err}"))
}

fn start(run: &mut RunState, id: &str) -> Transition {
    apply(run, Event::JobStarted { job: id.into() })
}

fn exit(run: &mut RunState, id: &str, code: i32) -> Transition {
    apply(
        run,
        Event::JobExited {
            job: id.into(),
            exit: JobExit::Code(code),
        },
    )
}

fn succeed(run: &mut RunState, id: &str) -> Transition {
    start(run, id);
    exit(run, id, 0)
}

fn decide(run: &mut RunState, gate: &str, decision: Decision, by: &str) -> Transition {
    apply(
        run,
        Event::GateDecided {
            gate: gate.into(),
            decision,
            by: by.into(),
            comment: Some("looks fine".into()),
            overriding: false,
            choice: Default::default(),
        },
    )
}

fn started_jobs(transition: &Transition) -> Vec<&str> {
    transition
        .effects
        .iter()
        .filter_map(|effect| match effect {
            Effect::StartJob { job } => Some(job.as_str()),
            _ => None,
        })
        .collect()
}

fn change<'a>(transition: &'a Transition, id: &str) -> &'a StatusChange {
    transition
        .changes
        .iter()
        .find(|change| change.job == id)
        .unwrap_or_else(|| panic!("no change for {id} in {transition:#?}"))
}

fn changed_jobs(transition: &Transition) -> Vec<&str> {
    transition.changes.iter().map(|c| c.job.as_str()).collect()
}

#[test]
fn deploy_makes_only_the_roots_ready() {
    let mut run = run_of(vec![job("a", &[]), job("b", &[]), job("c", &["a", "b"])]);
    let transition = apply(&mut run, Event::Deployed);
    assert_eq!(started_jobs(&transition), ["a", "b"]);
    assert!(
        transition.changes.is_empty(),
        "ready jobs stay PENDING until started"
    );
    assert_eq!(run.ready_tasks(), ["a", "b"]);
    assert_eq!(run.run_status(), RunStatus::Running);
}

#[test]
fn a_job_starts_only_when_every_dependency_completed() {
    let mut run = run_of(vec![job("a", &[]), job("b", &[]), job("c", &["a", "b"])]);
    apply(&mut run, Event::Deployed);
    let refused = run.apply(Event::JobStarted { job: "c".into() }, T0);
    assert_eq!(
        refused,
        Err(TransitionError::DependencyNotDone {
            job: "c".into(),
            dependency: "a".into()
        })
    );
    assert_eq!(
        status(&run, "c"),
        JobStatus::Pending,
        "a refused event changes nothing"
    );

    let after_a = succeed(&mut run, "a");
    assert!(started_jobs(&after_a).is_empty(), "c still waits for b");
    let after_b = succeed(&mut run, "b");
    assert_eq!(started_jobs(&after_b), ["c"]);
}

#[test]
fn starting_records_running_and_a_job_cannot_start_twice() {
    let mut run = run_of(vec![job("a", &[])]);
    let transition = start(&mut run, "a");
    assert_eq!(
        transition.changes,
        vec![StatusChange {
            job: "a".into(),
            is_gate: false,
            from: JobStatus::Pending,
            to: JobStatus::Running,
            reason: None,
            exit_code: None,
            gate: None,
            approval: None,
        }]
    );
    assert_eq!(
        run.apply(Event::JobStarted { job: "a".into() }, T0),
        Err(TransitionError::NotPending {
            job: "a".into(),
            status: JobStatus::Running
        })
    );
}

#[test]
fn source_completion_makes_the_gate_wait_with_a_deadline() {
    let mut run = review();
    start(&mut run, "preprocess");
    let transition = exit(&mut run, "preprocess", 0);

    assert_eq!(status(&run, "preprocess"), JobStatus::Completed);
    assert_eq!(status(&run, "hitl-gate-preprocess"), JobStatus::Running);
    let deadline_ms = T0 + 300_000;
    assert_eq!(
        change(&transition, "hitl-gate-preprocess").gate,
        Some(GateChange::Activated { deadline_ms })
    );
    assert_eq!(
        transition.effects,
        vec![Effect::ArmGateTimer {
            gate: "hitl-gate-preprocess".into(),
            deadline_ms
        }]
    );
    assert_eq!(status(&run, "train"), JobStatus::Pending);
    assert!(run.ready_tasks().is_empty(), "train waits behind the gate");
    assert_eq!(run.next_deadline(), Some(deadline_ms));
    assert_eq!(run.run_status(), RunStatus::Running);
}

#[test]
fn a_gate_never_starts_a_process() {
    let mut run = review();
    succeed(&mut run, "preprocess");
    assert_eq!(
        run.apply(
            Event::JobStarted {
                job: "hitl-gate-preprocess".into()
            },
            T0
        ),
        Err(TransitionError::GateCannotRun {
            job: "hitl-gate-preprocess".into()
        })
    );
    assert_eq!(
        run.apply(
            Event::JobExited {
                job: "hitl-gate-preprocess".into(),
                exit: JobExit::Code(0)
            },
            T0
        ),
        Err(TransitionError::GateCannotRun {
            job: "hitl-gate-preprocess".into()
        })
    );
}

#[test]
fn approval_completes_the_gate_and_releases_its_dependents() {
    let mut run = review();
    succeed(&mut run, "preprocess");
    let transition = decide(&mut run, "hitl-gate-preprocess", Decision::Approve, "ana");

    let gate = change(&transition, "hitl-gate-preprocess");
    assert_eq!(
        (gate.from, gate.to),
        (JobStatus::Running, JobStatus::Completed)
    );
    assert_eq!(gate.reason.as_deref(), Some("approved by ana"));
    assert_eq!(
        gate.gate,
        Some(GateChange::Decided {
            decision: GateDecision::Approved,
            by: Some("ana".into()),
            comment: Some("looks fine".into()),
            choice: Default::default(),
        })
    );
    assert_eq!(started_jobs(&transition), ["train"]);
    assert_eq!(run.next_deadline(), None);

    succeed(&mut run, "train");
    let last = succeed(&mut run, "evaluate");
    assert_eq!(last.run_status, Some(RunStatus::Completed));
}

#[test]
fn rejection_fails_the_gate_and_cancels_only_its_downstream() {
    let mut run = run_of(vec![
        gated("preprocess", &[], 300),
        job("train", &["preprocess"]),
        job("evaluate", &["train"]),
        job("docs", &[]),
    ]);
    apply(&mut run, Event::Deployed);
    start(&mut run, "docs");
    succeed(&mut run, "preprocess");
    let transition = decide(&mut run, "hitl-gate-preprocess", Decision::Reject, "bob");

    let gate = change(&transition, "hitl-gate-preprocess");
    assert_eq!(gate.to, JobStatus::Failed);
    assert_eq!(gate.reason.as_deref(), Some("rejected by bob"));
    assert!(matches!(
        gate.gate,
        Some(GateChange::Decided {
            decision: GateDecision::Rejected,
            ..
        })
    ));
    for id in ["train", "evaluate"] {
        let cancelled = change(&transition, id);
        assert_eq!(cancelled.to, JobStatus::Cancelled);
        assert_eq!(
            cancelled.reason.as_deref(),
            Some("upstream `hitl-gate-preprocess` failed")
        );
    }
    assert_eq!(
        status(&run, "docs"),
        JobStatus::Running,
        "unrelated branch goes on"
    );
    assert_eq!(transition.run_status, None, "docs still runs");

    let last = exit(&mut run, "docs", 0);
    assert_eq!(last.run_status, Some(RunStatus::Failed));
}

#[test]
fn a_gate_is_decided_once() {
    let mut run = review();
    succeed(&mut run, "preprocess");
    decide(&mut run, "hitl-gate-preprocess", Decision::Approve, "ana");
    for decision in [Decision::Approve, Decision::Reject] {
        assert_eq!(
            run.apply(
                Event::GateDecided {
                    gate: "hitl-gate-preprocess".into(),
                    decision,
                    by: "bob".into(),
                    comment: None,
                    overriding: false,
                    choice: Default::default(),
                },
                T0
            ),
            Err(TransitionError::GateNotWaiting {
                gate: "hitl-gate-preprocess".into(),
                status: JobStatus::Completed
            })
        );
    }
}

#[test]
fn a_pending_gate_cannot_be_decided() {
    let mut run = review();
    let refused = run.apply(
        Event::GateDecided {
            gate: "hitl-gate-preprocess".into(),
            decision: Decision::Approve,
            by: "ana".into(),
            comment: None,
            overriding: false,
            choice: Default::default(),
        },
        T0,
    );
    assert_eq!(
        refused,
        Err(TransitionError::GateNotWaiting {
            gate: "hitl-gate-preprocess".into(),
            status: JobStatus::Pending
        })
    );
    assert_eq!(
        refused.err().map(|e| e.to_string()).as_deref(),
        Some("gate `hitl-gate-preprocess` is not waiting for a decision: it is PENDING")
    );
}

#[test]
fn only_gates_are_decided() {
    let mut run = review();
    assert_eq!(
        run.apply(
            Event::GateDecided {
                gate: "train".into(),
                decision: Decision::Approve,
                by: "ana".into(),
                comment: None,
                overriding: false,
                choice: Default::default(),
            },
            T0
        ),
        Err(TransitionError::NotAGate {
            job: "train".into()
        })
    );
}

#[test]
fn a_gate_times_out_at_its_deadline_and_not_before() {
    let mut run = review();
    succeed(&mut run, "preprocess");
    let deadline = T0 + 300_000;
    let gate = || Event::GateTimedOut {
        gate: "hitl-gate-preprocess".into(),
    };
    assert_eq!(
        run.apply(gate(), deadline - 1),
        Err(TransitionError::DeadlineNotReached {
            gate: "hitl-gate-preprocess".into(),
            deadline_ms: deadline
        })
    );
    assert!(run.expired_gates(deadline - 1).is_empty());
    assert_eq!(run.expired_gates(deadline), ["hitl-gate-preprocess"]);

    let transition = run.apply(gate(), deadline).expect("deadline reached");
    let timed_out = change(&transition, "hitl-gate-preprocess");
    assert_eq!(timed_out.to, JobStatus::Failed);
    assert_eq!(timed_out.reason.as_deref(), Some("timed out after 5m"));
    assert_eq!(
        timed_out.gate,
        Some(GateChange::Decided {
            decision: GateDecision::TimedOut,
            by: None,
            comment: None,
            choice: Default::default(),
        })
    );
    assert_eq!(
        changed_jobs(&transition),
        ["hitl-gate-preprocess", "train", "evaluate"]
    );
    assert_eq!(transition.run_status, Some(RunStatus::Failed));
    assert_eq!(run.next_deadline(), None);

    // A late click after the timeout is refused.
    assert!(matches!(
        run.apply(
            Event::GateDecided {
                gate: "hitl-gate-preprocess".into(),
                decision: Decision::Approve,
                by: "ana".into(),
                comment: None,
                overriding: false,
                choice: Default::default(),
            },
            deadline + 1
        ),
        Err(TransitionError::GateNotWaiting {
            status: JobStatus::Failed,
            ..
        })
    ));
}

#[test]
fn a_gate_whose_source_fails_is_cancelled_and_never_asks() {
    let mut run = review();
    start(&mut run, "preprocess");
    let transition = exit(&mut run, "preprocess", 3);

    let source = change(&transition, "preprocess");
    assert_eq!(source.to, JobStatus::Failed);
    assert_eq!(source.reason.as_deref(), Some("exit code 3"));
    assert_eq!(source.exit_code, Some(3));
    let gate = change(&transition, "hitl-gate-preprocess");
    assert_eq!(
        (gate.from, gate.to),
        (JobStatus::Pending, JobStatus::Cancelled)
    );
    assert!(
        transition.effects.is_empty(),
        "no timer, no start: {transition:#?}"
    );
    assert_eq!(run.next_deadline(), None);
    assert_eq!(transition.run_status, Some(RunStatus::Failed));
}

#[test]
fn a_diamond_joins_only_after_both_branches() {
    let mut run = run_of(vec![
        job("a", &[]),
        job("b", &["a"]),
        job("c", &["a"]),
        job("d", &["b", "c"]),
    ]);
    assert_eq!(started_jobs(&succeed(&mut run, "a")), ["b", "c"]);
    assert!(started_jobs(&succeed(&mut run, "c")).is_empty());
    assert_eq!(started_jobs(&succeed(&mut run, "b")), ["d"]);
    assert_eq!(
        succeed(&mut run, "d").run_status,
        Some(RunStatus::Completed)
    );
}

#[test]
fn a_failure_in_a_diamond_cancels_the_join_and_nothing_else() {
    let mut run = run_of(vec![
        job("a", &[]),
        job("b", &["a"]),
        job("c", &["a"]),
        job("d", &["b", "c"]),
        job("e", &["d"]),
        job("side", &[]),
    ]);
    succeed(&mut run, "a");
    start(&mut run, "c");
    start(&mut run, "b");
    let transition = exit(&mut run, "b", 1);
    assert_eq!(changed_jobs(&transition), ["b", "d", "e"]);
    assert_eq!(
        change(&transition, "e").reason.as_deref(),
        Some("upstream `b` failed")
    );
    assert_eq!(status(&run, "c"), JobStatus::Running);
    assert_eq!(status(&run, "side"), JobStatus::Pending);
    assert_eq!(run.run_status(), RunStatus::Running);

    assert!(started_jobs(&exit(&mut run, "c", 0)).is_empty());
    let last = succeed(&mut run, "side");
    assert_eq!(last.run_status, Some(RunStatus::Failed));
}

#[test]
fn two_gates_on_parallel_branches_are_independent() {
    let mut run = run_of(vec![
        gated("left", &[], 60),
        job("left_next", &["left"]),
        gated("right", &[], 30),
        job("right_next", &["right"]),
    ]);
    succeed(&mut run, "left");
    succeed(&mut run, "right");
    assert_eq!(status(&run, "hitl-gate-left"), JobStatus::Running);
    assert_eq!(status(&run, "hitl-gate-right"), JobStatus::Running);
    assert_eq!(
        run.next_deadline(),
        Some(T0 + 30_000),
        "earliest deadline first"
    );

    let approved = decide(&mut run, "hitl-gate-left", Decision::Approve, "ana");
    assert_eq!(started_jobs(&approved), ["left_next"]);
    assert_eq!(status(&run, "hitl-gate-right"), JobStatus::Running);

    let rejected = decide(&mut run, "hitl-gate-right", Decision::Reject, "bob");
    assert_eq!(changed_jobs(&rejected), ["hitl-gate-right", "right_next"]);
    assert_eq!(
        status(&run, "left_next"),
        JobStatus::Pending,
        "left branch untouched"
    );

    let last = succeed(&mut run, "left_next");
    assert_eq!(last.run_status, Some(RunStatus::Failed));
}

#[test]
fn exit_reasons_say_what_happened() {
    let cases = [
        (JobExit::Signal(9), "killed by signal 9"),
        (JobExit::TimedOut { after_secs: 10 }, "timed out after 10s"),
        (
            JobExit::Interrupted {
                reason: "interrupted by server restart".into(),
            },
            "interrupted by server restart",
        ),
    ];
    for (exit, reason) in cases {
        let mut run = run_of(vec![job("a", &[]), job("b", &["a"])]);
        start(&mut run, "a");
        let transition = apply(
            &mut run,
            Event::JobExited {
                job: "a".into(),
                exit,
            },
        );
        assert_eq!(change(&transition, "a").reason.as_deref(), Some(reason));
        assert_eq!(change(&transition, "b").to, JobStatus::Cancelled);
    }
}

#[test]
fn an_exit_of_a_job_that_is_not_running_is_refused() {
    let mut run = run_of(vec![job("a", &[])]);
    assert_eq!(
        run.apply(
            Event::JobExited {
                job: "a".into(),
                exit: JobExit::Code(0)
            },
            T0
        ),
        Err(TransitionError::NotRunning {
            job: "a".into(),
            status: JobStatus::Pending
        })
    );
}

#[test]
fn cancelling_a_run_kills_running_cancels_the_rest_and_keeps_the_finished() {
    let mut run = run_of(vec![
        gated("a", &[], 60),
        job("b", &["a"]),
        job("slow", &[]),
        job("done", &[]),
        job("later", &["done", "slow"]),
    ]);
    succeed(&mut run, "a");
    succeed(&mut run, "done");
    start(&mut run, "slow");
    let transition = apply(&mut run, Event::RunCancelled { by: "ana".into() });

    assert_eq!(
        changed_jobs(&transition),
        ["hitl-gate-a", "b", "slow", "later"]
    );
    assert!(transition.changes.iter().all(
        |c| c.to == JobStatus::Cancelled && c.reason.as_deref() == Some("run cancelled by ana")
    ));
    assert_eq!(
        transition.effects,
        vec![Effect::KillJob { job: "slow".into() }]
    );
    assert_eq!(status(&run, "done"), JobStatus::Completed);
    assert_eq!(transition.run_status, Some(RunStatus::Cancelled));
    assert_eq!(
        run.next_deadline(),
        None,
        "the cancelled gate no longer times out"
    );

    // The killed process's exit arrives later and changes nothing.
    assert!(matches!(
        run.apply(
            Event::JobExited {
                job: "slow".into(),
                exit: JobExit::Signal(9)
            },
            T0
        ),
        Err(TransitionError::NotRunning { .. })
    ));
    assert_eq!(
        run.apply(Event::RunCancelled { by: "bob".into() }, T0),
        Err(TransitionError::RunFinished {
            status: RunStatus::Cancelled
        })
    );
}

#[test]
fn a_cancelled_run_stays_cancelled_even_after_a_failure() {
    let mut run = run_of(vec![job("a", &[]), job("b", &[])]);
    start(&mut run, "a");
    exit(&mut run, "a", 1);
    apply(&mut run, Event::RunCancelled { by: "ana".into() });
    assert_eq!(run.run_status(), RunStatus::Cancelled);
}

#[test]
fn cancelling_one_job_cancels_its_downstream() {
    let mut run = run_of(vec![job("a", &[]), job("b", &["a"]), job("c", &[])]);
    start(&mut run, "a");
    let transition = apply(
        &mut run,
        Event::JobCancelled {
            job: "a".into(),
            by: "ana".into(),
        },
    );
    assert_eq!(changed_jobs(&transition), ["a", "b"]);
    assert_eq!(
        change(&transition, "a").reason.as_deref(),
        Some("cancelled by ana")
    );
    assert_eq!(
        change(&transition, "b").reason.as_deref(),
        Some("upstream `a` was cancelled")
    );
    assert_eq!(
        transition.effects,
        vec![Effect::KillJob { job: "a".into() }]
    );

    let last = succeed(&mut run, "c");
    assert_eq!(last.run_status, Some(RunStatus::Cancelled));
    assert!(matches!(
        run.apply(
            Event::JobCancelled {
                job: "c".into(),
                by: "ana".into()
            },
            T0
        ),
        Err(TransitionError::AlreadyFinished { .. })
    ));
}

#[test]
fn a_waiting_gate_can_be_cancelled_on_its_own() {
    let mut run = review();
    succeed(&mut run, "preprocess");
    let transition = apply(
        &mut run,
        Event::JobCancelled {
            job: "hitl-gate-preprocess".into(),
            by: "ana".into(),
        },
    );
    assert_eq!(
        changed_jobs(&transition),
        ["hitl-gate-preprocess", "train", "evaluate"]
    );
    assert!(
        transition.effects.is_empty(),
        "a gate has no process to kill"
    );
    assert_eq!(transition.run_status, Some(RunStatus::Cancelled));
}

#[test]
fn unknown_jobs_are_named() {
    let mut run = review();
    assert_eq!(
        run.apply(Event::JobStarted { job: "nope".into() }, T0),
        Err(TransitionError::UnknownJob { job: "nope".into() })
    );
}

#[test]
fn a_restored_run_knows_what_is_ready_and_what_expired() {
    let graph = review().graph().clone();
    let jobs = vec![
        JobState {
            status: JobStatus::Completed,
            deadline_ms: None,
            approved_by: Vec::new(),
            choice: None,
        },
        JobState {
            status: JobStatus::Running,
            deadline_ms: Some(T0),
            approved_by: Vec::new(),
            choice: None,
        },
        JobState::PENDING,
        JobState::PENDING,
    ];
    let run = RunState::restore(graph.clone(), jobs, false);
    assert!(run.ready_tasks().is_empty());
    assert_eq!(run.expired_gates(T0), ["hitl-gate-preprocess"]);
    assert_eq!(run.run_status(), RunStatus::Running);

    let fresh = RunState::restore(graph, Vec::new(), false);
    assert_eq!(fresh.ready_tasks(), ["preprocess"]);
}

/// preprocess -> hitl-gate-preprocess (needs `approvals` people) -> train.
fn review_needing(approvals: u32) -> RunState {
    let mut source = gated("preprocess", &[], 300);
    if let Some(gate) = source.gate.as_mut() {
        gate.approvals = Some(approvals);
    }
    let mut run = run_of(vec![source, job("train", &["preprocess"])]);
    apply(&mut run, Event::Deployed);
    succeed(&mut run, "preprocess");
    run
}

#[test]
fn a_two_approval_gate_waits_for_a_second_person() {
    let mut run = review_needing(2);
    let first = decide(&mut run, "hitl-gate-preprocess", Decision::Approve, "ana");
    assert_eq!(status(&run, "hitl-gate-preprocess"), JobStatus::Running);
    let waiting = change(&first, "hitl-gate-preprocess");
    assert_eq!(
        (waiting.from, waiting.to),
        (JobStatus::Running, JobStatus::Running)
    );
    assert_eq!(
        waiting.reason.as_deref(),
        Some("waiting for approval: 1 of 2 approvals (ana)")
    );
    let approval = waiting.approval.as_ref().expect("recorded");
    assert_eq!((approval.by.as_str(), approval.count_before), ("ana", 0));
    assert!(started_jobs(&first).is_empty(), "train still waits");

    let again = run.apply(
        Event::GateDecided {
            gate: "hitl-gate-preprocess".into(),
            decision: Decision::Approve,
            by: "ana".into(),
            comment: None,
            overriding: false,
            choice: Default::default(),
        },
        T0,
    );
    assert_eq!(
        again,
        Err(TransitionError::AlreadyApproved {
            gate: "hitl-gate-preprocess".into(),
            by: "ana".into()
        })
    );

    let second = decide(&mut run, "hitl-gate-preprocess", Decision::Approve, "bob");
    assert_eq!(status(&run, "hitl-gate-preprocess"), JobStatus::Completed);
    let done = change(&second, "hitl-gate-preprocess");
    assert_eq!(done.reason.as_deref(), Some("approved by ana and bob"));
    assert_eq!(done.approval.as_ref().map(|a| a.count_before), Some(1));
    assert_eq!(started_jobs(&second), vec!["train"]);
}

#[test]
fn one_rejection_fails_a_gate_that_needs_several_approvals() {
    let mut run = review_needing(3);
    decide(&mut run, "hitl-gate-preprocess", Decision::Approve, "ana");
    let no = decide(&mut run, "hitl-gate-preprocess", Decision::Reject, "bob");
    assert_eq!(status(&run, "hitl-gate-preprocess"), JobStatus::Failed);
    assert_eq!(status(&run, "train"), JobStatus::Cancelled);
    assert_eq!(
        change(&no, "hitl-gate-preprocess").reason.as_deref(),
        Some("rejected by bob")
    );
}

#[test]
fn an_admin_override_completes_the_gate_at_once_and_says_so() {
    let mut run = review_needing(2);
    let step = apply(
        &mut run,
        Event::GateDecided {
            gate: "hitl-gate-preprocess".into(),
            decision: Decision::Approve,
            by: "root".into(),
            comment: Some("release freeze, CTO approved by phone".into()),
            overriding: true,
            choice: Default::default(),
        },
    );
    assert_eq!(status(&run, "hitl-gate-preprocess"), JobStatus::Completed);
    let done = change(&step, "hitl-gate-preprocess");
    assert_eq!(
        done.reason.as_deref(),
        Some("approved by root (admin override)")
    );
    assert!(done.approval.as_ref().is_some_and(|a| a.overriding));
}

#[test]
fn approvals_survive_a_restore() {
    let mut run = review_needing(2);
    decide(&mut run, "hitl-gate-preprocess", Decision::Approve, "ana");
    let jobs: Vec<JobState> = run
        .graph()
        .nodes
        .iter()
        .map(|node| run.job(&node.id).cloned().expect("state"))
        .collect();
    let mut restored = RunState::restore(run.graph().clone(), jobs, false);
    let second = decide(
        &mut restored,
        "hitl-gate-preprocess",
        Decision::Approve,
        "bob",
    );
    assert_eq!(started_jobs(&second), vec!["train"]);
}

#[test]
fn the_counts_kept_with_each_change_agree_with_a_recount() {
    let mut run = run_of(vec![
        gated("a", &[], 60),
        job("b", &["a"]),
        job("c", &["a"]),
        job("d", &["b", "c"]),
        job("e", &[]),
    ]);
    let ids = ["a", "hitl-gate-a", "b", "c", "d", "e"];
    let agrees = |run: &RunState| {
        let recount = RunStatus::derive(ids.iter().map(|id| status(run, id)), false);
        assert_eq!(run.run_status(), recount);
    };
    apply(&mut run, Event::Deployed);
    agrees(&run);
    succeed(&mut run, "a");
    agrees(&run);
    decide(&mut run, "hitl-gate-a", Decision::Approve, "ana");
    agrees(&run);
    start(&mut run, "b");
    succeed(&mut run, "c");
    agrees(&run);
    exit(&mut run, "b", 1);
    agrees(&run);
    assert_eq!(status(&run, "d"), JobStatus::Cancelled);
    assert_eq!(run.run_status(), RunStatus::Running, "e is still pending");
    succeed(&mut run, "e");
    agrees(&run);
    assert_eq!(run.run_status(), RunStatus::Failed);
}

/// `a` with a gate offering ship/rollback and a `threshold` input, then `b` after it,
/// then `c` after `b`; `other` stands apart.
fn branching() -> RunState {
    let mut source = gated("a", &[], 300);
    if let Some(gate) = source.gate.as_mut() {
        gate.options = vec!["ship".into(), "rollback".into()];
        gate.inputs = vec![
            serde_json::from_value(serde_json::json!({"name": "threshold", "type": "number"}))
                .expect("input"),
        ];
    }
    run_of(vec![
        source,
        job("b", &["a"]),
        job("c", &["b"]),
        job("other", &[]),
    ])
}

fn approve_with(run: &mut RunState, by: &str, option: &str) -> Transition {
    let choice = GateChoice {
        option: Some(option.into()),
        inputs: [("threshold".to_string(), serde_json::json!(0.5))].into(),
    };
    apply(
        run,
        Event::GateDecided {
            gate: "hitl-gate-a".into(),
            decision: Decision::Approve,
            by: by.into(),
            comment: None,
            overriding: false,
            choice,
        },
    )
}

#[test]
fn an_approval_hands_its_choice_to_every_job_after_the_gate() {
    let mut run = branching();
    succeed(&mut run, "a");
    assert_eq!(run.choice_env("b"), BTreeMap::new(), "nothing decided yet");
    let step = approve_with(&mut run, "ana", "rollback");
    match &step.changes[0].gate {
        Some(GateChange::Decided { choice, .. }) => {
            assert_eq!(choice.option.as_deref(), Some("rollback"));
        }
        other => panic!("not a decision: {other:?}"),
    }
    let expected: BTreeMap<String, String> = [
        ("TOLLGATE_GATE_A_OPTION".to_string(), "rollback".to_string()),
        ("TOLLGATE_GATE_A_THRESHOLD".to_string(), "0.5".to_string()),
    ]
    .into();
    assert_eq!(run.choice_env("b"), expected);
    assert_eq!(run.choice_env("c"), expected, "two steps after the gate");
    assert_eq!(
        run.choice_env("other"),
        BTreeMap::new(),
        "not after the gate"
    );
}

#[test]
fn a_rejection_hands_nothing_on() {
    let mut run = branching();
    succeed(&mut run, "a");
    let step = decide(&mut run, "hitl-gate-a", Decision::Reject, "ana");
    match &step.changes[0].gate {
        Some(GateChange::Decided { choice, .. }) => assert_eq!(choice, &GateChoice::default()),
        other => panic!("not a decision: {other:?}"),
    }
    assert_eq!(run.job("hitl-gate-a").and_then(|j| j.choice.clone()), None);
}

#[test]
fn a_timeout_with_a_default_goes_on_and_says_nobody_decided() {
    let mut run = branching();
    if let Some(NodeKind::Gate { form, .. }) = run
        .graph
        .nodes
        .iter_mut()
        .find(|node| node.id == "hitl-gate-a")
        .map(|node| &mut node.kind)
    {
        form.on_timeout = crate::domain::OnTimeout::Option("ship".into());
    }
    succeed(&mut run, "a");
    let deadline = run.next_deadline().expect("armed");
    let step = run
        .apply(
            Event::GateTimedOut {
                gate: "hitl-gate-a".into(),
            },
            deadline,
        )
        .expect("timed out");
    assert_eq!(status(&run, "hitl-gate-a"), JobStatus::Completed);
    assert_eq!(started_jobs(&step), ["b"]);
    assert_eq!(
        step.changes[0].reason.as_deref(),
        Some("timed out after 5m; default applied: option ship")
    );
    match &step.changes[0].gate {
        Some(GateChange::Decided { decision, by, .. }) => {
            assert_eq!((*decision, by.as_deref()), (GateDecision::TimedOut, None));
        }
        other => panic!("not a decision: {other:?}"),
    }
    assert_eq!(
        run.choice_env("c")
            .get("TOLLGATE_GATE_A_OPTION")
            .map(String::as_str),
        Some("ship")
    );
}

/// The run's kept counts give the same status as counting every node again.
fn counts_agree(run: &RunState) {
    let recount = RunStatus::derive(
        run.graph.nodes.iter().map(|node| status(run, &node.id)),
        false,
    );
    assert_eq!(run.run_status(), recount);
}

/// `review` offers ship/rollback; `ship` and `rollback` run for their option;
/// `announce` comes after `ship` only; `notify` joins both branches; `audit` (gated)
/// runs for rollback, so its gate is skipped with it.
fn branches() -> RunState {
    let mut review = gated("review", &[], 300);
    if let Some(gate) = review.gate.as_mut() {
        gate.options = vec!["ship".into(), "rollback".into()];
    }
    let when = |option: &str| {
        Some(crate::domain::When {
            gate: "hitl-gate-review".into(),
            option: option.into(),
        })
    };
    run_of(vec![
        review,
        JobSpec {
            when: when("ship"),
            ..job("ship", &["review"])
        },
        JobSpec {
            when: when("rollback"),
            ..job("rollback", &["review"])
        },
        job("announce", &["ship"]),
        job("notify", &["ship", "rollback"]),
        JobSpec {
            when: when("rollback"),
            ..gated("audit", &["review"], 300)
        },
    ])
}

fn choose(run: &mut RunState, option: &str) -> Transition {
    apply(
        run,
        Event::GateDecided {
            gate: "hitl-gate-review".into(),
            decision: Decision::Approve,
            by: "ana".into(),
            comment: None,
            overriding: false,
            choice: GateChoice {
                option: Some(option.into()),
                inputs: Default::default(),
            },
        },
    )
}

#[test]
fn a_choice_runs_its_branch_and_skips_the_others() {
    let mut run = branches();
    succeed(&mut run, "review");
    let step = choose(&mut run, "ship");
    counts_agree(&run);
    assert_eq!(started_jobs(&step), ["ship"]);
    assert_eq!(status(&run, "rollback"), JobStatus::Skipped);
    assert_eq!(
        change(&step, "rollback").reason.as_deref(),
        Some("hitl-gate-review chose ship; this job runs for rollback")
    );
    // A gated job that is skipped takes its gate with it.
    assert_eq!(status(&run, "audit"), JobStatus::Skipped);
    assert_eq!(status(&run, "hitl-gate-audit"), JobStatus::Skipped);
    assert_eq!(
        change(&step, "hitl-gate-audit").reason.as_deref(),
        Some("audit was skipped")
    );
    assert_eq!(status(&run, "notify"), JobStatus::Pending, "waits for ship");

    // The join runs once the branch taken is done: a skipped dependency counts as done.
    let step = succeed(&mut run, "ship");
    assert_eq!(started_jobs(&step), ["announce", "notify"]);
    succeed(&mut run, "announce");
    succeed(&mut run, "notify");
    counts_agree(&run);
    assert_eq!(
        run.run_status(),
        RunStatus::Completed,
        "skipped is not failed"
    );
}

#[test]
fn skips_travel_down_a_branch_not_taken() {
    let mut run = branches();
    succeed(&mut run, "review");
    let step = choose(&mut run, "rollback");
    counts_agree(&run);
    assert_eq!(started_jobs(&step), ["rollback", "audit"]);
    assert_eq!(status(&run, "ship"), JobStatus::Skipped);
    assert_eq!(
        change(&step, "announce").reason.as_deref(),
        Some("ship was skipped")
    );
    assert_eq!(
        status(&run, "notify"),
        JobStatus::Pending,
        "waits for rollback"
    );
}

#[test]
fn a_timeouts_default_option_picks_the_branch() {
    let mut run = branches();
    if let Some(NodeKind::Gate { form, .. }) = run
        .graph
        .nodes
        .iter_mut()
        .find(|node| node.id == "hitl-gate-review")
        .map(|node| &mut node.kind)
    {
        form.on_timeout = crate::domain::OnTimeout::Option("rollback".into());
    }
    succeed(&mut run, "review");
    let deadline = run.next_deadline().expect("armed");
    let step = run
        .apply(
            Event::GateTimedOut {
                gate: "hitl-gate-review".into(),
            },
            deadline,
        )
        .expect("timed out");
    assert_eq!(started_jobs(&step), ["rollback", "audit"]);
    assert_eq!(status(&run, "ship"), JobStatus::Skipped);
}

#[test]
fn a_rejected_branch_gate_cancels_rather_than_skips() {
    let mut run = branches();
    succeed(&mut run, "review");
    decide(&mut run, "hitl-gate-review", Decision::Reject, "ana");
    counts_agree(&run);
    for id in ["ship", "rollback", "announce", "notify", "audit"] {
        assert_eq!(status(&run, id), JobStatus::Cancelled, "{id}");
    }
    assert_eq!(run.run_status(), RunStatus::Failed);
}

#[test]
fn a_restored_run_knows_its_skipped_jobs() {
    let mut run = branches();
    succeed(&mut run, "review");
    choose(&mut run, "ship");
    let jobs: Vec<JobState> = run
        .graph
        .nodes
        .iter()
        .map(|node| run.job(&node.id).cloned().expect("state"))
        .collect();
    let restored = RunState::restore(run.graph.clone(), jobs, false);
    assert_eq!(restored.ready_tasks(), ["ship"]);
    assert_eq!(restored.run_status(), RunStatus::Running);
}
