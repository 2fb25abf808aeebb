//! Reading the gates that wait for a person, with what deciding them depends on: the
//! gate's rules, who deployed its run, and the approvals given so far.

use sqlx::FromRow;

use super::{Store, StoreError};

/// A gate waiting for a decision, with its run's pipeline name and deployer.
#[derive(Clone, Debug, PartialEq, Eq, FromRow)]
pub struct WaitingGate {
    pub run_id: i64,
    pub pipeline: String,
    pub job_id: String,
    pub gate_source: String,
    pub gate_message: String,
    pub activated_at: i64,
    pub deadline_at: i64,
    /// The gate's rules as JSON (`None`: the defaults).
    pub gate_policy: Option<String>,
    pub deployed_by: Option<String>,
    /// The gate's options and inputs as JSON (`None`: a yes/no gate).
    pub gate_form: Option<String>,
}

/// One person's approval of a gate.
#[derive(Clone, Debug, PartialEq, Eq, FromRow)]
pub struct ApprovalRecord {
    pub run_id: i64,
    pub job_id: String,
    pub username: String,
    pub at: i64,
    pub comment: Option<String>,
    pub overriding: i64,
}

impl Store {
    /// Waiting gates of one run (or of every run), in the order they started waiting.
    pub async fn waiting_gates(&self, run: Option<i64>) -> Result<Vec<WaitingGate>, StoreError> {
        let gates = sqlx::query_as::<_, WaitingGate>(
            "select j.run_id, r.pipeline, j.job_id, j.gate_source, j.gate_message, \
                 j.activated_at, j.deadline_at, j.gate_policy, r.deployed_by, j.gate_form \
             from jobs j join runs r on r.id = j.run_id \
             where j.kind = 'gate' and j.status = 'RUNNING' and ($1 is null or j.run_id = $1) \
             order by j.activated_at, j.run_id, j.position",
        )
        .bind(run)
        .fetch_all(&self.pool)
        .await?;
        Ok(gates)
    }

    /// The approvals of the waiting gates of one run (or of every run), oldest first.
    pub async fn waiting_approvals(
        &self,
        run: Option<i64>,
    ) -> Result<Vec<ApprovalRecord>, StoreError> {
        Ok(sqlx::query_as::<_, ApprovalRecord>(
            "select a.run_id, a.job_id, a.username, a.at, a.comment, a.overriding \
             from gate_approvals a join jobs j on j.run_id = a.run_id and j.job_id = a.job_id \
             where j.status = 'RUNNING' and ($1 is null or a.run_id = $1) \
             order by a.at, a.username",
        )
        .bind(run)
        .fetch_all(&self.pool)
        .await?)
    }
}
