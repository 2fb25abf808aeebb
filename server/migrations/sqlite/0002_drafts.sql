-- The Constructor's autosaved draft: what is on the canvas, valid or not, so it
-- survives a browser or server restart. One slot for now (there are no users yet).
create table drafts (
    slot text primary key,
    draft text not null,
    updated_at bigint not null
);
