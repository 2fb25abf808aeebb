//! What the API answers with. Times are milliseconds since the Unix epoch.

use serde::{Deserialize, Serialize};

use crate::domain::{Pipeline, RunStatus};

/// A run as the runs list shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunSummary {
    pub id: i64,
    pub pipeline: String,
    pub status: RunStatus,
    pub created_at_ms: i64,
    pub finished_at_ms: Option<i64>,
    pub total_jobs: u32,
    pub completed_jobs: u32,
    /// Gates waiting for a decision right now.
    pub waiting_gates: u32,
}

/// A saved pipeline as the pipelines list shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PipelineSummary {
    pub name: String,
    pub jobs: u32,
    /// Jobs with a gate (a non-blank gate message).
    pub gates: u32,
    pub updated_at_ms: i64,
}

/// A saved pipeline with its spec and the Constructor's layout.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SavedPipeline {
    pub name: String,
    pub pipeline: Pipeline,
    /// The same pipeline as YAML, as the README documents it.
    pub yaml: String,
    /// Node positions and other editor state; `{}` when saved from a file or the API.
    pub layout: serde_json::Value,
    pub created_at_ms: i64,
    pub updated_at_ms: i64,
}

/// A pipeline given to the API: YAML or JSON text, or the pipeline object itself.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum PipelineSource {
    Text(String),
    Spec(Pipeline),
}

impl PipelineSource {
    /// The pipeline, read from text if need be.
    pub fn into_pipeline(self) -> Result<Pipeline, crate::domain::ParseError> {
        match self {
            PipelineSource::Text(text) => Pipeline::parse(&text),
            PipelineSource::Spec(pipeline) => Ok(pipeline),
        }
    }
}
