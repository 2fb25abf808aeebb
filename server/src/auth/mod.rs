//! Who is calling: sign-in with a password, browser sessions, API tokens, and the
//! trusted proxy's user header. [`guard`] runs before every route; the backend then
//! decides what the [`Actor`] may do with the rules in `app::domain::access`.

mod bootstrap;
mod guard;
pub mod hashing;
mod limiter;
mod proxy_ranges;
pub mod rules;
pub mod secrets;

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use app::api::ApiError;
use app::domain::{Actor, Role};
use ipnet::IpNet;

use crate::clock::now_ms;
use crate::store::{AccountEvent, NewUser, Store, StoreError, UserRecord};

pub use bootstrap::ensure_first_admin;
pub use guard::{SECURE_SESSION_COOKIE, SESSION_COOKIE, guard};
pub use limiter::LoginLimiter;
pub use proxy_ranges::trusted_proxies;
pub use rules::MAX_USERNAME_CHARS;

/// How sign-in behaves, from the configuration.
#[derive(Clone, Debug)]
pub struct AuthSettings {
    /// `scheme://host[:port]` the server is reached at, when known (`--public-url`):
    /// the only origin and host accepted.
    pub public_origin: Option<String>,
    /// Whether the server listens on loopback only: then only loopback host names are
    /// accepted (a DNS-rebinding page cannot reach it under its own name).
    pub loopback_only: bool,
    /// Session cookies carry `Secure` (served over https).
    pub secure_cookies: bool,
    /// A session unused this long ends.
    pub session_idle: Duration,
    /// A session ends this long after sign-in, used or not.
    pub session_max: Duration,
    /// The header a trusted proxy names the signed-in user with, and the proxies'
    /// addresses; the header is ignored from anywhere else.
    pub proxy_header: Option<axum::http::HeaderName>,
    pub trusted_proxies: Vec<IpNet>,
    /// `/metrics` answers without a token.
    pub metrics_public: bool,
}

impl AuthSettings {
    /// `__Host-tollgate_session` over https, `tollgate_session` over http (browsers
    /// refuse the prefix on a cookie that is not `Secure`).
    pub fn session_cookie_name(&self) -> &'static str {
        if self.secure_cookies {
            SECURE_SESSION_COOKIE
        } else {
            SESSION_COOKIE
        }
    }
}

/// Signs people in and recognises them on later requests. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Authenticator {
    store: Store,
    settings: Arc<AuthSettings>,
    limiter: Arc<LoginLimiter>,
}

/// A successful sign-in: who, and the cookie that carries the session.
#[derive(Clone, Debug)]
pub struct SignedIn {
    pub actor: Actor,
    pub set_cookie: String,
}

impl Authenticator {
    pub fn new(store: Store, settings: AuthSettings) -> Authenticator {
        Authenticator {
            store,
            settings: Arc::new(settings),
            limiter: Arc::new(LoginLimiter::default()),
        }
    }

    pub fn settings(&self) -> &AuthSettings {
        &self.settings
    }

    /// The actor of an account, with its groups.
    pub async fn actor_of(&self, user: UserRecord) -> Result<Actor, StoreError> {
        let groups = self.store.groups_of(&user.username).await?;
        Ok(actor_from(user, groups))
    }

    /// Checks a password and opens a session. Failures are counted per username and
    /// address and say nothing about which of the two was wrong.
    pub async fn sign_in(
        &self,
        username: &str,
        password: &str,
        address: Option<IpAddr>,
    ) -> Result<SignedIn, ApiError> {
        let now = now_ms();
        // Refused before anything is counted or recorded: no name can be this long, and
        // the audit trail and the limiter keep what they are given.
        if username.chars().count() > MAX_USERNAME_CHARS {
            return Err(ApiError::bad_request(format!(
                "a username has at most {MAX_USERNAME_CHARS} characters"
            )));
        }
        let user = self.store.user(username).await?;
        let stored = user
            .as_ref()
            .filter(|u| u.disabled == 0)
            .and_then(|u| u.password_hash.clone());
        let matches = self
            .check_password(username, password, stored, address)
            .await?;
        let Some(user) = user.filter(|_| matches) else {
            self.audit(
                None,
                "sign_in_failed",
                None,
                Some(format!("as `{username}`{}", from(address))),
            )
            .await;
            return Err(ApiError::Unauthorized {
                message: "wrong username or password (or the account is disabled)".into(),
            });
        };
        let secret = secrets::random_hex();
        let expires =
            now + i64::try_from(self.settings.session_max.as_millis()).unwrap_or(i64::MAX / 2);
        self.store
            .create_session(&secrets::digest(&secret), &user.username, now, expires)
            .await?;
        self.audit(
            None,
            "sign_in",
            Some(&user.username),
            Some(format!("with a password{}", from(address))),
        )
        .await;
        let actor = self.actor_of(user).await?;
        Ok(SignedIn {
            actor,
            set_cookie: self.session_cookie(&secret, self.settings.session_max),
        })
    }

    /// Whether `password` matches `stored`, the hash of `username`'s password, counted
    /// by the limiter: 429 without looking when there were too many failures for that
    /// name from `address`, or from `address` at all.
    pub async fn check_password(
        &self,
        username: &str,
        password: &str,
        stored: Option<String>,
        address: Option<IpAddr>,
    ) -> Result<bool, ApiError> {
        // Counted as a failure from here until it succeeds, so a burst of simultaneous
        // guesses gets no more tries than guesses one after the other.
        if let Err(wait) = self.limiter.begin(username, address, now_ms()) {
            let minutes = wait.div_ceil(60);
            return Err(ApiError::TooManyRequests {
                message: format!(
                    "too many wrong passwords for `{username}` from your address: try again in \
                     {minutes} minute{}",
                    if minutes == 1 { "" } else { "s" }
                ),
                retry_after_secs: wait,
            });
        }
        // No password is longer: refused without spending a hash on it.
        let matches = password.len() <= secrets::MAX_PASSWORD_BYTES
            && hashing::verify(password, stored).await.map_err(busy)?;
        if matches {
            self.limiter.succeeded(username, address);
        }
        Ok(matches)
    }

    /// Ends a session; returns the cookie that clears it in the browser.
    pub async fn sign_out(&self, session: Option<&str>, actor: &Actor) -> Result<String, ApiError> {
        if let Some(secret) = session {
            self.store.delete_session(&secrets::digest(secret)).await?;
        }
        self.audit(None, "sign_out", Some(&actor.username), None)
            .await;
        Ok(self.session_cookie("", Duration::ZERO))
    }

    fn session_cookie(&self, value: &str, lifetime: Duration) -> String {
        let max_age =
            cookie::time::Duration::seconds(i64::try_from(lifetime.as_secs()).unwrap_or(i64::MAX));
        cookie::Cookie::build((self.settings.session_cookie_name(), value.to_string()))
            .path("/")
            .http_only(true)
            .same_site(cookie::SameSite::Lax)
            .secure(self.settings.secure_cookies)
            .max_age(max_age)
            .build()
            .to_string()
    }

    /// The user behind a session id, if the session is live.
    async fn session_actor(&self, secret: &str) -> Result<Option<Actor>, StoreError> {
        let idle = i64::try_from(self.settings.session_idle.as_millis()).unwrap_or(i64::MAX / 2);
        Ok(self
            .store
            .session_user(&secrets::digest(secret), now_ms(), idle)
            .await?
            .map(|member| actor_from(member.user, member.groups)))
    }

    /// The user behind a bearer token, if the token is live.
    async fn token_actor(&self, token: &str) -> Result<Option<Actor>, StoreError> {
        Ok(self
            .store
            .token_user(&secrets::digest(token), now_ms())
            .await?
            .map(|member| actor_from(member.user, member.groups)))
    }

    /// The user a trusted proxy names. Someone the store does not know yet is created
    /// as a viewer (an admin grants more); a disabled account is refused.
    async fn proxy_actor(&self, username: &str) -> Result<Option<Actor>, StoreError> {
        if !app::domain::is_safe_identifier(username) {
            return Ok(None);
        }
        let user = match self.store.user(username).await? {
            Some(user) => user,
            None => {
                let created = self
                    .store
                    .create_user(
                        NewUser {
                            username,
                            display_name: username,
                            password_hash: None,
                            roles: &[Role::Viewer],
                        },
                        now_ms(),
                    )
                    .await;
                match created {
                    Ok(()) | Err(StoreError::UserExists(_)) => {}
                    Err(other) => return Err(other),
                }
                self.audit(
                    None,
                    "user_created",
                    Some(username),
                    Some("on first sign-in through the proxy".into()),
                )
                .await;
                match self.store.user(username).await? {
                    Some(user) => user,
                    None => return Ok(None),
                }
            }
        };
        if user.disabled != 0 {
            return Ok(None);
        }
        Ok(Some(self.actor_of(user).await?))
    }

    /// Records an account event; a failure to record is logged, never shown.
    pub async fn audit(
        &self,
        run: Option<i64>,
        kind: &str,
        actor: Option<&str>,
        detail: Option<String>,
    ) {
        let event = AccountEvent {
            run,
            kind,
            actor,
            detail,
        };
        if let Err(error) = self.store.record_event(event, now_ms()).await {
            tracing::warn!(%error, kind, "could not record an audit event");
        }
    }
}

/// A password that could not be checked or hashed now: 503, try again.
pub fn busy(error: hashing::HashingError) -> ApiError {
    ApiError::Unavailable {
        message: error.to_string(),
    }
}

/// ` from <address>` for an audit detail, or nothing.
pub fn from(address: Option<IpAddr>) -> String {
    address.map(|a| format!(" from {a}")).unwrap_or_default()
}

/// An account as the rules see it. Unknown role names (from a newer version) are
/// dropped rather than granted.
pub fn actor_from(user: UserRecord, groups: Vec<String>) -> Actor {
    let roles = user
        .roles
        .split(',')
        .filter_map(|name| Role::parse(name.trim()))
        .collect();
    Actor {
        username: user.username,
        display_name: user.display_name,
        roles,
        groups,
    }
}
