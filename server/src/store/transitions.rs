//! The only place that writes job and run statuses.
//!
//! Every change of a [`Transition`] is a compare-and-set on its `from` status, all in
//! one transaction: if any row moved on meanwhile (another decision, another replica),
//! nothing is written and the caller gets [`StoreError::Conflict`]. This is what makes
//! "exactly one decision counts" hold for any number of simultaneous requests.
//!
//! The run's own status is not taken from the transition (it was computed from a
//! snapshot that may be stale by now) but derived again inside the transaction from
//! the rows as they are, with the run's row locked, by the same rule
//! ([`RunStatus::derive`]).

use app::domain::{Approval, GateChange, JobStatus, RunStatus, Transition};

use super::{Store, StoreError};

impl Store {
    /// Writes `transition` for `run` atomically, with one history event per change, and
    /// brings the run's status up to date.
    pub async fn apply(&self, run: i64, transition: &Transition) -> Result<(), StoreError> {
        let at = transition.at_ms;
        let mut tx = self.pool.begin().await?;
        // Lock the run's row: applies to one run happen one after the other.
        let current: String =
            sqlx::query_scalar("update runs set status = status where id = $1 returning status")
                .bind(run)
                .fetch_optional(&mut *tx)
                .await?
                .ok_or(StoreError::UnknownRun(run))?;
        for change in &transition.changes {
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
            // A task that starts is owned by this server from the same write, so the
            // lease logic never sees it RUNNING without an owner.
            let starts_a_task = change.from == JobStatus::Pending
                && change.to == JobStatus::Running
                && change.gate.is_none();
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
                     owner = coalesce($15, owner) \
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
            .execute(&mut *tx)
            .await?;
            if updated.rows_affected() != 1 {
                let exists: Option<i64> =
                    sqlx::query_scalar("select run_id from jobs where run_id = $1 and job_id = $2")
                        .bind(run)
                        .bind(&change.job)
                        .fetch_optional(&mut *tx)
                        .await?;
                return Err(match exists {
                    Some(_) => StoreError::Conflict {
                        run,
                        job: change.job.clone(),
                        expected: change.from,
                    },
                    None => StoreError::UnknownJob {
                        run,
                        job: change.job.clone(),
                    },
                });
            }
            if let Some(approval) = &change.approval {
                record_approval(&mut tx, run, &change.job, approval, at).await?;
            }
            sqlx::query(
                "insert into events (run_id, job_id, kind, from_status, to_status, detail, at, actor) \
                 values ($1, $2, 'status', $3, $4, $5, $6, $7)",
            )
            .bind(run)
            .bind(&change.job)
            .bind(change.from.as_str())
            .bind(change.to.as_str())
            .bind(change.reason.as_deref())
            .bind(at)
            .bind(transition.actor.as_deref())
            .execute(&mut *tx)
            .await?;
        }
        let present: Vec<String> =
            sqlx::query_scalar("select distinct status from jobs where run_id = $1")
                .bind(run)
                .fetch_all(&mut *tx)
                .await?;
        let statuses = present
            .into_iter()
            .map(|status| {
                JobStatus::try_from(status).map_err(|e| StoreError::Corrupt(e.to_string()))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let cancelled = current == RunStatus::Cancelled.as_str()
            || transition.run_status == Some(RunStatus::Cancelled);
        let status = RunStatus::derive(statuses, cancelled);
        if status.as_str() != current {
            if current != RunStatus::Running.as_str() {
                return Err(StoreError::RunFinished(run));
            }
            sqlx::query("update runs set status = $2, finished_at = $3 where id = $1")
                .bind(run)
                .bind(status.as_str())
                .bind(status.is_finished().then_some(at))
                .execute(&mut *tx)
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
            .execute(&mut *tx)
            .await?;
        }
        if !transition.changes.is_empty() {
            // Delivered on commit: other replicas look at the run at once.
            self.announce(&mut tx, run).await?;
        }
        tx.commit().await?;
        Ok(())
    }
}

/// Records one person's approval of a gate, if the gate still has the number of
/// approvals the state machine counted (else [`StoreError::Conflict`]: the caller looks
/// again and the state machine judges the approval on the new count). The primary key
/// (run, gate, person) keeps one person from being counted twice.
async fn record_approval(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
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
