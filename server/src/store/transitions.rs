//! The only place that writes job and run statuses.
//!
//! Every change of a [`Transition`] is a compare-and-set on its `from` status, all in
//! one transaction: if any row moved on meanwhile (another decision, another replica),
//! nothing is written and the caller gets [`StoreError::Conflict`]. This is what makes
//! "exactly one decision counts" hold for any number of simultaneous requests.
//!
//! The run's row counts its jobs by status. Each change moves one job from one count to
//! another in the same transaction (the compare-and-set proves the `from`), so the
//! run's status is derived from the counts as they are in the database, by the same
//! rule as the state machine's ([`RunStatus::of_counts`]), never from a snapshot that
//! may be stale by now, and without reading the run's jobs.

use app::domain::{Approval, GateChange, JobStatus, RunStatus, StatusCounts, Transition};

use super::{Store, StoreError};

type Tx = sqlx::Transaction<'static, sqlx::Any>;

/// History rows per multi-row insert: 7 values a row stays far below the bind limits.
const EVENTS_PER_INSERT: usize = 1000;

impl Store {
    /// Writes `transition` for `run` atomically, with one history event per change, and
    /// brings the run's status up to date. Returns the run's version after the write.
    pub async fn apply(&self, run: i64, transition: &Transition) -> Result<i64, StoreError> {
        let mut tx = self.pool.begin().await?;
        let version = self.write_transition(&mut tx, run, transition).await?;
        tx.commit().await?;
        Ok(version)
    }

    /// Writes several transitions (of one run or several) in one transaction, in order:
    /// all of them or, on the first conflict or error, none. Returns each run's version
    /// after its last write, in the order of `batch`.
    pub async fn apply_all(&self, batch: &[(i64, &Transition)]) -> Result<Vec<i64>, StoreError> {
        let mut tx = self.pool.begin().await?;
        let mut versions = Vec::with_capacity(batch.len());
        for (run, transition) in batch {
            versions.push(self.write_transition(&mut tx, *run, transition).await?);
        }
        tx.commit().await?;
        Ok(versions)
    }

    async fn write_transition(
        &self,
        tx: &mut Tx,
        run: i64,
        transition: &Transition,
    ) -> Result<i64, StoreError> {
        let at = transition.at_ms;
        // Moving the counts locks the run's row first: writes to one run happen one
        // after the other, and the counts below are the ones this transaction made.
        let (delta, gates) = count_moves(transition);
        let (current, version, counts) =
            sqlx::query_as::<_, (String, i64, i64, i64, i64, i64, i64)>(
                "update runs set version = version + 1, \
                 pending_jobs = pending_jobs + $2, running_jobs = running_jobs + $3, \
                 completed_jobs = completed_jobs + $4, failed_jobs = failed_jobs + $5, \
                 cancelled_jobs = cancelled_jobs + $6, waiting_gates = waiting_gates + $7 \
             where id = $1 \
             returning status, version, pending_jobs, running_jobs, completed_jobs, \
                 failed_jobs, cancelled_jobs",
            )
            .bind(run)
            .bind(delta.pending)
            .bind(delta.running)
            .bind(delta.completed)
            .bind(delta.failed)
            .bind(delta.cancelled)
            .bind(gates)
            .fetch_optional(&mut **tx)
            .await?
            .map(
                |(status, version, pending, running, completed, failed, cancelled)| {
                    let counts = StatusCounts {
                        pending,
                        running,
                        completed,
                        failed,
                        cancelled,
                    };
                    (status, version, counts)
                },
            )
            .ok_or(StoreError::UnknownRun(run))?;

        for change in &transition.changes {
            self.write_change(tx, run, version, change, at).await?;
            if let Some(approval) = &change.approval {
                record_approval(tx, run, &change.job, approval, at).await?;
            }
        }
        insert_history(tx, run, transition).await?;

        let cancelled = current == RunStatus::Cancelled.as_str()
            || transition.run_status == Some(RunStatus::Cancelled);
        let status = RunStatus::of_counts(&counts, cancelled);
        if status.as_str() != current {
            if current != RunStatus::Running.as_str() {
                return Err(StoreError::RunFinished(run));
            }
            sqlx::query("update runs set status = $2, finished_at = $3 where id = $1")
                .bind(run)
                .bind(status.as_str())
                .bind(status.is_finished().then_some(at))
                .execute(&mut **tx)
                .await?;
            sqlx::query(
                "insert into events (run_id, kind, from_status, to_status, at, actor) \
                 values ($1, 'run_status', $2, $3, $4, $5)",
            )
            .bind(run)
            .bind(&current)
            .bind(status.as_str())
            .bind(at)
            .bind(transition.actor.as_deref())
            .execute(&mut **tx)
            .await?;
        }
        if !transition.changes.is_empty() {
            // Delivered on commit: other replicas look at the run at once.
            self.announce(tx, run).await?;
        }
        Ok(version)
    }

    /// One compare-and-set on the job's status; [`StoreError::Conflict`] if it moved on.
    async fn write_change(
        &self,
        tx: &mut Tx,
        run: i64,
        version: i64,
        change: &app::domain::StatusChange,
        at: i64,
    ) -> Result<(), StoreError> {
        let (activated_at, deadline_at) = match &change.gate {
            Some(GateChange::Activated { deadline_ms }) => (Some(at), Some(*deadline_ms)),
            _ => (None, None),
        };
        let (decision, decided_by, decided_at, comment) = match &change.gate {
            Some(GateChange::Decided {
                decision,
                by,
                comment,
            }) => (
                Some(decision.as_str()),
                by.as_deref(),
                Some(at),
                comment.as_deref(),
            ),
            _ => (None, None, None, None),
        };
        let started_at = (change.to == JobStatus::Running).then_some(at);
        // A task that starts is owned by this server from the same write, so the lease
        // logic never sees it RUNNING without an owner.
        let starts_a_task =
            change.from == JobStatus::Pending && change.to == JobStatus::Running && !change.is_gate;
        let owner = Some(&*self.origin).filter(|o| starts_a_task && !o.is_empty());
        let finished_at = change.to.is_terminal().then_some(at);
        let updated = sqlx::query(
            "update jobs set status = $4, reason = $5, \
                 exit_code = coalesce($6, exit_code), \
                 started_at = coalesce(started_at, $7), \
                 finished_at = coalesce(finished_at, $8), \
                 activated_at = coalesce($9, activated_at), \
                 deadline_at = coalesce($10, deadline_at), \
                 decision = coalesce($11, decision), \
                 decided_by = coalesce($12, decided_by), \
                 decided_at = coalesce($13, decided_at), \
                 comment = coalesce($14, comment), \
                 owner = coalesce($15, owner), \
                 version = $16 \
             where run_id = $1 and job_id = $2 and status = $3",
        )
        .bind(run)
        .bind(&change.job)
        .bind(change.from.as_str())
        .bind(change.to.as_str())
        .bind(change.reason.as_deref())
        .bind(change.exit_code.map(i64::from))
        .bind(started_at)
        .bind(finished_at)
        .bind(activated_at)
        .bind(deadline_at)
        .bind(decision)
        .bind(decided_by)
        .bind(decided_at)
        .bind(comment)
        .bind(owner)
        .bind(version)
        .execute(&mut **tx)
        .await?;
        if updated.rows_affected() == 1 {
            return Ok(());
        }
        let exists: Option<i64> =
            sqlx::query_scalar("select run_id from jobs where run_id = $1 and job_id = $2")
                .bind(run)
                .bind(&change.job)
                .fetch_optional(&mut **tx)
                .await?;
        Err(match exists {
            Some(_) => StoreError::Conflict {
                run,
                job: change.job.clone(),
                expected: change.from,
            },
            None => StoreError::UnknownJob {
                run,
                job: change.job.clone(),
            },
        })
    }
}

/// How the transition moves the run's counts, and its waiting gates.
fn count_moves(transition: &Transition) -> (StatusCounts, i64) {
    let mut delta = StatusCounts::default();
    let mut gates = 0;
    for change in &transition.changes {
        delta.moved(change.from, change.to);
        if change.is_gate {
            gates += i64::from(change.to == JobStatus::Running)
                - i64::from(change.from == JobStatus::Running);
        }
    }
    (delta, gates)
}

/// One `status` history row per change, in multi-row inserts.
async fn insert_history(tx: &mut Tx, run: i64, transition: &Transition) -> Result<(), StoreError> {
    const COLUMNS: usize = 7;
    for changes in transition.changes.chunks(EVENTS_PER_INSERT) {
        let rows: Vec<String> = (0..changes.len())
            .map(|row| {
                let first = row * COLUMNS;
                let marks: Vec<String> = (1..=COLUMNS).map(|n| format!("${}", first + n)).collect();
                format!("({}, 'status')", marks.join(", "))
            })
            .collect();
        let statement = format!(
            "insert into events (run_id, job_id, from_status, to_status, detail, at, actor, kind) \
             values {}",
            rows.join(", ")
        );
        let mut insert = sqlx::query(sqlx::AssertSqlSafe(statement));
        for change in changes {
            insert = insert
                .bind(run)
                .bind(&change.job)
                .bind(change.from.as_str())
                .bind(change.to.as_str())
                .bind(change.reason.as_deref())
                .bind(transition.at_ms)
                .bind(transition.actor.as_deref());
        }
        insert.execute(&mut **tx).await?;
    }
    Ok(())
}

/// Records one person's approval of a gate, if the gate still has the number of
/// approvals the state machine counted (else [`StoreError::Conflict`]: the caller looks
/// again and the state machine judges the approval on the new count). The primary key
/// (run, gate, person) keeps one person from being counted twice.
async fn record_approval(
    tx: &mut Tx,
    run: i64,
    gate: &str,
    approval: &Approval,
    at: i64,
) -> Result<(), StoreError> {
    let conflict = || StoreError::Conflict {
        run,
        job: gate.to_string(),
        expected: JobStatus::Running,
    };
    let counted = sqlx::query(
        "update jobs set approval_count = approval_count + 1 \
         where run_id = $1 and job_id = $2 and approval_count = $3",
    )
    .bind(run)
    .bind(gate)
    .bind(i64::from(approval.count_before))
    .execute(&mut **tx)
    .await?;
    if counted.rows_affected() != 1 {
        return Err(conflict());
    }
    let inserted = sqlx::query(
        "insert into gate_approvals (run_id, job_id, username, at, comment, overriding) \
         values ($1, $2, $3, $4, $5, $6) on conflict do nothing",
    )
    .bind(run)
    .bind(gate)
    .bind(&approval.by)
    .bind(at)
    .bind(approval.comment.as_deref())
    .bind(i64::from(approval.overriding))
    .execute(&mut **tx)
    .await?;
    if inserted.rows_affected() != 1 {
        return Err(conflict());
    }
    Ok(())
}
