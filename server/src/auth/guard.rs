//! The gate in front of every route: checks the host, the body type and the origin,
//! works out who is calling, and refuses anonymous requests to anything but the probes,
//! the sign-in call and the static web client (which holds no data).
//!
//! Cookies and the proxy header are ambient (a browser sends them whatever page makes
//! the request), so a request authenticated by them must come from Tollgate's own
//! pages: `Sec-Fetch-Site` and `Origin` say so. A bearer token is never ambient and
//! needs no such check.

use std::net::{IpAddr, SocketAddr};

use axum::Json;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, HeaderName, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use app::api::ApiError;
use app::api::backend::Caller;

use super::{AuthSettings, secrets::TOKEN_PREFIX};
use crate::http::AppState;

/// The session cookie's name over plain http.
pub const SESSION_COOKIE: &str = "tollgate_session";
/// Its name over https: with the `__Host-` prefix a browser accepts the cookie only
/// when it is `Secure`, for `/` and with no `Domain`, so neither a sibling subdomain
/// nor a plain-http page on the same host can plant or overwrite it.
pub const SECURE_SESSION_COOKIE: &str = "__Host-tollgate_session";

/// Runs before every route (see the module doc).
pub async fn guard(State(state): State<AppState>, mut request: Request, next: Next) -> Response {
    let path = request.uri().path().to_string();
    if path == "/healthz" || path == "/readyz" {
        return next.run(request).await;
    }
    let auth = &state.auth;
    let settings = auth.settings();
    let headers = request.headers();
    // A scraper asks by the pod's address, not the public name; /metrics still needs a
    // token unless --metrics-public.
    if path != "/metrics"
        && let Err(message) = check_host(settings, headers)
    {
        return refuse(ApiError::Forbidden { message });
    }
    let api = path.starts_with("/api/");
    let writes = request.method() != Method::GET && request.method() != Method::HEAD;
    if api && request.method() == Method::POST && !is_json(headers) {
        return refuse(ApiError::UnsupportedMediaType {
            message: "send the body as JSON with `content-type: application/json`".into(),
        });
    }
    let address = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(peer)| peer.ip());
    let identified = match identify(&state, headers, address).await {
        Ok(identified) => identified,
        Err(error) => return refuse(error),
    };
    let ambient = identified.ambient || path == "/api/login";
    if ambient
        && writes
        && let Some(message) = cross_site(settings, headers)
    {
        return refuse(ApiError::Forbidden { message });
    }
    let public = path == "/api/login"
        || (path == "/metrics" && settings.metrics_public)
        || !(api
            || path == "/metrics"
            || path.starts_with("/files/")
            || path.starts_with("/logs/"));
    if identified.actor.is_none() && !public {
        return refuse(ApiError::Unauthorized {
            message: "sign in first (POST /api/login), or send `Authorization: Bearer tg_...` with an API token".into(),
        });
    }
    request.extensions_mut().insert(Caller {
        actor: identified.actor,
        address,
        session: identified.session,
    });
    next.run(request).await
}

/// Who a request comes from, and how it proved it.
struct Identified {
    actor: Option<app::domain::Actor>,
    /// Authenticated by something the browser sends by itself (cookie, proxy header).
    ambient: bool,
    /// The session id from the cookie, for signing out.
    session: Option<String>,
}

async fn identify(
    state: &AppState,
    headers: &HeaderMap,
    address: Option<IpAddr>,
) -> Result<Identified, ApiError> {
    let auth = &state.auth;
    if let Some(value) = headers.get(header::AUTHORIZATION) {
        let token = value
            .to_str()
            .ok()
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim)
            .filter(|t| t.starts_with(TOKEN_PREFIX));
        let Some(token) = token else {
            return Err(ApiError::Unauthorized {
                message: "the Authorization header must be `Bearer tg_...` with an API token"
                    .into(),
            });
        };
        return match auth.token_actor(token).await? {
            Some(actor) => Ok(Identified {
                actor: Some(actor),
                ambient: false,
                session: None,
            }),
            None => Err(ApiError::Unauthorized {
                message: "this API token is unknown, revoked or expired: create a new one".into(),
            }),
        };
    }
    let settings = auth.settings();
    if let (Some(name), Some(peer)) = (&settings.proxy_header, address)
        && settings
            .trusted_proxies
            .iter()
            .any(|net| net.contains(&peer))
        && let Some(user) = proxy_user(headers, name)?
    {
        let actor = auth.proxy_actor(user.trim()).await?;
        return Ok(Identified {
            actor,
            ambient: true,
            session: None,
        });
    }
    let session = session_cookie(headers, settings.session_cookie_name());
    let actor = match &session {
        Some(secret) => auth.session_actor(secret).await?,
        None => None,
    };
    Ok(Identified {
        ambient: session.is_some(),
        actor,
        session,
    })
}

/// The user a trusted proxy names, read only when the header appears exactly once: a
/// second copy means something between the proxy and the server added one.
fn proxy_user<'h>(headers: &'h HeaderMap, name: &HeaderName) -> Result<Option<&'h str>, ApiError> {
    let mut values = headers.get_all(name).iter();
    let (Some(value), None) = (values.next(), values.next()) else {
        return match headers.get_all(name).iter().count() {
            0 => Ok(None),
            count => Err(ApiError::Unauthorized {
                message: format!(
                    "the `{name}` header appears {count} times; the sign-on proxy must send it \
                     exactly once (check that nothing in front of it adds another)"
                ),
            }),
        };
    };
    Ok(value.to_str().ok())
}

fn session_cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(cookie::Cookie::split_parse)
        .filter_map(Result::ok)
        .find(|c| c.name() == name && !c.value().is_empty())
        .map(|c| c.value().to_string())
}

fn is_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|mime| mime.trim().eq_ignore_ascii_case("application/json"))
}

/// Refuses a host name the server does not answer to (DNS rebinding: a page on
/// `evil.example` whose name now points at 127.0.0.1 would send `Host: evil.example`).
fn check_host(settings: &AuthSettings, headers: &HeaderMap) -> Result<(), String> {
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if let Some(origin) = &settings.public_origin {
        let expected = origin.split_once("://").map_or(origin.as_str(), |(_, a)| a);
        return if host.eq_ignore_ascii_case(expected) {
            Ok(())
        } else {
            Err(format!(
                "this server answers to `{expected}` (its --public-url), not to `{host}`"
            ))
        };
    }
    if !settings.loopback_only {
        return Ok(());
    }
    let name = match host.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or(""),
        None => host.rsplit_once(':').map_or(host, |(name, _)| name),
    };
    let loopback = name.eq_ignore_ascii_case("localhost")
        || name.to_ascii_lowercase().ends_with(".localhost")
        || name.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback());
    if loopback {
        Ok(())
    } else {
        Err(format!(
            "this server listens on loopback and answers to localhost or 127.0.0.1, not to `{host}`; set --public-url to serve another name"
        ))
    }
}

/// Why an ambiently authenticated request does not come from Tollgate's own pages, if
/// it does not.
fn cross_site(settings: &AuthSettings, headers: &HeaderMap) -> Option<String> {
    let text = |name| {
        headers
            .get(name)
            .and_then(|v: &axum::http::HeaderValue| v.to_str().ok())
    };
    if let Some(site) = text("sec-fetch-site")
        && site != "same-origin"
        && site != "none"
    {
        return Some(format!(
            "refused a {site} request: Tollgate's API takes requests from its own pages or with an API token"
        ));
    }
    let origin = text(header::ORIGIN.as_str())?;
    let expected = match &settings.public_origin {
        Some(public) => origin.eq_ignore_ascii_case(public),
        None => {
            let host = text(header::HOST.as_str()).unwrap_or("");
            origin
                .split_once("://")
                .is_some_and(|(_, authority)| authority.eq_ignore_ascii_case(host))
        }
    };
    (!expected).then(|| {
        format!("refused a request from the page at {origin}: Tollgate's API takes requests from its own pages or with an API token")
    })
}

fn refuse(error: ApiError) -> Response {
    let status = StatusCode::from_u16(error.status()).unwrap_or(StatusCode::FORBIDDEN);
    (status, Json(error)).into_response()
}
