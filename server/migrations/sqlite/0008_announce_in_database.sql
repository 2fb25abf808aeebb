-- The server that last changed a run (Postgres announces it to the other replicas from
-- a trigger; SQLite has one server and keeps the column so the SQL is the same).
alter table runs add column changed_by text;
