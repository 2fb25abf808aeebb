use super::*;
use crate::api::{GateView, JobKind, JobView, RunSummary};
use crate::domain::RunStatus;

fn job(id: &str, status: JobStatus, gate: bool) -> JobView {
    JobView {
        id: id.into(),
        kind: if gate { JobKind::Gate } else { JobKind::Task },
        status,
        depends_on: Vec::new(),
        reason: None,
        exit_code: None,
        started_at_ms: None,
        finished_at_ms: None,
        log_bytes: 0,
        gate: gate.then(|| GateView {
            message: "check".into(),
            timeout_secs: 60,
            source: "a".into(),
            activated_at_ms: None,
            deadline_at_ms: None,
            decision: None,
            decided_by: None,
            decided_at_ms: None,
            comment: None,
            form: Default::default(),
            choice: None,
        }),
        owner: None,
    }
}

fn detail(jobs: Vec<JobView>) -> RunDetail {
    RunDetail {
        source: Default::default(),
        run: RunSummary {
            id: 1,
            pipeline: "p".into(),
            status: RunStatus::Running,
            created_at_ms: 0,
            finished_at_ms: None,
            total_jobs: jobs.len() as u32,
            completed_jobs: 0,
            waiting_gates: 0,
            skipped_jobs: 0,
        },
        jobs,
        edges: Vec::new(),
    }
}

fn progress(id: &str, status: JobStatus) -> JobProgress {
    JobProgress {
        id: id.into(),
        status,
        reason: None,
        started_at_ms: None,
        finished_at_ms: None,
        log_bytes: 0,
    }
}

fn status(states: &JobStates, id: &str) -> Option<JobStatus> {
    states.progress(id).map(|job| job.get_untracked().status)
}

fn loaded() -> JobStates {
    let states = JobStates::new();
    states.load(&detail(vec![
        job("a", JobStatus::Completed, false),
        job("hitl-gate-a", JobStatus::Running, true),
        job("b", JobStatus::Running, false),
        job("c", JobStatus::Pending, false),
    ]));
    states
}

#[test]
fn loading_counts_every_status_and_waiting_gates_apart() {
    let owner = Owner::new();
    owner.set();
    let counts = loaded().counts().get_untracked();
    assert_eq!(counts.of(JobStatus::Running), 2);
    assert_eq!(counts.running_tasks(), 1);
    assert_eq!(counts.waiting_gates(), 1);
    assert_eq!(counts.of(JobStatus::Pending), 1);
    assert_eq!(counts.of(JobStatus::Completed), 1);
}

#[test]
fn a_partial_merge_changes_only_the_jobs_it_brings() {
    let owner = Owner::new();
    owner.set();
    let states = loaded();
    let untouched = states.progress("c").expect("known");
    assert_eq!(states.since(), None, "the first poll asks for every job");
    assert!(states.merge(
        7,
        [
            progress("hitl-gate-a", JobStatus::Completed),
            progress("b", JobStatus::Failed),
        ],
    ));
    assert_eq!(states.since(), Some(7));
    assert_eq!(status(&states, "hitl-gate-a"), Some(JobStatus::Completed));
    assert_eq!(status(&states, "b"), Some(JobStatus::Failed));
    assert_eq!(untouched.get_untracked().status, JobStatus::Pending);
    let counts = states.counts().get_untracked();
    assert_eq!(counts.waiting_gates(), 0);
    assert_eq!(counts.running_tasks(), 0);
    assert_eq!(counts.of(JobStatus::Failed), 1);
    assert_eq!(counts.of(JobStatus::Completed), 2);
}

#[test]
fn merging_the_same_list_twice_counts_once_and_unknown_ids_are_ignored() {
    let owner = Owner::new();
    owner.set();
    let states = loaded();
    let poll = vec![
        progress("c", JobStatus::Running),
        progress("not-in-the-graph", JobStatus::Failed),
    ];
    assert!(states.merge(5, poll.clone()));
    assert!(states.merge(5, poll));
    let counts = states.counts().get_untracked();
    assert_eq!(counts.running_tasks(), 2);
    assert_eq!(counts.of(JobStatus::Pending), 0);
    assert_eq!(counts.of(JobStatus::Failed), 0);
    assert_eq!(status(&states, "not-in-the-graph"), None);
}

#[test]
fn an_answer_older_than_one_merged_already_is_dropped() {
    let owner = Owner::new();
    owner.set();
    let states = loaded();
    assert!(states.merge(9, [progress("c", JobStatus::Running)]));
    assert!(!states.merge(8, [progress("c", JobStatus::Pending)]));
    assert_eq!(status(&states, "c"), Some(JobStatus::Running));
    assert_eq!(states.since(), Some(9));
    assert_eq!(states.counts().get_untracked().running_tasks(), 2);
}
