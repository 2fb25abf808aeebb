//! Users, groups, sessions, API tokens and account events.
//!
//! Secrets never reach this module: sessions and tokens arrive as SHA-256 hashes of
//! their secret and passwords as argon2id hashes (see `crate::auth::secrets`). A session
//! or token only identifies a user who is not disabled; a session also dies when the
//! user's password changes after it was created.

use app::domain::Role;

use super::{Backend, Store, StoreError, TokenRecord, UserRecord};

/// How often at most the last use of a session or token is written: a page polling
/// every 2 s must not turn every read into a write.
const TOUCH_EVERY_MS: i64 = 60_000;

/// A user found by a session or a token: one read gives the account, its groups and
/// when the credential was last noted as used (so the note is written only when due).
#[derive(sqlx::FromRow)]
struct CredentialRow {
    #[sqlx(flatten)]
    user: UserRecord,
    /// The user's groups joined by `,` (group names are identifiers); null: none.
    group_names: Option<String>,
    seen_at: i64,
}

impl CredentialRow {
    fn into_member(self) -> Member {
        let mut groups: Vec<String> = self
            .group_names
            .as_deref()
            .unwrap_or_default()
            .split(',')
            .filter(|name| !name.is_empty())
            .map(str::to_string)
            .collect();
        groups.sort();
        Member {
            user: self.user,
            groups,
        }
    }
}

/// A signed-in user and the groups they belong to, by name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Member {
    pub user: UserRecord,
    pub groups: Vec<String>,
}

const USER_COLUMNS: &str = "u.username, u.display_name, u.password_hash, u.roles, u.disabled, u.created_at, u.password_changed_at";

/// A new account.
#[derive(Clone, Debug)]
pub struct NewUser<'a> {
    pub username: &'a str,
    pub display_name: &'a str,
    pub password_hash: Option<&'a str>,
    pub roles: &'a [Role],
}

/// Changes to an account; `None` keeps a field as it is.
#[derive(Clone, Debug, Default)]
pub struct UserChange {
    pub display_name: Option<String>,
    pub roles: Option<Vec<Role>>,
    pub disabled: Option<bool>,
    pub groups: Option<Vec<String>>,
}

/// Something that happened to an account, for the audit trail.
#[derive(Clone, Debug)]
pub struct AccountEvent<'a> {
    /// The run it concerns, if any (a deploy, a cancel).
    pub run: Option<i64>,
    /// `sign_in`, `sign_in_failed`, `sign_out`, `token_created`, `token_revoked`,
    /// `user_created`, `user_changed`, `password_changed`, `deployed`, ...
    pub kind: &'a str,
    pub actor: Option<&'a str>,
    pub detail: Option<String>,
}

impl Store {
    pub async fn count_users(&self) -> Result<i64, StoreError> {
        Ok(sqlx::query_scalar("select count(*) from users")
            .fetch_one(&self.pool)
            .await?)
    }

    /// Creates an account; [`StoreError::UserExists`] if the name is taken.
    pub async fn create_user(&self, user: NewUser<'_>, now_ms: i64) -> Result<(), StoreError> {
        let inserted = sqlx::query(
            "insert into users (username, display_name, password_hash, roles, disabled, \
             created_at, password_changed_at) values ($1, $2, $3, $4, 0, $5, $5) \
             on conflict do nothing",
        )
        .bind(user.username)
        .bind(user.display_name)
        .bind(user.password_hash)
        .bind(Role::join(user.roles))
        .bind(now_ms)
        .execute(&self.pool)
        .await?;
        if inserted.rows_affected() == 0 {
            return Err(StoreError::UserExists(user.username.to_string()));
        }
        Ok(())
    }

    pub async fn user(&self, username: &str) -> Result<Option<UserRecord>, StoreError> {
        let query = format!("select {USER_COLUMNS} from users u where u.username = $1");
        Ok(sqlx::query_as::<_, UserRecord>(sqlx::AssertSqlSafe(query))
            .bind(username)
            .fetch_optional(&self.pool)
            .await?)
    }

    pub async fn list_users(&self) -> Result<Vec<UserRecord>, StoreError> {
        let query = format!("select {USER_COLUMNS} from users u order by u.username");
        Ok(sqlx::query_as::<_, UserRecord>(sqlx::AssertSqlSafe(query))
            .fetch_all(&self.pool)
            .await?)
    }

    /// The groups `username` belongs to, by name.
    pub async fn groups_of(&self, username: &str) -> Result<Vec<String>, StoreError> {
        Ok(sqlx::query_scalar(
            "select group_name from user_groups where username = $1 order by group_name",
        )
        .bind(username)
        .fetch_all(&self.pool)
        .await?)
    }

    /// Applies `change` to an account in one transaction. Disabling it or taking a role
    /// away ends its sessions and revokes its tokens: what was issued under the old
    /// rights dies with them (a re-enabled user signs in again and makes new tokens).
    /// Returns whether credentials were ended.
    pub async fn update_user(
        &self,
        username: &str,
        change: &UserChange,
        now_ms: i64,
    ) -> Result<bool, StoreError> {
        let mut tx = self.pool.begin().await?;
        let roles_before: Option<String> =
            sqlx::query_scalar("select roles from users where username = $1")
                .bind(username)
                .fetch_optional(&mut *tx)
                .await?;
        let updated = sqlx::query(
            "update users set display_name = coalesce($2, display_name), \
             roles = coalesce($3, roles), disabled = coalesce($4, disabled) where username = $1",
        )
        .bind(username)
        .bind(change.display_name.as_deref())
        .bind(change.roles.as_deref().map(Role::join))
        .bind(change.disabled.map(i64::from))
        .execute(&mut *tx)
        .await?;
        if updated.rows_affected() == 0 {
            return Err(StoreError::UnknownUser(username.to_string()));
        }
        if let Some(groups) = &change.groups {
            sqlx::query("delete from user_groups where username = $1")
                .bind(username)
                .execute(&mut *tx)
                .await?;
            for group in groups {
                sqlx::query(
                    "insert into user_groups (group_name, username) values ($1, $2) \
                     on conflict do nothing",
                )
                .bind(group)
                .bind(username)
                .execute(&mut *tx)
                .await?;
            }
        }
        let role_taken = match (&change.roles, roles_before) {
            (Some(now), Some(before)) => before
                .split(',')
                .filter_map(|name| Role::parse(name.trim()))
                .any(|role| !now.contains(&role)),
            _ => false,
        };
        let ends = change.disabled == Some(true) || role_taken;
        if ends {
            end_credentials(&mut tx, username, now_ms).await?;
        }
        tx.commit().await?;
        Ok(ends)
    }

    /// Sets a new password hash, ends every session and revokes every token of the
    /// account.
    pub async fn set_password(
        &self,
        username: &str,
        password_hash: &str,
        now_ms: i64,
    ) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        let updated = sqlx::query(
            "update users set password_hash = $2, password_changed_at = $3 where username = $1",
        )
        .bind(username)
        .bind(password_hash)
        .bind(now_ms)
        .execute(&mut *tx)
        .await?;
        if updated.rows_affected() == 0 {
            return Err(StoreError::UnknownUser(username.to_string()));
        }
        end_credentials(&mut tx, username, now_ms).await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn create_session(
        &self,
        id_hash: &str,
        username: &str,
        now_ms: i64,
        expires_at: i64,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "insert into sessions (id_hash, username, created_at, last_seen_at, expires_at) \
             values ($1, $2, $3, $3, $4)",
        )
        .bind(id_hash)
        .bind(username)
        .bind(now_ms)
        .bind(expires_at)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The user of a live session: not expired, used within `idle_ms`, created after
    /// the last password change, its user enabled. Notes the use at most once a minute.
    pub async fn session_user(
        &self,
        id_hash: &str,
        now_ms: i64,
        idle_ms: i64,
    ) -> Result<Option<Member>, StoreError> {
        let query = format!(
            "select {USER_COLUMNS}, {}, s.last_seen_at as seen_at \
             from sessions s join users u on u.username = s.username \
             where s.id_hash = $1 and s.expires_at > $2 and s.last_seen_at > $3 \
             and s.created_at >= u.password_changed_at and u.disabled = 0",
            self.group_names_column()
        );
        let row = sqlx::query_as::<_, CredentialRow>(sqlx::AssertSqlSafe(query))
            .bind(id_hash)
            .bind(now_ms)
            .bind(now_ms - idle_ms)
            .fetch_optional(&self.pool)
            .await?;
        let Some(row) = row else { return Ok(None) };
        if row.seen_at < now_ms - TOUCH_EVERY_MS {
            sqlx::query(
                "update sessions set last_seen_at = $2 where id_hash = $1 and last_seen_at < $3",
            )
            .bind(id_hash)
            .bind(now_ms)
            .bind(now_ms - TOUCH_EVERY_MS)
            .execute(&self.pool)
            .await?;
        }
        Ok(Some(row.into_member()))
    }

    /// The column `group_names`: the groups of user `u` in one string.
    fn group_names_column(&self) -> &'static str {
        match self.backend {
            Backend::Postgres => {
                "(select string_agg(g.group_name, ',') from user_groups g \
                  where g.username = u.username) as group_names"
            }
            Backend::Sqlite => {
                "(select group_concat(g.group_name, ',') from user_groups g \
                  where g.username = u.username) as group_names"
            }
        }
    }

    pub async fn delete_session(&self, id_hash: &str) -> Result<(), StoreError> {
        sqlx::query("delete from sessions where id_hash = $1")
            .bind(id_hash)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    pub async fn create_token(
        &self,
        username: &str,
        name: &str,
        token_hash: &str,
        now_ms: i64,
        expires_at: Option<i64>,
    ) -> Result<TokenRecord, StoreError> {
        Ok(sqlx::query_as::<_, TokenRecord>(
            "insert into api_tokens (username, name, token_hash, created_at, expires_at) \
             values ($1, $2, $3, $4, $5) \
             returning id, username, name, created_at, expires_at, last_used_at, revoked_at",
        )
        .bind(username)
        .bind(name)
        .bind(token_hash)
        .bind(now_ms)
        .bind(expires_at)
        .fetch_one(&self.pool)
        .await?)
    }

    /// The user of a token that is neither revoked nor expired, its user enabled. Notes
    /// the use.
    pub async fn token_user(
        &self,
        token_hash: &str,
        now_ms: i64,
    ) -> Result<Option<Member>, StoreError> {
        let query = format!(
            "select {USER_COLUMNS}, {}, coalesce(t.last_used_at, 0) as seen_at \
             from api_tokens t join users u on u.username = t.username \
             where t.token_hash = $1 and t.revoked_at is null \
             and (t.expires_at is null or t.expires_at > $2) and u.disabled = 0",
            self.group_names_column()
        );
        let row = sqlx::query_as::<_, CredentialRow>(sqlx::AssertSqlSafe(query))
            .bind(token_hash)
            .bind(now_ms)
            .fetch_optional(&self.pool)
            .await?;
        let Some(row) = row else { return Ok(None) };
        if row.seen_at < now_ms - TOUCH_EVERY_MS {
            sqlx::query(
                "update api_tokens set last_used_at = $2 where token_hash = $1 \
                 and (last_used_at is null or last_used_at < $3)",
            )
            .bind(token_hash)
            .bind(now_ms)
            .bind(now_ms - TOUCH_EVERY_MS)
            .execute(&self.pool)
            .await?;
        }
        Ok(Some(row.into_member()))
    }

    /// Tokens of one user, or of everyone, newest first.
    pub async fn list_tokens(
        &self,
        username: Option<&str>,
    ) -> Result<Vec<TokenRecord>, StoreError> {
        Ok(sqlx::query_as::<_, TokenRecord>(
            "select id, username, name, created_at, expires_at, last_used_at, revoked_at \
             from api_tokens where ($1 is null or username = $1) order by id desc",
        )
        .bind(username)
        .fetch_all(&self.pool)
        .await?)
    }

    pub async fn token(&self, id: i64) -> Result<Option<TokenRecord>, StoreError> {
        Ok(sqlx::query_as::<_, TokenRecord>(
            "select id, username, name, created_at, expires_at, last_used_at, revoked_at \
             from api_tokens where id = $1",
        )
        .bind(id)
        .fetch_optional(&self.pool)
        .await?)
    }

    /// Revokes a token; `false` if it was revoked already.
    pub async fn revoke_token(&self, id: i64, now_ms: i64) -> Result<bool, StoreError> {
        let updated = sqlx::query(
            "update api_tokens set revoked_at = $2 where id = $1 and revoked_at is null",
        )
        .bind(id)
        .bind(now_ms)
        .execute(&self.pool)
        .await?;
        Ok(updated.rows_affected() == 1)
    }

    /// Appends an event to the audit trail.
    pub async fn record_event(
        &self,
        event: AccountEvent<'_>,
        now_ms: i64,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "insert into events (run_id, kind, detail, at, actor) values ($1, $2, $3, $4, $5)",
        )
        .bind(event.run)
        .bind(event.kind)
        .bind(event.detail)
        .bind(now_ms)
        .bind(event.actor)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The newest account events (those of no run), newest first.
    pub async fn account_events(&self, limit: i64) -> Result<Vec<super::EventRecord>, StoreError> {
        Ok(sqlx::query_as::<_, super::EventRecord>(
            "select id, run_id, job_id, kind, from_status, to_status, detail, at, actor \
             from events where run_id is null order by id desc limit $1",
        )
        .bind(limit)
        .fetch_all(&self.pool)
        .await?)
    }
}

/// Ends every session of an account and revokes its live tokens, in the caller's
/// transaction.
async fn end_credentials(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    username: &str,
    now_ms: i64,
) -> Result<(), StoreError> {
    sqlx::query("delete from sessions where username = $1")
        .bind(username)
        .execute(&mut **tx)
        .await?;
    sqlx::query("update api_tokens set revoked_at = $2 where username = $1 and revoked_at is null")
        .bind(username)
        .bind(now_ms)
        .execute(&mut **tx)
        .await?;
    Ok(())
}
