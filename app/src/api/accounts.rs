//! Server functions about people: signing in and out, users, tokens, the audit trail.

use leptos::prelude::*;

use super::{ApiError, AuditEntry, NewToken, NotificationView, TokenView, UserView};
use crate::domain::Actor;

/// `POST /api/login` `{"username": "ana", "password": "..."}`: opens a session (an
/// HttpOnly cookie) and says who signed in. Failures are rate-limited.
#[server(prefix = "/api", endpoint = "login", input = server_fn::codec::Json)]
pub async fn login(username: String, password: String) -> Result<Actor, ApiError> {
    use super::backend::{add_header, backend, caller, reply};
    let result = async {
        let address = caller().address;
        let (actor, cookie) = backend()?
            .sign_in(username.trim(), &password, address)
            .await?;
        add_header(http::header::SET_COOKIE, &cookie);
        Ok(actor)
    };
    reply(result.await)
}

/// `POST /api/logout` `{}`: ends this session.
#[server(prefix = "/api", endpoint = "logout", input = server_fn::codec::Json)]
pub async fn logout() -> Result<(), ApiError> {
    use super::backend::{actor, add_header, backend, caller, reply};
    let result = async {
        let cookie = backend()?
            .sign_out(&actor()?, caller().session.as_deref())
            .await?;
        add_header(http::header::SET_COOKIE, &cookie);
        Ok(())
    };
    reply(result.await)
}

/// `POST /api/whoami` `{}`: the signed-in person, with roles and groups.
#[server(prefix = "/api", endpoint = "whoami", input = server_fn::codec::Json)]
pub async fn whoami() -> Result<Actor, ApiError> {
    use super::backend::{actor, reply};
    reply(actor())
}

/// `POST /api/list_users` `{}` (admins): every account.
#[server(prefix = "/api", endpoint = "list_users", input = server_fn::codec::Json)]
pub async fn list_users() -> Result<Vec<UserView>, ApiError> {
    use super::backend::{actor, backend, reply};
    reply(async { backend()?.list_users(&actor()?).await }.await)
}

/// `POST /api/create_user` `{"username": "ana", "password": "...", "display_name":
/// "Ana", "roles": ["approver"], "groups": ["ml-leads"]}` (admins).
#[server(prefix = "/api", endpoint = "create_user", input = server_fn::codec::Json)]
pub async fn create_user(
    username: String,
    password: String,
    display_name: Option<String>,
    roles: Option<Vec<crate::domain::Role>>,
    groups: Option<Vec<String>>,
) -> Result<UserView, ApiError> {
    use super::backend::{actor, backend, reply};
    let update = super::UserUpdate {
        display_name,
        roles,
        groups,
        disabled: None,
    };
    reply(
        async {
            backend()?
                .create_user(&actor()?, &username, &password, update)
                .await
        }
        .await,
    )
}

/// `POST /api/update_user` `{"username": "ana", "roles": [...], "groups": [...],
/// "disabled": true, "display_name": "..."}` (admins); absent fields stay.
#[server(prefix = "/api", endpoint = "update_user", input = server_fn::codec::Json)]
pub async fn update_user(
    username: String,
    display_name: Option<String>,
    roles: Option<Vec<crate::domain::Role>>,
    groups: Option<Vec<String>>,
    disabled: Option<bool>,
) -> Result<UserView, ApiError> {
    use super::backend::{actor, backend, reply};
    let update = super::UserUpdate {
        display_name,
        roles,
        groups,
        disabled,
    };
    reply(async { backend()?.update_user(&actor()?, &username, update).await }.await)
}

/// `POST /api/set_password` `{"username": "ana", "current": "...", "password": "..."}`:
/// one's own password (with the current one, rate-limited like sign-in), or anyone's
/// as an admin. Ends the account's sessions and revokes its tokens.
#[server(prefix = "/api", endpoint = "set_password", input = server_fn::codec::Json)]
pub async fn set_password(
    username: String,
    current: Option<String>,
    password: String,
) -> Result<(), ApiError> {
    use super::backend::{actor, backend, caller, reply};
    reply(
        async {
            backend()?
                .set_password(&actor()?, &username, current, &password, caller().address)
                .await
        }
        .await,
    )
}

/// `POST /api/create_token` `{"name": "ci", "expires_in_days": 90}` (or with
/// `"username"` for someone else, admins): the token's secret is in the answer, once.
#[server(prefix = "/api", endpoint = "create_token", input = server_fn::codec::Json)]
pub async fn create_token(
    name: String,
    expires_in_days: Option<u32>,
    username: Option<String>,
) -> Result<NewToken, ApiError> {
    use super::backend::{actor, backend, reply};
    reply(
        async {
            backend()?
                .create_token(&actor()?, username, &name, expires_in_days)
                .await
        }
        .await,
    )
}

/// `POST /api/list_tokens` `{}`: your tokens; `{"all": true}`: everyone's (admins).
#[server(prefix = "/api", endpoint = "list_tokens", input = server_fn::codec::Json)]
pub async fn list_tokens(all: Option<bool>) -> Result<Vec<TokenView>, ApiError> {
    use super::backend::{actor, backend, reply};
    reply(
        async {
            backend()?
                .list_tokens(&actor()?, all.unwrap_or(false))
                .await
        }
        .await,
    )
}

/// `POST /api/revoke_token` `{"id": 3}`: your token, or anyone's as an admin.
#[server(prefix = "/api", endpoint = "revoke_token", input = server_fn::codec::Json)]
pub async fn revoke_token(id: i64) -> Result<TokenView, ApiError> {
    use super::backend::{actor, backend, reply};
    reply(async { backend()?.revoke_token(&actor()?, id).await }.await)
}

/// `POST /api/notifications` `{}`: the newest 200 webhook notifications, newest first,
/// each with its attempts and whether it was delivered, is retried or was given up
/// (admins).
#[server(prefix = "/api", endpoint = "notifications", input = server_fn::codec::Json)]
pub async fn notifications() -> Result<Vec<NotificationView>, ApiError> {
    use super::backend::{actor, backend, reply};
    reply(async { backend()?.notifications(&actor()?).await }.await)
}

/// `POST /api/audit_trail` `{"run_id": 1}`: who did what to a run, oldest first;
/// `{}`: sign-ins, tokens and user changes, newest first (admins).
#[server(prefix = "/api", endpoint = "audit_trail", input = server_fn::codec::Json)]
pub async fn audit_trail(run_id: Option<i64>) -> Result<Vec<AuditEntry>, ApiError> {
    use super::backend::{actor, backend, reply};
    reply(async { backend()?.audit_trail(&actor()?, run_id).await }.await)
}
