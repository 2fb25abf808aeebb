//! Runs and their jobs: creating a run from its graph and reading it back.

use std::collections::HashMap;

use app::domain::{JobState, JobStatus, NodeKind, RunGraph, RunState, RunStatus};

use super::records::gate_choice;
use super::{
    Backend, EventRecord, JobProgressRecord, JobRecord, RunRecord, RunSummary, Store, StoreError,
};

/// Jobs per multi-row insert. Preparing a statement costs more than linearly in its
/// number of values (through sqlx, on SQLite: 3,000 jobs took 400 ms in rows of 1,000,
/// 45 ms in rows of 100, 30 ms in rows of 30), so the rows are kept short.
const JOBS_PER_INSERT: usize = 50;
/// The values of one row of that insert.
const JOB_COLUMNS: usize = 10;

/// A run read whole for the state machine (see [`Store::load_run`]).
#[derive(Debug)]
pub struct LoadedRun {
    pub state: RunState,
    /// The run's version at the moment of the read.
    pub version: i64,
    pub deployed_by: Option<String>,
}

/// Runs with their progress counts, read from the counters on the run row.
const RUN_SUMMARY: &str = "select id, pipeline, status, created_at, finished_at, version, \
     pending_jobs + running_jobs + completed_jobs + failed_jobs + cancelled_jobs + skipped_jobs \
     as total_jobs, completed_jobs, waiting_gates, skipped_jobs from runs";

/// The columns of [`JobRecord`], as a literal so queries stay `&'static str`.
macro_rules! job_columns {
    () => {
        "run_id, job_id, position, kind, status, reason, exit_code, started_at, finished_at, \
         log_bytes, gate_message, gate_timeout_secs, gate_source, activated_at, deadline_at, \
         decision, decided_by, decided_at, comment, owner, decision_option, decision_inputs"
    };
}

/// Where a run came from: the saved version deployed (`None` for a spec given whole)
/// and the SHA-256 of the spec it ran (`None` for runs from before it was kept).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RunOrigin {
    pub pipeline_version: Option<i64>,
    pub spec_sha256: Option<String>,
}

impl Store {
    /// Stores a new run of `graph` with every job PENDING, in one transaction, and
    /// records a `deployed` event. The run is RUNNING from here on.
    pub async fn create_run(
        &self,
        graph: &RunGraph,
        deployed_by: Option<&str>,
        now_ms: i64,
    ) -> Result<RunRecord, StoreError> {
        let origin = RunOrigin::default();
        self.create_run_prepared(graph, deployed_by, &origin, now_ms, |_| Ok(()))
            .await
    }

    /// Where a run came from, as its deploy recorded it.
    pub async fn run_origin(&self, run: i64) -> Result<RunOrigin, StoreError> {
        let row: Option<(Option<i64>, Option<String>)> =
            sqlx::query_as("select pipeline_version, spec_sha256 from runs where id = $1")
                .bind(run)
                .fetch_optional(&self.pool)
                .await?;
        let (pipeline_version, spec_sha256) = row.ok_or(StoreError::UnknownRun(run))?;
        Ok(RunOrigin {
            pipeline_version,
            spec_sha256,
        })
    }

    /// [`Store::create_run`] that first runs `prepare` with the new run's id (the server
    /// makes the run's workspace there), before anything is committed: no replica sees
    /// the run before it is ready, and if `prepare` fails nothing is stored.
    pub async fn create_run_prepared(
        &self,
        graph: &RunGraph,
        deployed_by: Option<&str>,
        origin: &RunOrigin,
        now_ms: i64,
        prepare: impl FnOnce(i64) -> std::io::Result<()>,
    ) -> Result<RunRecord, StoreError> {
        let snapshot = serde_json::to_string(graph)
            .map_err(|err| StoreError::Corrupt(format!("run graph: {err}")))?;
        let mut tx = self.pool.begin().await?;
        let run = sqlx::query_as::<_, RunRecord>(
            "insert into runs (pipeline, status, graph, created_at, deployed_by, pending_jobs, \
                 changed_by, pipeline_version, spec_sha256) \
             values ($1, 'RUNNING', $2, $3, $4, $5, $6, $7, $8) \
             returning id, pipeline, status, created_at, finished_at",
        )
        .bind(&graph.pipeline)
        .bind(&snapshot)
        .bind(now_ms)
        .bind(deployed_by)
        .bind(i64::try_from(graph.nodes.len()).unwrap_or(i64::MAX))
        .bind(&*self.origin)
        .bind(origin.pipeline_version)
        .bind(origin.spec_sha256.as_deref())
        .fetch_one(&mut *tx)
        .await?;

        // Multi-row inserts: a 10,000-job run is 200 statements, not 10,000. The
        // placeholders are written out (`$1, $2, ...`): sqlx's query builder writes `?`
        // for the `Any` driver, which Postgres does not take.
        for (chunk, nodes) in graph.nodes.chunks(JOBS_PER_INSERT).enumerate() {
            let rows: Vec<String> = (0..nodes.len())
                .map(|row| {
                    let first = row * JOB_COLUMNS;
                    let marks: Vec<String> = (1..=JOB_COLUMNS)
                        .map(|n| format!("${}", first + n))
                        .collect();
                    format!("({})", marks.join(", "))
                })
                .collect();
            let statement = format!(
                "insert into jobs (run_id, job_id, position, kind, status, gate_message, \
                 gate_timeout_secs, gate_source, gate_policy, gate_form) values {}",
                rows.join(", ")
            );
            let mut insert = sqlx::query(sqlx::AssertSqlSafe(statement));
            for (offset, node) in nodes.iter().enumerate() {
                let position = (chunk * JOBS_PER_INSERT + offset) as i64;
                let (kind, message, timeout, source, policy, form) = match &node.kind {
                    NodeKind::Task { .. } => ("task", None, None, None, None, None),
                    NodeKind::Gate {
                        message,
                        timeout_secs,
                        source,
                        policy,
                        form,
                        ..
                    } => (
                        "gate",
                        Some(message.clone()),
                        Some(i64::try_from(*timeout_secs).unwrap_or(i64::MAX)),
                        Some(source.clone()),
                        serde_json::to_string(policy).ok(),
                        (!form.is_empty())
                            .then(|| serde_json::to_string(form).ok())
                            .flatten(),
                    ),
                };
                insert = insert
                    .bind(run.id)
                    .bind(node.id.clone())
                    .bind(position)
                    .bind(kind)
                    .bind("PENDING")
                    .bind(message)
                    .bind(timeout)
                    .bind(source)
                    .bind(policy)
                    .bind(form);
            }
            insert.execute(&mut *tx).await?;
        }
        sqlx::query(
            "insert into events (run_id, kind, to_status, detail, at, actor) \
             values ($1, 'deployed', 'RUNNING', $2, $3, $4)",
        )
        .bind(run.id)
        .bind(format!("{} jobs", graph.nodes.len()))
        .bind(now_ms)
        .bind(deployed_by)
        .execute(&mut *tx)
        .await?;
        prepare(run.id).map_err(|error| StoreError::NotPrepared {
            run: run.id,
            error: error.to_string(),
        })?;
        tx.commit().await?;
        Ok(run)
    }

    pub async fn get_run(&self, run: i64) -> Result<RunRecord, StoreError> {
        sqlx::query_as::<_, RunRecord>(
            "select id, pipeline, status, created_at, finished_at from runs where id = $1",
        )
        .bind(run)
        .fetch_optional(&self.pool)
        .await?
        .ok_or(StoreError::UnknownRun(run))
    }

    /// The newest `limit` runs, newest first, with their progress counts.
    pub async fn list_runs(&self, limit: i64) -> Result<Vec<RunSummary>, StoreError> {
        let query = format!("{RUN_SUMMARY} order by id desc limit $1");
        let runs = sqlx::query_as::<_, RunSummary>(sqlx::AssertSqlSafe(query))
            .bind(limit)
            .fetch_all(&self.pool)
            .await?;
        Ok(runs)
    }

    /// One run with its progress counts.
    pub async fn run_summary(&self, run: i64) -> Result<RunSummary, StoreError> {
        let query = format!("{RUN_SUMMARY} where id = $1");
        sqlx::query_as::<_, RunSummary>(sqlx::AssertSqlSafe(query))
            .bind(run)
            .fetch_optional(&self.pool)
            .await?
            .ok_or(StoreError::UnknownRun(run))
    }

    /// Ids of the runs still RUNNING, oldest first (what a starting scheduler resumes).
    pub async fn running_runs(&self) -> Result<Vec<i64>, StoreError> {
        let ids = sqlx::query_scalar::<_, i64>(
            "select id from runs where status = 'RUNNING' order by id",
        )
        .fetch_all(&self.pool)
        .await?;
        Ok(ids)
    }

    /// The jobs and gates of a run in graph order.
    pub async fn jobs(&self, run: i64) -> Result<Vec<JobRecord>, StoreError> {
        let jobs = sqlx::query_as::<_, JobRecord>(concat!(
            "select ",
            job_columns!(),
            " from jobs where run_id = $1 order by position"
        ))
        .bind(run)
        .fetch_all(&self.pool)
        .await?;
        if jobs.is_empty() {
            // Tell "no such run" apart from a run that has no jobs (which cannot exist).
            self.get_run(run).await?;
        }
        Ok(jobs)
    }

    /// The changing part of a run's jobs in graph order: all of them, or with `since`
    /// only those whose status or log changed after that run version (an index on the
    /// version keeps this to the changed rows).
    ///
    /// The database hands the rows over as one JSON array: the SQLite driver passes each
    /// row on its own from its worker thread, which made a 5,000-job poll cost 20 ms of
    /// hand-overs for 2 ms of query.
    pub async fn job_progress(
        &self,
        run: i64,
        since: Option<i64>,
    ) -> Result<Vec<JobProgressRecord>, StoreError> {
        let query = match self.backend {
            Backend::Sqlite => {
                "select coalesce(json_group_array(json_array(position, job_id, status, reason, \
                     started_at, finished_at, log_bytes)), '[]') \
                 from jobs where run_id = $1 and version > $2"
            }
            Backend::Postgres => {
                "select coalesce(json_agg(json_build_array(position, job_id, status, reason, \
                     started_at, finished_at, log_bytes)), '[]')::text \
                 from jobs where run_id = $1 and version > $2"
            }
        };
        let text: String = sqlx::query_scalar(query)
            .bind(run)
            .bind(since.unwrap_or(-1))
            .fetch_one(&self.pool)
            .await?;
        type Row = (
            i64,
            String,
            String,
            Option<String>,
            Option<i64>,
            Option<i64>,
            i64,
        );
        let mut rows: Vec<Row> = serde_json::from_str(&text)
            .map_err(|err| StoreError::Corrupt(format!("job progress of run {run}: {err}")))?;
        rows.sort_unstable_by_key(|row| row.0);
        rows.into_iter()
            .map(
                |(_, job_id, status, reason, started_at, finished_at, log_bytes)| {
                    Ok(JobProgressRecord {
                        job_id,
                        status: JobStatus::try_from(status)
                            .map_err(|err| StoreError::Corrupt(err.to_string()))?,
                        reason,
                        started_at,
                        finished_at,
                        log_bytes,
                    })
                },
            )
            .collect()
    }

    pub async fn job(&self, run: i64, job: &str) -> Result<JobRecord, StoreError> {
        sqlx::query_as::<_, JobRecord>(concat!(
            "select ",
            job_columns!(),
            " from jobs where run_id = $1 and job_id = $2"
        ))
        .bind(run)
        .bind(job)
        .fetch_optional(&self.pool)
        .await?
        .ok_or_else(|| StoreError::UnknownJob {
            run,
            job: job.to_string(),
        })
    }

    /// The run's graph snapshot, status and version, as stored.
    async fn snapshot(&self, run: i64) -> Result<(RunGraph, String, i64), StoreError> {
        let (snapshot, status, version): (String, String, i64) =
            sqlx::query_as("select graph, status, version from runs where id = $1")
                .bind(run)
                .fetch_optional(&self.pool)
                .await?
                .ok_or(StoreError::UnknownRun(run))?;
        let graph = serde_json::from_str(&snapshot)
            .map_err(|err| StoreError::Corrupt(format!("graph of run {run}: {err}")))?;
        Ok((graph, status, version))
    }

    /// The run's expanded graph (its shape, commands and gates), without job states.
    pub async fn graph(&self, run: i64) -> Result<RunGraph, StoreError> {
        Ok(self.snapshot(run).await?.0)
    }

    /// The run's graph and the state of each node, ready for the state machine.
    pub async fn load_state(&self, run: i64) -> Result<RunState, StoreError> {
        Ok(self.load_versioned(run).await?.0)
    }

    /// [`Store::load_state`] with the run's version at that moment.
    pub async fn load_versioned(&self, run: i64) -> Result<(RunState, i64), StoreError> {
        let loaded = self.load_run(run).await?;
        Ok((loaded.state, loaded.version))
    }

    /// The run as the state machine needs it, with its version and deployer, in one
    /// read: the run's row (part 0), its jobs in their order (part 1), then its gates'
    /// approvals, oldest first (part 2). A decision is judged and applied on this.
    pub async fn load_run(&self, run: i64) -> Result<LoadedRun, StoreError> {
        type Row = (
            i64,
            i64,
            String,
            Option<String>,
            Option<i64>,
            Option<String>,
            Option<String>,
            Option<String>,
        );
        let rows: Vec<Row> = sqlx::query_as(
            "select cast(0 as bigint) as part, version as ord, status as value, \
                 cast(null as text) as job_id, cast(null as bigint) as deadline_at, \
                 graph as text_a, deployed_by as text_b, cast(null as text) as text_c \
             from runs where id = $1 \
             union all \
             select 1, position, status, job_id, deadline_at, decision_option, \
                 decision_inputs, null \
             from jobs where run_id = $1 \
             union all \
             select 2, at, username, job_id, null, null, null, null \
             from gate_approvals where run_id = $1 \
             order by 1, 2, 3",
        )
        .bind(run)
        .fetch_all(&self.pool)
        .await?;
        let Some((0, version, status, _, _, graph, deployed_by, _)) = rows.first().cloned() else {
            return Err(StoreError::UnknownRun(run));
        };
        let graph: RunGraph = serde_json::from_str(graph.as_deref().unwrap_or_default())
            .map_err(|err| StoreError::Corrupt(format!("graph of run {run}: {err}")))?;
        let mut approvals: HashMap<&str, Vec<String>> = HashMap::new();
        for (_, _, person, gate, ..) in rows.iter().filter(|row| row.0 == 2) {
            let gate = gate.as_deref().unwrap_or_default();
            approvals.entry(gate).or_default().push(person.clone());
        }
        let jobs = rows
            .iter()
            .filter(|row| row.0 == 1)
            .map(|(_, _, status, job, deadline_ms, option, inputs, _)| {
                let status = JobStatus::try_from(status.clone())
                    .map_err(|err| StoreError::Corrupt(err.to_string()))?;
                let job = job.as_deref().unwrap_or_default();
                Ok(JobState {
                    approved_by: approvals.remove(job).unwrap_or_default(),
                    status,
                    deadline_ms: *deadline_ms,
                    // Only a completed gate hands its choice on.
                    choice: match status {
                        JobStatus::Completed => gate_choice(option.as_deref(), inputs.as_deref())?,
                        _ => None,
                    },
                })
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        let cancelled = RunStatus::parse(&status) == Some(RunStatus::Cancelled);
        Ok(LoadedRun {
            state: RunState::restore(graph, jobs, cancelled),
            version,
            deployed_by,
        })
    }

    /// Runs still RUNNING with their versions: the scheduler's slow tick looks again
    /// only at those whose version moved since it last did.
    pub async fn running_run_versions(&self) -> Result<Vec<(i64, i64)>, StoreError> {
        let runs =
            sqlx::query_as("select id, version from runs where status = 'RUNNING' order by id")
                .fetch_all(&self.pool)
                .await?;
        Ok(runs)
    }

    /// The run's history, oldest first.
    pub async fn events(&self, run: i64) -> Result<Vec<EventRecord>, StoreError> {
        let events = sqlx::query_as::<_, EventRecord>(
            "select id, run_id, job_id, kind, from_status, to_status, detail, at, actor \
             from events where run_id = $1 order by id",
        )
        .bind(run)
        .fetch_all(&self.pool)
        .await?;
        Ok(events)
    }
}
