"""mt-photos-ai's API: `api-key` header, multipart `file`, its answer shapes, its errors."""

import pytest

from tests.support import pictures
from tests.support.sidecars import MAX_FILE_BYTES, MAX_IMAGE_PIXELS

IMAGE_ROUTES = ["/ocr", "/clip/img", "/represent"]
# What MT Photos sends that is no photo: the original service answers each 200 with a `msg`
UNREADABLE = {
    "empty": b"",
    "not_an_image": b"%PDF-1.7 definitely not a picture",
    "truncated_jpeg": pictures.truncated_jpeg(),
    "too_many_pixels": pictures.decompression_bomb(MAX_IMAGE_PIXELS + 10_000),
    "too_many_bytes": b"\xff" * (MAX_FILE_BYTES + 1000),
    "far_too_many_bytes": b"\xff" * (MAX_FILE_BYTES * 3),
}


@pytest.fixture(scope="module")
def mt(sidecar):
    with sidecar.client(header="api-key") as c:
        yield c


def test_check(mt):
    response = mt.post("/check")
    assert response.status_code == 200
    assert response.json()["result"] == "pass"


def test_wrong_and_missing_key_are_401(sidecar):
    with sidecar.client(key="wrong", header="api-key") as wrong:
        assert wrong.post("/check").status_code == 401
        assert wrong.post("/check").json() == {"detail": "Invalid API key"}
    with sidecar.client(key=None) as anonymous:
        missing = anonymous.post("/check")
    assert missing.status_code == 401
    assert "api-key" in missing.json()["detail"]


def test_our_own_api_keeps_naming_its_header(sidecar):
    with sidecar.client(key=None) as anonymous:
        response = anonymous.post("/v1/clip/text", json={"texts": ["x"]})
    assert response.status_code == 401
    assert "x-api-key" in response.json()["error"]["detail"]


def test_status_page_needs_no_key(sidecar):
    with sidecar.client(key=None) as anonymous:
        response = anonymous.get("/")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "运行中" in response.text and "running" in response.text


@pytest.mark.parametrize("route", IMAGE_ROUTES)
@pytest.mark.parametrize("name", UNREADABLE)
def test_a_photo_that_cannot_be_read_is_answered_200_with_msg(mt, route, name):
    response = mt.post(route, files={"file": ("photo.jpg", UNREADABLE[name], "image/jpeg")})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["result"] == [] and body["msg"]


def test_the_next_photo_is_read_after_a_bad_one(mt):
    mt.post("/ocr", files={"file": ("bad.jpg", UNREADABLE["truncated_jpeg"])})
    image = pictures.encode(pictures.text_picture(), "PNG")
    response = mt.post("/ocr", files={"file": ("invoice.png", image, "image/png")})
    assert "Invoice 2024" in response.json()["result"]["texts"]


def test_restart_is_accepted_and_does_nothing(mt, sidecar):
    assert mt.post("/restart").json() == {"result": "pass"}
    assert mt.post("/restart_v2").json() == {"result": "pass"}
    assert sidecar.alive()


def test_ocr(mt):
    image = pictures.encode(pictures.text_picture(), "JPEG", quality=95)
    response = mt.post("/ocr", files={"file": ("invoice.jpg", image, "image/jpeg")})
    assert response.status_code == 200, response.text
    result = response.json()["result"]
    assert set(result) == {"texts", "scores", "boxes"}
    assert len(result["texts"]) == len(result["scores"]) == len(result["boxes"]) >= 2
    assert "Invoice 2024" in result["texts"]
    for score, box in zip(result["scores"], result["boxes"], strict=True):
        assert isinstance(score, str) and 0 <= float(score) <= 1
        assert set(box) == {"x", "y", "width", "height"}
        assert all(isinstance(v, str) for v in box.values())
        assert float(box["width"]) > 0 and float(box["height"]) > 0


def test_clip_image_and_text(mt):
    image = pictures.encode(pictures.text_picture(), "PNG")
    for response in (
        mt.post("/clip/img", files={"file": ("a.png", image, "image/png")}),
        mt.post("/clip/txt", json={"text": "发票"}),
    ):
        assert response.status_code == 200, response.text
        values = response.json()["result"]
        assert len(values) == 512
        assert all(isinstance(v, str) and len(v.split(".")[1]) == 16 for v in values)


def test_represent(mt):
    image, boxes = pictures.face_picture()
    response = mt.post("/represent", files={"file": ("f.png", pictures.encode(image, "PNG"))})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["detector_backend"] == "insightface"
    assert body["recognition_model"] == "buffalo_l"
    assert len(body["result"]) == 2
    areas = []
    for face in body["result"]:
        assert set(face) == {"embedding", "facial_area", "face_confidence"}
        assert len(face["embedding"]) == 512
        assert isinstance(face["face_confidence"], float)
        area = face["facial_area"]
        assert all(isinstance(area[k], int) for k in ("x", "y", "w", "h"))
        areas.append((area["x"], area["y"], area["x"] + area["w"], area["y"] + area["h"]))
    assert sorted(areas) == sorted(boxes)
