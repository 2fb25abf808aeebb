-- Which server runs each job, and whether that server is alive: every server records
-- itself in `replicas` and refreshes `heartbeat_at`; a RUNNING job whose owner stopped
-- refreshing for longer than the lease is failed by another server.
alter table jobs add column owner text;

create table replicas (
    id text primary key,
    started_at bigint not null,
    heartbeat_at bigint not null
);
