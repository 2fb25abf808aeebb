//! The store suite: every test runs once on SQLite and once on Postgres, each on a
//! database of its own.

mod common;

use std::sync::Arc;

use app::domain::{
    Decision, Event, GateDecision, JobExit, JobStatus, NodeKind, Pipeline, RunGraph, RunStatus,
    TransitionError, expand,
};
use common::TestDb;
use server::store::{Records, Store, StoreError};

const T0: i64 = 1_700_000_000_000;

const REVIEW: &str = "
name: review-workflow
jobs:
  - id: preprocess
    run: echo report > preprocessing_report.txt
    gate:
      message: Review data quality report before training begins
      timeout: 300
  - id: train
    run: echo training
    depends_on: [preprocess]
  - id: evaluate
    run: echo evaluating
    depends_on: [train]
";

fn review_graph() -> RunGraph {
    expand(&Pipeline::parse(REVIEW).expect("parse")).expect("valid")
}

/// Loads the run, applies one event at `now` and stores the result, with the gate log
/// lines it adds (as the server does).
async fn step(store: &Store, run: i64, event: Event, now: i64) -> Result<(), StoreError> {
    let mut state = store.load_state(run).await?;
    let transition = state
        .apply(event, now)
        .map_err(|err| StoreError::Corrupt(err.to_string()))?;
    let written = server::engine::records(run, &state, &transition);
    store
        .apply_all(&[(run, &transition)], &written)
        .await
        .map(|_| ())
}

async fn status(store: &Store, run: i64, job: &str) -> JobStatus {
    store.job(run, job).await.expect("job").status
}

/// Deploys the review workflow and brings it to its waiting gate.
async fn run_to_gate(store: &Store) -> i64 {
    let run = store
        .create_run(&review_graph(), None, T0)
        .await
        .expect("create")
        .id;
    let started = Event::JobStarted {
        job: "preprocess".into(),
    };
    step(store, run, started, T0 + 1).await.expect("start");
    let exited = Event::JobExited {
        job: "preprocess".into(),
        exit: JobExit::Code(0),
    };
    step(store, run, exited, T0 + 2).await.expect("exit");
    run
}

fn decision(decision: Decision, by: &str) -> Event {
    Event::GateDecided {
        gate: "hitl-gate-preprocess".into(),
        decision,
        by: by.into(),
        comment: Some(format!("from {by}")),
        overriding: false,
        choice: Default::default(),
    }
}

/// A raw connection to the test's database, past the store (as an operator or another
/// program would have).
async fn raw_connection(db: &TestDb) -> sqlx::AnyConnection {
    use sqlx::Connection;
    sqlx::any::install_default_drivers();
    let url = match &db.url {
        Some(url) => url.clone(),
        None => format!("sqlite://{}", db.dir.join("tollgate.db").display()),
    };
    sqlx::AnyConnection::connect(&url).await.expect("connect")
}

/// The migrations this build carries for the store's backend, read from the files in
/// `server/migrations/<backend>`: (version, description), oldest first.
fn migration_files(store: &Store) -> Vec<(i64, String)> {
    let backend = match store.backend() {
        server::store::Backend::Postgres => "postgres",
        server::store::Backend::Sqlite => "sqlite",
    };
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("migrations")
        .join(backend);
    let mut files: Vec<(i64, String)> = std::fs::read_dir(&dir)
        .expect("migrations dir")
        .map(|entry| {
            entry
                .expect("entry")
                .file_name()
                .into_string()
                .expect("utf-8")
        })
        .filter_map(|name| {
            let stem = name.strip_suffix(".sql")?;
            let (version, description) = stem.split_once('_')?;
            Some((
                version.parse().expect("numbered migration"),
                description.replace('_', " "),
            ))
        })
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no migrations in {}", dir.display());
    files
}

/// One `_sqlx_migrations` row: version, description, success, installed_on (as text),
/// checksum (in hex), execution time (nanoseconds, so a migration run again shows even
/// within the second that `installed_on` resolves to on SQLite).
type MigrationRow = (i64, String, i64, String, String, i64);

async fn migration_rows(db: &TestDb) -> Vec<MigrationRow> {
    use sqlx::Connection;
    let mut raw = raw_connection(db).await;
    let rows = sqlx::query_as::<_, (i64, String, i64, String, Vec<u8>, i64)>(
        "select version, description, cast(case when success then 1 else 0 end as bigint), \
             cast(installed_on as text), checksum, execution_time \
         from _sqlx_migrations order by version",
    )
    .fetch_all(&mut raw)
    .await
    .expect("read _sqlx_migrations");
    raw.close().await.expect("close");
    rows.into_iter()
        .map(
            |(version, description, success, installed_on, checksum, took)| {
                let checksum = checksum.iter().map(|byte| format!("{byte:02x}")).collect();
                (version, description, success, installed_on, checksum, took)
            },
        )
        .collect()
}

/// Opening applies every migration of this build exactly once and successfully, up to
/// the newest file of the backend; opening again applies nothing (the rows, their
/// install times included, stay as they were) and the reopened store reads and writes.
async fn migrations_apply_once_and_reopen_cleanly(db: &TestDb) {
    let files = migration_files(&db.store);
    let rows = migration_rows(db).await;
    let applied: Vec<(i64, String)> = rows
        .iter()
        .map(|(version, description, ..)| (*version, description.clone()))
        .collect();
    assert_eq!(applied, files, "each migration of this build, once");
    assert!(
        rows.iter().all(|row| row.2 == 1),
        "every migration succeeded: {rows:?}"
    );
    let newest = files.last().expect("newest").0;
    assert_eq!(rows.iter().map(|row| row.0).max(), Some(newest));
    db.store.ready().await.expect("ready");

    let again = db.reopen().await;
    assert_eq!(
        migration_rows(db).await,
        rows,
        "a reopen applies nothing and rewrites nothing"
    );
    again.ready().await.expect("ready after reopen");
    let run = again
        .create_run(&review_graph(), Some("olaf"), T0)
        .await
        .expect("write after reopen")
        .id;
    assert_eq!(
        again.jobs(run).await.expect("read after reopen").len(),
        4,
        "the reopened store reads what it wrote"
    );
    assert_eq!(
        db.store
            .get_run(run)
            .await
            .expect("first store reads it")
            .pipeline,
        "review-workflow"
    );
    again.close().await;
}

async fn pipelines_are_saved_listed_and_updated(db: &TestDb) {
    let store = &db.store;
    assert!(store.get_pipeline("review").await.expect("get").is_none());
    let first = store
        .save_pipeline("review", "{\"v\":1}", "{}", T0, Some("ana"))
        .await
        .expect("save");
    assert_eq!((first.created_at, first.updated_at), (T0, T0));
    assert_eq!(first.version, 1);
    store
        .save_pipeline("alpha", "{}", "{}", T0, None)
        .await
        .expect("save");
    let updated = store
        .save_pipeline("review", "{\"v\":2}", "{\"x\":1}", T0 + 5, Some("bob"))
        .await
        .expect("update");
    assert_eq!(updated.created_at, T0, "creation time is kept");
    assert_eq!(updated.updated_at, T0 + 5);
    assert_eq!(updated.spec, "{\"v\":2}");
    assert_eq!(updated.layout, "{\"x\":1}");
    assert_eq!(updated.version, 2);

    // Every save stays readable, newest first in the history, with who and the digest.
    let old = store
        .get_pipeline_version("review", 1)
        .await
        .expect("get")
        .expect("version 1");
    assert_eq!((old.spec.as_str(), old.version), ("{\"v\":1}", 1));
    assert!(
        store
            .get_pipeline_version("review", 3)
            .await
            .expect("get")
            .is_none()
    );
    let history = store.pipeline_versions("review").await.expect("history");
    let who: Vec<(i64, Option<&str>, i64)> = history
        .iter()
        .map(|v| (v.version, v.saved_by.as_deref(), v.saved_at))
        .collect();
    assert_eq!(who, [(2, Some("bob"), T0 + 5), (1, Some("ana"), T0)]);
    assert_eq!(
        history[0].spec_sha256.as_deref(),
        Some(server::store::spec_sha256("{\"v\":2}").as_str())
    );
    assert_eq!(
        server::store::spec_sha256(""),
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    );

    // Saves racing each other each get a number of their own.
    let racing = (0..6).map(|n| {
        let spec = format!("{{\"race\":{n}}}");
        async move {
            store
                .save_pipeline("raced", &spec, "{}", T0 + n, None)
                .await
                .expect("save")
                .version
        }
    });
    let mut versions = futures_util::future::join_all(racing).await;
    versions.sort_unstable();
    assert_eq!(versions, [1, 2, 3, 4, 5, 6]);
    let names: Vec<String> = store
        .list_pipelines()
        .await
        .expect("list")
        .into_iter()
        .map(|p| p.name)
        .collect();
    assert_eq!(names, ["alpha", "raced", "review"]);
}

async fn a_deploy_stores_the_graph_with_every_job_pending(db: &TestDb) {
    let store = &db.store;
    let graph = review_graph();
    let run = store.create_run(&graph, None, T0).await.expect("create");
    assert_eq!(run.status, RunStatus::Running);
    assert_eq!(run.pipeline, "review-workflow");

    let jobs = store.jobs(run.id).await.expect("jobs");
    let ids: Vec<&str> = jobs.iter().map(|j| j.job_id.as_str()).collect();
    assert_eq!(
        ids,
        ["preprocess", "hitl-gate-preprocess", "train", "evaluate"]
    );
    assert!(jobs.iter().all(|j| j.status == JobStatus::Pending));
    let gate = &jobs[1];
    assert_eq!(gate.kind, "gate");
    assert_eq!(
        gate.gate_message.as_deref(),
        Some("Review data quality report before training begins")
    );
    assert_eq!(gate.gate_timeout_secs, Some(300));
    assert_eq!(gate.gate_source.as_deref(), Some("preprocess"));
    assert_eq!(jobs[0].kind, "task");
    assert_eq!(jobs[0].gate_message, None);

    let state = store.load_state(run.id).await.expect("state");
    assert_eq!(state.graph(), &graph, "the snapshot reads back unchanged");
    assert_eq!(state.ready_tasks(), ["preprocess"]);

    let events = store.events(run.id).await.expect("events");
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].kind, "deployed");
}

async fn each_deploy_is_a_new_run_listed_newest_first(db: &TestDb) {
    let store = &db.store;
    let first = store
        .create_run(&review_graph(), None, T0)
        .await
        .expect("first");
    let second = run_to_gate(store).await;
    assert!(second > first.id);
    let runs = store.list_runs(10).await.expect("list");
    let ids: Vec<i64> = runs.iter().map(|r| r.run.id).collect();
    assert_eq!(ids, [second, first.id]);
    assert_eq!(runs[0].total_jobs, 4);
    assert_eq!(runs[0].completed_jobs, 1);
    assert_eq!(runs[0].waiting_gates, 1);
    assert_eq!(runs[1].completed_jobs, 0);
    assert_eq!(runs[1].waiting_gates, 0);
    assert_eq!(store.list_runs(1).await.expect("limit").len(), 1);
    assert_eq!(
        store.running_runs().await.expect("running"),
        [first.id, second]
    );
}

async fn a_whole_run_records_statuses_times_and_the_decision(db: &TestDb) {
    let store = &db.store;
    let run = run_to_gate(store).await;

    let source = store.job(run, "preprocess").await.expect("job");
    assert_eq!(source.status, JobStatus::Completed);
    assert_eq!(
        (source.started_at, source.finished_at),
        (Some(T0 + 1), Some(T0 + 2))
    );
    assert_eq!(source.exit_code, Some(0));

    let gate = store.job(run, "hitl-gate-preprocess").await.expect("gate");
    assert_eq!(gate.status, JobStatus::Running);
    assert_eq!(gate.activated_at, Some(T0 + 2));
    assert_eq!(gate.deadline_at, Some(T0 + 2 + 300_000));
    assert_eq!(gate.decision, None);

    step(store, run, decision(Decision::Approve, "ana"), T0 + 10)
        .await
        .expect("approve");
    let gate = store.job(run, "hitl-gate-preprocess").await.expect("gate");
    assert_eq!(gate.status, JobStatus::Completed);
    assert_eq!(
        gate.decision.as_deref(),
        Some(GateDecision::Approved.as_str())
    );
    assert_eq!(gate.decided_by.as_deref(), Some("ana"));
    assert_eq!(gate.decided_at, Some(T0 + 10));
    assert_eq!(gate.comment.as_deref(), Some("from ana"));
    assert_eq!(gate.reason.as_deref(), Some("approved by ana"));

    for (job, at) in [("train", T0 + 20), ("evaluate", T0 + 30)] {
        step(store, run, Event::JobStarted { job: job.into() }, at)
            .await
            .expect("start");
        let exited = Event::JobExited {
            job: job.into(),
            exit: JobExit::Code(0),
        };
        step(store, run, exited, at + 1).await.expect("exit");
    }
    let record = store.get_run(run).await.expect("run");
    assert_eq!(record.status, RunStatus::Completed);
    assert_eq!(record.finished_at, Some(T0 + 31));
    assert!(store.running_runs().await.expect("running").is_empty());

    let history: Vec<(String, Option<String>, Option<String>)> = store
        .events(run)
        .await
        .expect("events")
        .into_iter()
        .map(|e| (e.kind, e.job_id, e.to_status))
        .collect();
    let expect = |kind: &str, job: Option<&str>, to: &str| {
        (
            kind.to_string(),
            job.map(String::from),
            Some(to.to_string()),
        )
    };
    assert_eq!(
        history,
        [
            expect("deployed", None, "RUNNING"),
            expect("status", Some("preprocess"), "RUNNING"),
            expect("status", Some("preprocess"), "COMPLETED"),
            expect("status", Some("hitl-gate-preprocess"), "RUNNING"),
            expect("status", Some("hitl-gate-preprocess"), "COMPLETED"),
            expect("status", Some("train"), "RUNNING"),
            expect("status", Some("train"), "COMPLETED"),
            expect("status", Some("evaluate"), "RUNNING"),
            expect("status", Some("evaluate"), "COMPLETED"),
            expect("run_status", None, "COMPLETED"),
        ]
    );
}

async fn a_rejection_cancels_downstream_in_the_same_write(db: &TestDb) {
    let store = &db.store;
    let run = run_to_gate(store).await;
    step(store, run, decision(Decision::Reject, "bob"), T0 + 10)
        .await
        .expect("reject");
    let gate = store.job(run, "hitl-gate-preprocess").await.expect("gate");
    assert_eq!(gate.status, JobStatus::Failed);
    assert_eq!(gate.reason.as_deref(), Some("rejected by bob"));
    assert_eq!(gate.decision.as_deref(), Some("rejected"));
    for job in ["train", "evaluate"] {
        let record = store.job(run, job).await.expect("job");
        assert_eq!(record.status, JobStatus::Cancelled);
        assert_eq!(record.finished_at, Some(T0 + 10));
        assert_eq!(record.started_at, None, "a cancelled job never started");
    }
    assert_eq!(
        store.get_run(run).await.expect("run").status,
        RunStatus::Failed
    );
}

async fn a_stale_write_is_a_conflict_and_changes_nothing(db: &TestDb) {
    let store = &db.store;
    let run = run_to_gate(store).await;
    // Two people load the same waiting gate; both click.
    let mut first = store.load_state(run).await.expect("state");
    let mut second = store.load_state(run).await.expect("state");
    let approve = first
        .apply(decision(Decision::Approve, "ana"), T0 + 10)
        .expect("approve");
    let reject = second
        .apply(decision(Decision::Reject, "bob"), T0 + 11)
        .expect("reject");
    store
        .apply(run, &approve)
        .await
        .expect("first decision counts");
    let events_before = store.events(run).await.expect("events").len();

    let refused = store.apply(run, &reject).await;
    assert!(
        matches!(
            &refused,
            Err(StoreError::Conflict { job, expected: JobStatus::Running, .. })
                if job == "hitl-gate-preprocess"
        ),
        "{refused:?}"
    );
    let gate = store.job(run, "hitl-gate-preprocess").await.expect("gate");
    assert_eq!(gate.decided_by.as_deref(), Some("ana"));
    assert_eq!(status(store, run, "train").await, JobStatus::Pending);
    assert_eq!(
        store.events(run).await.expect("events").len(),
        events_before
    );
}

/// How one of several simultaneous decisions ended.
#[derive(Debug)]
enum Outcome {
    Won(i64),
    /// The state machine refused it: the gate it read was decided already.
    Refused(TransitionError),
    /// The store refused it: it read the gate waiting, another decision wrote first.
    Store(StoreError),
}

/// Many people decide the same gate at once: exactly one decision counts, and every
/// other one ends as a lost race does, either a compare-and-set conflict on the gate or
/// the state machine's refusal of a gate no longer waiting. Anything else (a corrupt
/// read, a database error) fails the test.
async fn concurrent_decisions_count_once(db: &TestDb) {
    let store = Arc::new(db.store.clone());
    let run = run_to_gate(&store).await;
    let attempts = 24;
    let tasks: Vec<_> = (0..attempts)
        .map(|i| {
            let store = Arc::clone(&store);
            tokio::spawn(async move {
                let choice = if i % 2 == 0 {
                    Decision::Approve
                } else {
                    Decision::Reject
                };
                let event = decision(choice, &format!("person-{i}"));
                let mut state = match store.load_state(run).await {
                    Ok(state) => state,
                    Err(error) => return Outcome::Store(error),
                };
                let transition = match state.apply(event, T0 + 100 + i) {
                    Ok(transition) => transition,
                    Err(refused) => return Outcome::Refused(refused),
                };
                match store.apply(run, &transition).await {
                    Ok(_) => Outcome::Won(i),
                    Err(error) => Outcome::Store(error),
                }
            })
        })
        .collect();
    let mut outcomes = Vec::new();
    for task in tasks {
        outcomes.push(task.await.expect("task"));
    }
    let winners: Vec<i64> = outcomes
        .iter()
        .filter_map(|outcome| match outcome {
            Outcome::Won(i) => Some(*i),
            _ => None,
        })
        .collect();
    assert_eq!(
        winners.len(),
        1,
        "exactly one decision counts: {outcomes:?}"
    );
    let winner = winners[0];
    let gate = store.job(run, "hitl-gate-preprocess").await.expect("gate");
    assert_eq!(gate.decided_by, Some(format!("person-{winner}")));
    let expected = if winner % 2 == 0 {
        (JobStatus::Completed, JobStatus::Pending)
    } else {
        (JobStatus::Failed, JobStatus::Cancelled)
    };
    assert_eq!((gate.status, status(&store, run, "train").await), expected);
    for outcome in &outcomes {
        match outcome {
            Outcome::Won(_) => {}
            Outcome::Store(StoreError::Conflict {
                run: conflicted,
                job,
                expected: JobStatus::Running,
            }) if *conflicted == run && job == "hitl-gate-preprocess" => {}
            Outcome::Refused(TransitionError::GateNotWaiting {
                gate: refused,
                status,
            }) if refused == "hitl-gate-preprocess" && *status == gate.status => {}
            lost => panic!("not how a lost race ends: {lost:?}"),
        }
    }
    let decisions = store
        .events(run)
        .await
        .expect("events")
        .into_iter()
        .filter(|e| e.job_id.as_deref() == Some("hitl-gate-preprocess"))
        .count();
    assert_eq!(
        decisions, 2,
        "one activation and one decision in the history"
    );
}

async fn the_run_status_comes_from_the_rows_not_a_stale_snapshot(db: &TestDb) {
    let store = &db.store;
    let pipeline = Pipeline::parse("name: two\njobs:\n  - {id: a, run: x}\n  - {id: b, run: y}\n")
        .expect("parse");
    let run = store
        .create_run(&expand(&pipeline).expect("valid"), None, T0)
        .await
        .expect("create")
        .id;
    for job in ["a", "b"] {
        step(store, run, Event::JobStarted { job: job.into() }, T0)
            .await
            .expect("start");
    }
    // Both exits are computed from the same snapshot: each thinks the other still runs.
    let snapshot = store.load_state(run).await.expect("state");
    let mut exits = Vec::new();
    for job in ["a", "b"] {
        let mut state = snapshot.clone();
        let exit = Event::JobExited {
            job: job.into(),
            exit: JobExit::Code(0),
        };
        let transition = state.apply(exit, T0 + 5).expect("exit");
        assert_eq!(
            transition.run_status, None,
            "the snapshot alone sees nothing finish"
        );
        exits.push(transition);
    }
    for transition in &exits {
        store.apply(run, transition).await.expect("apply");
    }
    let record = store.get_run(run).await.expect("run");
    assert_eq!(record.status, RunStatus::Completed);
    assert_eq!(record.finished_at, Some(T0 + 5));
}

async fn a_waiting_gate_survives_a_reopen_with_its_deadline(db: &TestDb) {
    let run = run_to_gate(&db.store).await;
    db.store.close().await;
    let store = db.reopen().await;
    let state = store.load_state(run).await.expect("state");
    let gate = state.job("hitl-gate-preprocess").expect("gate");
    assert_eq!(gate.status, JobStatus::Running);
    assert_eq!(gate.deadline_ms, Some(T0 + 2 + 300_000));
    assert_eq!(state.next_deadline(), Some(T0 + 2 + 300_000));
    store.close().await;
}

async fn logs_append_and_read_from_any_offset(db: &TestDb) {
    let store = &db.store;
    let run = store
        .create_run(&review_graph(), None, T0)
        .await
        .expect("create")
        .id;
    assert_eq!(
        store
            .append_log(run, "train", "line one\n")
            .await
            .expect("append"),
        9
    );
    assert_eq!(store.append_log(run, "train", "").await.expect("empty"), 9);
    assert_eq!(
        store
            .append_log(run, "train", "ünïcode ✓\n")
            .await
            .expect("append"),
        23
    );
    assert_eq!(
        store
            .append_log(run, "train", "three\n")
            .await
            .expect("append"),
        29
    );

    let all = store
        .read_log(run, "train", 0, 1 << 20)
        .await
        .expect("read");
    assert_eq!(all.text, "line one\nünïcode ✓\nthree\n");
    assert_eq!((all.offset, all.next_offset, all.total_bytes), (0, 29, 29));

    let tail = store
        .read_log(run, "train", 9, 1 << 20)
        .await
        .expect("tail");
    assert_eq!(tail.text, "ünïcode ✓\nthree\n");
    let middle = store.read_log(run, "train", 4, 1 << 20).await.expect("mid");
    assert_eq!(middle.text, " one\nünïcode ✓\nthree\n");
    // An offset inside a multi-byte character moves to the next whole character.
    let inside = store
        .read_log(run, "train", 10, 1 << 20)
        .await
        .expect("inside");
    assert_eq!(
        (inside.offset, inside.text.as_str()),
        (11, "nïcode ✓\nthree\n")
    );

    let limited = store.read_log(run, "train", 0, 12).await.expect("limited");
    assert_eq!(limited.text, "line one\n", "stops at a chunk boundary");
    assert_eq!(limited.next_offset, 9);
    let one_big_chunk = store.read_log(run, "train", 9, 5).await.expect("big");
    assert_eq!(
        (one_big_chunk.text.as_str(), one_big_chunk.next_offset),
        ("ünïcode ✓\n", 23),
        "a chunk larger than the page comes whole, and nothing after it"
    );
    let at_end = store.read_log(run, "train", 29, 100).await.expect("end");
    assert_eq!((at_end.text.as_str(), at_end.next_offset), ("", 29));
    let beyond = store
        .read_log(run, "train", 500, 100)
        .await
        .expect("beyond");
    assert_eq!((beyond.text.as_str(), beyond.next_offset), ("", 29));

    assert_eq!(store.job(run, "train").await.expect("job").log_bytes, 29);
    assert!(
        store
            .read_log(run, "evaluate", 0, 100)
            .await
            .expect("other")
            .text
            .is_empty()
    );
}

async fn unknown_runs_and_jobs_are_named(db: &TestDb) {
    let store = &db.store;
    let run = store
        .create_run(&review_graph(), None, T0)
        .await
        .expect("create")
        .id;
    assert!(matches!(
        store.get_run(9999).await,
        Err(StoreError::UnknownRun(9999))
    ));
    assert!(matches!(
        store.jobs(9999).await,
        Err(StoreError::UnknownRun(9999))
    ));
    assert!(matches!(
        store.load_state(9999).await,
        Err(StoreError::UnknownRun(9999))
    ));
    let missing = store.append_log(run, "nope", "x").await;
    assert_eq!(
        missing.err().map(|e| e.to_string()).as_deref(),
        Some(format!("run {run} has no job `nope`").as_str())
    );
    assert!(matches!(
        store.read_log(run, "nope", 0, 10).await,
        Err(StoreError::UnknownJob { .. })
    ));
}

async fn the_constructor_draft_is_kept(db: &TestDb) {
    let store = &db.store;
    assert_eq!(store.load_draft("constructor").await.expect("load"), None);
    store
        .save_draft("constructor", "{\"v\":1}", T0)
        .await
        .expect("save");
    store
        .save_draft("constructor", "{\"v\":2}", T0 + 1)
        .await
        .expect("replace");
    assert_eq!(
        store.load_draft("constructor").await.expect("load"),
        Some(("{\"v\":2}".to_string(), T0 + 1))
    );
    let reopened = db.reopen().await;
    assert!(
        reopened
            .load_draft("constructor")
            .await
            .expect("load")
            .is_some()
    );
    reopened.close().await;
}

/// The history is evidence: neither an UPDATE nor a DELETE gets through, whoever has
/// a connection to the database.
async fn the_history_refuses_updates_and_deletes(db: &TestDb) {
    use sqlx::{Connection, Executor};
    let store = &db.store;
    let run = store
        .create_run(&review_graph(), Some("olaf"), T0)
        .await
        .expect("create")
        .id;
    let sign_in = server::store::AccountEvent {
        run: None,
        kind: "sign_in",
        actor: Some("ana"),
        detail: None,
    };
    store.record_event(sign_in, T0).await.expect("record");
    let mut raw = raw_connection(db).await;
    for statement in [
        "delete from events",
        "update events set detail = 'rewritten'",
        "update events set actor = 'someone else' where run_id is null",
    ] {
        let refused = raw.execute(statement).await;
        assert!(refused.is_err(), "`{statement}` went through");
    }
    raw.close().await.expect("close");
    let history = store.events(run).await.expect("events");
    assert_eq!(history.len(), 1, "{history:?}");
    assert_eq!(history[0].actor.as_deref(), Some("olaf"));
    let accounts = store.account_events(10).await.expect("account events");
    assert_eq!(accounts[0].actor.as_deref(), Some("ana"));
}

/// A run larger than one multi-row insert keeps every job, in graph order, with its
/// gate fields.
async fn a_large_run_is_stored_whole_and_in_order(db: &TestDb) {
    let mut yaml = String::from("name: wide\njobs:\n");
    for n in 0..2_300 {
        if n % 500 == 0 {
            yaml.push_str(&format!(
                "  - id: j{n}\n    run: 'true'\n    gate: {{message: check {n}, approvals: 2}}\n"
            ));
        } else {
            yaml.push_str(&format!("  - id: j{n}\n    run: 'true'\n"));
        }
    }
    let graph = expand(&Pipeline::parse(&yaml).expect("parse")).expect("valid");
    assert_eq!(graph.nodes.len(), 2_305, "2,300 jobs and 5 gates");
    let run = db
        .store
        .create_run(&graph, Some("olaf"), T0)
        .await
        .expect("create")
        .id;
    let jobs = db.store.jobs(run).await.expect("jobs");
    let stored: Vec<&str> = jobs.iter().map(|job| job.job_id.as_str()).collect();
    let expected: Vec<&str> = graph.nodes.iter().map(|node| node.id.as_str()).collect();
    assert_eq!(stored, expected);
    assert!(
        jobs.iter()
            .enumerate()
            .all(|(at, job)| job.position == at as i64)
    );
    let gate = jobs
        .iter()
        .find(|job| job.job_id == "hitl-gate-j2000")
        .expect("gate");
    assert_eq!(
        (gate.kind.as_str(), gate.gate_message.as_deref()),
        ("gate", Some("check 2000"))
    );
    let state = db.store.load_state(run).await.expect("state");
    assert_eq!(state.ready_tasks().len(), 2_300);
}

/// A session ends after its idle limit, at its absolute expiry, and when its user's
/// password changes; within all three it names its user.
async fn sessions_end_when_idle_expired_or_the_password_changed(db: &TestDb) {
    let store = &db.store;
    let ana = server::store::NewUser {
        username: "ana",
        display_name: "Ana",
        password_hash: Some("not-a-real-hash"),
        roles: &[app::domain::Role::Approver],
    };
    store.create_user(ana, T0).await.expect("user");
    store
        .create_session("digest-1", "ana", T0 + 10, T0 + 10_000)
        .await
        .expect("session");
    let user_at = |now: i64, idle: i64| async move {
        store
            .session_user("digest-1", now, idle)
            .await
            .expect("lookup")
            .map(|member| member.user.username)
    };
    assert_eq!(user_at(T0 + 500, 1_000).await.as_deref(), Some("ana"));
    // The groups come with the user, in order, from the same read.
    let groups = server::store::UserChange {
        groups: Some(vec!["sre".into(), "data".into()]),
        ..Default::default()
    };
    store.update_user("ana", &groups, T0).await.expect("groups");
    let member = store
        .session_user("digest-1", T0 + 600, 1_000)
        .await
        .expect("lookup")
        .expect("a live session");
    assert_eq!(member.groups, ["data", "sre"]);
    // A use is noted once a minute has passed since the last note, so a session in use
    // outlives its idle limit.
    store
        .create_session("digest-2", "ana", T0, T0 + 1_000_000)
        .await
        .expect("session");
    let alive = |now: i64| async move {
        store
            .session_user("digest-2", now, 90_000)
            .await
            .expect("lookup")
            .is_some()
    };
    assert!(alive(T0 + 70_000).await, "used 70 s after sign-in");
    assert!(alive(T0 + 150_000).await, "80 s after the noted use");
    assert!(!alive(T0 + 245_000).await, "95 s after the last noted use");
    assert_eq!(user_at(T0 + 2_000, 1_000).await, None, "idle too long");
    assert_eq!(user_at(T0 + 12_000, 100_000).await, None, "past its expiry");
    assert_eq!(user_at(T0 + 900, 100_000).await.as_deref(), Some("ana"));
    store
        .set_password("ana", "another-hash", T0 + 1_000)
        .await
        .expect("new password");
    assert_eq!(
        user_at(T0 + 1_100, 100_000).await,
        None,
        "the password changed"
    );
}

/// A password change, a disable and a role taken away revoke the account's tokens as
/// well as its sessions; a group change or a role added leaves them; a re-enabled
/// account's old tokens stay dead.
async fn tokens_end_with_a_password_change_a_disable_or_a_role_taken(db: &TestDb) {
    use app::domain::Role;
    use server::store::{NewUser, UserChange};
    let store = &db.store;
    let ana = NewUser {
        username: "ana",
        display_name: "Ana",
        password_hash: Some("not-a-real-hash"),
        roles: &[Role::Approver, Role::Operator],
    };
    store.create_user(ana, T0).await.expect("user");
    let issue = |n: u32| async move {
        let digest = format!("token-{n}");
        store
            .create_token("ana", &format!("t{n}"), &digest, T0, None)
            .await
            .expect("token");
        store
            .create_session(&format!("session-{n}"), "ana", T0, T0 + 1_000_000)
            .await
            .expect("session");
        n
    };
    let live = |n: u32| async move {
        let token = store
            .token_user(&format!("token-{n}"), T0 + 10)
            .await
            .expect("token lookup")
            .is_some();
        let session = store
            .session_user(&format!("session-{n}"), T0 + 10, 1_000_000)
            .await
            .expect("session lookup")
            .is_some();
        (token, session)
    };
    let change = |change: UserChange| async move {
        store
            .update_user("ana", &change, T0 + 5)
            .await
            .expect("change")
    };

    let first = issue(1).await;
    let harmless = [
        UserChange {
            groups: Some(vec!["data".into()]),
            ..Default::default()
        },
        UserChange {
            roles: Some(vec![Role::Approver, Role::Operator, Role::Admin]),
            ..Default::default()
        },
        UserChange {
            disabled: Some(false),
            ..Default::default()
        },
    ];
    for harmless in harmless {
        assert!(!change(harmless.clone()).await, "{harmless:?}");
        assert_eq!(live(first).await, (true, true), "{harmless:?}");
    }

    let role_taken = UserChange {
        roles: Some(vec![Role::Approver, Role::Admin]),
        ..Default::default()
    };
    assert!(change(role_taken).await);
    assert_eq!(
        live(first).await,
        (false, false),
        "the operator role was taken"
    );

    let second = issue(2).await;
    let disabled = UserChange {
        disabled: Some(true),
        ..Default::default()
    };
    assert!(change(disabled).await);
    let enabled = UserChange {
        disabled: Some(false),
        ..Default::default()
    };
    assert!(!change(enabled).await);
    assert_eq!(live(second).await, (false, false), "disabled, then enabled");

    let third = issue(3).await;
    store
        .set_password("ana", "another-hash", T0 + 5)
        .await
        .expect("new password");
    assert_eq!(live(third).await, (false, false), "the password changed");
    let tokens = store.list_tokens(Some("ana")).await.expect("tokens");
    assert!(
        tokens.iter().all(|t| t.revoked_at == Some(T0 + 5)),
        "{tokens:?}"
    );
}

/// The scheduler's batch: several runs' transitions in one write, or none of them when
/// one has gone stale.
async fn a_batch_is_written_whole_or_not_at_all(db: &TestDb) {
    let store = &db.store;
    let graph = expand(
        &Pipeline::parse("name: two\njobs:\n  - {id: a, run: 'true'}\n  - {id: b, run: 'true'}\n")
            .expect("parse"),
    )
    .expect("valid");
    let first = store.create_run(&graph, None, T0).await.expect("create").id;
    let second = store.create_run(&graph, None, T0).await.expect("create").id;
    let mut one = store.load_state(first).await.expect("state");
    let mut two = store.load_state(second).await.expect("state");
    let start = |job: &str| Event::JobStarted { job: job.into() };
    let starts = [
        one.apply(start("a"), T0 + 1).expect("a"),
        one.apply(start("b"), T0 + 1).expect("b"),
        two.apply(start("a"), T0 + 1).expect("a"),
    ];
    let batch: Vec<(i64, &app::domain::Transition)> = vec![
        (first, &starts[0]),
        (first, &starts[1]),
        (second, &starts[2]),
    ];
    store
        .apply_all(&batch, &Records::default())
        .await
        .expect("batch");
    for (run, job) in [(first, "a"), (first, "b"), (second, "a")] {
        assert_eq!(status(store, run, job).await, JobStatus::Running);
    }
    assert_eq!(status(store, second, "b").await, JobStatus::Pending);

    // The second run's `a` is written again from a stale state: nothing of the batch
    // is written, not even the first run's exits that come before it.
    let exit = |job: &str| Event::JobExited {
        job: job.into(),
        exit: JobExit::Code(0),
    };
    let exits = [
        one.apply(exit("a"), T0 + 2).expect("a"),
        one.apply(exit("b"), T0 + 2).expect("b"),
    ];
    let stale = starts[2].clone();
    let batch: Vec<(i64, &app::domain::Transition)> =
        vec![(first, &exits[0]), (first, &exits[1]), (second, &stale)];
    let events_before = store.events(first).await.expect("events").len();
    let refused = store.apply_all(&batch, &Records::default()).await;
    assert!(
        matches!(&refused, Err(StoreError::Conflict { job, .. }) if job == "a"),
        "{refused:?}"
    );
    assert_eq!(status(store, first, "a").await, JobStatus::Running);
    assert_eq!(
        store.events(first).await.expect("events").len(),
        events_before
    );
    let summary = store.run_summary(first).await.expect("summary");
    assert_eq!(
        (summary.completed_jobs, summary.run.status),
        (0, RunStatus::Running)
    );

    let batch: Vec<(i64, &app::domain::Transition)> = vec![(first, &exits[0]), (first, &exits[1])];
    store
        .apply_all(&batch, &Records::default())
        .await
        .expect("exits");
    let summary = store.run_summary(first).await.expect("summary");
    assert_eq!((summary.completed_jobs, summary.total_jobs), (2, 2));
    assert_eq!(summary.run.status, RunStatus::Completed);
}

/// The counts on a run's row, kept change by change, equal a count of its jobs; the
/// version says which jobs changed since the page last asked.
async fn run_counts_and_versions_follow_every_change(db: &TestDb) {
    let store = &db.store;
    let run = run_to_gate(store).await;
    let summary = store.run_summary(run).await.expect("summary");
    assert_eq!(
        (
            summary.total_jobs,
            summary.completed_jobs,
            summary.waiting_gates
        ),
        (4, 1, 1)
    );
    let seen = summary.version;
    assert!(
        store
            .job_progress(run, Some(seen))
            .await
            .expect("changes")
            .is_empty()
    );

    step(store, run, decision(Decision::Reject, "ana"), T0 + 3)
        .await
        .expect("reject");
    let changed: Vec<String> = store
        .job_progress(run, Some(seen))
        .await
        .expect("changes")
        .into_iter()
        .map(|job| job.job_id)
        .collect();
    assert_eq!(changed, ["hitl-gate-preprocess", "train", "evaluate"]);
    let summary = store.run_summary(run).await.expect("summary");
    assert_eq!(
        (
            summary.completed_jobs,
            summary.waiting_gates,
            summary.run.status
        ),
        (1, 0, RunStatus::Failed)
    );
    assert!(summary.version > seen);

    // A longer log is a change too.
    let seen = summary.version;
    store
        .append_log(run, "preprocess", "more\n")
        .await
        .expect("log");
    let changed = store.job_progress(run, Some(seen)).await.expect("changes");
    assert_eq!(changed.len(), 1);
    assert_eq!(changed[0].job_id, "preprocess");

    let counts = store.status_counts().await.expect("counts");
    let jobs: std::collections::HashMap<String, i64> = counts.jobs.into_iter().collect();
    assert_eq!(jobs.get("COMPLETED"), Some(&1));
    assert_eq!(jobs.get("FAILED"), Some(&1));
    assert_eq!(jobs.get("CANCELLED"), Some(&2));
    assert_eq!(counts.gates_waiting, 0);
}

const TWO_APPROVALS: &str = "
name: two-approvals
jobs:
  - {id: src, run: 'true', gate: {message: two people, approvals: 2}}
  - {id: next, run: 'true', depends_on: [src]}
";

/// A decision reads everything it depends on at once: the node's kind and status, the
/// gate's rules, the deployer and the approvals so far; and an event written with no
/// other write in between says its state is the run exactly as stored.
async fn a_decision_reads_its_gate_once_and_knows_its_state_is_exact(db: &TestDb) {
    let store = &db.store;
    let graph = expand(&Pipeline::parse(TWO_APPROVALS).expect("parse")).expect("valid");
    let run = store
        .create_run(&graph, Some("olaf"), T0)
        .await
        .expect("create")
        .id;
    let started = Event::JobStarted { job: "src".into() };
    step(store, run, started, T0 + 1).await.expect("start");
    let exited = Event::JobExited {
        job: "src".into(),
        exit: JobExit::Code(0),
    };
    step(store, run, exited, T0 + 2).await.expect("exit");

    let first = Event::GateDecided {
        gate: "hitl-gate-src".into(),
        decision: Decision::Approve,
        by: "ana".into(),
        comment: None,
        overriding: false,
        choice: Default::default(),
    };
    let applied = server::engine::apply_event(store, run, first)
        .await
        .expect("first approval");
    let (stored, version) = store.load_versioned(run).await.expect("reload");
    assert!(
        applied.exact_version.is_some_and(|exact| exact <= version),
        "nothing came between the read and the write: {:?} vs {version}",
        applied.exact_version
    );
    for node in &graph.nodes {
        assert_eq!(
            applied.state.job(&node.id),
            stored.job(&node.id),
            "{}",
            node.id
        );
    }

    let loaded = store.load_run(run).await.expect("load");
    assert_eq!(loaded.deployed_by.as_deref(), Some("olaf"));
    assert_eq!(loaded.version, version);
    let gate = loaded.state.job("hitl-gate-src").expect("gate");
    assert_eq!(gate.status, JobStatus::Running, "one of two approvals");
    assert_eq!(gate.approved_by, ["ana"]);
    let Some(NodeKind::Gate { policy, .. }) = loaded.state.node("hitl-gate-src").map(|n| &n.kind)
    else {
        panic!("the gate's node is a gate");
    };
    assert_eq!(policy.approvals, 2);
    let task = loaded.state.job("src").expect("task");
    assert_eq!(
        (task.status, task.approved_by.len()),
        (JobStatus::Completed, 0)
    );
    assert!(matches!(
        store.load_run(run + 1000).await,
        Err(StoreError::UnknownRun(_))
    ));
}

/// Retention deletes the runs that finished before the cut, with their history, logs
/// and workspace; a run finished since, and a running run waiting at its gate (however
/// old), are untouched, and the history stays append-only for everyone else.
async fn retention_deletes_only_finished_runs_past_the_age(db: &TestDb) {
    let store = &db.store;
    let cancelled = |at: i64| async move {
        let run = store
            .create_run(&review_graph(), Some("olaf"), T0)
            .await
            .expect("create")
            .id;
        let cancel = Event::RunCancelled { by: "olaf".into() };
        step(store, run, cancel, at).await.expect("cancel");
        run
    };
    let old = cancelled(T0 + 10).await;
    let recent = cancelled(T0 + 1_000).await;
    let waiting = run_to_gate(store).await;
    store
        .append_log(old, "preprocess", "old output\n")
        .await
        .expect("log");
    let workspaces = server::workspace::Workspaces::new(&db.dir);
    for run in [old, recent, waiting] {
        workspaces.create(run).expect("workspace");
    }
    // The old run's job replaced its workspace by a link: removing it must not follow.
    let outside = db.dir.join("outside");
    std::fs::create_dir_all(&outside).expect("outside");
    std::fs::write(outside.join("keep.txt"), "kept").expect("file");
    std::fs::remove_dir(workspaces.dir(old)).expect("rm");
    std::os::unix::fs::symlink(&outside, workspaces.dir(old)).expect("link");

    // A webhook notification of each: the old run's goes with it.
    {
        use sqlx::Connection;
        let mut raw = raw_connection(db).await;
        for run in [old, recent] {
            sqlx::query(
                "insert into notifications (event_id, endpoint, run_id, kind, body, \
                     created_at, next_attempt_at, delivered_at) \
                 values ($1, 'http://127.0.0.1:9/x', $2, 'run_finished', '{}', 1, 1, 2)",
            )
            .bind(format!("{run}/finished"))
            .bind(run)
            .execute(&mut raw)
            .await
            .expect("a notification");
        }
        raw.close().await.expect("close");
    }
    let deleted = server::retention::sweep(store, &workspaces, T0 + 500)
        .await
        .expect("sweep");
    assert_eq!(deleted, 1);
    let left: Vec<i64> = store
        .recent_notifications(10)
        .await
        .expect("notifications")
        .into_iter()
        .map(|n| n.run_id)
        .collect();
    assert_eq!(
        left,
        [recent],
        "the old run's notification is deleted with it"
    );
    assert!(matches!(
        store.get_run(old).await,
        Err(StoreError::UnknownRun(_))
    ));
    assert!(store.events(old).await.expect("events").is_empty());
    assert!(!workspaces.dir(old).exists(), "the link is gone");
    assert!(outside.join("keep.txt").exists(), "and not followed");
    for run in [recent, waiting] {
        assert!(store.get_run(run).await.is_ok(), "run {run} is kept");
        assert!(workspaces.dir(run).is_dir());
    }
    assert_eq!(
        status(store, waiting, "hitl-gate-preprocess").await,
        JobStatus::Running
    );
    let nothing_left = server::retention::sweep(store, &workspaces, T0 + 500)
        .await
        .expect("sweep again");
    assert_eq!(nothing_left, 0);

    use sqlx::{Connection, Executor};
    let mut raw = raw_connection(db).await;
    assert!(
        raw.execute("delete from events").await.is_err(),
        "outside a sweep the history refuses deletes"
    );
    raw.close().await.expect("close");
}

/// Deploys the review workflow (by `deployer`) and brings it to its waiting gate, the
/// gate starting to wait at `at`.
async fn run_to_gate_at(store: &Store, deployer: Option<&str>, at: i64) -> i64 {
    let run = store
        .create_run(&review_graph(), deployer, T0)
        .await
        .expect("create")
        .id;
    let started = Event::JobStarted {
        job: "preprocess".into(),
    };
    step(store, run, started, at - 1).await.expect("start");
    let exited = Event::JobExited {
        job: "preprocess".into(),
        exit: JobExit::Code(0),
    };
    step(store, run, exited, at).await.expect("exit");
    run
}

const TWO_TASKS: &str =
    "name: two-tasks\njobs:\n  - {id: a, run: 'true'}\n  - {id: b, run: 'true'}\n";

async fn two_tasks(store: &Store) -> i64 {
    let graph = expand(&Pipeline::parse(TWO_TASKS).expect("parse")).expect("valid");
    store.create_run(&graph, None, T0).await.expect("create").id
}

fn start(job: &str) -> Event {
    Event::JobStarted { job: job.into() }
}

fn exit_ok(job: &str) -> Event {
    Event::JobExited {
        job: job.into(),
        exit: JobExit::Code(0),
    }
}

/// The gates waiting for a person: only RUNNING gates (not one still pending, not one
/// decided), oldest wait first whatever the run ids, each with its run's pipeline and
/// deployer, its source, message, times and rules; and only the asked run's when one is
/// named.
async fn waiting_gates_lists_running_gates_in_activation_order(db: &TestDb) {
    let store = &db.store;
    let later = run_to_gate_at(store, Some("olaf"), T0 + 50).await;
    let earlier = run_to_gate_at(store, None, T0 + 20).await;
    let decided = run_to_gate_at(store, Some("olaf"), T0 + 10).await;
    step(store, decided, decision(Decision::Approve, "ana"), T0 + 11)
        .await
        .expect("approve");
    let pending = store
        .create_run(&review_graph(), Some("olaf"), T0)
        .await
        .expect("create")
        .id;
    let graph = expand(&Pipeline::parse(TWO_APPROVALS).expect("parse")).expect("valid");
    let two = store
        .create_run(&graph, Some("eve"), T0)
        .await
        .expect("create")
        .id;
    step(store, two, start("src"), T0 + 29)
        .await
        .expect("start");
    step(store, two, exit_ok("src"), T0 + 30)
        .await
        .expect("exit");
    let first_approval = Event::GateDecided {
        gate: "hitl-gate-src".into(),
        decision: Decision::Approve,
        by: "ana".into(),
        comment: None,
        overriding: false,
        choice: Default::default(),
    };
    step(store, two, first_approval, T0 + 31)
        .await
        .expect("one of two approvals");

    let policy_of = |graph: &RunGraph, gate: &str| {
        graph.nodes.iter().find_map(|node| match &node.kind {
            app::domain::NodeKind::Gate { policy, .. } if node.id == gate => {
                Some(serde_json::to_string(policy).expect("policy"))
            }
            _ => None,
        })
    };
    let review = |run: i64, at: i64, deployer: Option<&str>| server::store::WaitingGate {
        run_id: run,
        pipeline: "review-workflow".into(),
        job_id: "hitl-gate-preprocess".into(),
        gate_source: "preprocess".into(),
        gate_message: "Review data quality report before training begins".into(),
        activated_at: at,
        deadline_at: at + 300_000,
        gate_policy: policy_of(&review_graph(), "hitl-gate-preprocess"),
        deployed_by: deployer.map(String::from),
        gate_form: None,
    };
    let waiting = store.waiting_gates(None).await.expect("waiting");
    assert_eq!(waiting.len(), 3, "{waiting:?}");
    assert_eq!(waiting[0], review(earlier, T0 + 20, None));
    assert_eq!(
        (
            waiting[1].run_id,
            waiting[1].pipeline.as_str(),
            waiting[1].job_id.as_str(),
            waiting[1].activated_at,
            waiting[1].deployed_by.as_deref(),
        ),
        (two, "two-approvals", "hitl-gate-src", T0 + 30, Some("eve"))
    );
    assert_eq!(waiting[1].gate_policy, policy_of(&graph, "hitl-gate-src"));
    assert_eq!(waiting[2], review(later, T0 + 50, Some("olaf")));

    assert_eq!(
        store.waiting_gates(Some(later)).await.expect("one run"),
        [review(later, T0 + 50, Some("olaf"))]
    );
    for run in [decided, pending] {
        assert!(
            store
                .waiting_gates(Some(run))
                .await
                .expect("none")
                .is_empty(),
            "run {run} has no waiting gate"
        );
    }
}

/// A job is abandoned when it is a RUNNING task whose owner's last heartbeat (or, with
/// no known owner, its start) is older than the cut: not a task of a live replica, not
/// a finished task, not a gate, not one started after the cut, and none of the
/// replica named in `except`.
async fn abandoned_jobs_are_running_tasks_of_silent_replicas(db: &TestDb) {
    let store = &db.store;
    let cut = T0 + 500;
    for replica in ["stale", "live", "self"] {
        store.register_replica(replica, T0).await.expect("register");
    }
    store.heartbeat("live", cut + 400).await.expect("heartbeat");
    let on = |origin: &str| store.clone().with_origin(origin);

    let stale = two_tasks(store).await;
    step(&on("stale"), stale, start("a"), T0 + 1)
        .await
        .expect("a");
    step(&on("stale"), stale, start("b"), T0 + 1)
        .await
        .expect("b");
    step(&on("stale"), stale, exit_ok("b"), T0 + 2)
        .await
        .expect("b done");
    let live = two_tasks(store).await;
    step(&on("live"), live, start("a"), T0 + 1)
        .await
        .expect("a");
    let own = two_tasks(store).await;
    step(&on("self"), own, start("a"), T0 + 1).await.expect("a");
    let unowned = two_tasks(store).await;
    step(store, unowned, start("a"), T0 + 1).await.expect("a");
    step(store, unowned, start("b"), cut + 100)
        .await
        .expect("b");
    let ghost = two_tasks(store).await;
    step(&on("ghost"), ghost, start("a"), T0 + 1)
        .await
        .expect("a");
    run_to_gate_at(store, None, T0 + 2).await;

    let job = |run: i64, job: &str, owner: Option<&str>| server::store::AbandonedJob {
        run_id: run,
        job_id: job.into(),
        owner: owner.map(String::from),
    };
    assert_eq!(
        store
            .abandoned_jobs(cut, Some("self"))
            .await
            .expect("abandoned"),
        [
            job(stale, "a", Some("stale")),
            job(unowned, "a", None),
            job(ghost, "a", Some("ghost")),
        ]
    );
    assert_eq!(
        store.abandoned_jobs(cut, None).await.expect("abandoned"),
        [
            job(stale, "a", Some("stale")),
            job(own, "a", Some("self")),
            job(unowned, "a", None),
            job(ghost, "a", Some("ghost")),
        ],
        "without `except`, the own replica's silent jobs count too"
    );
    assert!(
        store
            .abandoned_jobs(T0, None)
            .await
            .expect("none")
            .is_empty(),
        "nothing is older than a cut before everything"
    );
    assert_eq!(
        store.tasks_run_by("self").await.expect("own tasks"),
        [(own, "a".to_string())],
        "a replica's own RUNNING tasks, whatever its heartbeat"
    );
    assert_eq!(
        store.tasks_run_by("stale").await.expect("stale tasks"),
        [(stale, "a".to_string())],
        "not its finished ones"
    );
}

/// A heartbeat moves its replica's heartbeat_at to the time given: its jobs leave the
/// abandoned list for a cut before that time (and come back for a cut after it), and
/// another replica's jobs are untouched.
async fn a_heartbeat_keeps_a_replicas_jobs_from_being_abandoned(db: &TestDb) {
    let store = &db.store;
    for replica in ["one", "two"] {
        store.register_replica(replica, T0).await.expect("register");
    }
    let run = two_tasks(store).await;
    let one = store.clone().with_origin("one");
    let two = store.clone().with_origin("two");
    step(&one, run, start("a"), T0 + 1).await.expect("a");
    step(&two, run, start("b"), T0 + 1).await.expect("b");
    let abandoned = |cut: i64| async move {
        store
            .abandoned_jobs(cut, None)
            .await
            .expect("abandoned")
            .into_iter()
            .map(|job| job.job_id)
            .collect::<Vec<_>>()
    };
    assert_eq!(abandoned(T0 + 100).await, ["a", "b"]);
    store.heartbeat("one", T0 + 200).await.expect("heartbeat");
    assert_eq!(
        abandoned(T0 + 100).await,
        ["b"],
        "one is alive since T0+200"
    );
    assert_eq!(
        abandoned(T0 + 200).await,
        ["b"],
        "a heartbeat at the cut is alive"
    );
    assert_eq!(abandoned(T0 + 201).await, ["a", "b"], "and silent after it");
    store.heartbeat("two", T0 + 300).await.expect("heartbeat");
    assert!(abandoned(T0 + 200).await.is_empty(), "both are alive");
    assert_eq!(abandoned(T0 + 250).await, ["a"], "two's heartbeat is later");
}

/// A task that starts is claimed in the same write by the replica that started it (its
/// owner); a gate has no owner, a later change (the exit, by another replica) keeps the
/// owner, and a store with no replica id claims nothing.
async fn a_started_task_is_owned_by_the_replica_that_started_it(db: &TestDb) {
    let store = &db.store;
    let a = store.clone().with_origin("replica-a");
    let b = store.clone().with_origin("replica-b");
    let run = store
        .create_run(&review_graph(), None, T0)
        .await
        .expect("create")
        .id;
    let owner = |job: &'static str| async move { store.job(run, job).await.expect("job").owner };
    assert_eq!(
        owner("preprocess").await,
        None,
        "nobody owns a pending task"
    );
    step(&a, run, start("preprocess"), T0 + 1)
        .await
        .expect("start");
    assert_eq!(owner("preprocess").await.as_deref(), Some("replica-a"));
    step(&b, run, exit_ok("preprocess"), T0 + 2)
        .await
        .expect("exit");
    assert_eq!(
        owner("preprocess").await.as_deref(),
        Some("replica-a"),
        "the exit keeps who ran it"
    );
    assert_eq!(
        owner("hitl-gate-preprocess").await,
        None,
        "a gate runs nothing"
    );
    step(&b, run, decision(Decision::Approve, "ana"), T0 + 3)
        .await
        .expect("approve");
    step(store, run, start("train"), T0 + 4)
        .await
        .expect("start");
    assert_eq!(owner("train").await, None, "no replica id, no claim");
    step(store, run, exit_ok("train"), T0 + 5)
        .await
        .expect("exit");
    step(&b, run, start("evaluate"), T0 + 6)
        .await
        .expect("start");
    assert_eq!(owner("evaluate").await.as_deref(), Some("replica-b"));
}

/// The metrics' counts: runs by status, jobs by status (only the statuses that occur)
/// and the gates waiting now, equal to a count of the rows themselves.
async fn status_counts_count_runs_and_jobs_by_status(db: &TestDb) {
    let store = &db.store;
    assert_eq!(
        store.status_counts().await.expect("empty"),
        server::store::StatusCounts::default()
    );
    run_to_gate(store).await;
    let rejected = run_to_gate(store).await;
    step(store, rejected, decision(Decision::Reject, "bob"), T0 + 3)
        .await
        .expect("reject");
    let cancelled = run_to_gate(store).await;
    let cancel = Event::RunCancelled { by: "olaf".into() };
    step(store, cancelled, cancel, T0 + 4)
        .await
        .expect("cancel");
    let fresh = two_tasks(store).await;
    step(store, fresh, start("a"), T0 + 5).await.expect("start");

    let counts = store.status_counts().await.expect("counts");
    let pairs = |pairs: &[(&str, i64)]| -> Vec<(String, i64)> {
        pairs.iter().map(|(s, n)| (s.to_string(), *n)).collect()
    };
    assert_eq!(
        counts,
        server::store::StatusCounts {
            runs: pairs(&[("CANCELLED", 1), ("FAILED", 1), ("RUNNING", 2)]),
            // At the gate: 1 completed, the gate running, 2 pending. Rejected: 1
            // completed, the gate failed, 2 cancelled. Cancelled at its gate: 1
            // completed, 3 cancelled. Two tasks: 1 running, 1 pending.
            jobs: pairs(&[
                ("CANCELLED", 5),
                ("COMPLETED", 3),
                ("FAILED", 1),
                ("PENDING", 3),
                ("RUNNING", 2),
            ]),
            gates_waiting: 1,
        }
    );

    use sqlx::Connection;
    let mut raw = raw_connection(db).await;
    let jobs: Vec<(String, i64)> =
        sqlx::query_as("select status, count(*) from jobs group by status order by status")
            .fetch_all(&mut raw)
            .await
            .expect("count jobs");
    let gates: i64 =
        sqlx::query_scalar("select count(*) from jobs where kind = 'gate' and status = 'RUNNING'")
            .fetch_one(&mut raw)
            .await
            .expect("count gates");
    raw.close().await.expect("close");
    assert_eq!((counts.jobs, counts.gates_waiting), (jobs, gates));
}

/// Ready means every migration of this build is recorded as applied: Ok on a migrated
/// database, an error naming the versions when the newest one is missing or failed.
async fn ready_needs_the_newest_migration(db: &TestDb) {
    use sqlx::{Connection, Executor};
    let store = &db.store;
    store.ready().await.expect("a migrated store is ready");
    let newest = migration_files(store).last().expect("newest").0;
    let mut raw = raw_connection(db).await;
    let failed = format!("update _sqlx_migrations set success = false where version = {newest}");
    raw.execute(sqlx::AssertSqlSafe(failed))
        .await
        .expect("mark failed");
    let unready = store.ready().await;
    assert!(
        matches!(&unready, Err(StoreError::Corrupt(why)) if why.contains(&format!("needs {newest}"))),
        "a failed newest migration: {unready:?}"
    );
    let ok = format!("update _sqlx_migrations set success = true where version = {newest}");
    raw.execute(sqlx::AssertSqlSafe(ok)).await.expect("mark ok");
    store.ready().await.expect("ready again");
    let delete = format!("delete from _sqlx_migrations where version = {newest}");
    raw.execute(sqlx::AssertSqlSafe(delete))
        .await
        .expect("delete");
    raw.close().await.expect("close");
    let unready = store.ready().await;
    assert!(
        matches!(
            &unready,
            Err(StoreError::Corrupt(why))
                if why.contains(&format!("at migration {}", newest - 1))
                    && why.contains(&format!("needs {newest}"))
        ),
        "the newest migration is missing: {unready:?}"
    );
}

/// An approval's option and inputs are stored with the gate and come back when the run
/// is read again (a restart, another replica), with its form.
async fn a_gate_keeps_its_form_and_what_its_approval_chose(db: &TestDb) {
    let store = &db.store;
    let spec = "
name: release
jobs:
  - id: evaluate
    run: 'true'
    gate:
      message: Pick
      options: [ship, rollback]
      inputs: [{name: threshold, type: number}]
  - {id: act, run: 'true', depends_on: [evaluate]}
";
    let graph = expand(&Pipeline::parse(spec).expect("parse")).expect("valid");
    let run = store.create_run(&graph, None, T0).await.expect("create").id;
    for event in [
        Event::JobStarted {
            job: "evaluate".into(),
        },
        Event::JobExited {
            job: "evaluate".into(),
            exit: JobExit::Code(0),
        },
    ] {
        step(store, run, event, T0 + 1).await.expect("step");
    }
    let loaded = store.load_run(run).await.expect("load");
    let Some(NodeKind::Gate { form, .. }) =
        loaded.state.node("hitl-gate-evaluate").map(|n| &n.kind)
    else {
        panic!("the gate's node is a gate");
    };
    assert_eq!(form.options, ["ship", "rollback"]);
    let choice: app::domain::GateChoice = serde_json::from_value(
        serde_json::json!({"option": "rollback", "inputs": {"threshold": 0.25}}),
    )
    .expect("choice");
    let approve = Event::GateDecided {
        gate: "hitl-gate-evaluate".into(),
        decision: Decision::Approve,
        by: "ana".into(),
        comment: None,
        overriding: false,
        choice: choice.clone(),
    };
    step(store, run, approve, T0 + 2).await.expect("approve");
    let reread = db.reopen().await.load_state(run).await.expect("load");
    assert_eq!(
        reread
            .job("hitl-gate-evaluate")
            .and_then(|j| j.choice.clone()),
        Some(choice)
    );
    assert_eq!(
        reread
            .choice_env("act")
            .get("TOLLGATE_GATE_EVALUATE_THRESHOLD")
            .map(String::as_str),
        Some("0.25")
    );
}

/// A gate's log lines are written in the transaction of the change they tell of: each
/// chunk right after the last, and none at all when that write is refused.
async fn gate_log_lines_are_written_with_their_change(db: &TestDb) {
    const GATE: &str = "hitl-gate-preprocess";
    let store = &db.store;
    let run = run_to_gate(store).await;
    let waiting = store.read_log(run, GATE, 0, 1 << 20).await.expect("log");
    assert!(
        waiting
            .text
            .starts_with("[tollgate] gate hitl-gate-preprocess is waiting for approval"),
        "{}",
        waiting.text
    );
    assert_eq!(waiting.total_bytes, waiting.text.len() as u64);

    // A rejection judged on the state before the approval: refused whole, line included.
    let (mut stale, _) = store.load_versioned(run).await.expect("load");
    server::engine::apply_event(store, run, decision(Decision::Approve, "ana"))
        .await
        .expect("approve");
    let reject = stale
        .apply(decision(Decision::Reject, "bob"), T0 + 5)
        .expect("judged on the stale state");
    let written = server::engine::records(run, &stale, &reject);
    assert_eq!(written.log_lines.len(), 1, "{written:?}");
    let refused = store.apply_all(&[(run, &reject)], &written).await;
    assert!(
        matches!(refused, Err(StoreError::Conflict { .. })),
        "{refused:?}"
    );

    let log = store.read_log(run, GATE, 0, 1 << 20).await.expect("log");
    let told: Vec<&str> = log.text.lines().collect();
    assert_eq!(told.len(), 2, "{}", log.text);
    assert!(
        told[1].starts_with("[tollgate] approved by ana at "),
        "{}",
        log.text
    );
    assert_eq!(log.total_bytes, log.text.len() as u64);
    let gate = store.job(run, GATE).await.expect("gate");
    assert_eq!(gate.log_bytes as u64, log.total_bytes);
    let rest = store
        .read_log(run, GATE, waiting.total_bytes, 1 << 20)
        .await
        .expect("the approval's chunk");
    assert_eq!(rest.text, format!("{}\n", told[1]));
}

on_both_backends!(
    gate_log_lines_are_written_with_their_change,
    a_gate_keeps_its_form_and_what_its_approval_chose,
    waiting_gates_lists_running_gates_in_activation_order,
    abandoned_jobs_are_running_tasks_of_silent_replicas,
    a_heartbeat_keeps_a_replicas_jobs_from_being_abandoned,
    a_started_task_is_owned_by_the_replica_that_started_it,
    status_counts_count_runs_and_jobs_by_status,
    ready_needs_the_newest_migration,
    retention_deletes_only_finished_runs_past_the_age,
    a_decision_reads_its_gate_once_and_knows_its_state_is_exact,
    a_batch_is_written_whole_or_not_at_all,
    run_counts_and_versions_follow_every_change,
    sessions_end_when_idle_expired_or_the_password_changed,
    tokens_end_with_a_password_change_a_disable_or_a_role_taken,
    a_large_run_is_stored_whole_and_in_order,
    the_history_refuses_updates_and_deletes,
    the_constructor_draft_is_kept,
    migrations_apply_once_and_reopen_cleanly,
    pipelines_are_saved_listed_and_updated,
    a_deploy_stores_the_graph_with_every_job_pending,
    each_deploy_is_a_new_run_listed_newest_first,
    a_whole_run_records_statuses_times_and_the_decision,
    a_rejection_cancels_downstream_in_the_same_write,
    a_stale_write_is_a_conflict_and_changes_nothing,
    concurrent_decisions_count_once,
    the_run_status_comes_from_the_rows_not_a_stale_snapshot,
    a_waiting_gate_survives_a_reopen_with_its_deadline,
    logs_append_and_read_from_any_offset,
    unknown_runs_and_jobs_are_named,
);
