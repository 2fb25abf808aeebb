//! Secrets: random session ids and API tokens, their stored digests, and passwords.
//!
//! Session ids and tokens are 256 random bits, so a plain SHA-256 digest is enough to
//! store them (nobody can guess one to test against the digest). Passwords are chosen by
//! people, so they get argon2id with a random salt, the crate's default cost.

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use sha2::{Digest, Sha256};

/// The prefix of every API token, so a leaked one is recognisable (secret scanners).
pub const TOKEN_PREFIX: &str = "tg_";

/// The shortest password accepted.
pub const MIN_PASSWORD_CHARS: usize = 8;
/// The longest: argon2 takes any length, but a megabyte "password" is only a way to
/// make the server work.
pub const MAX_PASSWORD_BYTES: usize = 1024;

/// 32 random bytes as 64 hex digits.
pub fn random_hex() -> String {
    let bytes: [u8; 32] = rand::random();
    hex(&bytes)
}

/// A new API token: `tg_` and 64 hex digits.
pub fn new_token() -> String {
    format!("{TOKEN_PREFIX}{}", random_hex())
}

/// A password for the first admin: 24 characters from an alphabet without look-alikes.
pub fn new_password() -> String {
    const ALPHABET: &[u8] = b"abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    (0..24)
        .map(|_| ALPHABET[rand::random_range(0..ALPHABET.len())] as char)
        .collect()
}

/// What is stored for a session id or a token.
pub fn digest(secret: &str) -> String {
    hex(&Sha256::digest(secret.as_bytes()))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Whether a password may be set, and if not, what to change.
pub fn check_password(password: &str) -> Result<(), String> {
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(format!(
            "the password is too short: use at least {MIN_PASSWORD_CHARS} characters"
        ));
    }
    if password.len() > MAX_PASSWORD_BYTES {
        return Err(format!(
            "the password is too long: use at most {MAX_PASSWORD_BYTES} bytes"
        ));
    }
    Ok(())
}

/// An argon2id PHC string for `password` (slow on purpose: call it off the async
/// threads).
pub fn hash_password(password: &str) -> Result<String, String> {
    let random: [u8; 16] = rand::random();
    let salt =
        SaltString::encode_b64(&random).map_err(|err| format!("cannot make a salt: {err}"))?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(|err| format!("cannot hash the password: {err}"))
}

/// Whether `password` matches `stored`. With no stored hash (an unknown user, an
/// account without a password) a dummy hash is checked anyway, so the answer takes as
/// long and does not tell which names exist.
pub fn verify_password(password: &str, stored: Option<&str>) -> bool {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let dummy = DUMMY.get_or_init(|| hash_password("not a real password").unwrap_or_default());
    let (phc, real) = match stored {
        Some(phc) => (phc, true),
        None => (dummy.as_str(), false),
    };
    let matches = PasswordHash::new(phc)
        .map(|hash| {
            Argon2::default()
                .verify_password(password.as_bytes(), &hash)
                .is_ok()
        })
        .unwrap_or(false);
    matches && real
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_password_verifies_against_its_own_hash_only() {
        let hash = hash_password("correct horse").expect("hash");
        assert!(hash.starts_with("$argon2id$"), "{hash}");
        assert!(verify_password("correct horse", Some(&hash)));
        assert!(!verify_password("wrong horse", Some(&hash)));
        assert!(!verify_password("correct horse", None));
        assert!(!verify_password("correct horse", Some("not a phc string")));
    }

    #[test]
    fn tokens_are_long_random_and_digested() {
        let token = new_token();
        assert!(token.starts_with("tg_") && token.len() == 67, "{token}");
        assert_ne!(token, new_token());
        assert_eq!(digest(&token), digest(&token));
        assert_eq!(digest(&token).len(), 64);
    }

    #[test]
    fn short_and_huge_passwords_are_refused() {
        assert!(check_password("seven77").is_err());
        assert!(check_password("eight888").is_ok());
        assert!(check_password(&"x".repeat(2000)).is_err());
        assert_eq!(new_password().len(), 24);
    }
}
