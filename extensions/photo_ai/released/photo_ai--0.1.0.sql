-- photo_ai 0.1.0: built from sql/ by scripts/build_extension.py; edit the sources there.
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


-------------------------------------------------------------------------------
-- A fresh install creates the schema, so that it belongs to the extension and no
-- object in it can predate us. Upgrade scripts leave this out.
create schema photo_ai;

-------------------------------------------------------------------------------
-- The migration ledger: every file under sql/tables/ runs once and is recorded here.
create table if not exists photo_ai.migration
( name text not null primary key
, sha256 text not null
, applied_at timestamptz not null default pg_catalog.clock_timestamp()
);

-------------------------------------------------------------------------------
-- migration tables/001_roles.sql
do $migration$
declare
    _done text;
begin
    select sha256 into _done from photo_ai.migration where name = 'tables/001_roles.sql';
    if found then
        if _done is distinct from '1e10d893cefd9cb7fb00982a946fcb0171c0ed2da1c2c7e403e6c5c588bbe771' then
            raise warning 'photo_ai: migration tables/001_roles.sql changed after it was applied; not re-run';
        end if;
        return;
    end if;
    execute $migration_body$-- Roles are cluster-wide, so they may exist already (another database, an earlier install).
do $roles$
begin
    if not exists (select 1 from pg_catalog.pg_roles where rolname = 'photo_ai_reader') then
        create role photo_ai_reader nologin;
    end if;
    if not exists (select 1 from pg_catalog.pg_roles where rolname = 'photo_ai_admin') then
        create role photo_ai_admin nologin;
    end if;
end
$roles$;
grant photo_ai_reader to photo_ai_admin;
grant usage on schema photo_ai to photo_ai_reader;
$migration_body$;
    insert into photo_ai.migration (name, sha256) values ('tables/001_roles.sql', '1e10d893cefd9cb7fb00982a946fcb0171c0ed2da1c2c7e403e6c5c588bbe771');
end
$migration$;

-------------------------------------------------------------------------------
-- migration tables/002_settings.sql
do $migration$
declare
    _done text;
begin
    select sha256 into _done from photo_ai.migration where name = 'tables/002_settings.sql';
    if found then
        if _done is distinct from '7f3df66239013004d776f140af18bd7acf07857b260176a9648c027b170f055f' then
            raise warning 'photo_ai: migration tables/002_settings.sql changed after it was applied; not re-run';
        end if;
        return;
    end if;
    execute $migration_body$-- Defaults belong to the extension and are rewritten by upgrades; what an admin sets
-- lives apart in setting_override, which pg_dump keeps.
create table photo_ai.setting_default
( name text not null primary key
, value jsonb not null
, description text not null
);

create table photo_ai.setting_override
( name text not null primary key references photo_ai.setting_default (name) on delete cascade
, value jsonb not null
, updated_at timestamptz not null default pg_catalog.now()
);
select pg_catalog.pg_extension_config_dump('photo_ai.setting_override', '');

insert into photo_ai.setting_default (name, value, description) values
  ('sidecar_urls', '["http://127.0.0.1:3003"]', 'inference sidecar base URLs, used in rotation')
, ('api_key', 'null', 'sent to the sidecar as the x-api-key header');
$migration_body$;
    insert into photo_ai.migration (name, sha256) values ('tables/002_settings.sql', '7f3df66239013004d776f140af18bd7acf07857b260176a9648c027b170f055f');
end
$migration$;

-------------------------------------------------------------------------------
-- functions/001_version.sql
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

-------------------------------------------------------------------------------
-- functions/002_settings.sql
-------------------------------------------------------------------------------
-- settings: every setting with its effective value; api_key is never shown
create or replace view photo_ai.settings as
select d.name
     , case when d.name = 'api_key' and coalesce(o.value, d.value) <> 'null'::jsonb
            then '"********"'::jsonb
            else coalesce(o.value, d.value) end as value
     , o.name is null as is_default
     , d.description
     , o.updated_at
from photo_ai.setting_default d
left join photo_ai.setting_override o on o.name = d.name;
comment on view photo_ai.settings is
    'Effective photo_ai settings (defaults merged with what configure() set); the API key is masked.';

-------------------------------------------------------------------------------
-- setting: one effective value, for the extension's own functions
create or replace function photo_ai.setting(_name text)
returns jsonb
language sql stable security definer
set search_path to pg_catalog, pg_temp
as $func$
    select coalesce(o.value, d.value)
    from photo_ai.setting_default d
    left join photo_ai.setting_override o on o.name = d.name
    where d.name = _name
$func$;
comment on function photo_ai.setting(text) is
    'The effective value of one setting (unmasked); for photo_ai''s own functions.';

-------------------------------------------------------------------------------
-- set_setting: store one override, after checking the name exists
create or replace function photo_ai.set_setting(_name text, _value jsonb)
returns void
language plpgsql volatile
set search_path to pg_catalog, pg_temp
as $func$
begin
    if not exists (select 1 from photo_ai.setting_default where name = _name) then
        raise exception 'photo_ai: unknown setting %', _name;
    end if;
    insert into photo_ai.setting_override as o (name, value) values (_name, _value)
    on conflict (name) do update set value = excluded.value, updated_at = pg_catalog.now();
end
$func$;
comment on function photo_ai.set_setting(text, jsonb) is
    'Stores one setting override; configure() is the interface meant for people.';

-------------------------------------------------------------------------------
-- parse_sidecar_urls: 'http://a:3003, http://b:3003' -> ["http://a:3003", "http://b:3003"]
create or replace function photo_ai.parse_sidecar_urls(_urls text)
returns jsonb
language plpgsql immutable
set search_path to pg_catalog, pg_temp
as $func$
declare
    _list text[];
begin
    _list := array(
        select pg_catalog.rtrim(u, '/')
        from pg_catalog.regexp_split_to_table(pg_catalog.btrim(_urls), '[\s,]+') u
        where u <> '');
    if pg_catalog.cardinality(_list) = 0 then
        raise exception 'photo_ai: sidecar_url is empty';
    end if;
    if exists (select 1 from pg_catalog.unnest(_list) u where u !~ '^https?://[^/\s]+') then
        raise exception 'photo_ai: sidecar_url must be http(s)://host:port, got %', _urls;
    end if;
    return pg_catalog.to_jsonb(_list);
end
$func$;
comment on function photo_ai.parse_sidecar_urls(text) is
    'Splits a comma- or space-separated list of sidecar base URLs and checks each.';

-------------------------------------------------------------------------------
-- configure: change settings; a NULL argument leaves that setting as it is
create or replace function photo_ai.configure
( sidecar_url text default null
, api_key text default null
)
returns jsonb
language plpgsql volatile security definer
set search_path to pg_catalog, pg_temp
as $func$
begin
    if sidecar_url is not null then
        perform photo_ai.set_setting('sidecar_urls', photo_ai.parse_sidecar_urls(sidecar_url));
    end if;
    if api_key is not null then
        -- an empty string clears the key
        perform photo_ai.set_setting('api_key',
            coalesce(pg_catalog.to_jsonb(nullif(api_key, '')), 'null'::jsonb));
    end if;
    return (select pg_catalog.jsonb_object_agg(s.name, s.value) from photo_ai.settings s);
end
$func$;
comment on function photo_ai.configure(text, text) is
    'Changes photo_ai settings and returns them all (API key masked). A NULL argument leaves '
    'that setting unchanged; api_key => '''' clears the key. sidecar_url may list several URLs.';

-------------------------------------------------------------------------------
-- functions/010_zh_tokens.sql
-------------------------------------------------------------------------------
-- zh_tokens: Chinese word segmentation with jieba, in the server's own Python
create or replace function photo_ai.zh_tokens(_text text)
returns text[]
language plpython3u immutable strict parallel safe security definer
set search_path to pg_catalog, pg_temp
as $python$
    tokenizer = GD.get("photo_ai.jieba")
    if tokenizer is None:
        import logging
        import jieba
        jieba.setLogLevel(logging.WARNING)
        tokenizer = jieba.Tokenizer()
        tokenizer.initialize()
        GD["photo_ai.jieba"] = tokenizer
    # Search mode also yields the words inside a compound (增值税 -> 增值, 增值税).
    return [w for w in (t.strip() for t in tokenizer.cut_for_search(_text)) if w]
$python$;
comment on function photo_ai.zh_tokens(text) is
    'Splits Chinese (and mixed) text into words with jieba''s search mode: compounds and the '
    'words inside them.';

-------------------------------------------------------------------------------
-- functions/999_privileges.sql
-------------------------------------------------------------------------------
-- Privileges, in one place. Readers search; admins also configure and reprocess.
-- Functions not named here are internal: only the owner (a superuser) runs them.
revoke all on all functions in schema photo_ai from public;

grant execute on function photo_ai.version() to photo_ai_reader;
grant execute on function photo_ai.zh_tokens(text) to photo_ai_reader;

grant execute on function photo_ai.configure(text, text) to photo_ai_admin;
grant select on photo_ai.settings to photo_ai_admin;
