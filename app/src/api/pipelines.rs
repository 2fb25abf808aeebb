//! Server functions about saved pipelines.

use leptos::prelude::*;

use super::{ApiError, PipelineSource, PipelineSummary, SavedPipeline};
use crate::domain::Pipeline;

/// `POST /api/list_pipelines` `{}`: every saved pipeline, by name.
#[server(prefix = "/api", endpoint = "list_pipelines", input = server_fn::codec::Json)]
pub async fn list_pipelines() -> Result<Vec<PipelineSummary>, ApiError> {
    use super::backend::{actor, backend, reply};
    reply(async { backend()?.list_pipelines(&actor()?).await }.await)
}

/// `POST /api/get_pipeline` `{"name": "review-workflow"}`: one saved pipeline.
#[server(prefix = "/api", endpoint = "get_pipeline", input = server_fn::codec::Json)]
pub async fn get_pipeline(name: String) -> Result<SavedPipeline, ApiError> {
    use super::backend::{actor, backend, reply};
    reply(async { backend()?.get_pipeline(&actor()?, &name).await }.await)
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
