//! Server functions about saved pipelines.

use leptos::prelude::*;

use super::{ApiError, DiffLine, PipelineSource, PipelineSummary, PipelineVersion, SavedPipeline};
use crate::domain::Pipeline;

/// `POST /api/list_pipelines` `{}`: every saved pipeline, by name.
#[server(prefix = "/api", endpoint = "list_pipelines", input = server_fn::codec::Json)]
pub async fn list_pipelines() -> Result<Vec<PipelineSummary>, ApiError> {
    use super::backend::{actor, backend, reply};
    reply(async { backend()?.list_pipelines(&actor()?).await }.await)
}

/// `POST /api/get_pipeline` `{"name": "review-workflow"}`: one saved pipeline, its
/// newest version, or `"version": 3` for that one. `env` values are shown to those who
/// may deploy, whole `notify` URLs to admins.
#[server(prefix = "/api", endpoint = "get_pipeline", input = server_fn::codec::Json)]
pub async fn get_pipeline(name: String, version: Option<i64>) -> Result<SavedPipeline, ApiError> {
    use super::backend::{actor, backend, reply};
    reply(async { backend()?.get_pipeline(&actor()?, &name, version).await }.await)
}

/// `POST /api/pipeline_history` `{"name": "review-workflow"}`: every saved version,
/// newest first, with who saved it, when and its spec's SHA-256.
#[server(prefix = "/api", endpoint = "pipeline_history", input = server_fn::codec::Json)]
pub async fn pipeline_history(name: String) -> Result<Vec<PipelineVersion>, ApiError> {
    use super::backend::{actor, backend, reply};
    reply(async { backend()?.pipeline_history(&actor()?, &name).await }.await)
}

/// `POST /api/pipeline_diff` `{"name": "review-workflow", "from": 2, "to": 3}`: the
/// lines of YAML that changed from one version to the other (hidden values stay
/// hidden, as in `get_pipeline`).
#[server(prefix = "/api", endpoint = "pipeline_diff", input = server_fn::codec::Json)]
pub async fn pipeline_diff(name: String, from: i64, to: i64) -> Result<Vec<DiffLine>, ApiError> {
    use super::backend::{actor, backend, reply};
    reply(async { backend()?.pipeline_diff(&actor()?, &name, from, to).await }.await)
}

/// `POST /api/save_pipeline` `{"spec": "<YAML or JSON text, or a pipeline object>",
/// "layout": {...}}`: validates the pipeline and saves it under its name.
#[server(prefix = "/api", endpoint = "save_pipeline", input = server_fn::codec::Json)]
pub async fn save_pipeline(
    spec: PipelineSource,
    layout: Option<serde_json::Value>,
) -> Result<SavedPipeline, ApiError> {
    use super::backend::{actor, backend, reply};
    let result = async {
        // The backend validates: it checks the server's size limit first.
        let pipeline = spec.into_pipeline()?;
        let layout = layout.unwrap_or_else(|| serde_json::json!({}));
        backend()?.save_pipeline(&actor()?, pipeline, layout).await
    };
    reply(result.await)
}

/// `POST /api/parse_pipeline` `{"text": "<YAML or JSON text>"}`: the pipeline the text
/// describes, read but not validated (the Constructor's Import). The browser client
/// carries no YAML parser, which would be a fifth of its wasm, so it asks the server.
#[server(prefix = "/api", endpoint = "parse_pipeline", input = server_fn::codec::Json)]
pub async fn parse_pipeline(text: String) -> Result<Pipeline, ApiError> {
    use super::backend::{actor, backend, reply};
    reply(async { backend()?.parse_pipeline(&actor()?, &text).await }.await)
}
