-- SKIPPED (issue 13): a job whose branch was not taken (`when: {gate, option}` chose
-- another option, or everything before it was skipped). Final like COMPLETED, so it
-- carries a finish time; the run row counts it as it counts the other statuses.
alter table jobs drop constraint jobs_status_check;
alter table jobs add constraint jobs_status_check
    check (status in ('PENDING', 'RUNNING', 'COMPLETED', 'FAILED', 'CANCELLED', 'SKIPPED'));
alter table jobs drop constraint jobs_check1;
alter table jobs add constraint jobs_finished_when_final
    check ((status in ('COMPLETED', 'FAILED', 'CANCELLED', 'SKIPPED')) = (finished_at is not null));
alter table runs add column skipped_jobs bigint not null default 0;
