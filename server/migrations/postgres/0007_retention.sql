-- Retention (`--retain-days`): finished runs past the age are deleted with their jobs,
-- logs, approvals and history. The history stays append-only for everyone else: a
-- delete of an event is refused unless the deleting transaction holds a row in
-- `retention_sweeps` (see `Store::delete_finished_runs`).
create table retention_sweeps (id bigint primary key);

create function events_no_delete_outside_retention() returns trigger language plpgsql as $$
begin
    if exists (select 1 from retention_sweeps) then
        return old;
    end if;
    raise exception 'events are append-only';
end;
$$;
drop trigger events_no_delete on events;
create trigger events_no_delete before delete on events
    for each row execute function events_no_delete_outside_retention();

-- Finished runs by age, for the sweep.
create index runs_finished on runs (finished_at) where finished_at is not null;
