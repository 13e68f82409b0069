"""The model names in Immich's /predict entries: a face pack present in the model folder is
loaded by name, and a face pack or OCR language this sidecar cannot honour is refused with a
message naming it, never answered by another model."""

from collections.abc import Iterator

import pytest

from inference_sidecar.testing.tiny_models import make_tiny_face_pack
from tests.immich import immich_server as immich
from tests.sidecar.test_sidecar_immich import IMAGE, predict
from tests.support import pictures
from tests.support.sidecars import Sidecar, start_sidecar

FACES = pictures.encode(pictures.face_picture()[0], "PNG")


@pytest.fixture(scope="module")
def two_packs(tmp_path_factory) -> Iterator[Sidecar]:
    """A sidecar with buffalo_l (its PHOTO_AI_FACE_MODEL) and buffalo_s, whose recognisers
    differ, and no buffalo_m."""
    workdir = tmp_path_factory.mktemp("two_packs")
    make_tiny_face_pack(workdir / "models", "buffalo_l", seed=0)
    make_tiny_face_pack(workdir / "models", "buffalo_s", seed=1)
    running = start_sidecar(workdir, "two-packs-key-0123456789", model_dir=str(workdir / "models"))
    yield running
    running.stop()


@pytest.fixture(scope="module")
def client(two_packs):
    with two_packs.client() as c:
        yield c


def named(entries: dict, detection: str, recognition: str | None = None) -> dict:
    """Immich's request with other model names (recognition: the detection's by default)."""
    for model_type, entry in next(iter(entries.values())).items():
        is_detection = model_type == "detection"
        entry["modelName"] = detection if is_detection or recognition is None else recognition
    return entries


def faces(client, pack: str) -> list[dict]:
    response = predict(client, named(immich.face_request(), pack), FACES)
    assert response.status_code == 200, response.text
    return response.json()["facial-recognition"]


def test_each_face_pack_present_answers_by_name(client):
    large, small = faces(client, "buffalo_l"), faces(client, "buffalo_s")
    boxes = [face["boundingBox"] for face in large]
    assert len(boxes) == 2 and [face["boundingBox"] for face in small] == boxes
    # the same faces, embedded by each pack's own recogniser
    assert all(a["embedding"] != b["embedding"] for a, b in zip(large, small, strict=True))
    assert faces(client, "immich-app/buffalo_s") == small  # the organisation is not the name
    assert faces(client, "buffalo_l") == large  # each pack stays loaded as itself


def test_a_face_pack_not_in_the_model_folder_is_missing_by_name(client):
    response = predict(client, named(immich.face_request(), "buffalo_m"), FACES)
    assert response.status_code == 503
    assert "buffalo_m" in response.json()["detail"]


@pytest.mark.parametrize(
    "detection, recognition",
    [("buffalo_xl", None), ("../../etc", None), ("buffalo_l", "buffalo_s")],
)
def test_a_face_model_that_cannot_be_honoured_is_refused_by_name(client, detection, recognition):
    response = predict(client, named(immich.face_request(), detection, recognition), FACES)
    assert response.status_code == 422
    detail = response.json()["detail"]
    assert f"'{detection}'" in detail and (recognition is None or f"'{recognition}'" in detail)


@pytest.mark.parametrize(
    "model", ["EN__PP-OCRv5_mobile", "LATIN__PP-OCRv5_mobile", "TH__PP-OCRv5_mobile", "tesseract"]
)
def test_an_ocr_language_this_sidecar_cannot_read_is_refused_by_name(client, model):
    response = predict(client, named(immich.ocr_request(), model), IMAGE)
    assert response.status_code == 422
    assert f"'{model}'" in response.json()["detail"]


@pytest.mark.parametrize(
    "model",
    ["PP-OCRv5_mobile", "PP-OCRv5_server", "CH__PP-OCRv5_mobile", "immich-app/PP-OCRv5_server"],
)
def test_ocr_models_for_chinese_japanese_and_english_are_answered(client, model):
    response = predict(client, named(immich.ocr_request(), model), IMAGE)
    assert response.status_code == 200, response.text
    assert "增值税专用发票" in "".join(response.json()["ocr"]["text"]).replace(" ", "")
