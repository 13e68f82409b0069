-- photo_ai @VERSION@: built from sql/ by scripts/build_extension.py; edit the sources there.
\echo Use "CREATE EXTENSION photo_ai CASCADE" to load this file. \quit

-- Everything below names its objects with their schema; nothing resolves through a
-- schema that a user could write to.
set local search_path = pg_catalog, pg_temp;

-------------------------------------------------------------------------------
-- The functions name pgvector's type and operators as public.vector and
-- OPERATOR(public.<=>) because their search_path is pinned to pg_catalog.
do $require_vector_in_public$
declare
    _schema name;
begin
    select n.nspname into _schema
    from pg_catalog.pg_extension e
    join pg_catalog.pg_namespace n on n.oid = e.extnamespace
    where e.extname = 'vector';
    if _schema is distinct from 'public' then
        raise exception 'photo_ai needs the vector extension in schema public, found it in %', _schema
            using hint = 'DROP EXTENSION vector; CREATE EXTENSION vector SCHEMA public;';
    end if;
end
$require_vector_in_public$;

