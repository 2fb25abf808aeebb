//! Server functions for the Constructor's autosaved draft.

use leptos::prelude::*;

use super::ApiError;
use crate::constructor::Draft;

/// `POST /api/save_draft` `{"draft": {...}}`: keeps what is on the Constructor's canvas,
/// valid or not; returns when it was saved (ms since the epoch).
#[server(prefix = "/api", endpoint = "save_draft", input = server_fn::codec::Json)]
pub async fn save_draft(draft: Draft) -> Result<i64, ApiError> {
    use super::backend::{actor, backend, reply};
    reply(async { backend()?.save_draft(&actor()?, draft).await }.await)
}

/// `POST /api/load_draft` `{}`: the last autosaved draft, if there is one.
#[server(prefix = "/api", endpoint = "load_draft", input = server_fn::codec::Json)]
pub async fn load_draft() -> Result<Option<Draft>, ApiError> {
    use super::backend::{actor, backend, reply};
    reply(async { backend()?.load_draft(&actor()?).await }.await)
}
