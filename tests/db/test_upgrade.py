"""Upgrading a library from 0.2.0 keeps everything: results, settings, the state of every
job (done work is not redone, failures keep their reasons)."""

from __future__ import annotations

import uuid

import psycopg
from psycopg.types.json import Jsonb

from tests.support.database import superuser

DIM = 512
OCR = {"model": "PP-OCRv4", "text": "增值税专用发票\n合计 128.50", "lines": []}
CLIP = {"model": "ViT-B-16", "dim": DIM, "embedding": [0.5] * DIM}
FACES = {
    "model": "buffalo_l",
    "faces": [
        {"box": [1, 2, 30, 40], "score": 0.9, "landmarks": [[1, 1]] * 5, "embedding": [0.1] * DIM}
    ],
}
SNAPSHOT = {
    "ocr_result": "SELECT asset_id, model, text, lines, tsv::text FROM photo_ai.ocr_result",
    "clip_embedding": "SELECT asset_id, model, embedding::text FROM photo_ai.clip_embedding",
    "face_scan": "SELECT asset_id, model, face_count FROM photo_ai.face_scan",
    "face": "SELECT asset_id, box, score, landmarks, embedding::text FROM photo_ai.face",
    "job": "SELECT asset_id, task::text, state::text, attempts, last_error FROM photo_ai.job",
    "settings": "SELECT name, value FROM photo_ai.setting_override",
    "asset": "SELECT id, original_path, checksum FROM photo_ai.asset",
}


def library_of_0_2_0(conn: psycopg.Connection) -> None:
    """Three analysed photos and a broken one, as a 0.2.0 worker leaves them."""
    conn.execute(
        "SELECT photo_ai.configure(sidecar_url => 'http://kept:3003', "
        "api_key => 'a-kept-secret-key-0123', tasks => '{ocr,clip,faces}', max_attempts => 7)"
    )
    photos = [str(uuid.uuid4()) for _ in range(4)]
    conn.execute(
        "INSERT INTO photo_ai.asset (id, original_path, checksum) "
        "SELECT id, '/photos/' || n || '.jpg', decode(md5(n::text), 'hex') "
        "FROM unnest(%s::uuid[]) WITH ORDINALITY u(id, n)",
        [photos],
    )
    for photo in photos[:3]:
        for writer, result in (("ocr", OCR), ("clip", CLIP), ("faces", FACES)):
            conn.execute(f"SELECT photo_ai.write_{writer}(%s, %s)", [photo, Jsonb(result)])
    conn.execute("UPDATE photo_ai.job SET state = 'done', attempts = 1 WHERE asset_id <> %s",
                 [photos[3]])  # fmt: skip
    conn.execute(
        "UPDATE photo_ai.job SET state = 'failed', attempts = 1, "
        "last_error = 'sidecar bad_image: cannot decode image' WHERE asset_id = %s",
        [photos[3]],
    )


FACES_SINCE_0_3_0 = (  # a face's embedding has a table of its own
    "SELECT f.asset_id, f.box, f.score, f.landmarks, e.embedding::text "
    "FROM photo_ai.face f JOIN photo_ai.face_embedding e ON e.face_id = f.id"
)


def snapshot(conn: psycopg.Connection) -> dict[str, list]:
    queries = dict(SNAPSHOT)
    if conn.execute("SELECT to_regclass('photo_ai.face_embedding')").fetchone()[0]:
        queries["face"] = FACES_SINCE_0_3_0
    return {name: sorted(conn.execute(sql).fetchall(), key=str) for name, sql in queries.items()}


def test_upgrading_from_0_2_0_keeps_every_result_setting_and_job(make_database):
    with superuser(make_database()) as conn:
        conn.execute("CREATE EXTENSION photo_ai VERSION '0.2.0' CASCADE")
        library_of_0_2_0(conn)
        before = snapshot(conn)

        conn.execute("ALTER EXTENSION photo_ai UPDATE")

        assert snapshot(conn) == before
        # nothing done is done again; the people and tags tasks, new in 0.3.0, are queued
        # for the photos with faces and with embeddings
        assert conn.execute("SELECT photo_ai.backfill()").fetchone()[0] == 6
        queued = conn.execute(
            "SELECT DISTINCT task FROM photo_ai.job WHERE state = 'queued' ORDER BY 1"
        )
        assert [r[0] for r in queued] == ["people", "tags"]
        assert sorted(conn.execute("SELECT photo_ai.enabled_tasks()").fetchone()[0]) == [
            "clip", "faces", "ocr", "people", "tags",
        ]  # fmt: skip
        failed = conn.execute("SELECT task, last_error FROM photo_ai.failed_jobs").fetchall()
        assert len(failed) == 3 and all("cannot decode" in e for _, e in failed)
        assert (
            conn.execute(
                "SELECT count(*) FROM photo_ai.migration WHERE name LIKE 'tables/%'"
            ).fetchone()[0]
            == 0
        ), "the ledger follows sql/tables -> sql/migrations"
