//! Server functions about runs.

use leptos::prelude::*;

use super::{ApiError, RunSummary};

/// `POST /api/list_runs` `{"limit": 100}` (optional): the newest runs, newest first.
#[server(prefix = "/api", endpoint = "list_runs", input = server_fn::codec::Json)]
pub async fn list_runs(limit: Option<u32>) -> Result<Vec<RunSummary>, ApiError> {
    use super::backend::{backend, reply};
    let limit = limit.unwrap_or(100).clamp(1, 1000);
    reply(backend()?.list_runs(limit).await)
}
