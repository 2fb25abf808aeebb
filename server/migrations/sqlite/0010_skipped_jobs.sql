-- no-transaction
-- SKIPPED (issue 13): a job whose branch was not taken (`when: {gate, option}` chose
-- another option, or everything before it was skipped). Final like COMPLETED, so it
-- carries a finish time; the run row counts it as it counts the other statuses.
--
-- SQLite cannot change a check constraint: `jobs` is rebuilt with the new ones and
-- copied over (SQLite's documented way). Foreign keys are off meanwhile, so dropping
-- the old table neither cascades into job_logs and gate_approvals nor is refused;
-- the new table takes its name and their references. That switch only works outside a
-- transaction, hence `no-transaction` above and the explicit one below.
pragma foreign_keys = off;
begin;
create table jobs_rebuilt (
    run_id bigint not null references runs (id) on delete cascade,
    job_id text not null,
    position bigint not null,
    kind text not null check (kind in ('task', 'gate')),
    status text not null
        check (status in ('PENDING', 'RUNNING', 'COMPLETED', 'FAILED', 'CANCELLED', 'SKIPPED')),
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
    owner text,
    approval_count bigint not null default 0,
    gate_policy text,
    version bigint not null default 0,
    gate_form text,
    decision_option text,
    decision_inputs text,
    primary key (run_id, job_id),
    check ((kind = 'gate') = (gate_message is not null)),
    check ((status in ('COMPLETED', 'FAILED', 'CANCELLED', 'SKIPPED')) = (finished_at is not null)),
    check ((decision is null) = (decided_at is null))
);
insert into jobs_rebuilt (
    run_id, job_id, position, kind, status, reason, exit_code, started_at, finished_at,
    log_bytes, gate_message, gate_timeout_secs, gate_source, activated_at, deadline_at,
    decision, decided_by, decided_at, comment, owner, approval_count, gate_policy, version,
    gate_form, decision_option, decision_inputs
)
select
    run_id, job_id, position, kind, status, reason, exit_code, started_at, finished_at,
    log_bytes, gate_message, gate_timeout_secs, gate_source, activated_at, deadline_at,
    decision, decided_by, decided_at, comment, owner, approval_count, gate_policy, version,
    gate_form, decision_option, decision_inputs
from jobs;
drop table jobs;
alter table jobs_rebuilt rename to jobs;
create index jobs_waiting_gates on jobs (deadline_at) where kind = 'gate' and status = 'RUNNING';
create index jobs_running_tasks on jobs (owner) where kind = 'task' and status = 'RUNNING';
create index jobs_by_version on jobs (run_id, version);
alter table runs add column skipped_jobs bigint not null default 0;
commit;
pragma foreign_keys = on;
