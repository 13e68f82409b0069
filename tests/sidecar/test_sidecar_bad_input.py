"""Each bad input gets its own 4xx status and a reason; none gets a 500 or stops the process."""

import pytest

from tests.support import pictures
from tests.support.sidecars import MAX_FILE_BYTES, MAX_IMAGE_PIXELS

BAD_UPLOADS = {
    "empty": (b"", 422, "bad_image"),
    "not_an_image": (b"%PDF-1.7 definitely not a picture", 422, "bad_image"),
    "truncated_jpeg": (pictures.truncated_jpeg(), 422, "bad_image"),
    "bomb_just_over_limit": (
        pictures.decompression_bomb(MAX_IMAGE_PIXELS + 10_000),
        413,
        "too_many_pixels",
    ),
    "bomb_far_over_limit": (
        pictures.decompression_bomb(MAX_IMAGE_PIXELS * 25),
        413,
        "too_many_pixels",
    ),
}


@pytest.mark.parametrize("name", BAD_UPLOADS)
def test_bad_upload_status(client, name):
    data, status, kind = BAD_UPLOADS[name]
    response = client.post("/v1/analyze", files={"image": ("x.jpg", data)}, data={"tasks": "ocr"})
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["kind"] == kind and error["detail"]


@pytest.mark.parametrize("size", [MAX_FILE_BYTES + 1000, MAX_FILE_BYTES * 3])
def test_upload_over_the_file_limit_is_413(client, size):
    # Just over: refused after reading; far over: refused from its length, before reading.
    response = client.post("/v1/analyze", files={"image": ("x.jpg", b"\xff" * size)})
    assert response.status_code == 413, response.text
    assert response.json()["error"]["kind"] == "file_too_large"


def test_bomb_file_is_small(client):
    # The point of the check: a few kilobytes declaring a hundred million pixels.
    assert len(pictures.decompression_bomb(MAX_IMAGE_PIXELS * 25)) < 200_000


def _analyze_path(client, path: str):
    return client.post("/v1/analyze", json={"path": path, "tasks": ["clip"]})


@pytest.mark.parametrize(
    "relative, status, kind",
    [
        ("../outside/secret.png", 403, "forbidden_path"),
        ("album/../invoice.png", 403, "forbidden_path"),  # '..' is refused even inside
        ("escape.png", 403, "forbidden_path"),  # symlink pointing out of the root
        ("missing.png", 404, "not_found"),
        ("album", 404, "not_found"),  # a directory, not a file
        ("broken.jpg", 422, "bad_image"),
        ("huge.jpg", 413, "file_too_large"),
    ],
)
def test_path_status(client, sidecar, relative, status, kind):
    response = _analyze_path(client, f"{sidecar.library}/{relative}")
    assert response.status_code == status, response.text
    assert response.json()["error"]["kind"] == kind


@pytest.mark.parametrize("path", ["/etc/passwd", "relative/invoice.png"])
def test_paths_outside_every_root_are_forbidden(client, sidecar, path):
    assert _analyze_path(client, path).status_code == 403


def test_missing_key_is_401(sidecar):
    with sidecar.client(key=None) as anonymous:
        response = anonymous.post("/v1/clip/text", json={"texts": ["x"]})
    assert response.status_code == 401
    assert response.json()["error"]["kind"] == "unauthorized"


def test_wrong_key_is_401(sidecar):
    with sidecar.client(key="not-the-key") as wrong:
        response = wrong.post("/v1/analyze", json={"path": str(sidecar.library / "invoice.png")})
    assert response.status_code == 401


def test_malformed_json_and_options_are_422(client, sidecar):
    assert (
        client.post(
            "/v1/analyze", content=b"{not json", headers={"content-type": "application/json"}
        ).status_code
        == 422
    )
    response = client.post(
        "/v1/analyze",
        files={"image": ("a.png", pictures.encode(pictures.text_picture(), "PNG"))},
        data={"options": "{broken"},
    )
    assert response.status_code == 422
    assert (
        client.post("/v1/analyze", data={"tasks": "ocr"}, files={"other": ("a", b"x")}).status_code
        == 422
    )


def test_bad_input_on_immichs_api_is_4xx(client):
    # mt-photos-ai's routes answer 200 with a `msg` instead, as the original does
    # (test_sidecar_mtphotos.py)
    bad = {"image": ("x.jpg", b"garbage")}
    immich = client.post(
        "/predict", data={"entries": '{"clip": {"visual": {"modelName": "x"}}}'}, files=bad
    )
    assert immich.status_code == 422 and immich.json()["detail"]


def test_process_survives_everything(sidecar, client):
    # Runs after the tests above in this module: the same process still answers.
    assert sidecar.alive()
    assert client.get("/ping").text == "pong"
