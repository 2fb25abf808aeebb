-- Other replicas hear of a run's change through NOTIFY. The database sends it from the
-- write itself, so a transaction that changes a run costs no extra round trip for it.
-- Each such write names its server in `changed_by` (the payload is "<run> <server>",
-- so a server skips its own news); writes that do not touch `changed_by` (a log's size)
-- announce nothing.
alter table runs add column changed_by text;

create function announce_run_change() returns trigger language plpgsql as $$
begin
    perform pg_notify('tollgate_runs', new.id::text || ' ' || coalesce(new.changed_by, ''));
    return null;
end;
$$;
create trigger runs_announce after insert or update of changed_by on runs
    for each row execute function announce_run_change();
