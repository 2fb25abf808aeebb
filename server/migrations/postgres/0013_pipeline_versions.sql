-- Every save of a pipeline is a version (store/pipelines.rs): who saved it, when, and
-- the SHA-256 of its spec. `pipelines` keeps the newest and its number.
create table pipeline_versions (
    name text not null,
    version bigint not null,
    spec text not null,
    layout text not null default '{}',
    spec_sha256 text,
    saved_by text,
    saved_at bigint not null,
    primary key (name, version)
);
alter table pipelines add column version bigint not null default 1;
-- What was saved before versions existed is version 1, by nobody known.
insert into pipeline_versions (name, version, spec, layout, spec_sha256, saved_by, saved_at)
    select name, 1, spec, layout, null, null, updated_at from pipelines;

-- Where a run came from: the saved version deployed (null for a spec given whole) and
-- the SHA-256 of the spec it ran.
alter table runs add column pipeline_version bigint;
alter table runs add column spec_sha256 text;
