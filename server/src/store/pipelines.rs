//! Saved pipelines: what the Constructor and `--pipeline` files keep for later deploys.

use super::{PipelineRecord, Store, StoreError};

impl Store {
    /// Saves a pipeline under its name, replacing an earlier version (its creation time
    /// is kept). `spec` and `layout` are JSON texts.
    pub async fn save_pipeline(
        &self,
        name: &str,
        spec: &str,
        layout: &str,
        now_ms: i64,
    ) -> Result<PipelineRecord, StoreError> {
        let record = sqlx::query_as::<_, PipelineRecord>(
            "insert into pipelines (name, spec, layout, created_at, updated_at) \
             values ($1, $2, $3, $4, $4) \
             on conflict (name) do update set spec = excluded.spec, layout = excluded.layout, \
                 updated_at = excluded.updated_at \
             returning name, spec, layout, created_at, updated_at",
        )
        .bind(name)
        .bind(spec)
        .bind(layout)
        .bind(now_ms)
        .fetch_one(&self.pool)
        .await?;
        Ok(record)
    }

    pub async fn get_pipeline(&self, name: &str) -> Result<Option<PipelineRecord>, StoreError> {
        let record = sqlx::query_as::<_, PipelineRecord>(
            "select name, spec, layout, created_at, updated_at from pipelines where name = $1",
        )
        .bind(name)
        .fetch_optional(&self.pool)
        .await?;
        Ok(record)
    }

    /// Every saved pipeline, by name.
    pub async fn list_pipelines(&self) -> Result<Vec<PipelineRecord>, StoreError> {
        let records = sqlx::query_as::<_, PipelineRecord>(
            "select name, spec, layout, created_at, updated_at from pipelines order by name",
        )
        .fetch_all(&self.pool)
        .await?;
        Ok(records)
    }
}
