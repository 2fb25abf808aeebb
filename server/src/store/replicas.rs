//! Servers and the jobs they run: registration, heartbeats, and finding the jobs of a
//! server that stopped answering.

use super::{Store, StoreError};

/// A RUNNING job whose server is gone (or never said it took it).
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct AbandonedJob {
    pub run_id: i64,
    pub job_id: String,
    pub owner: Option<String>,
}

impl Store {
    /// Records this server as alive.
    pub async fn register_replica(&self, id: &str, now_ms: i64) -> Result<(), StoreError> {
        sqlx::query(
            "insert into replicas (id, started_at, heartbeat_at) values ($1, $2, $2) \
             on conflict (id) do update set heartbeat_at = excluded.heartbeat_at",
        )
        .bind(id)
        .bind(now_ms)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Says this server is still alive.
    pub async fn heartbeat(&self, id: &str, now_ms: i64) -> Result<(), StoreError> {
        sqlx::query("update replicas set heartbeat_at = $2 where id = $1")
            .bind(id)
            .bind(now_ms)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// RUNNING tasks whose server has not said it is alive since `before_ms` (or which no
    /// server claimed and that started before then), except those of server `except`.
    pub async fn abandoned_jobs(
        &self,
        before_ms: i64,
        except: Option<&str>,
    ) -> Result<Vec<AbandonedJob>, StoreError> {
        let jobs = sqlx::query_as::<_, AbandonedJob>(
            "select j.run_id, j.job_id, j.owner from jobs j \
             left join replicas r on r.id = j.owner \
             where j.kind = 'task' and j.status = 'RUNNING' \
               and coalesce(r.heartbeat_at, j.started_at, 0) < $1 \
               and ($2 is null or j.owner is null or j.owner <> $2) \
             order by j.run_id, j.position",
        )
        .bind(before_ms)
        .bind(except)
        .fetch_all(&self.pool)
        .await?;
        Ok(jobs)
    }

    /// RUNNING tasks that server `replica` took, as `(run, job)`.
    pub async fn tasks_run_by(&self, replica: &str) -> Result<Vec<(i64, String)>, StoreError> {
        let jobs = sqlx::query_as(
            "select run_id, job_id from jobs \
             where kind = 'task' and status = 'RUNNING' and owner = $1 \
             order by run_id, position",
        )
        .bind(replica)
        .fetch_all(&self.pool)
        .await?;
        Ok(jobs)
    }
}
