//! The backend the server functions call: the API's operations on the store.

use async_trait::async_trait;

use app::api::backend::Backend;
use app::api::{ApiError, PipelineSummary, RunSummary, SavedPipeline};
use app::domain::Pipeline;

use crate::clock::now_ms;
use crate::store::{PipelineRecord, Store, StoreError};

/// The API over one store.
#[derive(Clone, Debug)]
pub struct StoreBackend {
    store: Store,
}

impl StoreBackend {
    pub fn new(store: Store) -> StoreBackend {
        StoreBackend { store }
    }
}

/// Store errors as the API reports them. Database details go to the log, not the user.
impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> ApiError {
        match error {
            StoreError::UnknownRun(_) | StoreError::UnknownJob { .. } => {
                ApiError::not_found(error.to_string())
            }
            StoreError::Conflict { .. } | StoreError::RunFinished(_) => {
                ApiError::conflict(error.to_string())
            }
            StoreError::Corrupt(_) | StoreError::Database(_) | StoreError::Migration(_) => {
                tracing::error!(%error, "store failure");
                ApiError::internal("the database failed; the server log has the details")
            }
        }
    }
}

fn count(value: i64) -> u32 {
    u32::try_from(value).unwrap_or(u32::MAX)
}

fn saved(record: PipelineRecord) -> Result<SavedPipeline, ApiError> {
    let pipeline: Pipeline = serde_json::from_str(&record.spec)
        .map_err(|err| StoreError::Corrupt(format!("saved pipeline `{}`: {err}", record.name)))?;
    let layout = serde_json::from_str(&record.layout).unwrap_or_else(|_| serde_json::json!({}));
    Ok(SavedPipeline {
        name: record.name,
        yaml: pipeline.to_yaml(),
        pipeline,
        layout,
        created_at_ms: record.created_at,
        updated_at_ms: record.updated_at,
    })
}

#[async_trait]
impl Backend for StoreBackend {
    async fn list_runs(&self, limit: u32) -> Result<Vec<RunSummary>, ApiError> {
        let runs = self.store.list_runs(i64::from(limit)).await?;
        Ok(runs
            .into_iter()
            .map(|summary| RunSummary {
                id: summary.run.id,
                pipeline: summary.run.pipeline,
                status: summary.run.status,
                created_at_ms: summary.run.created_at,
                finished_at_ms: summary.run.finished_at,
                total_jobs: count(summary.total_jobs),
                completed_jobs: count(summary.completed_jobs),
                waiting_gates: count(summary.waiting_gates),
            })
            .collect())
    }

    async fn list_pipelines(&self) -> Result<Vec<PipelineSummary>, ApiError> {
        let records = self.store.list_pipelines().await?;
        records
            .into_iter()
            .map(|record| {
                let saved = saved(record)?;
                Ok(PipelineSummary {
                    jobs: count(saved.pipeline.jobs.len() as i64),
                    gates: count(
                        saved
                            .pipeline
                            .jobs
                            .iter()
                            .filter(|job| job.active_gate().is_some())
                            .count() as i64,
                    ),
                    name: saved.name,
                    updated_at_ms: saved.updated_at_ms,
                })
            })
            .collect()
    }

    async fn get_pipeline(&self, name: &str) -> Result<SavedPipeline, ApiError> {
        match self.store.get_pipeline(name).await? {
            Some(record) => saved(record),
            None => Err(ApiError::not_found(format!(
                "no saved pipeline is named `{name}`"
            ))),
        }
    }

    async fn save_pipeline(
        &self,
        pipeline: Pipeline,
        layout: serde_json::Value,
    ) -> Result<SavedPipeline, ApiError> {
        let spec = serde_json::to_string(&pipeline)
            .map_err(|err| ApiError::internal(format!("cannot store the pipeline: {err}")))?;
        let record = self
            .store
            .save_pipeline(&pipeline.name, &spec, &layout.to_string(), now_ms())
            .await?;
        saved(record)
    }
}
