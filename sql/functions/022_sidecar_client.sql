-------------------------------------------------------------------------------
-- sidecar_request: one HTTP exchange with the inference sidecar, from the server's Python.
-- Connections are kept alive in GD per backend; several sidecar URLs are used in turn and
-- the next is tried when one cannot be reached. Never raises for network trouble: returns
--   {"status": 200, "body": {...}, "url": "..."}                        an answer
--   {"status": 0, "kind": "unreachable" | "timeout", "error": "..."}    no answer
--   {"status": -1, "kind": "unreadable_file", "error": "..."}           (bytes mode) the file
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
language plpython3u volatile security definer
set search_path to pg_catalog, pg_temp
as $python$
    import http.client
    import json
    import socket
    import urllib.parse
    import uuid

    state = GD.setdefault("photo_ai.http", {"connections": {}, "turn": 0})
    if "setting" not in state:
        state["setting"] = plpy.prepare("select photo_ai.setting($1)::text as v", ["text"])

    def setting(name):
        return json.loads(plpy.execute(state["setting"], [name])[0]["v"])

    def multipart(fields, filename, data):
        boundary = uuid.uuid4().hex
        parts = []
        for name, value in fields.items():
            parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'
                         f'{value}\r\n'.encode())
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="image"; '
                     f'filename="{filename}"\r\nContent-Type: application/octet-stream\r\n\r\n'.encode())
        parts += [data, f'\r\n--{boundary}--\r\n'.encode()]
        return b"".join(parts), f"multipart/form-data; boundary={boundary}"

    def connection(url, timeout, fresh):
        conns = state["connections"]
        if fresh and url in conns:
            conns.pop(url).close()
        if url not in conns:
            parts = urllib.parse.urlsplit(url)
            cls = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
            conns[url] = cls(parts.hostname, parts.port, timeout=timeout)
        conns[url].timeout = timeout
        return conns[url]

    headers = {"Accept": "application/json"}
    api_key = setting("api_key")
    if api_key:
        headers["x-api-key"] = api_key
    body = None
    if _bytes is not None:
        body, headers["Content-Type"] = multipart(json.loads(_fields or "{}"), "upload", _bytes)
    elif _file is not None:
        try:
            with open(_file, "rb") as f:
                data = f.read()
        except OSError as e:
            return json.dumps({"status": -1, "kind": "unreadable_file",
                               "error": f"cannot read {_file}: {e.strerror}"})
        body, headers["Content-Type"] = multipart(json.loads(_fields or "{}"), _file.rsplit("/", 1)[-1], data)
    elif _json is not None:
        body, headers["Content-Type"] = _json.encode(), "application/json"

    urls = setting("sidecar_urls")
    state["turn"] = (state["turn"] + 1) % len(urls)
    timeout = float(_timeout_seconds or setting("request_timeout_seconds"))
    errors = []
    for url in urls[state["turn"]:] + urls[:state["turn"]]:
        # a kept-alive connection the sidecar has closed gets one retry on a new connection
        for fresh in (False, True):
            conn = connection(url, timeout, fresh)
            try:
                conn.request(_method, urllib.parse.urlsplit(url).path + _path, body=body, headers=headers)
                response = conn.getresponse()
                raw = response.read()
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError) as e:
                if not fresh:
                    continue
                errors.append(f"{url}: {e}")
            except (socket.timeout, TimeoutError):
                state["connections"].pop(url).close()
                return json.dumps({"status": 0, "kind": "timeout", "url": url,
                                   "error": f"{url} gave no answer within {timeout:g} s"})
            except (OSError, http.client.HTTPException) as e:
                state["connections"].pop(url).close()
                errors.append(f"{url}: {e}")
            else:
                try:
                    parsed = json.loads(raw)
                except ValueError:
                    parsed = {"error": {"kind": "not_json", "detail": raw[:500].decode(errors="replace")}}
                return json.dumps({"status": response.status, "body": parsed, "url": url})
            break
    return json.dumps({"status": 0, "kind": "unreachable",
                       "error": "no sidecar answered: " + "; ".join(errors)})
$python$;
comment on function photo_ai.sidecar_request(text, text, jsonb, text, jsonb, bytea, float8) is
    'One HTTP request to the inference sidecar (keep-alive, URLs in rotation, the API key '
    'sent as x-api-key). _json is sent as JSON; _file, when given, is read by the server and '
    'uploaded as multipart field "image" with _fields beside it, and so is _bytes. '
    '_timeout_seconds overrides request_timeout_seconds. Network trouble is returned, not '
    'raised.';
