-------------------------------------------------------------------------------
-- The sidecar client. The HTTP exchange itself is Python in the server
-- (photo_ai_plpython/sidecar_http.py, a thin shim here); the settings are read in SQL and
-- passed in.

-------------------------------------------------------------------------------
-- sidecar_exchange: one request to the first sidecar (of several, in rotation) that answers
create or replace function photo_ai.sidecar_exchange
( _urls text[]
, _api_key text
, _timeout_seconds float8
, _method text
, _path text
, _json jsonb default null
, _file text default null
, _fields jsonb default null
, _bytes bytea default null
)
returns jsonb
language plpython3u volatile security definer
set search_path to pg_catalog, pg_temp
as $python$
    import sys
    package = "@PYTHON_PATH@"
    package in sys.path or sys.path.insert(0, package)
    from photo_ai_plpython import sidecar_http
    sidecars = sidecar_http.Sidecars(_urls, _api_key, _timeout_seconds)
    return sidecar_http.request(GD.setdefault("photo_ai.http", {}), sidecars, _method, _path,
                                _json, _file, _fields, _bytes)
$python$;
comment on function photo_ai.sidecar_exchange(text[], text, float8, text, text, jsonb, text, jsonb, bytea) is
    'One HTTP request to the inference sidecar (keep-alive, URLs in rotation, the API key sent '
    'as x-api-key): _json as JSON, or _file (read by the server) or _bytes uploaded as '
    'multipart field "image" with _fields. Returns {status, body, url}, or status 0 with kind '
    'unreachable or timeout, or status -1 for a file the server cannot read; never raises for '
    'network trouble.';

-------------------------------------------------------------------------------
-- sidecar_request: sidecar_exchange with the configured URLs, key and timeout
create or replace function photo_ai.sidecar_request
( _method text
, _path text
, _json jsonb default null
, _file text default null
, _fields jsonb default null
, _bytes bytea default null
, _timeout_seconds float8 default null
)
returns jsonb
language sql volatile security definer
set search_path to pg_catalog, pg_temp
as $func$
    select photo_ai.sidecar_exchange(
        array(select pg_catalog.jsonb_array_elements_text(photo_ai.setting('sidecar_urls'))),
        photo_ai.setting('api_key') #>> '{}',
        coalesce(_timeout_seconds, photo_ai.setting('request_timeout_seconds')::text::float8),
        _method, _path, _json, _file, _fields, _bytes)
$func$;
comment on function photo_ai.sidecar_request(text, text, jsonb, text, jsonb, bytea, float8) is
    'One HTTP request to the inference sidecar with the configured sidecar_urls, api_key and '
    'request_timeout_seconds (_timeout_seconds overrides it); see photo_ai.sidecar_exchange.';

-------------------------------------------------------------------------------
-- analyze_request: ask the sidecar for some tasks on one image, by path or by bytes
create or replace function photo_ai.analyze_request(_path text, _tasks text[])
returns jsonb
language plpgsql volatile security definer
set search_path to pg_catalog, pg_temp
as $func$
declare
    _options jsonb := pg_catalog.jsonb_build_object('faces',
        pg_catalog.jsonb_build_object('min_score', photo_ai.setting('face_min_score')));
begin
    if photo_ai.setting('send_image_bytes')::text::boolean then
        return photo_ai.sidecar_request('POST', '/v1/analyze', _file => _path,
            _fields => pg_catalog.jsonb_build_object(
                'tasks', pg_catalog.array_to_string(_tasks, ','), 'options', _options::text));
    end if;
    return photo_ai.sidecar_request('POST', '/v1/analyze',
        pg_catalog.jsonb_build_object('path', _path, 'tasks', _tasks, 'options', _options));
end
$func$;
comment on function photo_ai.analyze_request(text, text[]) is
    'Asks the sidecar to analyse one image for the given image tasks, sending its path (or, '
    'with send_image_bytes, its bytes).';
