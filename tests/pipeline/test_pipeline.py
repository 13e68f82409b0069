"""What a user sees of the pipeline: photos go in, text, embeddings and faces come out;
bad files, a dead sidecar and a dead worker lose nothing."""

from __future__ import annotations

import time

import psycopg
import pytest

from tests.support.pipeline import (
    add_assets,
    database_of,
    image_tasks_only,
    in_thread,
    jobs,
    point_at,
    run_worker,
)


def test_new_photos_get_text_embeddings_and_faces(db, library):
    invoice, sign, faces = add_assets(
        db, library / "invoice.png", library / "sign.png", library / "faces.png"
    )
    assert len(jobs(db)) == 9, "one job per task for each new photo"

    summary = run_worker(database_of(db))

    assert summary == {"done": 9 + 3 + 3}, "and each photo's faces grouped, its tags"
    texts = dict(db.execute("SELECT asset_id::text, text FROM photo_ai.ocr_result").fetchall())
    assert "发票" in texts[invoice] and "Invoice" in texts[invoice]
    assert "停车场" in texts[sign]
    found = db.execute(
        "SELECT asset_id FROM photo_ai.ocr_result WHERE tsv @@ to_tsquery('simple', '发票')"
    ).fetchall()
    assert [str(r[0]) for r in found] == [invoice], "the Chinese word is searchable"
    dims = db.execute(
        "SELECT vector_dims(embedding), model FROM photo_ai.clip_embedding"
    ).fetchall()
    assert dims == [(512, "ViT-B-16")] * 3
    counts = dict(
        db.execute("SELECT asset_id::text, face_count FROM photo_ai.face_scan").fetchall()
    )
    assert counts == {invoice: 0, sign: 0, faces: 2}
    assert db.execute("SELECT count(*) FROM photo_ai.face").fetchone()[0] == 2


def test_a_corrupt_image_fails_its_own_jobs_and_the_batch_goes_on(db, library):
    good, bad = add_assets(db, library / "sign.png", library / "corrupt.jpg")

    run_worker(database_of(db), batch_size=16)

    states = jobs(db)
    assert {states[(good, t)][0] for t in ("ocr", "clip", "faces")} == {"done"}
    for task in ("ocr", "clip", "faces"):
        state, attempts, error = states[(bad, task)]
        assert (state, attempts) == ("failed", 1), "a bad file is not worth retrying"
        assert "bad_image" in error
    failed = db.execute(
        "SELECT asset_id::text, task, last_error FROM photo_ai.failed_jobs"
    ).fetchall()
    assert {(a, t) for a, t, _ in failed} == {(bad, "ocr"), (bad, "clip"), (bad, "faces")}


def test_a_path_outside_the_library_roots_is_refused(db):
    (asset,) = add_assets(db, "/etc/passwd")
    run_worker(database_of(db))
    assert {v[0] for v in jobs(db).values()} == {"failed"}
    assert all("forbidden_path" in v[2] for v in jobs(db).values())


def run_worker_until_killed(database: str) -> None:
    with pytest.raises(psycopg.errors.AdminShutdown):
        run_worker(database, batch_size=6)


def test_jobs_of_a_killed_worker_are_finished_after_the_lease(db, library):
    db.execute("SELECT photo_ai.configure(lease_seconds => 2, tasks => '{ocr}')")
    add_assets(db, *[library / "invoice.png"] * 6)
    database = database_of(db)
    worker, _ = in_thread(run_worker_until_killed, database)
    pid = None
    for _ in range(500):
        row = db.execute(
            "SELECT DISTINCT worker_id FROM photo_ai.job WHERE state = 'running'"
        ).fetchone()
        if row:
            pid = int(row[0].split()[-1])
            break
        time.sleep(0.01)
    assert pid, "the worker claimed its batch"
    db.execute("SELECT pg_terminate_backend(%s)", [pid])
    worker.join(timeout=30)
    assert db.execute("SELECT count(*) FROM photo_ai.job WHERE state = 'running'").fetchone()[0] > 0

    time.sleep(2.5)
    summary = run_worker(database)

    assert summary.get("done", 0) > 0
    states = jobs(db).values()
    assert {s for s, _, _ in states} == {"done"}
    assert {a for _, a, _ in states} <= {1, 2}, "the killed claim counts as one attempt"


def test_four_workers_share_2000_jobs_exactly_once(db, library):
    db.execute("SELECT photo_ai.configure(tasks => '{clip}')")
    image_tasks_only(db)
    db.execute(
        "INSERT INTO photo_ai.asset (original_path) SELECT %s FROM generate_series(1, 2000)",
        [str(library / "sign.png")],
    )
    database = database_of(db)
    workers = [in_thread(run_worker, database, batch_size=32) for _ in range(4)]
    for thread, _ in workers:
        thread.join(timeout=600)

    summaries = [out[0] for _, out in workers]
    assert sum(s.get("done", 0) for s in summaries) == 2000, summaries
    attempts = db.execute("SELECT attempts, state, count(*) FROM photo_ai.job GROUP BY 1, 2")
    assert attempts.fetchall() == [(1, "done", 2000)], "each job was claimed exactly once"
    assert db.execute("SELECT count(*) FROM photo_ai.clip_embedding").fetchone()[0] == 2000


def test_a_deleted_asset_drops_its_jobs_and_results(db, library):
    kept, deleted, trashed = add_assets(db, *[library / "sign.png"] * 3)
    db.execute("DELETE FROM photo_ai.asset WHERE id = %s", [deleted])
    db.execute("UPDATE photo_ai.asset SET deleted_at = now() WHERE id = %s", [trashed])
    assert {a for a, _ in jobs(db)} == {kept}

    run_worker(database_of(db))
    for table in ("ocr_result", "clip_embedding", "face_scan"):
        owners = db.execute(f"SELECT asset_id::text FROM photo_ai.{table}").fetchall()
        assert owners == [(kept,)]

    db.execute("UPDATE photo_ai.asset SET deleted_at = now() WHERE id = %s", [kept])
    assert db.execute("SELECT count(*) FROM photo_ai.ocr_result").fetchone()[0] == 0
    db.execute("UPDATE photo_ai.asset SET deleted_at = NULL WHERE id = %s", [kept])
    assert {s for s, _, _ in jobs(db).values()} == {"queued"}, "restored from the trash"


def test_changed_content_is_queued_again_but_written_results_are_not(db, library):
    db.execute("SELECT photo_ai.configure(tasks => '{clip}')")
    (asset,) = add_assets(db, library / "sign.png")
    run_worker(database_of(db))
    db.execute("UPDATE photo_ai.asset SET updated_at = now() WHERE id = %s", [asset])
    assert jobs(db)[(asset, "clip")][0] == "done", "touching other columns queues nothing"

    db.execute("UPDATE photo_ai.asset SET checksum = '\\x01' WHERE id = %s", [asset])
    assert jobs(db)[(asset, "clip")][0] == "queued"
    run_worker(database_of(db))
    assert jobs(db)[(asset, "clip")][0] == "done"


def test_a_missing_model_waits_without_using_tries(conn, library, modelless_sidecar):
    point_at(conn, modelless_sidecar)
    (asset,) = add_assets(conn, library / "invoice.png")

    run_worker(database_of(conn))

    states = jobs(conn)
    assert states[(asset, "ocr")][0] == "done", "OCR ships with the sidecar and still works"
    for task in ("clip", "faces"):
        state, attempts, error = states[(asset, task)]
        assert (state, attempts) == ("queued", 0)
        assert "model_missing" in error
    status = dict(
        conn.execute(
            "SELECT DISTINCT task::text, model_detail FROM photo_ai.status"
            " WHERE NOT model_available"
        ).fetchall()
    )
    assert "clip_cn_vit-b-16.pt" in status["clip"] and "PHOTO_AI_MODEL_DIR" in status["clip"]
    assert "buffalo_l" in status["faces"]


def test_bytes_mode_sends_the_file_itself(db, library):
    db.execute("SELECT photo_ai.configure(send_image_bytes => true, tasks => '{ocr}')")
    (asset,) = add_assets(db, library / "invoice.png")
    assert run_worker(database_of(db)) == {"done": 1}
    text = db.execute("SELECT text FROM photo_ai.ocr_result").fetchone()[0]
    assert "发票" in text


def test_ai_reprocess_runs_now_and_twice_is_the_same(db, library, test_roles):
    (asset,) = add_assets(db, library / "faces.png")
    run_worker(database_of(db))
    before = db.execute("SELECT embedding::text FROM photo_ai.clip_embedding").fetchone()[0]

    first = db.execute("SELECT ai_reprocess(%s, immediate => true)", [asset]).fetchone()[0]
    second = db.execute("SELECT ai_reprocess(%s, immediate => true)", [asset]).fetchone()[0]

    assert first == second
    assert first["faces"]["count"] == 2 and first["clip"]["dim"] == 512
    assert {job["state"] for job in first["jobs"].values()} == {"done"}
    assert db.execute("SELECT count(*) FROM photo_ai.face").fetchone()[0] == 2
    after = db.execute("SELECT embedding::text FROM photo_ai.clip_embedding").fetchone()[0]
    assert after == before


def test_ai_reprocess_queues_ahead_of_the_backlog(db, library):
    db.execute("SELECT photo_ai.configure(tasks => '{clip}')")
    backlog = add_assets(db, *[library / "sign.png"] * 5)
    result = db.execute("SELECT ai_reprocess(%s, tasks => '{clip}')", [backlog[-1]]).fetchone()[0]
    assert result["jobs"]["clip"]["state"] == "queued"
    claimed = db.execute("SELECT (photo_ai.claim_batch('test', 1))[1].asset_id::text").fetchone()
    assert claimed[0] == backlog[-1]


def test_ai_reprocess_refuses_strangers_and_unknown_assets(db, library, test_roles):
    (asset,) = add_assets(db, library / "sign.png")
    with pytest.raises(psycopg.errors.NoDataFound, match="no asset"):
        db.execute("SELECT ai_reprocess('00000000-0000-0000-0000-000000000000')")
    db.execute(f"SET ROLE {test_roles['reader']}")
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        db.execute("SELECT ai_reprocess(%s)", [asset])
    db.execute("RESET ROLE")
    db.execute(f"SET ROLE {test_roles['admin']}")
    assert db.execute("SELECT ai_reprocess(%s)", [asset]).fetchone()[0]["asset_id"] == asset


def test_retry_failed_and_backfill(db, library):
    (bad,) = add_assets(db, library / "corrupt.jpg")
    run_worker(database_of(db))
    assert db.execute("SELECT photo_ai.retry_failed('ocr')").fetchone()[0] == 1
    assert jobs(db)[(bad, "ocr")][:2] == ("queued", 0)

    db.execute("ALTER TABLE photo_ai.asset DISABLE TRIGGER queue_inserted_assets")
    (missed,) = add_assets(db, library / "sign.png")
    db.execute("ALTER TABLE photo_ai.asset ENABLE TRIGGER queue_inserted_assets")
    assert not any(a == missed for a, _ in jobs(db))
    assert db.execute("SELECT photo_ai.backfill()").fetchone()[0] == 3
    assert db.execute("SELECT photo_ai.backfill()").fetchone()[0] == 0


def test_backfill_repairs_a_result_older_than_its_photo(db, library):
    db.execute("SELECT photo_ai.configure(tasks => '{clip}')")
    (asset,) = add_assets(db, library / "sign.png")
    run_worker(database_of(db))
    # the photo changes while queuing fails (a trigger's error is only a warning)
    db.execute("ALTER TABLE photo_ai.job ADD CONSTRAINT refuse_jobs CHECK (false) NOT VALID")
    db.execute("UPDATE photo_ai.asset SET checksum = '\\x02' WHERE id = %s", [asset])
    db.execute("ALTER TABLE photo_ai.job DROP CONSTRAINT refuse_jobs")
    assert jobs(db)[(asset, "clip")][0] == "done", "the old result stands"

    # the embedding, and the tags computed from it
    assert db.execute("SELECT photo_ai.backfill()").fetchone()[0] == 2
    # the tags job claimed beside the embedding's gives way to the one the new embedding
    # queues: tags are computed once, from the new embedding
    assert run_worker(database_of(db)) == {"done": 2, "superseded": 1}
    assert db.execute("SELECT photo_ai.backfill()").fetchone()[0] == 0


def test_a_failing_trigger_never_fails_the_insert(db, library):
    db.execute("ALTER TABLE photo_ai.job ADD CONSTRAINT refuse_jobs CHECK (false) NOT VALID")
    (asset,) = add_assets(db, library / "sign.png")
    assert asset and jobs(db) == {}


def test_schedule_worker_needs_pg_cron_and_says_so(db):
    with pytest.raises(psycopg.errors.RaiseException, match="pg_cron is not installed"):
        db.execute("SELECT photo_ai.schedule_worker()")
