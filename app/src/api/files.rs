//! Server functions about what jobs leave behind: logs and workspace files.

use leptos::prelude::*;

use super::{ApiError, LogPage, WorkspaceFile};

/// `POST /api/job_log` `{"run_id": 1, "job": "train", "offset": 0}`: the log from a byte
/// offset on (at most `limit` bytes, default 1 MiB).
#[server(prefix = "/api", endpoint = "job_log", input = server_fn::codec::Json)]
pub async fn job_log(
    run_id: i64,
    job: String,
    offset: Option<u64>,
    limit: Option<u64>,
) -> Result<LogPage, ApiError> {
    use super::backend::{actor, backend, reply};
    let limit = limit.unwrap_or(1 << 20).clamp(1, 8 << 20);
    let offset = offset.unwrap_or(0);
    reply(
        async {
            backend()?
                .job_log(&actor()?, run_id, &job, offset, limit)
                .await
        }
        .await,
    )
}

/// `POST /api/list_files` `{"run_id": 1}`: the run's workspace files, by path.
#[server(prefix = "/api", endpoint = "list_files", input = server_fn::codec::Json)]
pub async fn list_files(run_id: i64) -> Result<Vec<WorkspaceFile>, ApiError> {
    use super::backend::{actor, backend, reply};
    reply(async { backend()?.list_files(&actor()?, run_id).await }.await)
}
