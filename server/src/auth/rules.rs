//! What makes a username, a group, a display name or a token acceptable: one set of
//! checks and messages for the API and the `tollgate user|token` commands.

use app::domain::is_safe_identifier;

/// The longest display name or token name kept.
pub const MAX_NAME_CHARS: usize = 100;
/// The longest username (as `is_safe_identifier` allows).
pub const MAX_USERNAME_CHARS: usize = 64;
/// The longest a token may live.
pub const MAX_TOKEN_DAYS: u32 = 3650;

const DAY_MS: i64 = 86_400_000;

pub fn check_username(username: &str) -> Result<(), String> {
    if is_safe_identifier(username) {
        Ok(())
    } else {
        Err(format!(
            "username `{username}` is not valid: use 1 to 64 letters, digits, `_` or `-`"
        ))
    }
}

pub fn check_groups(groups: &[String]) -> Result<(), String> {
    match groups.iter().find(|g| !is_safe_identifier(g)) {
        Some(bad) => Err(format!(
            "group `{bad}` is not valid: use 1 to 64 letters, digits, `_` or `-`"
        )),
        None => Ok(()),
    }
}

pub fn check_display_name(name: &str) -> Result<(), String> {
    if name.trim().is_empty() || name.chars().count() > MAX_NAME_CHARS {
        Err(format!(
            "`display_name` must be 1 to {MAX_NAME_CHARS} characters"
        ))
    } else {
        Ok(())
    }
}

/// The token's name, trimmed, and when it expires (`None`: never), checked.
pub fn token_terms(
    name: &str,
    expires_in_days: Option<u32>,
    now_ms: i64,
) -> Result<(String, Option<i64>), String> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > MAX_NAME_CHARS {
        return Err(format!(
            "give the token a `name` of 1 to {MAX_NAME_CHARS} characters, e.g. `ci`, so you know what to revoke later"
        ));
    }
    if expires_in_days.is_some_and(|days| days == 0 || days > MAX_TOKEN_DAYS) {
        return Err(format!(
            "`expires_in_days` must be 1 to {MAX_TOKEN_DAYS}; leave it out for a token that does not expire"
        ));
    }
    let expires_at = expires_in_days.map(|days| now_ms + i64::from(days) * DAY_MS);
    Ok((name.to_string(), expires_at))
}
