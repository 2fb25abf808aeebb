//! Counts for the metrics endpoint.

use super::{Store, StoreError};

/// Runs and jobs by status, and the gates waiting now.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StatusCounts {
    pub runs: Vec<(String, i64)>,
    pub jobs: Vec<(String, i64)>,
    pub gates_waiting: i64,
}

impl Store {
    /// Read from the run rows' counters: the cost follows the number of runs, never the
    /// number of jobs they ran.
    pub async fn status_counts(&self) -> Result<StatusCounts, StoreError> {
        let runs =
            sqlx::query_as("select status, count(*) from runs group by status order by status")
                .fetch_all(&self.pool)
                .await?;
        let (pending, running, completed, failed, cancelled, gates_waiting, skipped): (
            i64,
            i64,
            i64,
            i64,
            i64,
            i64,
            i64,
        ) = sqlx::query_as(
            // Postgres sums bigints as numeric: cast back for the `Any` driver.
            "select cast(coalesce(sum(pending_jobs), 0) as bigint), cast(coalesce(sum(running_jobs), 0) as bigint), \
                 cast(coalesce(sum(completed_jobs), 0) as bigint), cast(coalesce(sum(failed_jobs), 0) as bigint), \
                 cast(coalesce(sum(cancelled_jobs), 0) as bigint), cast(coalesce(sum(waiting_gates), 0) as bigint), \
                 cast(coalesce(sum(skipped_jobs), 0) as bigint) from runs",
        )
        .fetch_one(&self.pool)
        .await?;
        let jobs = [
            ("CANCELLED", cancelled),
            ("COMPLETED", completed),
            ("FAILED", failed),
            ("PENDING", pending),
            ("RUNNING", running),
            ("SKIPPED", skipped),
        ]
        .into_iter()
        .filter(|(_, count)| *count > 0)
        .map(|(status, count)| (status.to_string(), count))
        .collect();
        Ok(StatusCounts {
            runs,
            jobs,
            gates_waiting,
        })
    }
}
