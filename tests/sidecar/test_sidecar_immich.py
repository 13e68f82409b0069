"""Immich's machine-learning protocol: each request shape Immich's server (v2.4 to v3.1)
sends gets the exact answer its machine-learning.repository.ts reads."""

import json

import pytest

from tests.immich import immich_server as immich
from tests.support import pictures

IMAGE = pictures.encode(pictures.text_picture(), "PNG")  # 800 x 200


# A small-print invoice as an Immich preview (1440 x 1080, 12 px print), and the lines that
# a sidecar recognising on a copy shrunk to maxResolution misreads.
SMALL_PRINT = (
    "增值税专用发票",
    "购买方 北京海淀科技有限公司",
    "开票日期2026-07-30",
    "金额1,234.00",
    "税率13%",
    "税额160.42",
    "价税合计（大写）壹仟叁佰玖拾肆元肆角贰分",
    "Invoice No. 04417726",
)
SMALL_PRINT_LAYOUT = dict(size=(1440, 1080), font_size=12, origin=(80, 60), leading=2.4)


def predict(client, entries: dict, image: bytes | None = None, text: str | None = None):
    """The multipart body exactly as Immich's server sends it."""
    return client.post("/predict", files=immich.predict_form(entries, image=image, text=text))


def assert_embedding_string(value, dim: int = 512) -> list[float]:
    assert isinstance(value, str)
    vector = json.loads(value)
    assert isinstance(vector, list) and len(vector) == dim
    assert all(isinstance(v, float) for v in vector)
    return vector


def test_ping_answers_pong_without_a_key(sidecar):
    with sidecar.client(key=None) as anonymous:
        response = anonymous.get("/ping")
    assert response.status_code == 200
    assert response.text == "pong"
    assert response.headers["content-type"].startswith("text/plain")


def test_clip_visual(client):
    response = predict(client, {"clip": {"visual": {"modelName": "ViT-B-32__openai"}}}, IMAGE)
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"clip", "imageHeight", "imageWidth"}
    assert (body["imageHeight"], body["imageWidth"]) == (200, 800)
    assert_embedding_string(body["clip"])


def test_clip_textual(client):
    textual = {"modelName": "ViT-B-16__openai", "options": {"language": "zh"}}
    entries = {"clip": {"textual": textual}}
    response = predict(client, entries, text="海边的狗")
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"clip"}
    assert_embedding_string(body["clip"])


def test_clip_textual_matches_our_api(client):
    entries = {"clip": {"textual": {"modelName": "ViT-B-32__openai"}}}
    immich = json.loads(predict(client, entries, text="海边的狗").json()["clip"])
    ours = client.post("/v1/clip/text", json={"texts": ["海边的狗"]}).json()["embeddings"][0]
    assert immich == pytest.approx(ours, abs=1e-6)


def test_facial_recognition(client):
    image, boxes = pictures.face_picture()
    response = predict(client, immich.face_request(0.7), pictures.encode(image, "PNG"))
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"facial-recognition", "imageHeight", "imageWidth"}
    assert (body["imageHeight"], body["imageWidth"]) == (640, 640)
    faces = body["facial-recognition"]
    assert len(faces) == 2
    for face in faces:
        assert set(face) == {"boundingBox", "embedding", "score"}
        box = face["boundingBox"]
        assert set(box) == {"x1", "y1", "x2", "y2"}
        assert all(isinstance(v, int) for v in box.values())
        assert isinstance(face["score"], float) and 0.7 <= face["score"] <= 1
        assert_embedding_string(face["embedding"])
    found = sorted(
        (
            f["boundingBox"]["x1"],
            f["boundingBox"]["y1"],
            f["boundingBox"]["x2"],
            f["boundingBox"]["y2"],
        )
        for f in faces
    )
    assert found == sorted(boxes)


def test_facial_recognition_honours_min_score(client):
    image, _ = pictures.face_picture()
    body = predict(client, immich.face_request(0.999), pictures.encode(image, "PNG")).json()
    assert body["facial-recognition"] == []


def test_ocr(client):
    response = predict(client, immich.ocr_request(), IMAGE)
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"ocr", "imageHeight", "imageWidth"}
    ocr = body["ocr"]
    assert set(ocr) == {"box", "boxScore", "text", "textScore"}
    count = len(ocr["text"])
    assert count >= 2
    assert len(ocr["box"]) == 8 * count  # flat: four (x, y) corners per text
    assert len(ocr["boxScore"]) == len(ocr["textScore"]) == count
    assert all(isinstance(v, float) and 0 <= v <= 1 for v in ocr["box"])
    assert all(0.5 <= s <= 1 for s in ocr["boxScore"])
    assert all(0.8 < s <= 1 for s in ocr["textScore"])
    joined = "".join(ocr["text"]).replace(" ", "")
    for word in ("增值税专用发票", "128.50", "Invoice", "2024"):
        assert word in joined


def test_ocr_reads_small_print_at_full_size_whatever_max_resolution(client):
    """maxResolution sizes the detector's copy only (as in Immich's own service): the lines
    are recognised on crops of the full preview, so 12 px print reads exactly."""
    page = pictures.text_picture(SMALL_PRINT, **SMALL_PRINT_LAYOUT)
    preview = pictures.encode(page, "JPEG", quality=90)
    response = predict(client, immich.ocr_request(max_resolution=736), preview)
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["imageWidth"], body["imageHeight"]) == (1440, 1080)
    ocr = body["ocr"]
    read = [text.replace(" ", "") for text in ocr["text"]]
    for expected in ("金额1,234.00", "开票日期2026-07-30", "税额160.42"):
        assert expected in read, read
    # Boxes are fractions of the whole preview: the amount's line is where it was printed.
    line = SMALL_PRINT.index("金额1,234.00")
    corners = ocr["box"][8 * read.index("金额1,234.00") :][:8]
    tops = corners[1::2]
    printed_top = (60 + line * int(12 * 2.4)) / 1080
    assert min(tops) == pytest.approx(printed_top, abs=8 / 1080)
    assert min(corners[0::2]) == pytest.approx(80 / 1440, abs=8 / 1440)


def test_ocr_honours_recognition_min_score(client):
    body = predict(client, immich.ocr_request(min_recognition=1.0), IMAGE).json()
    assert body["ocr"] == {"box": [], "boxScore": [], "text": [], "textScore": []}


def test_ocr_boxes_are_relative_to_the_whole_image_whatever_max_resolution(client):
    small = predict(client, immich.ocr_request(max_resolution=400), IMAGE).json()["ocr"]
    full = predict(client, immich.ocr_request(max_resolution=2000), IMAGE).json()["ocr"]
    invoice_small = small["text"].index("Invoice 2024")
    invoice_full = full["text"].index("Invoice 2024")
    corners_small = small["box"][8 * invoice_small : 8 * invoice_small + 8]
    corners_full = full["box"][8 * invoice_full : 8 * invoice_full + 8]
    assert corners_small == pytest.approx(corners_full, abs=0.03)


def test_several_tasks_in_one_request(client):
    entries = {"clip": {"visual": {"modelName": "ViT-B-32__openai"}}, **immich.ocr_request()}
    body = predict(client, entries, IMAGE).json()
    assert set(body) == {"clip", "ocr", "imageHeight", "imageWidth"}


@pytest.mark.parametrize(
    "entries, status",
    [
        ({"nsfw": {"visual": {"modelName": "x"}}}, 422),  # unknown task
        ({"clip": {"pipeline": {"modelName": "x"}}}, 422),  # unknown model type
        ({"clip": {"visual": {"name": "x"}}}, 422),  # no modelName
        ({"facial-recognition": {"recognition": {"modelName": "buffalo_l"}}}, 400),
        ({"clip": {"visual": {"modelName": "XLM-Roberta-Large-Vit-B-16Plus"}}}, 422),  # 640 dims
    ],
)
def test_request_errors(client, entries, status):
    response = predict(client, entries, IMAGE)
    assert response.status_code == status, response.text
    assert isinstance(response.json()["detail"], str)


def test_entries_that_are_not_json_are_422(client):
    response = client.post("/predict", data={"entries": "{nope", "text": "x"})
    assert response.status_code == 422


def test_neither_image_nor_text_is_400(client):
    entries = '{"clip": {"textual": {"modelName": "x"}}}'
    response = client.post("/predict", data={"entries": entries})
    assert response.status_code == 400


def test_text_for_a_visual_model_is_422(client):
    response = predict(client, {"clip": {"visual": {"modelName": "ViT-B-32__openai"}}}, text="狗")
    assert response.status_code == 422


def test_predict_needs_the_key_unless_immich_is_let_in(sidecar):
    with sidecar.client(key=None) as anonymous:
        response = predict(anonymous, {"clip": {"textual": {"modelName": "x"}}}, text="狗")
    assert response.status_code == 401
