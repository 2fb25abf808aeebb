//! The webhook outbox (migration 0011). A [`Notice`] is queued in the transaction of
//! the change it tells of, one row per endpoint; the delivery loop
//! (`crate::webhooks`) claims due rows, posts them and records how it went.

use super::transitions::Tx;
use super::{Store, StoreError};

/// Something to tell the endpoints about, made from a transition
/// (`crate::engine::records`).
#[derive(Clone, Debug, PartialEq)]
pub struct Notice {
    pub run: i64,
    /// Unique per event (`7/hitl-gate-review/waiting`): with the endpoint, what makes a
    /// notification queued once however often its transition is retried.
    pub event_id: String,
    /// `gate_waiting`, `gate_decided`, `gate_timed_out` or `run_finished`.
    pub kind: &'static str,
    /// The JSON body, but for the deep link's address (the delivery adds the server's
    /// public address to it).
    pub body: serde_json::Value,
    /// The pipeline's own endpoints (`notify:`), besides the server's.
    pub endpoints: Vec<String>,
}

/// A queued notification, claimed for one delivery attempt.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct Delivery {
    pub id: i64,
    pub event_id: String,
    pub endpoint: String,
    pub kind: String,
    pub body: String,
    /// Attempts so far, this one included.
    pub attempts: i64,
}

/// A notification as the admins' view lists it.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct NotificationRecord {
    pub id: i64,
    pub event_id: String,
    pub endpoint: String,
    pub run_id: i64,
    pub kind: String,
    pub created_at: i64,
    pub attempts: i64,
    pub next_attempt_at: i64,
    pub delivered_at: Option<i64>,
    pub gave_up_at: Option<i64>,
    pub last_error: Option<String>,
}

/// Queues each notice for the server's endpoints and its pipeline's; one already queued
/// (the same event to the same endpoint) is left as it is.
pub(super) async fn queue(
    tx: &mut Tx,
    notices: &[Notice],
    server_endpoints: &[String],
    at: i64,
) -> Result<(), StoreError> {
    for notice in notices {
        let body = notice.body.to_string();
        let mut endpoints: Vec<&String> =
            server_endpoints.iter().chain(&notice.endpoints).collect();
        endpoints.sort();
        endpoints.dedup();
        for endpoint in endpoints {
            sqlx::query(
                "insert into notifications \
                     (event_id, endpoint, run_id, kind, body, created_at, next_attempt_at) \
                 values ($1, $2, $3, $4, $5, $6, $6) \
                 on conflict (event_id, endpoint) do nothing",
            )
            .bind(&notice.event_id)
            .bind(endpoint)
            .bind(notice.run)
            .bind(notice.kind)
            .bind(&body)
            .bind(at)
            .fetch_optional(&mut **tx)
            .await?;
        }
    }
    Ok(())
}

impl Store {
    /// Claims up to `limit` notifications due at `now` for `lease_ms`: no other delivery
    /// loop (of this server or another replica) takes them meanwhile, and a loop that
    /// dies with them lets them go when the lease ends. Counts the attempt.
    pub async fn claim_notifications(
        &self,
        now: i64,
        lease_ms: i64,
        limit: i64,
    ) -> Result<Vec<Delivery>, StoreError> {
        // The conditions stand in the outer `where` too: an update that waited for
        // another replica's checks them again on the row as that one left it.
        let mut claimed: Vec<Delivery> = sqlx::query_as(
            "update notifications set claimed_until = $2, attempts = attempts + 1 \
             where id in (select id from notifications \
                          where delivered_at is null and gave_up_at is null \
                            and next_attempt_at <= $1 \
                            and (claimed_until is null or claimed_until < $1) \
                          order by id limit $3) \
               and delivered_at is null and gave_up_at is null \
               and (claimed_until is null or claimed_until < $1) \
             returning id, event_id, endpoint, kind, body, attempts",
        )
        .bind(now)
        .bind(now + lease_ms)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        // `returning` keeps no order: oldest first, as they happened.
        claimed.sort_by_key(|delivery| delivery.id);
        Ok(claimed)
    }

    /// The endpoint answered 2xx.
    pub async fn notification_delivered(&self, id: i64, now: i64) -> Result<(), StoreError> {
        sqlx::query(
            "update notifications set delivered_at = $2, claimed_until = null, \
                 last_error = null where id = $1",
        )
        .bind(id)
        .bind(now)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The attempt failed with `error`: tried again at `retry_at`, or given up for good
    /// when that is `None`.
    pub async fn notification_failed(
        &self,
        id: i64,
        now: i64,
        retry_at: Option<i64>,
        error: &str,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "update notifications set claimed_until = null, last_error = $2, \
                 next_attempt_at = coalesce($3, next_attempt_at), \
                 gave_up_at = case when $3 is null then $4 else null end \
             where id = $1",
        )
        .bind(id)
        .bind(error)
        .bind(retry_at)
        .bind(now)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The newest notifications first, for the admins' view.
    pub async fn recent_notifications(
        &self,
        limit: i64,
    ) -> Result<Vec<NotificationRecord>, StoreError> {
        let records = sqlx::query_as(
            "select id, event_id, endpoint, run_id, kind, created_at, attempts, \
                 next_attempt_at, delivered_at, gave_up_at, last_error \
             from notifications order by id desc limit $1",
        )
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        Ok(records)
    }
}
