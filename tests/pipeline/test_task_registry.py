"""Tasks are data: a task registered as a row is queued, run, shown and forgotten by the
pipeline as it is, without editing any of photo_ai's functions."""

from __future__ import annotations

import psycopg
import pytest

from tests.support.pipeline import add_assets, database_of, jobs, run_worker

# A throw-away derived task: how many characters the OCR read, computed in the database.
CHARACTER_COUNT = """
CREATE SCHEMA scratch;
CREATE TABLE scratch.character_count (asset_id uuid PRIMARY KEY, characters int NOT NULL);
CREATE FUNCTION scratch.count_characters(_asset_id uuid) RETURNS jsonb LANGUAGE sql AS $$
    SELECT jsonb_build_object('characters', char_length(text))
    FROM photo_ai.ocr_result WHERE asset_id = _asset_id $$;
CREATE FUNCTION scratch.store_count(_asset_id uuid, _result jsonb) RETURNS void
LANGUAGE sql AS $$
    INSERT INTO scratch.character_count VALUES (_asset_id, (_result->>'characters')::int)
    ON CONFLICT (asset_id) DO UPDATE SET characters = excluded.characters $$;
INSERT INTO photo_ai.task (name, reads, compute, store, result_tables, description) VALUES
    ('character_count', '{ocr}', 'scratch.count_characters(uuid)',
     'scratch.store_count(uuid,jsonb)', '{scratch.character_count}',
     'how many characters the OCR read');
"""


def counts(conn: psycopg.Connection) -> dict[str, int]:
    return dict(conn.execute("SELECT asset_id::text, characters FROM scratch.character_count"))


def test_a_registered_derived_task_is_queued_run_and_forgotten(db, library):
    db.execute(CHARACTER_COUNT)
    db.execute("SELECT photo_ai.configure(tasks => '{ocr}')")
    invoice, sign = add_assets(db, library / "invoice.png", library / "sign.png")
    assert {t for _, t in jobs(db)} == {"ocr"}, "queued when its input is stored, not before"

    assert run_worker(database_of(db)) == {"done": 4}

    texts = dict(db.execute("SELECT asset_id::text, char_length(text) FROM photo_ai.ocr_result"))
    assert counts(db) == texts and texts[invoice] > 10
    assert jobs(db)[(invoice, "character_count")][0] == "done"
    status = dict(db.execute("SELECT task, jobs FROM photo_ai.status WHERE state = 'done'"))
    assert status == {"ocr": 2, "character_count": 2}

    db.execute("DELETE FROM photo_ai.asset WHERE id = %s", [invoice])
    assert counts(db).keys() == {sign}, "forgotten with its photo"


def test_a_new_derived_task_applies_to_photos_analysed_before_it(db, library):
    db.execute("SELECT photo_ai.configure(tasks => '{ocr}')")
    (invoice,) = add_assets(db, library / "invoice.png")
    run_worker(database_of(db))

    db.execute(CHARACTER_COUNT)
    assert db.execute("SELECT photo_ai.backfill()").fetchone()[0] == 1
    assert run_worker(database_of(db)) == {"done": 1}
    assert invoice in counts(db)


def test_reprocessing_runs_the_derived_tasks_too(db, library):
    db.execute(CHARACTER_COUNT)
    db.execute("SELECT photo_ai.configure(tasks => '{ocr}')")
    (invoice,) = add_assets(db, library / "invoice.png")
    result = db.execute("SELECT ai_reprocess(%s, immediate => true)", [invoice]).fetchone()[0]
    assert {t: j["state"] for t, j in result["jobs"].items()} == {
        "ocr": "done",
        "character_count": "done",
    }
    assert invoice in counts(db)


def test_a_task_that_is_off_by_default_runs_when_named(db, library):
    db.execute(CHARACTER_COUNT)
    db.execute("UPDATE photo_ai.task SET on_by_default = false WHERE name = 'character_count'")
    enabled = db.execute("SELECT photo_ai.enabled_tasks()").fetchone()[0]
    assert sorted(enabled) == ["clip", "faces", "ocr", "people", "tags"]
    db.execute("SELECT photo_ai.configure(tasks => '{ocr,character_count}')")
    assert db.execute("SELECT photo_ai.enabled_tasks()").fetchone()[0] == [
        "ocr",
        "character_count",
    ]
    db.execute("SELECT photo_ai.configure(tasks => '{clip,character_count}')")
    assert db.execute("SELECT photo_ai.enabled_tasks()").fetchone()[0] == ["clip", "tags"], (
        "a derived task whose input does not run does not run either"
    )


def test_immich_tasks_run_only_in_immich_mode(conn):
    enabled = conn.execute("SELECT photo_ai.enabled_tasks()").fetchone()[0]
    assert not any(t.startswith("immich_") for t in enabled)


WRITE_OCR = "photo_ai.write_ocr(uuid,jsonb)"


@pytest.mark.parametrize(
    "reads, compute, store, tables, message",
    [
        ("{}", None, "photo_ai.describe_image_results(uuid)", "{}", "store function of task x"),
        ("{ocr}", WRITE_OCR, WRITE_OCR, "{}", "compute function of task x"),
        ("{nothing}", "photo_ai.describe_image_results(uuid)", WRITE_OCR, "{}", "not registered"),
        ("{}", None, WRITE_OCR, "{photo_ai.setting_default}", "need an asset_id uuid column"),
    ],
)
def test_a_task_whose_functions_do_not_fit_is_refused_with_a_reason(
    conn, reads, compute, store, tables, message
):
    with pytest.raises(psycopg.errors.RaiseException, match=message):
        conn.execute(
            "INSERT INTO photo_ai.task (name, reads, compute, store, result_tables, description) "
            "VALUES ('x', %s, %s, %s, %s, 'test')",
            [reads, compute, store, tables],
        )


def test_configure_refuses_a_task_nobody_registered(conn):
    with pytest.raises(psycopg.errors.RaiseException, match="unknown task"):
        conn.execute("SELECT photo_ai.configure(tasks => '{ocr,colour}')")


def test_a_task_that_is_unregistered_takes_its_jobs_along(db, library):
    db.execute(CHARACTER_COUNT)
    db.execute("SELECT photo_ai.configure(tasks => '{ocr}')")
    add_assets(db, library / "sign.png")
    run_worker(database_of(db))
    assert {t for _, t in jobs(db)} == {"ocr", "character_count"}
    db.execute("DELETE FROM photo_ai.task WHERE name = 'character_count'")
    assert {t for _, t in jobs(db)} == {"ocr"}
    with pytest.raises(psycopg.errors.RaiseException, match="keeps its name"):
        db.execute("UPDATE photo_ai.task SET name = 'text' WHERE name = 'ocr'")
