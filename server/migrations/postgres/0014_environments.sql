-- Environments (store/environments.rs): approval rules admins set outside any
-- pipeline. `rules` is the JSON of app::domain::environment::EnvironmentRules.
create table environments (
    name text primary key,
    rules text not null,
    updated_by text,
    updated_at bigint not null
);
