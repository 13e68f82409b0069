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
