//! Runs and their jobs: creating a run from its graph and reading it back.

use app::domain::{JobState, NodeKind, RunGraph, RunState, RunStatus};

use super::{EventRecord, JobRecord, RunRecord, RunSummary, Store, StoreError};

/// Jobs per multi-row insert: 9 values a row stays far below the bind limits of both
/// databases (SQLite 32,766, Postgres 65,535).
const JOBS_PER_INSERT: usize = 1000;
/// The values of one row of that insert.
const JOB_COLUMNS: usize = 9;

/// Runs with their progress counts, before `where` / `group by`.
/// `$runs` is the table, or a subquery that picks the runs first so only their jobs are
/// counted.
macro_rules! run_summaries {
    ($runs:literal) => {
        concat!(
            "select r.id, r.pipeline, r.status, r.created_at, r.finished_at, \
             count(j.job_id) as total_jobs, \
             coalesce(sum(case when j.status = 'COMPLETED' then 1 else 0 end), 0) as completed_jobs, \
             coalesce(sum(case when j.kind = 'gate' and j.status = 'RUNNING' then 1 else 0 end), 0) \
                 as waiting_gates \
             from ",
            $runs,
            " r left join jobs j on j.run_id = r.id"
        )
    };
}

/// The columns of [`JobRecord`], as a literal so queries stay `&'static str`.
macro_rules! job_columns {
    () => {
        "run_id, job_id, position, kind, status, reason, exit_code, started_at, finished_at, \
         log_bytes, gate_message, gate_timeout_secs, gate_source, activated_at, deadline_at, \
         decision, decided_by, decided_at, comment, owner"
    };
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
        let snapshot = serde_json::to_string(graph)
            .map_err(|err| StoreError::Corrupt(format!("run graph: {err}")))?;
        let mut tx = self.pool.begin().await?;
        let run = sqlx::query_as::<_, RunRecord>(
            "insert into runs (pipeline, status, graph, created_at, deployed_by) \
             values ($1, 'RUNNING', $2, $3, $4) \
             returning id, pipeline, status, created_at, finished_at",
        )
        .bind(&graph.pipeline)
        .bind(&snapshot)
        .bind(now_ms)
        .bind(deployed_by)
        .fetch_one(&mut *tx)
        .await?;

        // Multi-row inserts: a 10,000-job run is ten statements, not ten thousand. The
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
                 gate_timeout_secs, gate_source, gate_policy) values {}",
                rows.join(", ")
            );
            let mut insert = sqlx::query(sqlx::AssertSqlSafe(statement));
            for (offset, node) in nodes.iter().enumerate() {
                let position = (chunk * JOBS_PER_INSERT + offset) as i64;
                let (kind, message, timeout, source, policy) = match &node.kind {
                    NodeKind::Task { .. } => ("task", None, None, None, None),
                    NodeKind::Gate {
                        message,
                        timeout_secs,
                        source,
                        policy,
                    } => (
                        "gate",
                        Some(message.clone()),
                        Some(i64::try_from(*timeout_secs).unwrap_or(i64::MAX)),
                        Some(source.clone()),
                        serde_json::to_string(policy).ok(),
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
                    .bind(policy);
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
        self.announce(&mut tx, run.id).await?;
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
        // The newest runs are picked first, so the count reads only their jobs, not
        // every job of the history.
        let runs = sqlx::query_as::<_, RunSummary>(concat!(
            run_summaries!(
                "(select id, pipeline, status, created_at, finished_at from runs \
                 order by id desc limit $1)"
            ),
            " group by r.id, r.pipeline, r.status, r.created_at, r.finished_at",
            " order by r.id desc"
        ))
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        Ok(runs)
    }

    /// One run with its progress counts.
    pub async fn run_summary(&self, run: i64) -> Result<RunSummary, StoreError> {
        sqlx::query_as::<_, RunSummary>(concat!(
            run_summaries!("runs"),
            " where r.id = $1",
            " group by r.id, r.pipeline, r.status, r.created_at, r.finished_at"
        ))
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

    /// The run's graph snapshot and its status, as stored.
    async fn snapshot(&self, run: i64) -> Result<(RunGraph, String), StoreError> {
        let (snapshot, status): (String, String) =
            sqlx::query_as("select graph, status from runs where id = $1")
                .bind(run)
                .fetch_optional(&self.pool)
                .await?
                .ok_or(StoreError::UnknownRun(run))?;
        let graph = serde_json::from_str(&snapshot)
            .map_err(|err| StoreError::Corrupt(format!("graph of run {run}: {err}")))?;
        Ok((graph, status))
    }

    /// The run's expanded graph (its shape, commands and gates), without job states.
    pub async fn graph(&self, run: i64) -> Result<RunGraph, StoreError> {
        Ok(self.snapshot(run).await?.0)
    }

    /// The run's graph and the state of each node, ready for the state machine.
    pub async fn load_state(&self, run: i64) -> Result<RunState, StoreError> {
        let (graph, status) = self.snapshot(run).await?;
        let approvals: Vec<(String, String)> = sqlx::query_as(
            "select job_id, username from gate_approvals where run_id = $1 order by at, username",
        )
        .bind(run)
        .fetch_all(&self.pool)
        .await?;
        let jobs = self
            .jobs(run)
            .await?
            .into_iter()
            .map(|job| JobState {
                approved_by: approvals
                    .iter()
                    .filter(|(gate, _)| *gate == job.job_id)
                    .map(|(_, person)| person.clone())
                    .collect(),
                status: job.status,
                deadline_ms: job.deadline_at,
            })
            .collect();
        let cancelled = RunStatus::parse(&status) == Some(RunStatus::Cancelled);
        Ok(RunState::restore(graph, jobs, cancelled))
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
