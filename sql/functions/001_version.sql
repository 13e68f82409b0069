-------------------------------------------------------------------------------
-- version: the installed extension's version
create or replace function photo_ai.version()
returns text
language sql stable
set search_path to pg_catalog, pg_temp
as $func$
    select e.extversion::text from pg_catalog.pg_extension e where e.extname = 'photo_ai'
$func$;
comment on function photo_ai.version() is 'The installed version of the photo_ai extension.';
