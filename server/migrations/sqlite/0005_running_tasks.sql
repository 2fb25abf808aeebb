-- The lease check (`abandoned_jobs`) runs every few seconds on every replica and looks
-- only at RUNNING tasks: a partial index keeps its cost to the jobs running now instead
-- of every job ever run.
create index jobs_running_tasks on jobs (owner) where kind = 'task' and status = 'RUNNING';
