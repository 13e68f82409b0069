"""The requests Immich v2's server sends to its machine-learning service, replayed against the
sidecar as its MachineLearningRepository sends them (multipart FormData, no API key), and
every field the server reads from the answers taken through what the server does with it:
its own SQL into Immich's tables, and its own search queries."""

from __future__ import annotations

import json
import uuid

import httpx
import pytest

from tests.immich import immich_server as immich_ref


def predict(sidecar, entries: dict, image: bytes | None = None, text: str | None = None):
    return httpx.post(
        f"{sidecar.url}/predict",
        files=immich_ref.predict_form(entries, image=image, text=text),
        timeout=120,
    )


def embedding_of(value) -> list[float]:
    """Immich stores the string as it comes: it must be a JSON array of 512 numbers."""
    assert isinstance(value, str)
    vector = json.loads(value)
    assert isinstance(vector, list) and len(vector) == 512
    assert all(isinstance(v, float) for v in vector)
    return vector


@pytest.fixture
def library(immich):
    immich.user_id = immich.create_user()
    return immich


def test_ping_is_what_immichs_health_check_reads(immich_sidecar):
    response = httpx.get(f"{immich_sidecar.url}/ping", timeout=10)
    assert response.status_code == 200 and response.text == "pong"


def test_only_immichs_endpoints_are_open(immich_sidecar, immich_data):
    body = {"path": str(immich_data.original("invoice.png")), "tasks": ["ocr"]}
    response = httpx.post(f"{immich_sidecar.url}/v1/analyze", json=body, timeout=60)
    assert response.status_code == 401, "photo_ai's own API still needs the key"


def test_smart_search_encode_and_query(library, immich_sidecar, immich_data):
    conn = library.conn
    stored = {}
    for name in ("invoice.png", "sign.png", "friends.png"):
        asset = library.upload(library.user_id, immich_data.original(name))
        preview = immich_data.preview_of(name).read_bytes()
        # SmartInfoService.handleEncodeClip: encodeImage(previewFile) -> response.clip
        response = predict(immich_sidecar, immich_ref.clip_visual_request(), image=preview)
        assert response.status_code == 200, response.text
        answer = response.json()
        embedding = answer["clip"]
        embedding_of(embedding)
        assert isinstance(answer["imageHeight"], int) and isinstance(answer["imageWidth"], int)
        # SearchRepository.upsert
        conn.execute(
            'insert into "smart_search" ("assetId", "embedding") values (%s, %s) '
            'on conflict ("assetId") do update set "embedding" = "excluded"."embedding"',
            [asset["id"], embedding],
        )
        stored[str(asset["id"])] = embedding

    # SearchService.searchSmart: encodeText(query, {modelName, language}) -> response.clip
    for language in (None, "zh-CN"):
        response = predict(
            immich_sidecar, immich_ref.clip_textual_request(language), text="一张发票"
        )
        assert response.status_code == 200, response.text
        assert set(response.json()) == {"clip"}
        query = response.json()["clip"]
        embedding_of(query)
        found = library.search_smart(library.user_id, query)
        assert sorted(found) == sorted(stored)
    # the image's own embedding finds the image first
    for asset_id, embedding in stored.items():
        assert library.search_smart(library.user_id, embedding)[0] == asset_id


def test_face_detection_and_recognition(library, immich_sidecar, immich_data):
    conn = library.conn
    asset = library.upload(library.user_id, immich_data.original("friends.png"))
    preview = immich_data.preview_of("friends.png").read_bytes()
    # PersonService.handleDetectFaces: detectFaces(previewFile, {modelName, minScore})
    response = predict(immich_sidecar, immich_ref.face_request(min_score=0.7), image=preview)
    assert response.status_code == 200, response.text
    answer = response.json()
    image_height, image_width = answer["imageHeight"], answer["imageWidth"]
    assert (image_width, image_height) == (640, 640)
    faces = answer["facial-recognition"]
    assert len(faces) == 2
    for face in faces:
        box = face["boundingBox"]
        assert set(box) == {"x1", "y1", "x2", "y2"}
        assert all(isinstance(v, int) for v in box.values())
        assert (
            0 <= box["x1"] < box["x2"] <= image_width and 0 <= box["y1"] < box["y2"] <= image_height
        )
        assert isinstance(face["score"], float) and face["score"] >= 0.7
        embedding_of(face["embedding"])
        # PersonRepository.refreshFaces: the new face, then its embedding
        face_id = uuid.uuid4()
        conn.execute(
            'insert into "asset_face" ("id", "assetId", "imageHeight", "imageWidth", '
            '"boundingBoxX1", "boundingBoxY1", "boundingBoxX2", "boundingBoxY2") '
            "values (%s, %s, %s, %s, %s, %s, %s, %s)",
            [
                face_id,
                asset["id"],
                image_height,
                image_width,
                box["x1"],
                box["y1"],
                box["x2"],
                box["y2"],
            ],
        )
        conn.execute(
            'insert into "face_search" ("faceId", "embedding") values (%s, %s)',
            [face_id, face["embedding"]],
        )
    # PersonService.handleRecognizeFaces: SearchRepository.searchFaces on the stored embedding
    nearest = conn.execute(
        'with "cte" as (select "asset_face"."id", "asset_face"."personId", '
        'face_search.embedding <=> %(embedding)s as "distance" from "asset_face" '
        'inner join "asset" on "asset"."id" = "asset_face"."assetId" '
        'inner join "face_search" on "face_search"."faceId" = "asset_face"."id" '
        'where "asset"."ownerId" = any(%(users)s::uuid[]) and "asset"."deletedAt" is null '
        'order by "distance" limit 3) select * from "cte" where "cte"."distance" <= 0.5',
        {"embedding": faces[0]["embedding"], "users": [library.user_id]},
    ).fetchall()
    assert len(nearest) == 2 and nearest[0][2] == pytest.approx(0, abs=1e-6)


def test_ocr_detection_and_recognition(library, immich_sidecar, immich_data):
    conn = library.conn
    for name in ("invoice.png", "sign.png"):
        asset = library.upload(library.user_id, immich_data.original(name))
        preview = immich_data.preview_of(name).read_bytes()
        # OcrService.handleOcr: ocr(previewFile, machineLearning.ocr) -> response.ocr
        response = predict(immich_sidecar, immich_ref.ocr_request(), image=preview)
        assert response.status_code == 200, response.text
        ocr = response.json()["ocr"]
        texts, boxes = ocr["text"], ocr["box"]
        box_scores, text_scores = ocr["boxScore"], ocr["textScore"]
        assert texts and all(isinstance(t, str) for t in texts)
        assert len(boxes) == 8 * len(texts)
        assert len(box_scores) == len(text_scores) == len(texts)
        assert all(isinstance(v, float) and 0 <= v <= 1 for v in boxes)
        assert all(s >= 0.5 for s in box_scores) and all(s > 0.8 for s in text_scores)
        # OcrService.parseOcrResults, then OcrRepository.upsert
        search_tokens = []
        with conn.transaction():
            conn.execute('delete from "asset_ocr" where "assetId" = %s', [asset["id"]])
            for i, text in enumerate(texts):
                conn.execute(
                    'insert into "asset_ocr" ("assetId", "x1", "y1", "x2", "y2", "x3", "y3", '
                    '"x4", "y4", "text", "boxScore", "textScore") '
                    "values (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
                    [asset["id"], *boxes[8 * i : 8 * i + 8], text, box_scores[i], text_scores[i]],
                )
                search_tokens += immich_ref.tokenize_for_search(text)
            conn.execute(
                'insert into "ocr_search" ("assetId", "text") values (%s, %s) '
                'on conflict ("assetId") do update set "text" = "excluded"."text"',
                [asset["id"], " ".join(search_tokens)],
            )
    # Immich's OCR search, through Immich's own path: the two-character words are found
    (invoice_id,) = conn.execute(
        "select id from asset where \"originalFileName\" = 'invoice.png'"
    ).fetchone()
    assert library.search_ocr(library.user_id, "发票") == [str(invoice_id)]
    assert len(library.search_ocr(library.user_id, "停车")) == 1


@pytest.mark.parametrize(
    "entries, expected",
    [
        (immich_ref.clip_visual_request(), {"clip", "imageHeight", "imageWidth"}),
        (immich_ref.face_request(), {"facial-recognition", "imageHeight", "imageWidth"}),
        (immich_ref.ocr_request(), {"ocr", "imageHeight", "imageWidth"}),
    ],
)
def test_each_image_request_answers_exactly_its_task(
    immich_sidecar, immich_data, entries, expected
):
    preview = immich_data.preview_of("invoice.png").read_bytes()
    response = predict(immich_sidecar, entries, image=preview)
    assert response.status_code == 200, response.text
    assert set(response.json()) == expected
