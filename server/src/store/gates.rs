//! Reading the gates that wait for a person, with what deciding them depends on: the
//! gate's rules, who deployed its run, and the approvals given so far.

use app::domain::{GateForm, JobStatus};
use sqlx::FromRow;

use super::records::gate_form;
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

/// A node as a decision on it needs it (see [`Store::gate_for_decision`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GateForDecision {
    pub is_gate: bool,
    pub status: JobStatus,
    /// The gate's rules as JSON (`None`: the defaults).
    pub policy: Option<String>,
    pub deployed_by: Option<String>,
    /// Who approved it so far, oldest first.
    pub approved_by: Vec<String>,
    /// The options and inputs its approver fills in (empty: a yes/no gate).
    pub form: GateForm,
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

    /// What deciding a gate depends on, in one read: the node's kind and status, the
    /// gate's rules, its run's deployer and who approved it so far, oldest first.
    pub async fn gate_for_decision(
        &self,
        run: i64,
        gate: &str,
    ) -> Result<GateForDecision, StoreError> {
        type Row = (
            String,
            String,
            Option<String>,
            Option<String>,
            Option<String>,
            Option<String>,
        );
        let rows: Vec<Row> = sqlx::query_as(
            "select j.kind, j.status, j.gate_policy, r.deployed_by, a.username, j.gate_form \
             from jobs j join runs r on r.id = j.run_id \
             left join gate_approvals a on a.run_id = j.run_id and a.job_id = j.job_id \
             where j.run_id = $1 and j.job_id = $2 \
             order by a.at, a.username",
        )
        .bind(run)
        .bind(gate)
        .fetch_all(&self.pool)
        .await?;
        let Some((kind, status, policy, deployed_by, _, form)) = rows.first().cloned() else {
            return Err(StoreError::UnknownJob {
                run,
                job: gate.to_string(),
            });
        };
        Ok(GateForDecision {
            is_gate: kind == "gate",
            status: JobStatus::try_from(status)
                .map_err(|err| StoreError::Corrupt(err.to_string()))?,
            policy,
            deployed_by,
            approved_by: rows.into_iter().filter_map(|row| row.4).collect(),
            form: gate_form(form.as_deref())?,
        })
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
