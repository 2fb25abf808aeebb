//! Saved pipelines: what the Constructor and `--pipeline` files keep for later deploys.
//! Every save is a new version, kept with who saved it, when, and the SHA-256 of its
//! spec; `pipelines` holds the newest.

use sha2::{Digest, Sha256};

use super::{PipelineRecord, PipelineVersionRecord, Store, StoreError};

/// Tries at a save that another save of the same name raced to the same number.
const SAVE_ATTEMPTS: usize = 5;

/// The columns of [`PipelineRecord`].
const COLUMNS: &str = "name, spec, layout, created_at, updated_at, version";

/// The SHA-256 of a pipeline's stored spec, in hex: what a run records of what it ran.
pub fn spec_sha256(spec: &str) -> String {
    Sha256::digest(spec.as_bytes())
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

impl Store {
    /// Saves a pipeline under its name as a new version (the first is 1; the creation
    /// time of the first is kept). `spec` and `layout` are JSON texts; `saved_by` is the
    /// account that saved it (`None`: a `--pipeline` file).
    pub async fn save_pipeline(
        &self,
        name: &str,
        spec: &str,
        layout: &str,
        now_ms: i64,
        saved_by: Option<&str>,
    ) -> Result<PipelineRecord, StoreError> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            match self
                .save_version(name, spec, layout, now_ms, saved_by)
                .await
            {
                // Two saves numbered the same version: the loser takes the next one.
                Err(StoreError::Database(error))
                    if attempt < SAVE_ATTEMPTS && is_unique(&error) => {}
                other => return other,
            }
        }
    }

    async fn save_version(
        &self,
        name: &str,
        spec: &str,
        layout: &str,
        now_ms: i64,
        saved_by: Option<&str>,
    ) -> Result<PipelineRecord, StoreError> {
        let mut tx = self.pool.begin().await?;
        let version: i64 = sqlx::query_scalar(
            "select coalesce(max(version), 0) + 1 from pipeline_versions where name = $1",
        )
        .bind(name)
        .fetch_one(&mut *tx)
        .await?;
        sqlx::query(
            "insert into pipeline_versions (name, version, spec, layout, spec_sha256, saved_by, \
             saved_at) values ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(name)
        .bind(version)
        .bind(spec)
        .bind(layout)
        .bind(spec_sha256(spec))
        .bind(saved_by)
        .bind(now_ms)
        .execute(&mut *tx)
        .await?;
        let query = format!(
            "insert into pipelines (name, spec, layout, created_at, updated_at, version) \
             values ($1, $2, $3, $4, $4, $5) \
             on conflict (name) do update set spec = excluded.spec, layout = excluded.layout, \
                 updated_at = excluded.updated_at, version = excluded.version \
             returning {COLUMNS}"
        );
        let record = sqlx::query_as::<_, PipelineRecord>(sqlx::AssertSqlSafe(query))
            .bind(name)
            .bind(spec)
            .bind(layout)
            .bind(now_ms)
            .bind(version)
            .fetch_one(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(record)
    }

    /// The newest version of a saved pipeline.
    pub async fn get_pipeline(&self, name: &str) -> Result<Option<PipelineRecord>, StoreError> {
        let query = format!("select {COLUMNS} from pipelines where name = $1");
        let record = sqlx::query_as::<_, PipelineRecord>(sqlx::AssertSqlSafe(query))
            .bind(name)
            .fetch_optional(&self.pool)
            .await?;
        Ok(record)
    }

    /// One version of a saved pipeline (its creation time is that of the pipeline).
    pub async fn get_pipeline_version(
        &self,
        name: &str,
        version: i64,
    ) -> Result<Option<PipelineRecord>, StoreError> {
        let record = sqlx::query_as::<_, PipelineRecord>(
            "select v.name, v.spec, v.layout, p.created_at, v.saved_at as updated_at, v.version \
             from pipeline_versions v join pipelines p on p.name = v.name \
             where v.name = $1 and v.version = $2",
        )
        .bind(name)
        .bind(version)
        .fetch_optional(&self.pool)
        .await?;
        Ok(record)
    }

    /// Every version of a saved pipeline, newest first.
    pub async fn pipeline_versions(
        &self,
        name: &str,
    ) -> Result<Vec<PipelineVersionRecord>, StoreError> {
        let records = sqlx::query_as::<_, PipelineVersionRecord>(
            "select version, saved_by, saved_at, spec_sha256 from pipeline_versions \
             where name = $1 order by version desc",
        )
        .bind(name)
        .fetch_all(&self.pool)
        .await?;
        Ok(records)
    }

    /// Every saved pipeline, by name, at its newest version.
    pub async fn list_pipelines(&self) -> Result<Vec<PipelineRecord>, StoreError> {
        let query = format!("select {COLUMNS} from pipelines order by name");
        let records = sqlx::query_as::<_, PipelineRecord>(sqlx::AssertSqlSafe(query))
            .fetch_all(&self.pool)
            .await?;
        Ok(records)
    }
}

/// A unique key refused the row (SQLite and Postgres say it differently).
fn is_unique(error: &sqlx::Error) -> bool {
    error
        .as_database_error()
        .is_some_and(|error| error.is_unique_violation())
}
