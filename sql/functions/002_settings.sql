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
language plpgsql immutable strict
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
-- set_if_given: configure()'s one step, so a NULL argument leaves a setting alone
create or replace function photo_ai.set_if_given(_name text, _value jsonb)
returns void
language plpgsql volatile
set search_path to pg_catalog, pg_temp
as $func$
begin
    if _value is not null then
        perform photo_ai.set_setting(_name, _value);
    end if;
end
$func$;
comment on function photo_ai.set_if_given(text, jsonb) is
    'Stores a setting when a value is given; configure() calls it once per argument.';

-------------------------------------------------------------------------------
-- configure: change settings; a NULL argument leaves that setting as it is
create or replace function photo_ai.configure
( sidecar_url text default null
, api_key text default null
, tasks text[] default null
, max_attempts int default null
, lease_seconds int default null
, request_timeout_seconds int default null
, send_image_bytes boolean default null
, face_min_score real default null
, hnsw_ef_search int default null
, query_cache_size int default null
, search_timeout_seconds int default null
)
returns jsonb
language plpgsql volatile security definer
set search_path to pg_catalog, pg_temp
as $func$
begin
    if max_attempts < 1 or lease_seconds < 1 or request_timeout_seconds < 1
       or search_timeout_seconds < 1 or query_cache_size < 0
       or face_min_score not between 0 and 1 or hnsw_ef_search not between 1 and 1000 then
        raise exception 'photo_ai: max_attempts, lease_seconds and the timeouts must be at '
            'least 1, query_cache_size at least 0, face_min_score between 0 and 1, '
            'hnsw_ef_search between 1 and 1000';
    end if;
    perform photo_ai.set_if_given('sidecar_urls', photo_ai.parse_sidecar_urls(sidecar_url));
    -- an empty string clears the key
    perform photo_ai.set_if_given('api_key', case when api_key = '' then 'null'::jsonb
                                                  else pg_catalog.to_jsonb(api_key) end);
    if exists (select 1 from pg_catalog.unnest(tasks) t
               where not exists (select 1 from photo_ai.task r where r.name = t)) then
        raise exception 'photo_ai: unknown task in %', tasks
            using hint = 'SELECT name, description FROM photo_ai.task lists the tasks.';
    end if;
    perform photo_ai.set_if_given('tasks', pg_catalog.to_jsonb(tasks));
    perform photo_ai.set_if_given('max_attempts', pg_catalog.to_jsonb(max_attempts));
    perform photo_ai.set_if_given('lease_seconds', pg_catalog.to_jsonb(lease_seconds));
    perform photo_ai.set_if_given('request_timeout_seconds',
                                  pg_catalog.to_jsonb(request_timeout_seconds));
    perform photo_ai.set_if_given('send_image_bytes', pg_catalog.to_jsonb(send_image_bytes));
    perform photo_ai.set_if_given('face_min_score', pg_catalog.to_jsonb(face_min_score));
    perform photo_ai.set_if_given('hnsw_ef_search', pg_catalog.to_jsonb(hnsw_ef_search));
    perform photo_ai.set_if_given('query_cache_size', pg_catalog.to_jsonb(query_cache_size));
    perform photo_ai.set_if_given('search_timeout_seconds',
                                  pg_catalog.to_jsonb(search_timeout_seconds));
    if sidecar_url is not null or api_key is not null then
        -- a new address or key may be the fix: the next claim tries the sidecar again
        delete from photo_ai.problem where scope = 'sidecar';
    end if;
    return (select pg_catalog.jsonb_object_agg(s.name, s.value) from photo_ai.settings s);
end
$func$;
comment on function photo_ai.configure
    (text, text, text[], int, int, int, boolean, real, int, int, int) is
    'Changes photo_ai settings and returns them all (API key masked). A NULL argument leaves '
    'that setting unchanged; api_key => '''' clears the key; sidecar_url may list several '
    'URLs, used in rotation. The view photo_ai.settings says what each setting does.';
