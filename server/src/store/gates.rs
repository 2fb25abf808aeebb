//! Reading the gates that wait for a person.

use sqlx::FromRow;

use super::{Store, StoreError};

/// A gate waiting for a decision, with its run's pipeline name.
#[derive(Clone, Debug, PartialEq, Eq, FromRow)]
pub struct WaitingGate {
    pub run_id: i64,
    pub pipeline: String,
    pub job_id: String,
    pub gate_source: String,
    pub gate_message: String,
    pub activated_at: i64,
    pub deadline_at: i64,
}

impl Store {
    /// Waiting gates of one run (or of every run), in the order they started waiting.
    pub async fn waiting_gates(&self, run: Option<i64>) -> Result<Vec<WaitingGate>, StoreError> {
        let gates = sqlx::query_as::<_, WaitingGate>(
            "select j.run_id, r.pipeline, j.job_id, j.gate_source, j.gate_message, \
                 j.activated_at, j.deadline_at \
             from jobs j join runs r on r.id = j.run_id \
             where j.kind = 'gate' and j.status = 'RUNNING' and ($1 is null or j.run_id = $1) \
             order by j.activated_at, j.run_id, j.position",
        )
        .bind(run)
        .fetch_all(&self.pool)
        .await?;
        Ok(gates)
    }
}
