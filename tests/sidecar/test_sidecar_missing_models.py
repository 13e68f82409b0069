"""Without model files: the task answers 503 naming the file and the variable, the others work."""

import pytest


@pytest.fixture(scope="module")
def bare(bare_sidecar):
    with bare_sidecar.client() as c:
        yield c


def test_missing_clip_is_a_task_error_beside_working_ocr(bare, bare_sidecar):
    response = bare.post(
        "/v1/analyze",
        json={"path": str(bare_sidecar.library / "invoice.png"), "tasks": ["ocr", "clip", "faces"]},
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert "Invoice" in body["results"]["ocr"]["text"]
    assert set(body["errors"]) == {"clip", "faces"}
    clip_error = body["errors"]["clip"]
    assert (clip_error["status"], clip_error["kind"]) == (503, "model_missing")
    assert "clip_cn_vit-b-16.pt" in clip_error["detail"]
    assert "PHOTO_AI_MODEL_DIR" in clip_error["detail"]
    assert "buffalo_l" in body["errors"]["faces"]["detail"]


def test_only_missing_tasks_asked_answers_503_with_the_same_body(bare, bare_sidecar):
    response = bare.post(
        "/v1/analyze", json={"path": str(bare_sidecar.library / "invoice.png"), "tasks": ["clip"]}
    )
    assert response.status_code == 503
    assert response.json()["errors"]["clip"]["kind"] == "model_missing"
    assert "results" in response.json()


def test_clip_text_answers_503(bare):
    response = bare.post("/v1/clip/text", json={"texts": ["狗"]})
    assert response.status_code == 503
    error = response.json()["error"]
    assert error["kind"] == "model_missing" and "PHOTO_AI_MODEL_DIR" in error["detail"]


MISSING_FILES = (("clip", "clip_cn_vit-b-16.pt"), ("faces", "buffalo_l"))


def test_health_says_what_is_missing_and_where(bare_sidecar):
    with bare_sidecar.client() as own:
        models = own.get("/health").json()["models"]
    assert models["ocr"]["available"] is True
    workdir = str(bare_sidecar.library.parent)
    for task, file_part in MISSING_FILES:
        assert models[task]["available"] is False
        assert models[task]["loaded"] is False
        assert models[task]["path"].startswith(workdir) and file_part in models[task]["path"]
        assert "PHOTO_AI_MODEL_DIR" in models[task]["missing"]
        assert workdir in models[task]["missing"]


def test_health_without_the_key_names_files_but_no_paths(bare_sidecar):
    with bare_sidecar.client(key=None) as anonymous:
        response = anonymous.get("/health")
    models = response.json()["models"]
    assert models["ocr"]["available"] is True
    for task, file_part in MISSING_FILES:
        assert models[task]["available"] is False and "path" not in models[task]
        assert file_part in models[task]["missing"]
        assert "PHOTO_AI_MODEL_DIR" in models[task]["missing"]
    assert str(bare_sidecar.library.parent) not in response.text
    assert "site-packages" not in response.text  # where OCR's models are


def test_immich_without_key_lets_predict_through_but_not_our_api(bare_sidecar):
    with bare_sidecar.client(key=None) as anonymous:
        predict = anonymous.post(
            "/predict",
            data={
                "entries": '{"clip": {"textual": {"modelName": "ViT-B-32__openai"}}}',
                "text": "狗",
            },
        )
        ours = anonymous.post("/v1/clip/text", json={"texts": ["狗"]})
    assert predict.status_code == 503  # let through, then: no CLIP model here
    assert "PHOTO_AI_MODEL_DIR" in predict.json()["detail"]
    assert ours.status_code == 401


def test_mt_photos_clip_answers_503_in_its_shape(bare_sidecar):
    with bare_sidecar.client(header="api-key") as mt:
        response = mt.post("/clip/txt", json={"text": "狗"})
    assert response.status_code == 503
    assert response.json()["result"] == [] and "PHOTO_AI_MODEL_DIR" in response.json()["msg"]
