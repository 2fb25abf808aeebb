-- Retention (`--retain-days`): finished runs past the age are deleted with their jobs,
-- logs, approvals and history. The history stays append-only for everyone else: a
-- delete of an event is refused unless the deleting transaction holds a row in
-- `retention_sweeps` (see `Store::delete_finished_runs`).
create table retention_sweeps (id integer primary key);

drop trigger events_no_delete;
create trigger events_no_delete before delete on events
when not exists (select 1 from retention_sweeps)
begin
    select raise(abort, 'events are append-only');
end;

-- Finished runs by age, for the sweep.
create index runs_finished on runs (finished_at) where finished_at is not null;
