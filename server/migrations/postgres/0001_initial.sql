-- Tollgate's first schema. Times are milliseconds since the Unix epoch and every number
-- is a bigint, so the same queries serve Postgres and SQLite. Statuses are constrained to the state
-- machine's names (app/src/domain/status.rs); an applied migration is never edited.

-- Saved pipelines: the spec as JSON plus the Constructor's node positions.
create table pipelines (
    name text primary key,
    spec text not null,
    layout text not null default '{}',
    created_at bigint not null,
    updated_at bigint not null
);

-- One row per deploy; `graph` is the expanded run graph, frozen at deploy time.
create table runs (
    id bigserial primary key,
    pipeline text not null,
    status text not null check (status in ('RUNNING', 'COMPLETED', 'FAILED', 'CANCELLED')),
    graph text not null,
    created_at bigint not null,
    finished_at bigint,
    -- a finished run always says when it finished
    check ((status = 'RUNNING') = (finished_at is null))
);
create index runs_by_pipeline on runs (pipeline, id);
create index runs_running on runs (id) where status = 'RUNNING';

-- One row per job or gate of a run. Gate columns are null for tasks.
create table jobs (
    run_id bigint not null references runs (id) on delete cascade,
    job_id text not null,
    position bigint not null,
    kind text not null check (kind in ('task', 'gate')),
    status text not null check (status in ('PENDING', 'RUNNING', 'COMPLETED', 'FAILED', 'CANCELLED')),
    reason text,
    exit_code bigint,
    started_at bigint,
    finished_at bigint,
    log_bytes bigint not null default 0,
    gate_message text,
    gate_timeout_secs bigint,
    gate_source text,
    activated_at bigint,
    deadline_at bigint,
    decision text check (decision in ('approved', 'rejected', 'timed_out')),
    decided_by text,
    decided_at bigint,
    comment text,
    primary key (run_id, job_id),
    check ((kind = 'gate') = (gate_message is not null)),
    check ((status in ('COMPLETED', 'FAILED', 'CANCELLED')) = (finished_at is not null)),
    check ((decision is null) = (decided_at is null))
);
-- the scheduler's timer looks for the earliest deadline of a waiting gate
create index jobs_waiting_gates on jobs (deadline_at) where kind = 'gate' and status = 'RUNNING';

-- A job's output in appended chunks; a chunk covers bytes [start_offset, end_offset).
create table job_logs (
    run_id bigint not null,
    job_id text not null,
    start_offset bigint not null,
    end_offset bigint not null,
    data text not null,
    primary key (run_id, job_id, start_offset),
    foreign key (run_id, job_id) references jobs (run_id, job_id) on delete cascade
);

-- What happened to each run, in order. Rows are only ever inserted.
create table events (
    id bigserial primary key,
    run_id bigint not null references runs (id) on delete cascade,
    job_id text,
    kind text not null,
    from_status text,
    to_status text,
    detail text,
    at bigint not null
);
create index events_by_run on events (run_id, id);

create function events_are_append_only() returns trigger language plpgsql as $$
begin
    raise exception 'events are append-only';
end;
$$;
create trigger events_append_only before update on events
    for each row execute function events_are_append_only();
