//! Plain GET downloads: a workspace file (`/files/{run}/{path}`) and a job's whole log
//! (`/logs/{run}/{job}`). A path that is not plainly inside the run's workspace is
//! refused before anything is read, and the file is served from the descriptor that
//! check opened, never by its path again (see `workspace::nofollow`).

use axum::Json;
use axum::body::Body;
use axum::extract::{Path, Query, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use std::os::fd::AsRawFd;
use tower::ServiceExt;
use tower_http::services::ServeFile;

use app::api::ApiError;

use crate::http::AppState;
use crate::workspace::PathError;

#[derive(Debug, Default, Deserialize)]
pub struct DownloadOptions {
    /// `?inline=1`: show in the browser (the preview) instead of saving.
    #[serde(default)]
    inline: Option<String>,
}

fn error(error: ApiError) -> Response {
    let status = StatusCode::from_u16(error.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (status, Json(error)).into_response()
}

fn parse_run(run: &str) -> Result<i64, ApiError> {
    run.parse().map_err(|_| {
        ApiError::bad_request(format!(
            "`{run}` is not a run id: run ids are whole numbers"
        ))
    })
}

/// `Content-Disposition` for `name`, with characters that would break the header dropped.
fn disposition(name: &str, inline: bool) -> HeaderValue {
    let safe: String = name
        .chars()
        .filter(|c| c.is_ascii_graphic() && *c != '"' && *c != '\\' || *c == ' ')
        .collect();
    let kind = if inline { "inline" } else { "attachment" };
    HeaderValue::from_str(&format!("{kind}; filename=\"{safe}\""))
        .unwrap_or_else(|_| HeaderValue::from_static("attachment"))
}

pub async fn file(
    State(state): State<AppState>,
    Path((run, path)): Path<(String, String)>,
    Query(options): Query<DownloadOptions>,
    request: Request<Body>,
) -> Response {
    serve_file(state, &run, &path, options, request)
        .await
        .unwrap_or_else(error)
}

async fn serve_file(
    state: AppState,
    run: &str,
    path: &str,
    options: DownloadOptions,
    request: Request<Body>,
) -> Result<Response, ApiError> {
    let run = parse_run(run)?;
    state.store.get_run(run).await?;
    let workspaces = state.workspaces.clone();
    let relative = path.to_string();
    let file = tokio::task::spawn_blocking(move || workspaces.open(run, &relative))
        .await
        .map_err(|error| ApiError::internal(format!("cannot open `{path}`: {error}")))?
        .map_err(|refused| match refused {
            PathError::Unsafe(_) => ApiError::bad_request(refused.to_string()),
            PathError::NotFound(_) => ApiError::not_found(refused.to_string()),
            PathError::Unreadable(..) => {
                tracing::warn!(run, error = %refused, "a workspace file could not be opened");
                ApiError::internal(refused.to_string())
            }
        })?;
    let name = path.rsplit('/').next().unwrap_or(path);
    let inline = options.inline.is_some_and(|v| v != "0");
    // `/proc/self/fd/<n>` is the kernel's link to the file already open in `file`, not a
    // path in the workspace: opening it reaches that very file even if the job has since
    // renamed or replaced anything. ServeFile keeps Range and If-Modified-Since; `file`
    // stays open until it has opened its own descriptor.
    let opened = format!("/proc/self/fd/{}", file.as_raw_fd());
    let mime = mime_guess::from_path(name).first_or_octet_stream();
    let mut response = match ServeFile::new_with_mime(&opened, &mime)
        .oneshot(request)
        .await
    {
        Ok(response) => response.map(Body::new),
        Err(never) => match never {},
    };
    drop(file);
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_DISPOSITION, disposition(name, inline));
    if inline {
        // The preview shows text as text whatever the extension says.
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; charset=utf-8"),
        );
    }
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    Ok(response)
}

pub async fn log(
    State(state): State<AppState>,
    Path((run, job)): Path<(String, String)>,
) -> Response {
    serve_log(state, &run, &job).await.unwrap_or_else(error)
}

/// How much of a log is read from the store at a time while it is sent.
const LOG_PAGE_BYTES: u64 = 256 * 1024;

/// Sends the log as it is now, read page by page as the client takes it, so a 10 MiB
/// log never sits whole in the server's memory.
async fn serve_log(state: AppState, run: &str, job: &str) -> Result<Response, ApiError> {
    let run = parse_run(run)?;
    // Answers 404 for an unknown run or job before anything is sent.
    let total = u64::try_from(state.store.job(run, job).await?.log_bytes).unwrap_or(0);
    let (store, job_id) = (state.store.clone(), job.to_string());
    let pages = futures_util::stream::unfold(0_u64, move |offset| {
        let (store, job) = (store.clone(), job_id.clone());
        async move {
            if offset >= total {
                return None;
            }
            match store.read_log(run, &job, offset, LOG_PAGE_BYTES).await {
                Ok(page) if page.next_offset > offset => Some((Ok(page.text), page.next_offset)),
                Ok(_) => None,
                Err(error) => {
                    tracing::warn!(run, job = %job, %error, "a log download stopped");
                    Some((Err(std::io::Error::other(error.to_string())), u64::MAX))
                }
            }
        }
    });
    let name = format!("run-{run}-{job}.log");
    Ok((
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/plain; charset=utf-8"),
            ),
            (header::CONTENT_DISPOSITION, disposition(&name, false)),
        ],
        Body::from_stream(pages),
    )
        .into_response())
}
