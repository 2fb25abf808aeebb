//! Deleting finished runs past their age (`--retain-days`), with everything stored of
//! them. The history is append-only for every other writer: its delete trigger lets a
//! delete through only inside a transaction that holds a `retention_sweeps` row, which
//! this is the only code to write (and it removes it before committing).

use super::{Store, StoreError};

impl Store {
    /// Deletes up to `limit` runs that finished before `before_ms` (oldest first): their
    /// history, approvals, logs, jobs and the run row, in one transaction. Runs still
    /// RUNNING, and so their waiting gates, are never touched. Their webhook
    /// notifications go too (settled long before: retries end within the hour).
    /// Returns the ids deleted;
    /// their workspaces are the caller's to remove.
    pub async fn delete_finished_runs(
        &self,
        before_ms: i64,
        limit: i64,
    ) -> Result<Vec<i64>, StoreError> {
        let mut tx = self.pool.begin().await?;
        let runs: Vec<i64> = sqlx::query_scalar(
            "select id from runs where status <> 'RUNNING' and finished_at < $1 \
             order by finished_at, id limit $2",
        )
        .bind(before_ms)
        .bind(limit)
        .fetch_all(&mut *tx)
        .await?;
        if runs.is_empty() {
            return Ok(runs);
        }
        sqlx::query("insert into retention_sweeps (id) values (1)")
            .execute(&mut *tx)
            .await?;
        for &run in &runs {
            for statement in [
                "delete from events where run_id = $1",
                "delete from gate_approvals where run_id = $1",
                "delete from job_logs where run_id = $1",
                "delete from notifications where run_id = $1",
                "delete from jobs where run_id = $1",
                "delete from runs where id = $1 and status <> 'RUNNING'",
            ] {
                sqlx::query(statement).bind(run).execute(&mut *tx).await?;
            }
        }
        sqlx::query("delete from retention_sweeps")
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(runs)
    }
}
