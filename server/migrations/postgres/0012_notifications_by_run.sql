-- Retention deletes a run's notifications with the run (store/retention.rs): by run,
-- not by a scan of the whole outbox.
create index notifications_by_run on notifications (run_id);
