-- Webhook notifications (issue 13): an outbox. A row is written in the same transaction
-- as the change it tells of (a gate waiting, decided or timed out, a run finished), one
-- per endpoint, so a notification is never lost to a crash and, being unique per event
-- and endpoint, never queued twice. The delivery loop claims due rows for a while
-- (`claimed_until`), posts them and records the outcome; a failure is retried later
-- (`next_attempt_at`, growing) until it succeeds or gives up.
create table notifications (
    id bigserial primary key,
    event_id text not null,
    endpoint text not null,
    run_id bigint not null,
    kind text not null,
    body text not null,
    created_at bigint not null,
    attempts bigint not null default 0,
    next_attempt_at bigint not null,
    claimed_until bigint,
    delivered_at bigint,
    gave_up_at bigint,
    last_error text,
    unique (event_id, endpoint)
);
-- what the delivery loop asks every half second: the due rows not yet settled
create index notifications_due on notifications (next_attempt_at)
    where delivered_at is null and gave_up_at is null;
