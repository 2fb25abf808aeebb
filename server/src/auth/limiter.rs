//! Slows down password guessing: after too many failed attempts at one username from
//! one address, or from one address at any names, within a window, further attempts
//! are refused until it passes.
//!
//! A username is never locked as such: a stranger's wrong guesses from elsewhere must
//! not lock its owner out. A guesser with many addresses gets [`PER_USERNAME`] tries
//! from each, still far too few against a password of the required length.
//!
//! Kept in memory: each replica counts on its own, which bounds a guesser to
//! `replicas x limit` tries per window.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;

/// The window failures are counted in.
pub const WINDOW_MS: i64 = 15 * 60 * 1000;
/// Failed attempts allowed per username and address per window.
pub const PER_USERNAME: u32 = 5;
/// Failed attempts allowed per address per window (several people may share one).
pub const PER_ADDRESS: u32 = 20;

#[derive(Debug, Default)]
pub struct LoginLimiter {
    failures: Mutex<HashMap<Key, Window>>,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
enum Key {
    /// A username (lowercase: names are not case tricks) tried from one address.
    UserAt(String, Option<IpAddr>),
    Address(IpAddr),
}

impl Key {
    fn user_at(username: &str, address: Option<IpAddr>) -> Key {
        Key::UserAt(username.to_lowercase(), address)
    }
}

#[derive(Clone, Copy, Debug)]
struct Window {
    started_ms: i64,
    count: u32,
}

impl LoginLimiter {
    /// Starts a sign-in: `Err(seconds to wait)` when it must be refused without looking
    /// at the password, else counts it as failed until [`LoginLimiter::succeeded`] says
    /// otherwise. Checking and counting happen at once, so simultaneous guesses cannot
    /// all pass the check before the first of them is counted.
    pub fn begin(&self, username: &str, address: Option<IpAddr>, now_ms: i64) -> Result<(), u64> {
        let mut failures = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        blocked(&failures, username, address, now_ms)?;
        count(&mut failures, username, address, now_ms);
        Ok(())
    }

    /// `Err(seconds to wait)` when this sign-in must be refused without looking at the
    /// password.
    pub fn check(&self, username: &str, address: Option<IpAddr>, now_ms: i64) -> Result<(), u64> {
        let failures = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        blocked(&failures, username, address, now_ms)
    }

    /// Counts a failed sign-in.
    pub fn failed(&self, username: &str, address: Option<IpAddr>, now_ms: i64) {
        let mut failures = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        count(&mut failures, username, address, now_ms);
    }

    /// A sign-in begun with [`LoginLimiter::begin`] succeeded: the username's failures
    /// are cleared, and the address's count loses this attempt (its other failures stay).
    pub fn succeeded(&self, username: &str, address: Option<IpAddr>) {
        let mut failures = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        failures.remove(&Key::user_at(username, address));
        if let Some(window) = address.and_then(|a| failures.get_mut(&Key::Address(a))) {
            window.count = window.count.saturating_sub(1);
        }
    }
}

/// `Err(seconds to wait)` when the username or the address is locked.
fn blocked(
    failures: &HashMap<Key, Window>,
    username: &str,
    address: Option<IpAddr>,
    now_ms: i64,
) -> Result<(), u64> {
    let blocked = |key: &Key, limit: u32| {
        failures
            .get(key)
            .filter(|w| now_ms - w.started_ms < WINDOW_MS && w.count >= limit)
            .map(|w| u64::try_from((w.started_ms + WINDOW_MS - now_ms) / 1000 + 1).unwrap_or(1))
    };
    let user = blocked(&Key::user_at(username, address), PER_USERNAME);
    let address = address.and_then(|a| blocked(&Key::Address(a), PER_ADDRESS));
    match user.max(address) {
        Some(wait) => Err(wait),
        None => Ok(()),
    }
}

/// Counts one failure for the username and the address.
fn count(
    failures: &mut HashMap<Key, Window>,
    username: &str,
    address: Option<IpAddr>,
    now_ms: i64,
) {
    // Forget old windows so the map cannot grow without bound.
    failures.retain(|_, w| now_ms - w.started_ms < WINDOW_MS);
    let mut count = |key: Key| {
        let window = failures.entry(key).or_insert(Window {
            started_ms: now_ms,
            count: 0,
        });
        window.count += 1;
    };
    count(Key::user_at(username, address));
    if let Some(address) = address {
        count(Key::Address(address));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T0: i64 = 1_000_000;

    #[test]
    fn a_username_is_locked_from_one_address_after_five_failures_until_the_window_passes() {
        let limiter = LoginLimiter::default();
        let here: Option<IpAddr> = "10.0.0.1".parse().ok();
        for _ in 0..PER_USERNAME {
            assert_eq!(limiter.check("ana", here, T0), Ok(()));
            limiter.failed("ana", here, T0);
        }
        assert_eq!(limiter.check("ana", here, T0 + 1000), Err(900));
        assert_eq!(
            limiter.check("ANA", here, T0),
            Err(901),
            "names are not case tricks"
        );
        assert_eq!(
            limiter.check("ana", "10.9.9.9".parse().ok(), T0),
            Ok(()),
            "the owner still signs in from elsewhere"
        );
        assert_eq!(
            limiter.check("bob", here, T0),
            Ok(()),
            "others still sign in"
        );
        assert_eq!(limiter.check("ana", here, T0 + WINDOW_MS), Ok(()));
    }

    #[test]
    fn an_address_is_locked_after_twenty_failures_across_names() {
        let limiter = LoginLimiter::default();
        let here: Option<IpAddr> = "10.0.0.2".parse().ok();
        for n in 0..PER_ADDRESS {
            limiter.failed(&format!("user{n}"), here, T0);
        }
        assert!(limiter.check("new-name", here, T0).is_err());
        assert_eq!(
            limiter.check("new-name", "10.0.0.3".parse().ok(), T0),
            Ok(())
        );
    }

    #[test]
    fn success_clears_the_username() {
        let limiter = LoginLimiter::default();
        for _ in 0..PER_USERNAME {
            limiter.failed("ana", None, T0);
        }
        limiter.succeeded("ana", None);
        assert_eq!(limiter.check("ana", None, T0), Ok(()));
    }

    #[test]
    fn attempts_in_flight_count_until_they_succeed() {
        let limiter = LoginLimiter::default();
        let here: Option<IpAddr> = "10.0.0.4".parse().ok();
        // Simultaneous guesses: none has failed yet, but each is counted as it begins.
        for _ in 0..PER_USERNAME {
            assert_eq!(limiter.begin("ana", here, T0), Ok(()));
        }
        assert_eq!(limiter.begin("ana", here, T0), Err(901));
        limiter.succeeded("ana", here);
        assert_eq!(limiter.begin("ana", here, T0), Ok(()));
        // The address holds the five attempts; a success takes back only its own.
        for n in PER_USERNAME..PER_ADDRESS {
            assert_eq!(limiter.begin(&format!("user{n}"), here, T0), Ok(()));
        }
        assert!(
            limiter.begin("bob", here, T0).is_err(),
            "the address is full"
        );
        limiter.succeeded("user5", here);
        assert_eq!(limiter.begin("bob", here, T0), Ok(()));
        assert!(limiter.begin("carol", here, T0).is_err(), "full again");
    }
}
