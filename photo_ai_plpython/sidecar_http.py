"""One HTTP exchange with the inference sidecar, from inside a PostgreSQL backend.

Connections are kept alive between calls in a dict the caller keeps (plpython's GD), one
per sidecar URL; several URLs are used in turn, and the next is tried when one cannot be
reached. Network trouble is returned, never raised, because the caller decides what it
means for a job (photo_ai.job_policy):
    {"status": 200, "body": {...}, "url": "..."}                  an answer (any status)
    {"status": 0, "kind": "unreachable" | "timeout", "error": ...}  no answer
    {"status": -1, "kind": "unreadable_file", "error": ...}         bytes mode: the file
"""

from __future__ import annotations

import http.client
import json
import os
import stat
import urllib.parse
import uuid
from dataclasses import dataclass

from photo_ai_plpython.file_names import os_path

# A kept-alive connection the sidecar has closed fails like this; one fresh try is due.
_STALE_CONNECTION = (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError)
DEFAULT_MAX_FILE_BYTES = 200 * 1024 * 1024


@dataclass(frozen=True)
class Sidecars:
    """Where the sidecars are and how to talk to them: the settings, passed in from SQL."""

    urls: list[str]
    api_key: str | None
    timeout: float  # seconds to wait for one answer


@dataclass(frozen=True)
class Message:
    """One request: a method, a path under the sidecar's base URL, maybe a body."""

    method: str
    path: str
    body: bytes | None = None
    content_type: str | None = None


def exchange(state: dict, sidecars: Sidecars, message: Message) -> dict:
    """Sends one request to the first sidecar (in rotation) that answers."""
    headers = {"Accept": "application/json"}
    if sidecars.api_key:
        headers["x-api-key"] = sidecars.api_key
    if message.content_type:
        headers["Content-Type"] = message.content_type
    urls, timeout = sidecars.urls, sidecars.timeout
    state.setdefault("connections", {})
    state["turn"] = (state.get("turn", -1) + 1) % len(urls)
    errors = []
    for url in urls[state["turn"] :] + urls[: state["turn"]]:
        try:
            status, raw = _send(state["connections"], url, timeout, message, headers)
        except TimeoutError:
            return {
                "status": 0,
                "kind": "timeout",
                "url": url,
                "error": f"timed out: {url} gave no answer within {timeout:g} s",
            }
        except (OSError, http.client.HTTPException) as e:
            errors.append(f"{url}: {e}")
            continue
        return {"status": status, "body": _parsed(raw), "url": url}
    unreachable = "no sidecar answered: " + "; ".join(errors)
    return {"status": 0, "kind": "unreachable", "error": unreachable}


def _send(connections, url, timeout, message: Message, headers) -> tuple[int, bytes]:
    target = urllib.parse.urlsplit(url).path + message.path
    try:
        return _send_once(_connection(connections, url, timeout), message, target, headers)
    except _STALE_CONNECTION:
        connections.pop(url).close()  # the sidecar closed it: one try on a new connection
    except (OSError, http.client.HTTPException):
        connections.pop(url).close()
        raise
    try:
        return _send_once(_connection(connections, url, timeout), message, target, headers)
    except (OSError, http.client.HTTPException):
        connections.pop(url).close()
        raise


def _send_once(conn, message: Message, target: str, headers: dict) -> tuple[int, bytes]:
    conn.request(message.method, target, body=message.body, headers=headers)
    response = conn.getresponse()
    return response.status, response.read()


def _connection(connections: dict, url: str, timeout: float):
    if url not in connections:
        parts = urllib.parse.urlsplit(url)
        is_https = parts.scheme == "https"
        cls = http.client.HTTPSConnection if is_https else http.client.HTTPConnection
        connections[url] = cls(parts.hostname, parts.port, timeout=timeout)
    connections[url].timeout = timeout
    if connections[url].sock is not None:
        connections[url].sock.settimeout(timeout)
    return connections[url]


def _parsed(raw: bytes):
    try:
        return json.loads(raw)
    except ValueError:
        return {"error": {"kind": "not_json", "detail": raw[:500].decode(errors="replace")}}


def json_body(document: str) -> tuple[bytes, str]:
    return document.encode(), "application/json"


def multipart_body(fields: dict, filename: str, data: bytes) -> tuple[bytes, str]:
    """A multipart/form-data body: the fields, then the file as the part named "image"."""
    boundary = uuid.uuid4().hex
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
        for name, value in fields.items()
    ]
    parts.append(
        f'--{boundary}\r\nContent-Disposition: form-data; name="image"; '
        f'filename="{filename}"\r\nContent-Type: application/octet-stream\r\n\r\n'.encode()
    )
    parts += [data, f"\r\n--{boundary}--\r\n".encode()]
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


class UnreadableFile(Exception):
    pass


def read_image_file(path: str, max_bytes: int = DEFAULT_MAX_FILE_BYTES) -> bytes:
    """A regular file's bytes. Opened without blocking and checked before it is read, so a
    FIFO or a device where a photo was cannot hold the backend."""
    try:
        fd = os.open(os_path(path), os.O_RDONLY | os.O_NONBLOCK)
    except OSError as e:
        raise UnreadableFile(f"cannot read {path}: {e.strerror}") from e
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise UnreadableFile(f"cannot read {path}: not a regular file")
        if info.st_size > max_bytes:
            raise UnreadableFile(f"cannot read {path}: {info.st_size} bytes, over {max_bytes}")
        with os.fdopen(fd, "rb", closefd=False) as file:
            return file.read(max_bytes + 1)
    except OSError as e:
        raise UnreadableFile(f"cannot read {path}: {e.strerror}") from e
    finally:
        os.close(fd)


def request(
    state: dict,
    sidecars: Sidecars,
    method: str,
    path: str,
    json_document: str | None = None,
    file: str | None = None,
    fields: str | None = None,
    data: bytes | None = None,
) -> str:
    """The SQL function photo_ai.sidecar_exchange: a JSON body, or a file (read here) or
    bytes uploaded with form fields; returns the outcome as JSON text."""
    message = Message(method, path)
    if data is not None or file is not None:
        try:
            upload = data if data is not None else read_image_file(file)
        except UnreadableFile as e:
            return json.dumps({"status": -1, "kind": "unreadable_file", "error": str(e)})
        filename = "upload" if data is not None else "photo"
        body, content_type = multipart_body(json.loads(fields or "{}"), filename, upload)
        message = Message(method, path, body, content_type)
    elif json_document is not None:
        message = Message(method, path, *json_body(json_document))
    return json.dumps(exchange(state, sidecars, message))
