//! The HTTP routes: the API's server functions, `/healthz`, and the web client.

use std::path::Path;

use axum::body::Body;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use leptos::prelude::provide_context;
use tower::ServiceExt;
use tower_http::services::{ServeDir, ServeFile};

use app::api::ApiError;
use app::api::backend::{Caller, SharedBackend};
use app::area::Area;

use crate::downloads;
use crate::metrics::Metrics;
use crate::store::Store;
use crate::workspace::Workspaces;

/// The largest request body `/api/*` reads: 4 MiB.
///
/// The largest thing a client sends is a pipeline: its text is capped at
/// [`app::domain::MAX_SPEC_BYTES`] (1 MiB), and as a JSON string (`{"spec": "..."}`)
/// escaping can about double it (quotes, backslashes and newlines in scripts). The
/// Constructor's draft (`save_draft`) and a pipeline's `layout` carry the same jobs plus
/// node positions, so they fit too. 4 MiB leaves room for all of that while keeping one
/// request's memory small; nothing a person writes by hand comes near it.
///
/// Two things enforce it. [`api`] reads the body first, within this limit, so a larger
/// one gets 413 with the API's JSON error (and a declared `Content-Length` over it is
/// refused before anything is read). The server functions then read that body again
/// through axum's `DefaultBodyLimit`, whose default of 2 MB would cut a body short with a
/// 400 "length limit exceeded"; the route sets it to this same limit, so it never fires
/// first, and still bounds the server functions if [`api`] changes.
pub const MAX_API_BODY_BYTES: usize = 4 * 1024 * 1024;

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    pub auth: crate::auth::Authenticator,
    pub metrics: Metrics,
    pub workspaces: Workspaces,
    pub backend: SharedBackend,
}

/// All routes. `dist` is the built web client; any path that is not a file there gets
/// its `index.html`, so a deep link such as `/runs/42` opens the app.
pub fn router(state: AppState, dist: &Path) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .route("/files/{run}/{*path}", get(downloads::file))
        .route("/logs/{run}/{job}", get(downloads::log))
        .route(
            "/api/{*function}",
            post(api)
                .get(api)
                .layer(DefaultBodyLimit::max(MAX_API_BODY_BYTES)),
        )
        .fallback_service(client(dist))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            crate::auth::guard,
        ))
        .with_state(state)
}

/// The web client's files. Each is sent as the `.br` or `.gz` beside it (written by
/// `tollgate precompress` at build time) when the browser accepts that encoding, else
/// as is. Trunk's hashed names (`frontend-<hash>_bg.wasm`) never change content, so
/// browsers keep them for a year; everything else, the pages above all, is revalidated
/// on each load so a new build is seen at once. Any other path is a page: it gets the
/// `index.html` of the bundle that draws it ([`Area`]), so `/runs/42` opens the runs
/// area and `/constructor` the manage area.
fn client(dist: &Path) -> Router {
    let root = dist.to_path_buf();
    let pages = tower::service_fn(move |request: Request<Body>| {
        let root = root.clone();
        async move { Ok::<_, std::convert::Infallible>(area_page(&root, request).await) }
    });
    let files = ServeDir::new(dist)
        .precompressed_br()
        .precompressed_gzip()
        .fallback(pages);
    Router::new()
        .fallback_service(files)
        .layer(axum::middleware::from_fn(client_headers))
}

/// The `index.html` of the area that draws the page at the request's path, never kept
/// by the browser: under a hashed-looking path that no longer exists (an old build's),
/// this page is what comes back.
async fn area_page(dist: &Path, request: Request<Body>) -> Response {
    let area = Area::of_path(request.uri().path());
    let index = dist.join(area.folder()).join("index.html");
    if !index.is_file() {
        let message = format!(
            "The web client's {:?} bundle is not built ({} is missing): run scripts/build.sh.",
            area,
            index.display()
        );
        return (StatusCode::NOT_FOUND, message).into_response();
    }
    let page = ServeFile::new(index)
        .precompressed_br()
        .precompressed_gzip();
    let mut response = match page.oneshot(request).await {
        Ok(response) => response.map(Body::new),
        Err(never) => match never {},
    };
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static(NO_CACHE));
    response
}

const NO_CACHE: &str = "no-cache";
const IMMUTABLE: &str = "public, max-age=31536000, immutable";

/// Adds the caching rule (unless the fallback set one) and `Vary: Accept-Encoding`, since
/// the body depends on that header.
async fn client_headers(request: Request<Body>, next: axum::middleware::Next) -> Response {
    let hashed = is_hashed_name(request.uri().path());
    let mut response = next.run(request).await;
    let cache = if hashed && response.status().is_success() {
        IMMUTABLE
    } else {
        NO_CACHE
    };
    let headers = response.headers_mut();
    headers
        .entry(header::CACHE_CONTROL)
        .or_insert(HeaderValue::from_static(cache));
    headers.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    response
}

/// Whether the last segment of `path` is a name Trunk made from the content's hash:
/// `<stem>-<hex>.<ext>`, with `_bg` after the hash for the wasm. Trunk writes the hash as
/// up to 16 hex digits; fewer than 8 is taken as a plain name (revalidated, which is
/// always safe).
pub fn is_hashed_name(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or_default();
    let Some((stem, _ext)) = name.split_once('.') else {
        return false;
    };
    let stem = stem.strip_suffix("_bg").unwrap_or(stem);
    let Some((_, hash)) = stem.rsplit_once('-') else {
        return false;
    };
    (8..=16).contains(&hash.len())
        && hash
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// Liveness plus whether the store answers: 200 `{"status":"ok"}` or 503 with the
/// reason.
async fn healthz(State(state): State<AppState>) -> Response {
    // A probe must answer at once, not after the pool's acquire timeout.
    let answer = tokio::time::timeout(HEALTH_PROBE_LIMIT, state.store.ping()).await;
    match answer {
        Ok(Ok(())) => Json(serde_json::json!({"status": "ok", "store": "ok"})).into_response(),
        failed => {
            match failed {
                Ok(Err(error)) => tracing::warn!(%error, "health check: store unreachable"),
                _ => tracing::warn!("health check: the store did not answer in time"),
            }
            let body = serde_json::json!({
                "status": "unavailable",
                "store": "unreachable",
                "error": app::api::DATABASE_UNAVAILABLE,
            });
            (StatusCode::SERVICE_UNAVAILABLE, Json(body)).into_response()
        }
    }
}

/// How long `/healthz` waits for the store before it says it does not answer.
const HEALTH_PROBE_LIMIT: std::time::Duration = std::time::Duration::from_secs(2);

/// Prometheus metrics in the text format.
async fn metrics(State(state): State<AppState>) -> Response {
    match state.metrics.render(&state.store).await {
        Ok(text) => (
            [(
                axum::http::header::CONTENT_TYPE,
                "text/plain; version=0.0.4; charset=utf-8",
            )],
            text,
        )
            .into_response(),
        Err(error) => {
            tracing::warn!(%error, "metrics unavailable");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                "the database does not answer\n",
            )
                .into_response()
        }
    }
}

/// Readiness: the store answers and its migrations are applied, so requests can be
/// served. 200 `{"status":"ready","sandbox":"landlock abi 7","server_memory":"closed",
/// "network":"tcp connect to 22,53,80,443 unless a job says otherwise"}` (how jobs are
/// sandboxed, `unavailable: <reason>` without Landlock, still ready; whether jobs are
/// kept from reading the server's memory and environment; which ports they may reach)
/// or 503 with the reason.
async fn readyz(State(state): State<AppState>) -> Response {
    match state.store.ready().await {
        Ok(()) => {
            let sandbox = crate::sandbox::support().describe();
            let memory = if crate::sandbox::is_closed() {
                "closed"
            } else {
                "readable by jobs"
            };
            let network =
                crate::sandbox::network::policy().describe(crate::sandbox::support().abi());
            let body = serde_json::json!({
                "status": "ready",
                "sandbox": sandbox,
                "server_memory": memory,
                "network": network,
            });
            Json(body).into_response()
        }
        Err(error) => {
            tracing::warn!(%error, "readiness check failed");
            let body = serde_json::json!({"status": "not ready", "error": error.to_string()});
            (StatusCode::SERVICE_UNAVAILABLE, Json(body)).into_response()
        }
    }
}

/// The request with its body read into memory, at most [`MAX_API_BODY_BYTES`]: a
/// larger body is refused with 413 before the server function sees it. A declared
/// `Content-Length` over the limit is refused without reading anything; a chunked body is
/// cut off as soon as it passes the limit.
async fn read_body(request: Request<Body>) -> Result<Request<Body>, ApiError> {
    let too_large = || ApiError::PayloadTooLarge {
        message: format!(
            "the request body is larger than the {} MiB the API accepts: send a smaller pipeline or draft (a pipeline's text may be at most {} MiB)",
            MAX_API_BODY_BYTES / (1024 * 1024),
            app::domain::MAX_SPEC_BYTES / (1024 * 1024),
        ),
    };
    let declared = request
        .headers()
        .get(axum::http::header::CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.trim().parse::<u64>().ok());
    let (parts, body) = request.into_parts();
    if let Some(length) = declared.filter(|length| *length > MAX_API_BODY_BYTES as u64) {
        // A modest overshoot is read and dropped for a moment, so a client that sends
        // its whole body before reading the answer gets this 413 rather than a reset
        // connection; a larger one, or one that does not come, is refused unread.
        if length <= DRAIN_BYTES {
            let _ = tokio::time::timeout(DRAIN_TIME, drain(body, length)).await;
        }
        return Err(too_large());
    }
    match axum::body::to_bytes(body, MAX_API_BODY_BYTES).await {
        Ok(bytes) => Ok(Request::from_parts(parts, Body::from(bytes))),
        Err(error) if is_length_limit(&error) => Err(too_large()),
        Err(error) => Err(ApiError::bad_request(format!(
            "the request body could not be read: {error}"
        ))),
    }
}

/// The largest refused body that is still read to its end (see [`read_body`]), and how
/// long that may take at most.
const DRAIN_BYTES: u64 = 2 * MAX_API_BODY_BYTES as u64;
const DRAIN_TIME: std::time::Duration = std::time::Duration::from_secs(1);

/// Reads and drops up to `budget` bytes of `body`.
async fn drain(mut body: Body, mut budget: u64) {
    use http_body_util::BodyExt;
    while budget > 0 {
        match body.frame().await {
            Some(Ok(frame)) => {
                let read = frame.data_ref().map_or(0, |data| data.len());
                budget = budget.saturating_sub(read as u64);
            }
            _ => return,
        }
    }
}

/// Whether reading a body failed because it passed the limit given to `to_bytes`.
fn is_length_limit(error: &axum::Error) -> bool {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(error) = source {
        if error.is::<http_body_util::LengthLimitError>() {
            return true;
        }
        source = error.source();
    }
    false
}

/// Runs the server function at this path with the backend in context; an unknown path
/// gets a JSON 404 instead of the framework's plain-text 400.
async fn api(State(state): State<AppState>, request: Request<Body>) -> Response {
    let path = request.uri().path().to_string();
    let known = leptos::server_fn::axum::server_fn_paths().any(|(known, _)| known == path);
    if !known {
        let error = ApiError::not_found(format!(
            "there is no API endpoint `{path}`; the README lists them"
        ));
        return (StatusCode::NOT_FOUND, Json(error)).into_response();
    }
    if request.method() != axum::http::Method::POST {
        let error = ApiError::bad_request(format!(
            "`{path}` takes a POST with a JSON body, e.g. curl -X POST -H 'content-type: application/json' -d '{{}}'"
        ));
        return (StatusCode::METHOD_NOT_ALLOWED, Json(error)).into_response();
    }
    let request = match read_body(request).await {
        Ok(request) => request,
        Err(error) => {
            let status =
                StatusCode::from_u16(error.status()).unwrap_or(StatusCode::PAYLOAD_TOO_LARGE);
            return (status, Json(error)).into_response();
        }
    };
    let backend = state.backend.clone();
    let caller = request
        .extensions()
        .get::<Caller>()
        .cloned()
        .unwrap_or_default();
    let context = move || {
        provide_context(backend.clone());
        provide_context(caller.clone());
    };
    leptos_axum::handle_server_fns_with_context(context, request)
        .await
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::is_hashed_name;

    #[test]
    fn trunks_hashed_names_are_told_from_plain_ones() {
        for hashed in [
            "/frontend-1a2b3c4d5e6f7a8b_bg.wasm",
            "/frontend-1a2b3c4d5e6f7a8b.js",
            "/main-9f8e7d6c5b4a.css",
            "/frontend-1a2b3c4d5e6f7a8b_bg.wasm.br",
        ] {
            assert!(is_hashed_name(hashed), "{hashed}");
        }
        for plain in [
            "/",
            "/index.html",
            "/runs/42",
            "/logo-bad.svg",
            "/frontend-1A2B3C4D5E6F7A8B.js",
            "/frontend-1a2b3c4d5e6f7a8b9.js",
            // A folder named by a hash does not make the file in it one.
            "/snippets/frontend-1a2b3c4d5e6f7a8b/inline0.js",
        ] {
            assert!(!is_hashed_name(plain), "{plain}");
        }
    }
}
