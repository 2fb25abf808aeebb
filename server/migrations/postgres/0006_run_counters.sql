-- Costs that do not grow with a run's size or with history.
--
-- Each run row counts its jobs by status (kept by `Store::apply` in the same
-- transaction as the status changes, from each compare-and-set's from -> to), so the
-- runs list, the metrics and the run's own status need no scan of its jobs. `version`
-- goes up with every change to the run's jobs (statuses and log sizes); each job row
-- keeps the version of its last change, so the run page can ask only for what changed
-- since the version it holds.
alter table runs add column version bigint not null default 0;
alter table runs add column pending_jobs bigint not null default 0;
alter table runs add column running_jobs bigint not null default 0;
alter table runs add column completed_jobs bigint not null default 0;
alter table runs add column failed_jobs bigint not null default 0;
alter table runs add column cancelled_jobs bigint not null default 0;
alter table runs add column waiting_gates bigint not null default 0;
alter table jobs add column version bigint not null default 0;

update runs set
    pending_jobs = (select count(*) from jobs j where j.run_id = runs.id and j.status = 'PENDING'),
    running_jobs = (select count(*) from jobs j where j.run_id = runs.id and j.status = 'RUNNING'),
    completed_jobs = (select count(*) from jobs j where j.run_id = runs.id and j.status = 'COMPLETED'),
    failed_jobs = (select count(*) from jobs j where j.run_id = runs.id and j.status = 'FAILED'),
    cancelled_jobs = (select count(*) from jobs j where j.run_id = runs.id and j.status = 'CANCELLED'),
    waiting_gates = (select count(*) from jobs j
        where j.run_id = runs.id and j.kind = 'gate' and j.status = 'RUNNING');

create index jobs_by_version on jobs (run_id, version);
create index runs_by_status on runs (status);
