-- Sign-in and who may decide a gate. Passwords are argon2id hashes; sessions and API
-- tokens are stored as SHA-256 hashes of their secret, so reading this database does not
-- let anyone act as a user. An account with no password signs in only through the
-- trusted proxy.
create table users (
    username text primary key,
    display_name text not null,
    password_hash text,
    -- comma-separated: viewer, operator, approver, admin
    roles text not null default '',
    disabled bigint not null default 0 check (disabled in (0, 1)),
    created_at bigint not null,
    password_changed_at bigint not null
);

-- The groups a gate's `approvers: [group:<name>]` names.
create table user_groups (
    group_name text not null,
    username text not null references users (username) on delete cascade,
    primary key (group_name, username)
);
create index user_groups_by_user on user_groups (username);

-- A browser session: ends at `expires_at`, after the idle limit without a request, at
-- sign-out, and when the user's password changes (`created_at` before the change).
create table sessions (
    id_hash text primary key,
    username text not null references users (username) on delete cascade,
    created_at bigint not null,
    last_seen_at bigint not null,
    expires_at bigint not null
);
create index sessions_by_user on sessions (username);

-- Tokens for scripts: `Authorization: Bearer tg_...`, shown once at creation.
create table api_tokens (
    id bigserial primary key,
    username text not null references users (username) on delete cascade,
    name text not null,
    token_hash text not null unique,
    created_at bigint not null,
    expires_at bigint,
    last_used_at bigint,
    revoked_at bigint
);
create index api_tokens_by_user on api_tokens (username);

-- Each approval of a gate, one row per person: the primary key is what makes the same
-- person's approval count once however often it is sent.
create table gate_approvals (
    run_id bigint not null,
    job_id text not null,
    username text not null,
    at bigint not null,
    comment text,
    overriding bigint not null default 0 check (overriding in (0, 1)),
    primary key (run_id, job_id, username),
    foreign key (run_id, job_id) references jobs (run_id, job_id) on delete cascade
);
-- the count the next approval is compared with (see store/transitions.rs)
alter table jobs add column approval_count bigint not null default 0;
-- a gate's rules (approvers, approvals, allow_self_approval) as JSON; null: the defaults
alter table jobs add column gate_policy text;

-- Who deployed a run: the person its gates' two-person rule keeps from deciding.
alter table runs add column deployed_by text;

-- Every event names who caused it; account events (sign-in, tokens) belong to no run.
alter table events add column actor text;
alter table events alter column run_id drop not null;
create index events_without_run on events (id) where run_id is null;
create trigger events_no_delete before delete on events
    for each row execute function events_are_append_only();
