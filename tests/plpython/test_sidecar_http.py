"""The sidecar client that runs inside PostgreSQL, as plain Python against a stand-in
sidecar over real HTTP: answers, timeouts, dead addresses, rotation, keep-alive, files."""

from __future__ import annotations

import json
import os

import pytest

from photo_ai_plpython import sidecar_http
from photo_ai_plpython.file_names import storable_path
from tests.support.standin import StandinSidecar, analysis

NOWHERE = "http://127.0.0.1:9"


def request(state, urls, **kwargs) -> dict:
    kwargs.setdefault("json_document", json.dumps({"path": "/p/a.jpg", "tasks": ["ocr"]}))
    sidecars = sidecar_http.Sidecars(urls, "the-key", 2.0)
    return json.loads(sidecar_http.request(state, sidecars, "POST", "/v1/analyze", **kwargs))


def test_an_answer_comes_back_with_its_status_body_and_url():
    with StandinSidecar() as standin:
        answer = request({}, [standin.url])
    assert answer == {"status": 200, "body": analysis(["ocr"]), "url": standin.url}
    assert standin.received == [("/v1/analyze", {"path": "/p/a.jpg", "tasks": ["ocr"]})]


def test_no_answer_in_time_is_a_timeout_not_an_exception():
    with StandinSidecar(delay=3) as slow:
        answer = request({}, [slow.url])
    assert answer["status"] == 0 and answer["kind"] == "timeout"
    assert "timed out" in answer["error"] and "2 s" in answer["error"]


def test_a_dead_sidecar_is_skipped_for_a_live_one_and_both_are_used_in_turn():
    state: dict = {}
    with StandinSidecar() as live:
        answers = [request(state, [NOWHERE, live.url]) for _ in range(3)]
    assert {a["status"] for a in answers} == {200}
    assert request(state, [NOWHERE])["kind"] == "unreachable"


def test_one_connection_is_kept_alive_across_requests():
    state: dict = {}
    with StandinSidecar() as standin:
        request(state, [standin.url])
        connection = state["connections"][standin.url]
        request(state, [standin.url])
        assert state["connections"][standin.url] is connection


def test_a_non_json_answer_is_reported_not_raised():
    with StandinSidecar(answer=lambda path, body: (404, {"detail": "Not Found"})) as standin:
        answer = request({}, [standin.url])
    assert answer["status"] == 404 and answer["body"] == {"detail": "Not Found"}


def test_a_file_is_uploaded_as_the_image_field(tmp_path):
    photo = tmp_path / "photo.jpg"
    photo.write_bytes(b"jpeg bytes")
    body, content_type = sidecar_http.multipart_body({"tasks": "ocr"}, "photo.jpg", b"jpeg bytes")
    assert content_type.startswith("multipart/form-data; boundary=")
    assert b'name="image"; filename="photo.jpg"' in body and b"jpeg bytes" in body
    assert sidecar_http.read_image_file(str(photo)) == b"jpeg bytes"


def test_a_fifo_where_a_photo_was_is_refused_without_blocking(tmp_path):
    fifo = tmp_path / "photo.jpg"
    os.mkfifo(fifo)
    with pytest.raises(sidecar_http.UnreadableFile, match="not a regular file"):
        sidecar_http.read_image_file(str(fifo))
    answer = request({}, [NOWHERE], file=str(fifo), fields="{}")
    assert answer["status"] == -1 and "not a regular file" in answer["error"]


def test_a_file_whose_name_is_not_utf8_is_read_by_its_stored_name(tmp_path):
    """Bytes mode: the database's Python opens a stored path as the sidecar does."""
    gbk_name = os.path.join(os.fsencode(tmp_path), "发票.jpg".encode("gbk"))
    with open(gbk_name, "wb") as photo:
        photo.write(b"jpeg bytes")
    assert sidecar_http.read_image_file(storable_path(gbk_name)) == b"jpeg bytes"
