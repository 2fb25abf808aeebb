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
    pub async fn status_counts(&self) -> Result<StatusCounts, StoreError> {
        let runs =
            sqlx::query_as("select status, count(*) from runs group by status order by status")
                .fetch_all(&self.pool)
                .await?;
        let jobs =
            sqlx::query_as("select status, count(*) from jobs group by status order by status")
                .fetch_all(&self.pool)
                .await?;
        let gates_waiting = sqlx::query_scalar(
            "select count(*) from jobs where kind = 'gate' and status = 'RUNNING'",
        )
        .fetch_one(&self.pool)
        .await?;
        Ok(StatusCounts {
            runs,
            jobs,
            gates_waiting,
        })
    }
}
