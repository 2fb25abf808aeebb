//! Delivering the webhook outbox (`store/notifications.rs`): every half second the
//! loop claims the notifications that are due, POSTs each to its endpoint and records
//! the outcome. A failure (no answer in 10 s, or not 2xx) is tried again after 1 s,
//! 2 s, 4 s ... up to 10 minutes apart, 12 attempts in all; then it is given up and
//! stays visible to admins with its last error. The claim is a 1-minute lease on the row, so
//! replicas share the work and a server that dies mid-delivery leaves the row to the
//! next one (which may send it again: receivers dedupe on `X-Tollgate-Delivery`).
//! Link-local endpoints are refused unless allowed ([`link_local`]).

mod link_local;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use hmac::{Hmac, Mac};
use serde_json::Value;
use sha2::Sha256;

use crate::clock::now_ms;
use crate::request_error::describe;
use crate::store::{Delivery, Store};

pub use link_local::{check as check_link_local, literal_link_local};

/// How many notifications one pass claims: few enough that a batch to one endpoint
/// that never answers (each attempt at most `TIMEOUT`, one after the other) ends
/// within the lease, so no replica takes one that is still being tried.
const BATCH: i64 = 5;
/// How long a claimed notification is this loop's before another may take it; also how
/// long one claimed by a server that died waits before it is tried again.
const LEASE_MS: i64 = 60_000;
/// Attempts before a notification is given up.
pub const MAX_ATTEMPTS: i64 = 12;
const LONGEST_WAIT_MS: i64 = 10 * 60 * 1000;
const TIMEOUT: Duration = Duration::from_secs(10);
const PERIOD: Duration = Duration::from_millis(500);

/// The delivery loop's settings.
#[derive(Clone)]
pub struct Webhooks {
    store: Store,
    client: reqwest::Client,
    secret: Option<Vec<u8>>,
    /// The server's address people use, for the deep links (`https://tollgate.example.com`).
    public_url: String,
    /// `--notify-allow-link-local`.
    allow_link_local: bool,
}

impl Webhooks {
    pub fn new(
        store: Store,
        secret: Option<&str>,
        public_url: String,
        allow_link_local: bool,
    ) -> Result<Webhooks, String> {
        let mut client = reqwest::Client::builder()
            .timeout(TIMEOUT)
            .redirect(reqwest::redirect::Policy::none());
        if !allow_link_local {
            client = client.dns_resolver(Arc::new(link_local::NoLinkLocal));
        }
        let client = client
            .build()
            .map_err(|err| format!("cannot make the webhook client: {err}"))?;
        Ok(Webhooks {
            store,
            client,
            secret: secret.map(|s| s.as_bytes().to_vec()),
            public_url: public_url.trim_end_matches('/').to_string(),
            allow_link_local,
        })
    }

    /// Runs the loop for as long as the server does.
    pub fn spawn(self) {
        tokio::spawn(async move {
            // Said once per outage, not every half second.
            let mut failing = false;
            loop {
                match self.deliver_due().await {
                    // A full batch: more may be due, go on at once.
                    Ok(claimed) if claimed == BATCH as usize => continue,
                    Ok(_) if failing => {
                        tracing::info!("the webhook outbox answers again");
                        failing = false;
                    }
                    Ok(_) => {}
                    Err(error) if !failing => {
                        tracing::warn!(%error, "cannot read the webhook outbox; trying again every half second");
                        failing = true;
                    }
                    Err(_) => {}
                }
                tokio::time::sleep(PERIOD).await;
            }
        });
    }

    /// Claims what is due and delivers it: each endpoint's notifications one after the
    /// other, oldest first (a gate's timeout before the run's end), the endpoints at
    /// once. Returns how many it claimed.
    async fn deliver_due(&self) -> Result<usize, crate::store::StoreError> {
        let due = self
            .store
            .claim_notifications(now_ms(), LEASE_MS, BATCH)
            .await?;
        let claimed = due.len();
        let mut by_endpoint: BTreeMap<String, Vec<Delivery>> = BTreeMap::new();
        for delivery in due {
            by_endpoint
                .entry(delivery.endpoint.clone())
                .or_default()
                .push(delivery);
        }
        let endpoints = by_endpoint.into_values().map(|queue| async move {
            for delivery in queue {
                self.deliver(delivery).await;
            }
        });
        futures_util::future::join_all(endpoints).await;
        Ok(claimed)
    }

    async fn deliver(&self, delivery: Delivery) {
        let body = self.body(&delivery);
        let mut request = self
            .client
            .post(&delivery.endpoint)
            .header("content-type", "application/json")
            .header("user-agent", "Tollgate")
            .header("x-tollgate-event", &delivery.kind)
            .header("x-tollgate-delivery", &delivery.event_id);
        if let Some(secret) = &self.secret {
            request = request.header("x-tollgate-signature", signature(secret, body.as_bytes()));
        }
        // Saved before the rule, or named in a notification written then.
        let refused = literal_link_local(&delivery.endpoint)
            .filter(|_| !self.allow_link_local)
            .map(|address| {
                format!(
                    "{address} is a link-local address where clouds serve instance metadata: \
                     refused (start the server with --notify-allow-link-local to allow)"
                )
            });
        let outcome = match refused {
            Some(reason) => Err(reason),
            None => match request.body(body).send().await {
                Ok(answer) if answer.status().is_success() => Ok(()),
                Ok(answer) => Err(format!("the endpoint answered {}", answer.status())),
                Err(error) => Err(describe(&error)),
            },
        };
        let now = now_ms();
        let recorded = match outcome {
            Ok(()) => self.store.notification_delivered(delivery.id, now).await,
            Err(error) => {
                let retry_at = next_attempt(delivery.attempts).map(|wait| now + wait);
                if retry_at.is_none() {
                    tracing::warn!(
                        endpoint = %delivery.endpoint, event = %delivery.event_id, %error,
                        "a webhook notification is given up after {MAX_ATTEMPTS} attempts"
                    );
                }
                self.store
                    .notification_failed(delivery.id, now, retry_at, &error)
                    .await
            }
        };
        if let Err(error) = recorded {
            // The lease runs out and the notification is tried again.
            tracing::warn!(%error, event = %delivery.event_id, "cannot record a webhook delivery");
        }
    }

    /// The stored body with the deep link: `url`, and the link at the end of `text`.
    fn body(&self, delivery: &Delivery) -> String {
        let Ok(mut body) = serde_json::from_str::<Value>(&delivery.body) else {
            return delivery.body.clone();
        };
        let url = format!(
            "{}{}",
            self.public_url,
            body["path"].as_str().unwrap_or_default()
        );
        let text = format!("{} {url}", body["text"].as_str().unwrap_or_default());
        if let Some(fields) = body.as_object_mut() {
            fields.insert("text".into(), Value::String(text));
            fields.insert("url".into(), Value::String(url));
        }
        body.to_string()
    }
}

/// How long to wait before the next attempt, after `attempts` failed ones; `None`
/// when that was the last.
pub fn next_attempt(attempts: i64) -> Option<i64> {
    if attempts >= MAX_ATTEMPTS {
        return None;
    }
    let doubling = u32::try_from(attempts.saturating_sub(1).clamp(0, 20)).unwrap_or(20);
    Some((1000i64 << doubling).min(LONGEST_WAIT_MS))
}

/// `sha256=<hex>` of the HMAC-SHA256 of `body` under `secret`.
pub fn signature(secret: &[u8], body: &[u8]) -> String {
    let mut mac = <Hmac<Sha256>>::new_from_slice(secret).expect("HMAC takes a key of any length");
    mac.update(body);
    let digest = mac.finalize().into_bytes();
    let hex: String = digest.iter().map(|byte| format!("{byte:02x}")).collect();
    format!("sha256={hex}")
}

#[cfg(test)]
mod tests {
    use super::{MAX_ATTEMPTS, next_attempt, signature};

    #[test]
    fn attempts_wait_longer_each_time_then_stop() {
        let waits: Vec<Option<i64>> = (1..=MAX_ATTEMPTS).map(next_attempt).collect();
        assert_eq!(waits[0], Some(1000));
        assert_eq!(waits[1], Some(2000));
        assert_eq!(waits[2], Some(4000));
        assert_eq!(waits[10], Some(600_000), "at most 10 minutes apart");
        assert_eq!(waits[11], None, "the twelfth failure is the last");
    }

    #[test]
    fn the_signature_is_hmac_sha256_in_hex() {
        // RFC 4231, test case 2.
        assert_eq!(
            signature(b"Jefe", b"what do ya want for nothing?"),
            "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }
}
