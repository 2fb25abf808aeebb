//! The backend's account operations: users, passwords and tokens, each recorded in the
//! audit trail with who did it.

use app::api::{ApiError, NewToken, TokenView, UserUpdate, UserView};
use app::domain::{Action, Actor, Role};

use std::net::IpAddr;

use super::{StoreBackend, internal, require, views};
use crate::auth::{busy, from, hashing, rules, secrets};
use crate::clock::now_ms;
use crate::store::{NewUser, UserChange};

impl StoreBackend {
    pub(super) async fn users(&self) -> Result<Vec<UserView>, ApiError> {
        let mut views = Vec::new();
        for user in self.store.list_users().await? {
            let groups = self.store.groups_of(&user.username).await?;
            views.push(views::user(user, groups));
        }
        Ok(views)
    }

    async fn user_view(&self, username: &str) -> Result<UserView, ApiError> {
        let user = self
            .store
            .user(username)
            .await?
            .ok_or_else(|| ApiError::not_found(format!("there is no user `{username}`")))?;
        let groups = self.store.groups_of(username).await?;
        Ok(views::user(user, groups))
    }

    pub(super) async fn add_user(
        &self,
        actor: &Actor,
        username: &str,
        password: &str,
        update: UserUpdate,
    ) -> Result<UserView, ApiError> {
        rules::check_username(username).map_err(ApiError::bad_request)?;
        let change = user_change(update)?;
        secrets::check_password(password).map_err(ApiError::bad_request)?;
        let hash = hash(password).await?;
        let display_name = change
            .display_name
            .clone()
            .unwrap_or_else(|| username.to_string());
        let roles = change.roles.clone().unwrap_or_else(|| vec![Role::Viewer]);
        let user = NewUser {
            username,
            display_name: &display_name,
            password_hash: Some(&hash),
            roles: &roles,
        };
        self.store.create_user(user, now_ms()).await?;
        if change.groups.is_some() {
            self.store.update_user(username, &change, now_ms()).await?;
        }
        let detail = format!("`{username}` with roles {}", Role::join(&roles));
        self.auth
            .audit(None, "user_created", Some(&actor.username), Some(detail))
            .await;
        self.user_view(username).await
    }

    pub(super) async fn change_user(
        &self,
        actor: &Actor,
        username: &str,
        update: UserUpdate,
    ) -> Result<UserView, ApiError> {
        let change = user_change(update)?;
        if username == actor.username
            && (change.disabled == Some(true)
                || change
                    .roles
                    .as_ref()
                    .is_some_and(|r| !r.contains(&Role::Admin)))
        {
            return Err(ApiError::bad_request(
                "you cannot disable yourself or take away your own admin role: ask another admin",
            ));
        }
        let ended = self.store.update_user(username, &change, now_ms()).await?;
        let mut said = Vec::new();
        if let Some(roles) = &change.roles {
            said.push(format!("roles {}", Role::join(roles)));
        }
        if let Some(groups) = &change.groups {
            said.push(format!("groups {}", groups.join(",")));
        }
        if let Some(disabled) = change.disabled {
            said.push(if disabled { "disabled" } else { "enabled" }.to_string());
        }
        if ended {
            said.push("its sessions and tokens ended".to_string());
        }
        let detail = format!("`{username}`: {}", said.join("; "));
        self.auth
            .audit(None, "user_changed", Some(&actor.username), Some(detail))
            .await;
        self.user_view(username).await
    }

    pub(super) async fn change_password(
        &self,
        actor: &Actor,
        username: &str,
        current: Option<String>,
        new: &str,
        address: Option<IpAddr>,
    ) -> Result<(), ApiError> {
        if username != actor.username {
            require(actor, Action::Administer)?;
        } else if !actor.is_admin() {
            let stored = self
                .store
                .user(username)
                .await?
                .and_then(|user| user.password_hash);
            let given = current.unwrap_or_default();
            if !self
                .auth
                .check_password(username, &given, stored, address)
                .await?
            {
                self.auth
                    .audit(
                        None,
                        "password_check_failed",
                        Some(username),
                        Some(format!("a wrong current password{}", from(address))),
                    )
                    .await;
                return Err(ApiError::forbidden(
                    "the current password is wrong: give `current` to change your own password",
                ));
            }
        }
        secrets::check_password(new).map_err(ApiError::bad_request)?;
        let hash = hash(new).await?;
        self.store.set_password(username, &hash, now_ms()).await?;
        self.auth
            .audit(
                None,
                "password_changed",
                Some(&actor.username),
                Some(format!("of `{username}`; its sessions and tokens ended")),
            )
            .await;
        Ok(())
    }

    pub(super) async fn new_token(
        &self,
        actor: &Actor,
        owner: Option<String>,
        name: &str,
        expires_in_days: Option<u32>,
    ) -> Result<NewToken, ApiError> {
        let owner = owner.unwrap_or_else(|| actor.username.clone());
        if owner != actor.username {
            require(actor, Action::Administer)?;
        }
        let now = now_ms();
        let (name, expires_at) =
            rules::token_terms(name, expires_in_days, now).map_err(ApiError::bad_request)?;
        let name = name.as_str();
        if self.store.user(&owner).await?.is_none() {
            return Err(ApiError::not_found(format!("there is no user `{owner}`")));
        }
        let token = secrets::new_token();
        let record = self
            .store
            .create_token(&owner, name, &secrets::digest(&token), now, expires_at)
            .await?;
        self.auth
            .audit(
                None,
                "token_created",
                Some(&actor.username),
                Some(format!("`{name}` (id {}) for `{owner}`", record.id)),
            )
            .await;
        Ok(NewToken {
            token,
            view: views::token(record),
        })
    }

    pub(super) async fn end_token(&self, actor: &Actor, id: i64) -> Result<TokenView, ApiError> {
        let missing = || ApiError::not_found(format!("there is no token with id {id}"));
        let token = self.store.token(id).await?.ok_or_else(missing)?;
        if token.username != actor.username && !actor.is_admin() {
            // Someone else's token: as unknown as one that does not exist.
            return Err(missing());
        }
        if !self.store.revoke_token(id, now_ms()).await? {
            return Err(ApiError::conflict(format!(
                "token {id} (`{}`) was revoked already",
                token.name
            )));
        }
        self.auth
            .audit(
                None,
                "token_revoked",
                Some(&actor.username),
                Some(format!(
                    "`{}` (id {id}) of `{}`",
                    token.name, token.username
                )),
            )
            .await;
        let token = self.store.token(id).await?.ok_or_else(missing)?;
        Ok(views::token(token))
    }
}

/// An update checked field by field.
fn user_change(update: UserUpdate) -> Result<UserChange, ApiError> {
    if let Some(name) = &update.display_name {
        rules::check_display_name(name).map_err(ApiError::bad_request)?;
    }
    if let Some(groups) = &update.groups {
        rules::check_groups(groups).map_err(ApiError::bad_request)?;
    }
    Ok(UserChange {
        display_name: update.display_name.map(|n| n.trim().to_string()),
        roles: update.roles,
        disabled: update.disabled,
        groups: update.groups,
    })
}

async fn hash(password: &str) -> Result<String, ApiError> {
    hashing::hash(password)
        .await
        .map_err(busy)?
        .map_err(|err| internal("cannot hash the password", err))
}
