"""What a careless folder or a stranger can do to the sidecar, refused: FIFOs in a library
root, bodies sent before the key is checked, chunked uploads past the size limit, the API
docs and /health's paths open to the network, short keys."""

import os
import select
import socket
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from PIL import Image

from inference_sidecar.settings import Settings
from tests.sidecar import served_app
from tests.sidecar.served_app import served
from tests.support import pictures
from tests.support.sidecars import MAX_FILE_BYTES, run_sidecar_to_exit, start_sidecar

# A hang guard, not a timing: the answers here take well under a second.
PATIENCE_S = 30
CHUNK = b"\xff" * 65536
KEY = "hardening-key-0123456789"


# --- FIFOs ----------------------------------------------------------------------------


@contextmanager
def fifos(folder: Path, count: int) -> Iterator[list[Path]]:
    paths = [folder / f"fifo_{i}.jpg" for i in range(count)]
    for path in paths:
        os.mkfifo(path)
    try:
        yield paths
    finally:
        for path in paths:
            _release_readers(path)
            path.unlink()


def _release_readers(fifo: Path) -> None:
    """A reader blocked on the FIFO sees end of file once a writer opens and closes it."""
    try:
        os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
    except OSError:  # no reader waiting
        pass


def test_fifos_in_a_root_are_refused_and_photos_still_read(sidecar):
    def analyze(path: Path):
        with sidecar.client() as own:
            own.timeout = PATIENCE_S
            return own.post("/v1/analyze", json={"path": str(path), "tasks": ["ocr"]})

    # More FIFOs than decode threads: blocking on one each, they would take all of them.
    with fifos(sidecar.library, 6) as paths, ThreadPoolExecutor(len(paths)) as pool:
        answers = list(pool.map(analyze, paths))
        for answer in answers:
            assert answer.status_code == 404, answer.text
            assert "not a regular file" in answer.json()["error"]["detail"]
        photo = analyze(sidecar.library / "invoice.png")
    assert photo.status_code == 200, photo.text
    assert "Invoice" in photo.json()["results"]["ocr"]["text"]


# --- the key before the body, and the size limit while it streams ------------------------


def _open_chunked_upload(sidecar, path: str, key: str) -> socket.socket:
    """A multipart upload to `path` whose body is sent in chunks, its end not yet sent."""
    url = urlsplit(sidecar.url)
    connection = socket.create_connection((url.hostname, url.port), timeout=PATIENCE_S)
    field = "file" if path == "/ocr" else "image"
    head = (
        f"POST {path} HTTP/1.1\r\nHost: {url.netloc}\r\napi-key: {key}\r\n"
        "Content-Type: multipart/form-data; boundary=b\r\nTransfer-Encoding: chunked\r\n\r\n"
    )
    part = f'--b\r\nContent-Disposition: form-data; name="{field}"; filename="a.jpg"\r\n\r\n'
    connection.sendall(head.encode())
    _send_chunk(connection, part.encode())
    return connection


def _send_chunk(connection: socket.socket, data: bytes) -> bool:
    """False when the server has closed the connection (it answered and read no more)."""
    try:
        connection.sendall(b"%x\r\n%s\r\n" % (len(data), data))
    except (BrokenPipeError, ConnectionResetError):
        return False
    return True


def _answer(connection: socket.socket) -> bytes:
    """Everything the server sends until it closes the connection."""
    received = b""
    try:
        while chunk := connection.recv(65536):
            received += chunk
    except ConnectionResetError:
        pass
    return received


@pytest.mark.parametrize("path", ["/ocr", "/predict", "/v1/analyze"])
def test_an_upload_with_a_wrong_key_is_refused_before_its_body_ends(sidecar, path):
    with _open_chunked_upload(sidecar, path, "a-wrong-key-of-some-length") as connection:
        answer = _answer(connection)  # the body is still open: only an early answer arrives
    assert answer.startswith(b"HTTP/1.1 401 "), answer[:200]
    assert b"Invalid API key" in answer


def test_a_chunked_upload_is_cut_off_at_the_size_limit(sidecar):
    sent, limit = 0, 10 * MAX_FILE_BYTES
    with _open_chunked_upload(sidecar, "/v1/analyze", sidecar.key) as connection:
        # Sent until the answer comes (or the server stops reading), never to the end.
        while sent < limit and not select.select([connection], [], [], 0)[0]:
            if not _send_chunk(connection, CHUNK):
                break
            sent += len(CHUNK)
        answer = _answer(connection)
    assert answer.startswith(b"HTTP/1.1 413 "), answer[:200]
    assert b"file_too_large" in answer and b"PHOTO_AI_MAX_FILE_BYTES" in answer
    assert sent < limit


def test_a_chunked_upload_under_the_limit_is_read(client):
    noise = Image.frombytes("RGB", (760, 760), os.urandom(760 * 760 * 3))
    image = pictures.encode(noise, "PNG")
    assert MAX_FILE_BYTES * 0.8 < len(image) < MAX_FILE_BYTES
    body = (
        b'--b\r\nContent-Disposition: form-data; name="image"; filename="a.png"\r\n\r\n'
        + image
        + b'\r\n--b\r\nContent-Disposition: form-data; name="tasks"\r\n\r\nclip\r\n--b--\r\n'
    )
    chunks = (body[i : i + len(CHUNK)] for i in range(0, len(body), len(CHUNK)))
    response = client.post(
        "/v1/analyze", content=chunks, headers={"content-type": "multipart/form-data; boundary=b"}
    )
    assert response.status_code == 200, response.text
    assert response.json()["image"] == {"width": 760, "height": 760}


# --- docs, /health and keys ---------------------------------------------------------------


def test_docs_are_open_on_loopback(sidecar):
    with sidecar.client(key=None) as anonymous:
        for path in ("/docs", "/redoc", "/openapi.json"):
            assert anonymous.get(path).status_code == 200, path


def test_docs_can_be_turned_off(tmp_path):
    running = start_sidecar(tmp_path, KEY, model_dir=str(tmp_path), api_docs="false")
    try:
        with running.client() as own:
            for path in ("/docs", "/redoc", "/openapi.json"):
                assert own.get(path).status_code == 404, path
    finally:
        running.stop()


def network_settings(tmp_path, **settings) -> Settings:
    # The rules read PHOTO_AI_HOST; the app itself is served on loopback all the same.
    return Settings(host="192.0.2.10", api_key=KEY, model_dir=tmp_path, **settings)


def test_docs_beyond_loopback_are_off_unless_asked_for_and_then_need_the_key(tmp_path):
    with served(network_settings(tmp_path)) as url, served_app.client(url, KEY) as own:
        assert own.get("/openapi.json").status_code == 404
    with served(network_settings(tmp_path, api_docs=True)) as url:
        with served_app.client(url) as anonymous, served_app.client(url, KEY) as own:
            for path in ("/docs", "/redoc", "/openapi.json"):
                assert anonymous.get(path).status_code == 401, path
                assert own.get(path).status_code == 200, path


@pytest.mark.parametrize("key", ["short-key", " " * 24])
def test_a_short_or_blank_key_stops_the_sidecar_at_start(tmp_path, key):
    result = run_sidecar_to_exit(port="1", model_dir=str(tmp_path), api_key=key)
    assert result.returncode == 2
    assert "PHOTO_AI_API_KEY must be at least 16 characters" in result.stderr
