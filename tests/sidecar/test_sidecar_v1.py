"""Our own API over HTTP: /v1/analyze (path and upload), /v1/clip/text, /health, /metrics."""

import math

import pytest

from tests.support import pictures


def _unit_length(vector: list[float]) -> float:
    return math.sqrt(sum(v * v for v in vector))


def _words(text: str) -> str:
    return text.replace(" ", "")


def test_analyze_by_path_answers_every_task(client, sidecar):
    response = client.post("/v1/analyze", json={"path": str(sidecar.library / "invoice.png")})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["image"] == {"width": 800, "height": 200}
    assert body["errors"] == {}
    assert set(body["results"]) == {"ocr", "clip", "faces"}
    clip = body["results"]["clip"]
    assert (clip["model"], clip["dim"], len(clip["embedding"])) == ("ViT-B-16", 512, 512)
    assert _unit_length(clip["embedding"]) == pytest.approx(1.0, abs=1e-3)
    assert body["results"]["faces"] == {"model": "buffalo_l", "faces": []}


def test_ocr_reads_chinese_and_english(client, sidecar):
    body = client.post(
        "/v1/analyze", json={"path": str(sidecar.library / "invoice.png"), "tasks": ["ocr"]}
    ).json()
    ocr = body["results"]["ocr"]
    assert ocr["model"].startswith("PP-OCR")
    joined = _words(ocr["text"])
    for word in ("增值税专用发票", "合计", "128.50", "Invoice", "2024"):
        assert word in joined
    assert ocr["text"] == "\n".join(line["text"] for line in ocr["lines"])
    for line in ocr["lines"]:
        assert 0 < line["score"] <= 1 and 0 < line["box_score"] <= 1
        assert len(line["box"]) == 4 and len(line["box_normalized"]) == 4
        for (x, y), (nx, ny) in zip(line["box"], line["box_normalized"], strict=True):
            assert 0 <= x <= 800 and 0 <= y <= 200
            assert nx == pytest.approx(x / 800, abs=1e-4)
            assert ny == pytest.approx(y / 200, abs=1e-4)


def test_ocr_min_score_option_filters_lines(client, sidecar):
    body = client.post(
        "/v1/analyze",
        json={
            "path": str(sidecar.library / "invoice.png"),
            "tasks": ["ocr"],
            "options": {"ocr": {"min_score": 1.0}},
        },
    ).json()
    assert all(line["score"] >= 1.0 for line in body["results"]["ocr"]["lines"])


def test_analyze_upload_with_tasks_and_options(client):
    image, boxes = pictures.face_picture()
    response = client.post(
        "/v1/analyze",
        files={"image": ("faces.png", pictures.encode(image, "PNG"), "image/png")},
        data={"tasks": "faces,clip", "options": '{"faces": {"min_score": 0.5}}'},
    )
    assert response.status_code == 200, response.text
    results = response.json()["results"]
    assert set(results) == {"faces", "clip"}
    faces = results["faces"]["faces"]
    assert sorted(tuple(face["box"]) for face in faces) == sorted(boxes)
    for face in faces:
        assert 0.5 <= face["score"] <= 1
        assert len(face["landmarks"]) == 5 and all(len(p) == 2 for p in face["landmarks"])
        assert len(face["embedding"]) == 512
        assert _unit_length(face["embedding"]) == pytest.approx(1.0, abs=1e-3)


def test_face_min_score_above_every_face_finds_none(client):
    image, _ = pictures.face_picture()
    response = client.post(
        "/v1/analyze",
        files={"image": ("faces.png", pictures.encode(image, "PNG"))},
        data={"tasks": "faces", "options": '{"faces": {"min_score": 0.999}}'},
    )
    assert response.json()["results"]["faces"]["faces"] == []


def test_path_in_second_root_and_link_inside_root_are_read(client, sidecar):
    for path in (
        sidecar.library.parent / "second_root" / "invoice.jpg",
        sidecar.library / "album" / "inside_link.png",
    ):
        response = client.post("/v1/analyze", json={"path": str(path), "tasks": ["clip"]})
        assert response.status_code == 200, response.text


def test_clip_text_embeds_each_text_in_order(client):
    response = client.post("/v1/clip/text", json={"texts": ["海边的狗", "a dog on a beach", ""]})
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["model"], body["dim"], len(body["embeddings"])) == ("ViT-B-16", 512, 3)
    first, second, _ = body["embeddings"]
    assert first != second
    again = client.post("/v1/clip/text", json={"texts": ["海边的狗"]}).json()["embeddings"][0]
    assert again == pytest.approx(first, abs=1e-5)


def test_clip_text_rejects_an_empty_list(client):
    response = client.post("/v1/clip/text", json={"texts": []})
    assert response.status_code == 422
    assert response.json()["error"]["kind"] == "bad_request"


def test_unknown_task_is_a_bad_request(client, sidecar):
    response = client.post(
        "/v1/analyze", json={"path": str(sidecar.library / "invoice.png"), "tasks": ["nsfw"]}
    )
    assert response.status_code == 422
    assert response.json()["error"]["kind"] == "bad_request"


def test_health_reports_models_without_a_key(sidecar):
    with sidecar.client(key=None) as anonymous:
        response = anonymous.get("/health")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok" and body["version"]
    assert set(body["models"]) == {"ocr", "clip", "faces"}
    for entry in body["models"].values():
        assert entry["available"] is True
        assert entry["device"] == "cpu"
        assert "missing" not in entry
    assert body["versions"]["onnxruntime"] and body["versions"]["rapidocr"]
    assert sidecar.key not in response.text


def test_metrics_need_the_key(sidecar, client):
    with sidecar.client(key=None) as anonymous:
        assert anonymous.get("/metrics").status_code == 401
    text = client.get("/metrics").text
    for name in (
        "photo_ai_sidecar_requests_total",
        "photo_ai_sidecar_request_seconds_bucket",
        "photo_ai_sidecar_task_seconds_bucket",
        "photo_ai_sidecar_batch_size_bucket",
        "photo_ai_sidecar_errors_total",
    ):
        assert name in text
    assert 'route="/v1/analyze"' in text


def test_clip_over_http_equals_the_model_called_directly(client, tiny_model_dir):
    from inference_sidecar.models.clip import ClipModel

    image = pictures.text_picture()
    model = ClipModel.load(tiny_model_dir, device="cpu")
    expected = model.encode_images([image])[0].tolist()
    for _ in range(2):  # the first request may load the model, later ones take the fast path
        response = client.post(
            "/v1/analyze",
            files={"image": ("a.png", pictures.encode(image, "PNG"))},
            data={"tasks": "clip"},
        )
        assert response.json()["results"]["clip"]["embedding"] == pytest.approx(expected, abs=1e-5)


def test_openapi_lists_every_endpoint(client):
    paths = client.get("/openapi.json").json()["paths"]
    for path in ("/v1/analyze", "/v1/clip/text", "/health", "/metrics", "/predict", "/ping"):
        assert path in paths
    assert "multipart/form-data" in paths["/v1/analyze"]["post"]["requestBody"]["content"]
