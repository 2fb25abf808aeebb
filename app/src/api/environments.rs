//! Server functions about environments: the approval rules admins set outside any
//! pipeline (see [`crate::domain::environment`]).

use leptos::prelude::*;

use super::{ApiError, EnvironmentView};
use crate::domain::environment::EnvironmentRules;

/// `POST /api/list_environments` `{}`: every environment and its rules (anyone signed
/// in: the rules are what a reviewer is held to).
#[server(prefix = "/api", endpoint = "list_environments", input = server_fn::codec::Json)]
pub async fn list_environments() -> Result<Vec<EnvironmentView>, ApiError> {
    use super::backend::{actor, backend, reply};
    reply(async { backend()?.list_environments(&actor()?).await }.await)
}

/// `POST /api/save_environment` `{"name": "production", "rules": {"approvers":
/// ["ana", "group:sre"], "approvals": 2}}` (admins): creates or replaces it; each change
/// is an audit event saying what changed.
#[server(prefix = "/api", endpoint = "save_environment", input = server_fn::codec::Json)]
pub async fn save_environment(
    name: String,
    rules: EnvironmentRules,
) -> Result<EnvironmentView, ApiError> {
    use super::backend::{actor, backend, reply};
    reply(async { backend()?.save_environment(&actor()?, &name, rules).await }.await)
}

/// `POST /api/delete_environment` `{"name": "staging"}` (admins). Pipelines whose
/// gates name it are refused at their next deploy.
#[server(prefix = "/api", endpoint = "delete_environment", input = server_fn::codec::Json)]
pub async fn delete_environment(name: String) -> Result<(), ApiError> {
    use super::backend::{actor, backend, reply};
    reply(async { backend()?.delete_environment(&actor()?, &name).await }.await)
}
