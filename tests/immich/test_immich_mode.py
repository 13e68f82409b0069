"""photo_ai installed on Immich v2's own schema: Immich's uploads are analysed, the results
land where Immich reads them, and Immich's own queries find them."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import psycopg
import pytest

from tests.immich import immich_server as immich_ref
from tests.support import ROOT
from tests.support.database import superuser
from tests.support.pipeline import install_photo_ai, run_worker

LATER_MIGRATIONS_SQL = Path(__file__).with_name("immich_later_migrations.sql").read_text()

# Immich's tables and what photo_ai may never change in them
IMMICH_TABLES = (
    "asset",
    "asset_file",
    "asset_job_status",
    "smart_search",
    "asset_face",
    "face_search",
    "person",
    "asset_ocr",
    "ocr_search",
    "asset_exif",
    "asset_audit",
    "asset_face_audit",
    "system_metadata",
    "user",
)

IMMICH_CATALOG = """
select 'column ' || c.relname || '.' || a.attname || ' '
       || format_type(a.atttypid, a.atttypmod) || ' notnull=' || a.attnotnull
       || ' default=' || coalesce(pg_get_expr(d.adbin, d.adrelid), '')
from pg_attribute a
join pg_class c on c.oid = a.attrelid
left join pg_attrdef d on d.adrelid = a.attrelid and d.adnum = a.attnum
where c.relnamespace = 'public'::regnamespace and c.relname = any(%(tables)s)
  and a.attnum > 0 and not a.attisdropped
union all
select 'constraint ' || conrelid::regclass::text || ' ' || conname || ' '
       || pg_get_constraintdef(oid)
from pg_constraint where conrelid::regclass::text = any(%(quoted)s)
union all
select 'index ' || pg_get_indexdef(indexrelid)
from pg_index where indrelid::regclass::text = any(%(quoted)s)
union all
select 'trigger ' || pg_get_triggerdef(t.oid)
from pg_trigger t
where not t.tgisinternal and t.tgrelid::regclass::text = any(%(quoted)s)
  and t.tgname not like 'photo_ai%%'
order by 1
"""


def immich_catalog(conn: psycopg.Connection) -> list[str]:
    quoted = [('"user"' if t == "user" else t) for t in IMMICH_TABLES]
    rows = conn.execute(IMMICH_CATALOG, {"tables": list(IMMICH_TABLES), "quoted": quoted})
    return [r[0] for r in rows]


def immich_rows(conn: psycopg.Connection) -> dict[str, list]:
    """Every row of Immich's tables, as text, sorted."""
    out = {}
    for table in IMMICH_TABLES:
        rows = conn.execute(f'SELECT t::text FROM public."{table}" t ORDER BY 1').fetchall()
        out[table] = [r[0] for r in rows]
    return out


def photo_ai_triggers(conn: psycopg.Connection) -> list[str]:
    rows = conn.execute(
        "SELECT tgrelid::regclass::text || ' ' || tgname FROM pg_trigger "
        "WHERE tgname LIKE 'photo_ai%' ORDER BY 1"
    )
    return [r[0] for r in rows]


def source_tables(conn: psycopg.Connection) -> set[str]:
    """The tables the view photo_ai.source_asset reads."""
    rows = conn.execute(
        "SELECT DISTINCT d.refobjid::regclass::text FROM pg_depend d "
        "JOIN pg_rewrite r ON r.oid = d.objid AND d.classid = 'pg_rewrite'::regclass "
        "WHERE r.ev_class = 'photo_ai.source_asset'::regclass "
        "AND d.refobjid <> 'photo_ai.source_asset'::regclass "
        "AND d.refclassid = 'pg_class'::regclass"
    )
    return {r[0] for r in rows}


def jobs(conn: psycopg.Connection) -> dict[tuple[str, str], tuple]:
    """The image tasks' jobs (the immich_* tasks that copy their results follow them)."""
    rows = conn.execute(
        "SELECT j.asset_id::text, j.task, j.state::text, j.run_after <= now(), j.last_error "
        "FROM photo_ai.job j JOIN photo_ai.task t ON t.name = j.task WHERE t.reads = '{}'"
    ).fetchall()
    return {(r[0], r[1]): r[2:] for r in rows}


def upload_with_preview(immich, name: str, size=(800, 200)) -> dict:
    """An upload as Immich handles it: asset, metadata, then the preview."""
    original = immich.data_root / "upload" / "user" / name
    asset = immich.upload(immich.user_id, original)
    immich.extract_metadata(asset, *size)
    immich.make_preview(
        asset, immich.data_root / "thumbs" / "user" / (original.stem + "-preview.jpeg")
    )
    return asset


def predict(sidecar, entries: dict, image: bytes) -> dict:
    """A /predict request exactly as Immich's server sends it: no key."""
    response = httpx.post(
        f"{sidecar.url}/predict", files=immich_ref.predict_form(entries, image=image), timeout=120
    )
    assert response.status_code == 200, response.text
    return response.json()


# ---------------------------------------------------------------------------------------------


def test_create_extension_on_immich_attaches_and_changes_nothing_of_immich(immich, immich_sidecar):
    before = immich_catalog(immich.conn)

    install_photo_ai(immich.conn, immich_sidecar)

    conn = immich.conn
    assert conn.execute("SELECT photo_ai.setting('mode') #>> '{}'").fetchone()[0] == "immich"
    assert photo_ai_triggers(conn) == [
        "asset photo_ai_forget_deleted",
        "asset photo_ai_queue_inserted",
        "asset photo_ai_requeue_changed",
        "asset_file photo_ai_preview_made",
        "asset_file photo_ai_preview_remade",
    ]
    assert source_tables(conn) == {"asset", "asset_file"}
    assert immich_catalog(conn) == before, (
        "Immich's columns, constraints, indexes stay as they were"
    )


def test_immich_uploads_are_analysed_and_immichs_own_queries_find_them(attached, immich_sidecar):
    immich, conn = attached, attached.conn
    invoice = upload_with_preview(immich, "invoice.png")
    sign = upload_with_preview(immich, "sign.png")
    friends = upload_with_preview(immich, "friends.png", (640, 640))
    ids = {str(a["id"]) for a in (invoice, sign, friends)}
    assert {(a, s[0], s[1]) for (a, _), s in jobs(conn).items()} == {
        (a, "queued", True) for a in ids
    }, "queued at the upload, free to run once the preview is there"

    summary = run_worker(conn.info.dbname)
    assert summary == {"done": 9 + 9 + 3}, "and the immich_* jobs writing into Immich, tags"

    # CLIP: Immich's smart search ranks by smart_search.embedding
    assert conn.execute("SELECT count(*) FROM smart_search").fetchone()[0] == 3
    for asset in (invoice, sign, friends):
        preview = conn.execute(
            "SELECT path FROM asset_file WHERE \"assetId\" = %s AND type = 'preview'", [asset["id"]]
        ).fetchone()[0]
        with open(preview, "rb") as f:
            embedding = predict(immich_sidecar, immich_ref.clip_visual_request(), f.read())["clip"]
        found = immich_ref.search_smart(conn, immich.user_id, embedding)
        assert found[0] == str(asset["id"]), f"{asset['originalFileName']} ranks first for itself"
        assert len(found) == 3

    # OCR: Immich's own query (f_unaccent(ocr_search.text) %>> f_unaccent(tokens)) finds the
    # two-character Chinese words printed in the photos
    assert immich_ref.search_ocr(conn, immich.user_id, "发票") == [str(invoice["id"])]
    assert immich_ref.search_ocr(conn, immich.user_id, "停车") == [str(sign["id"])]
    assert immich_ref.search_ocr(conn, immich.user_id, "Invoice") == [str(invoice["id"])]
    lines = conn.execute(
        'SELECT text, x1, y1, x2, y2, x3, y3, x4, y4, "boxScore", "textScore" FROM asset_ocr '
        'WHERE "assetId" = %s',
        [invoice["id"]],
    ).fetchall()
    assert any("发票" in line[0] for line in lines)
    for _text, *box, box_score, text_score in lines:
        assert all(0 <= v <= 1 for v in box), "normalised 4-point boxes"
        assert box[0] < box[2] and box[5] > box[1], "clockwise from the top left"
        assert 0.5 <= box_score <= 1 and 0.8 < text_score <= 1, "Immich's default thresholds"
    search_text = conn.execute(
        'SELECT text FROM ocr_search WHERE "assetId" = %s', [invoice["id"]]
    ).fetchone()[0]
    expected = " ".join(t for line in lines for t in immich_ref.tokenize_for_search(line[0]))
    assert sorted(search_text.split()) == sorted(expected.split())
    assert "发票" in search_text.split() and "增值" in search_text.split()

    # faces: asset_face in the analysed image's pixels, face_search embeddings, no person yet
    faces = conn.execute(
        'SELECT "imageWidth", "imageHeight", "boundingBoxX1", "boundingBoxY1", "boundingBoxX2", '
        '"boundingBoxY2", "personId", "sourceType"::text, vector_dims(s.embedding) '
        'FROM asset_face f JOIN face_search s ON s."faceId" = f.id WHERE f."assetId" = %s '
        'ORDER BY "boundingBoxX1"',
        [friends["id"]],
    ).fetchall()
    assert faces == [
        (640, 640, 96, 96, 160, 160, None, "machine-learning", 512),
        (640, 640, 288, 288, 352, 352, None, "machine-learning", 512),
    ]
    assert conn.execute("SELECT count(*) FROM asset_face").fetchone()[0] == 2

    # asset_job_status: Immich's own OCR and face jobs see these assets as done
    status = conn.execute(
        'SELECT count(*) FILTER (WHERE "ocrAt" IS NOT NULL), '
        'count(*) FILTER (WHERE "facesRecognizedAt" IS NOT NULL), '
        'count(*) FILTER (WHERE "duplicatesDetectedAt" IS NULL) FROM asset_job_status'
    ).fetchone()
    assert status == (3, 3, 3)
    # photo_ai's own tables have the same results
    assert conn.execute("SELECT count(*) FROM photo_ai.clip_embedding").fetchone()[0] == 3
    assert conn.execute("SELECT count(*) FROM photo_ai.face").fetchone()[0] == 2
    # writing the results queued nothing again
    assert {s[0] for s in jobs(conn).values()} == {"done"}


def test_the_preview_is_analysed_and_the_original_only_when_none_comes(attached):
    immich, conn = attached, attached.conn
    with_preview = upload_with_preview(immich, "invoice.png")
    without = immich.upload(immich.user_id, immich.data_root / "upload" / "user" / "sign.png")
    paths = dict(conn.execute("SELECT id, path FROM photo_ai.source_asset").fetchall())
    assert paths[with_preview["id"]].endswith("thumbs/user/invoice-preview.jpeg")
    assert paths[without["id"]].endswith("upload/user/sign.png")
    waiting = jobs(conn)
    assert {v[1] for (a, _), v in waiting.items() if a == str(without["id"])} == {False}, (
        "the work of an asset without a preview waits for it"
    )

    run_worker(conn.info.dbname)
    states = jobs(conn)
    assert {v[0] for (a, _), v in states.items() if a == str(with_preview["id"])} == {"done"}
    assert {v[0] for (a, _), v in states.items() if a == str(without["id"])} == {"queued"}

    # no preview came within immich_preview_wait_seconds: the original is analysed
    conn.execute("UPDATE photo_ai.job SET run_after = now() WHERE state = 'queued'")
    assert run_worker(conn.info.dbname) == {"done": 3 + 3 + 1}
    assert immich_ref.search_ocr(conn, immich.user_id, "停车") == [str(without["id"])]


def test_a_video_is_analysed_once_it_has_a_preview_frame(attached):
    immich, conn = attached, attached.conn
    video = immich.upload(
        immich.user_id, immich.data_root / "upload" / "user" / "dark.png", asset_type="VIDEO"
    )
    assert jobs(conn) == {}, "a video has nothing to analyse before Immich extracts a frame"
    immich.make_preview(video, immich.data_root / "thumbs" / "user" / "dark-preview.jpeg")
    assert {(t, s[0]) for (_, t), s in jobs(conn).items()} == {
        ("ocr", "queued"),
        ("clip", "queued"),
        ("faces", "queued"),
    }
    assert run_worker(conn.info.dbname) == {"done": 3 + 3 + 1}
    assert conn.execute("SELECT count(*) FROM smart_search").fetchone()[0] == 1


def assign(conn, face_id, name: str, owner) -> str:
    """What Immich's recognition job (or a user naming a face) does: a person, its face."""
    person = conn.execute(
        'INSERT INTO person ("ownerId", name, "faceAssetId") VALUES (%s, %s, %s) RETURNING id',
        [owner, name, face_id],
    ).fetchone()[0]
    conn.execute('UPDATE asset_face SET "personId" = %s WHERE id = %s', [person, face_id])
    return person


def faces_of(conn, asset) -> list[tuple]:
    return conn.execute(
        'SELECT id, "personId", "boundingBoxX1" FROM asset_face WHERE "assetId" = %s '
        'ORDER BY "boundingBoxX1"',
        [asset["id"]],
    ).fetchall()


def persons_of(conn, asset) -> list:
    return [face[1] for face in faces_of(conn, asset)]


def analysed(immich, *names: str) -> list[dict]:
    """Face pictures (640 x 640) uploaded as Immich handles them, then the worker's run."""
    assets = [upload_with_preview(immich, name, (640, 640)) for name in names]
    run_worker(immich.conn.info.dbname)
    return assets


def test_new_faces_join_the_nearest_person_within_immichs_max_distance(attached):
    immich, conn = attached, attached.conn
    [friends] = analysed(immich, "friends.png")
    (bob_face, _, _), (alice_face, _, _) = faces_of(conn, friends)  # bar at 96, dots at 288
    alice = assign(conn, alice_face, "Alice", immich.user_id)
    bob = assign(conn, bob_face, "Bob", immich.user_id)

    alice_again, bob_again = analysed(immich, "alice_again.png", "bob_again.png")
    assert persons_of(conn, alice_again) == [alice]
    assert persons_of(conn, bob_again) == [bob]

    # Immich's max distance as its admin set it: a face further than that from every named
    # face is left to Immich's own recognition job (personId null)
    conn.execute(
        "INSERT INTO system_metadata (key, value) VALUES ('system-config', %s)",
        [json.dumps({"machineLearning": {"facialRecognition": {"maxDistance": 0.01}}})],
    )
    [stranger] = analysed(immich, "stranger.png")
    assert persons_of(conn, stranger) == [None]


def test_joining_persons_can_be_left_to_immich(attached):
    immich, conn = attached, attached.conn
    [friends] = analysed(immich, "friends.png")
    assign(conn, faces_of(conn, friends)[1][0], "Alice", immich.user_id)
    settings = conn.execute("SELECT photo_ai.attach_immich(join_persons => false)").fetchone()[0]
    assert settings["join_persons"] is False
    [alice_again] = analysed(immich, "alice_again.png")
    assert persons_of(conn, alice_again) == [None]


def test_reprocessing_keeps_faces_their_persons_and_manual_faces(attached):
    immich, conn = attached, attached.conn
    [friends] = analysed(immich, "friends.png")
    before = faces_of(conn, friends)
    alice = assign(conn, before[1][0], "Alice", immich.user_id)
    manual = conn.execute(
        'INSERT INTO asset_face ("assetId", "personId", "imageWidth", "imageHeight", '
        '"boundingBoxX1", "boundingBoxY1", "boundingBoxX2", "boundingBoxY2", "sourceType") '
        "VALUES (%s, %s, 640, 640, 500, 500, 600, 600, 'manual') RETURNING id",
        [friends["id"], alice],
    ).fetchone()[0]

    result = conn.execute(
        "SELECT ai_reprocess(%s, '{faces}', immediate => true)", [friends["id"]]
    ).fetchone()[0]

    assert result["jobs"]["faces"]["state"] == "done"
    after = faces_of(conn, friends)
    assert after == sorted(
        before[:1] + [(before[1][0], alice, before[1][2])] + [(manual, alice, 500)],
        key=lambda f: f[2],
    )
    assert conn.execute("SELECT count(*) FROM asset_face_audit").fetchone()[0] == 0, (
        "no face was deleted and made again"
    )


def test_a_face_found_no_more_goes_and_immichs_audit_sees_it(attached):
    immich, conn = attached, attached.conn
    [friends] = analysed(immich, "friends.png")
    # the picture changes: Immich's library scan sees a new checksum, makes a new preview
    conn.execute("UPDATE asset SET checksum = %s WHERE id = %s", [b"\x01" * 20, friends["id"]])
    assert {s[1] for s in jobs(conn).values()} == {False}, "waits for the new preview"
    conn.execute(
        "UPDATE asset_file SET path = %s WHERE \"assetId\" = %s AND type = 'preview'",
        [str(immich.data_root / "thumbs" / "user" / "alice_again-preview.jpeg"), friends["id"]],
    )
    assert run_worker(conn.info.dbname) == {"done": 3 + 3 + 1}
    assert len(faces_of(conn, friends)) == 1
    assert conn.execute("SELECT count(*) FROM asset_face_audit").fetchone()[0] == 2, (
        "Immich's own audit trigger recorded the two faces that went"
    )


def test_trash_restore_move_and_delete(attached):
    immich, conn = attached, attached.conn
    asset = upload_with_preview(immich, "invoice.png")
    run_worker(conn.info.dbname)

    conn.execute(
        "UPDATE asset SET \"deletedAt\" = now(), status = 'trashed' WHERE id = %s", [asset["id"]]
    )
    assert jobs(conn) == {}
    assert conn.execute("SELECT count(*) FROM photo_ai.ocr_result").fetchone()[0] == 0
    assert conn.execute("SELECT count(*) FROM smart_search").fetchone()[0] == 1, (
        "Immich's own rows stay for a restore"
    )
    conn.execute(
        "UPDATE asset SET \"deletedAt\" = null, status = 'active' WHERE id = %s", [asset["id"]]
    )
    assert {s[0] for s in jobs(conn).values()} == {"queued"}
    run_worker(conn.info.dbname)

    # the storage template moves the file: nothing to analyse again
    conn.execute(
        'UPDATE asset SET "originalPath" = %s WHERE id = %s',
        [str(immich.data_root / "library" / "invoice.png"), asset["id"]],
    )
    assert {s[0] for s in jobs(conn).values()} == {"done"}

    conn.execute("DELETE FROM asset WHERE id = %s", [asset["id"]])
    assert jobs(conn) == {}
    assert conn.execute("SELECT count(*) FROM smart_search").fetchone()[0] == 0


def test_backfill_queues_an_existing_library_and_status_shows_it(immich, immich_sidecar):
    immich.user_id = immich.create_user()
    for name in ("invoice.png", "sign.png", "dark.png"):
        upload_with_preview(immich, name)
    conn = immich.conn

    install_photo_ai(conn, immich_sidecar)
    assert jobs(conn) == {}, "installing queues nothing by itself"
    assert conn.execute("SELECT photo_ai.backfill()").fetchone()[0] == 9
    queued = conn.execute(
        "SELECT sum(jobs) FROM photo_ai.status WHERE state = 'queued'"
    ).fetchone()[0]
    assert queued == 9

    assert run_worker(conn.info.dbname) == {"done": 9 + 9 + 3}
    done = dict(
        conn.execute("SELECT task::text, jobs FROM photo_ai.status WHERE state = 'done'").fetchall()
    )
    assert done == {
        **{"ocr": 3, "clip": 3, "faces": 3},
        **{"immich_ocr": 3, "immich_clip": 3, "immich_faces": 3},
        "tags": 3,
    }
    assert conn.execute("SELECT photo_ai.backfill()").fetchone()[0] == 0
    assert conn.execute("SELECT count(*) FROM smart_search").fetchone()[0] == 3


def test_immichs_settings_decide_what_reaches_its_tables(attached):
    immich, conn = attached, attached.conn
    conn.execute(
        "INSERT INTO system_metadata (key, value) VALUES ('system-config', %s)",
        [
            json.dumps(
                {
                    "machineLearning": {
                        "ocr": {"enabled": False},
                        "facialRecognition": {"enabled": False},
                    }
                }
            )
        ],
    )
    upload_with_preview(immich, "invoice.png")
    assert run_worker(conn.info.dbname) == {"done": 3 + 3 + 1}
    counts = conn.execute(
        "SELECT (SELECT count(*) FROM asset_ocr), (SELECT count(*) FROM ocr_search), "
        "(SELECT count(*) FROM smart_search), (SELECT count(*) FROM photo_ai.ocr_result)"
    ).fetchone()
    assert counts == (0, 0, 1, 1), "OCR off in Immich: Immich gets none, photo_ai keeps its own"


def test_a_clip_model_of_another_size_in_immich_fails_with_a_clear_message(attached):
    immich, conn = attached, attached.conn
    # what Immich does when its admin picks a 768-dimension CLIP model
    conn.execute("ALTER TABLE smart_search ALTER COLUMN embedding SET DATA TYPE vector(768)")
    conn.execute("SELECT photo_ai.configure(tasks => '{clip}', max_attempts => 1)")
    upload_with_preview(immich, "invoice.png")
    run_worker(conn.info.dbname)
    (error,) = conn.execute("SELECT last_error FROM photo_ai.failed_jobs").fetchone()
    assert "smart_search holds 768 dimensions" in error


def test_immichs_later_migrations_run_after_photo_ai(attached):
    immich, conn = attached, attached.conn
    asset = upload_with_preview(immich, "invoice.png")
    run_worker(conn.info.dbname)

    conn.execute(LATER_MIGRATIONS_SQL)

    assert {s[0] for s in jobs(conn).values()} == {"done"}, "Immich's bulk UPDATE queued nothing"
    width = conn.execute("SELECT width FROM asset WHERE id = %s", [asset["id"]]).fetchone()[0]
    assert width == 800
    # an edited copy's preview does not displace the preview of the original picture
    conn.execute(
        'INSERT INTO asset_file ("assetId", type, path, "isEdited") '
        "VALUES (%s, 'preview', %s, true)",
        [asset["id"], str(immich.data_root / "thumbs" / "user" / "sign-preview.jpeg")],
    )
    path = conn.execute(
        "SELECT path FROM photo_ai.source_asset WHERE id = %s", [asset["id"]]
    ).fetchone()[0]
    assert path.endswith("invoice-preview.jpeg")
    # and photo_ai still writes the newer tables
    conn.execute("SELECT ai_reprocess(%s, immediate => true)", [asset["id"]])
    assert conn.execute('SELECT bool_and("isVisible") FROM asset_ocr').fetchone()[0] is True


def test_upgrades_keep_immich_mode(attached):
    conn = attached.conn
    version = conn.execute("SELECT photo_ai.version()").fetchone()[0]
    body = (ROOT / "extensions" / "photo_ai" / f"photo_ai--{version}.sql").read_text()
    body = body.split("\\quit", 1)[1].replace("create schema photo_ai;", "")
    triggers = photo_ai_triggers(conn)
    with conn.transaction():
        conn.execute(body)  # what ALTER EXTENSION ... UPDATE runs
    assert photo_ai_triggers(conn) == triggers
    assert source_tables(conn) == {"asset", "asset_file"}


def test_an_old_photo_ai_on_immich_is_upgraded_into_immich_mode(immich, immich_sidecar):
    conn = immich.conn
    conn.execute("CREATE EXTENSION photo_ai VERSION '0.1.0' CASCADE")
    conn.execute("ALTER EXTENSION photo_ai UPDATE")
    assert conn.execute("SELECT photo_ai.setting('mode') #>> '{}'").fetchone()[0] == "immich"
    assert len(photo_ai_triggers(conn)) == 5


def test_detach_and_attach_again(attached):
    immich, conn = attached, attached.conn
    assert conn.execute("SELECT photo_ai.detach_immich()").fetchone()[0] == {"mode": "standalone"}
    assert photo_ai_triggers(conn) == []
    upload_with_preview(immich, "invoice.png")
    assert jobs(conn) == {}
    assert conn.execute("SELECT count(*) FROM photo_ai.source_asset").fetchone()[0] == 0

    attached_again = conn.execute("SELECT photo_ai.attach_immich()").fetchone()[0]
    assert attached_again["mode"] == "immich" and attached_again["without_jobs"] == 1
    assert len(photo_ai_triggers(conn)) == 5
    assert conn.execute("SELECT photo_ai.backfill()").fetchone()[0] == 3


def test_drop_extension_cascade_leaves_immich_and_its_data_intact(attached):
    immich, conn = attached, attached.conn
    friends = upload_with_preview(immich, "friends.png", (640, 640))
    upload_with_preview(immich, "invoice.png")
    run_worker(conn.info.dbname)
    assign(conn, faces_of(conn, friends)[0][0], "Bob", immich.user_id)
    catalog, rows = immich_catalog(conn), immich_rows(conn)
    assert rows["smart_search"] and rows["asset_ocr"] and rows["face_search"]

    conn.execute("DROP EXTENSION photo_ai CASCADE")

    assert immich_catalog(conn) == catalog
    assert immich_rows(conn) == rows, "every Immich row, photo_ai's results included, is kept"
    assert photo_ai_triggers(conn) == []
    assert conn.execute("SELECT to_regnamespace('photo_ai')").fetchone()[0] is None
    # Immich goes on without it
    upload_with_preview(immich, "sign.png")
    conn.execute("DELETE FROM asset WHERE id = %s", [friends["id"]])


def test_without_immich_photo_ai_stays_standalone(make_database):
    with superuser(make_database()) as conn:
        conn.execute("CREATE EXTENSION photo_ai CASCADE")
        assert conn.execute("SELECT photo_ai.setting('mode') #>> '{}'").fetchone()[0] == "auto"
        assert source_tables(conn) == {"photo_ai.asset"}
        assert photo_ai_triggers(conn) == []
        with pytest.raises(psycopg.errors.RaiseException, match="missing: asset, asset_file"):
            conn.execute("SELECT photo_ai.attach_immich()")
        assert conn.execute("SELECT photo_ai.detach_immich()").fetchone()[0] == {
            "mode": "standalone"
        }


@pytest.mark.parametrize(
    "text",
    [
        "发票",
        "增值税专用发票 合计 ¥128.50",
        "Invoice 2024",
        "停车场 出口",
        "发",
        "a发b票c",
        "日本語のテキスト",
        "한국어 텍스트",
        "Café  crème\tbrûlée\n日",
        "ABC123",
        "中文English混合",
        "  ",
        "",
        "𠀀𠀁 emoji 😀字",
        "全角ＡＢＣ１２３",
    ],
)
def test_the_search_tokens_are_immichs(conn, text):
    ours = conn.execute("SELECT photo_ai.immich_search_tokens(%s)", [text]).fetchone()[0]
    assert ours == immich_ref.tokenize_for_search(text)


def test_a_job_failed_for_a_file_that_moved_is_tried_again(attached):
    immich, conn = attached, attached.conn
    # uploaded, then moved by the storage template before photo_ai got to it (no preview)
    gone = immich.data_root / "upload" / "user" / "moved-away.png"
    gone.write_bytes((immich.data_root / "upload" / "user" / "sign.png").read_bytes())
    gone.chmod(0o644)
    asset = immich.upload(immich.user_id, gone)
    gone.unlink()
    conn.execute("UPDATE photo_ai.job SET run_after = now()")
    run_worker(conn.info.dbname)
    assert {s[0] for s in jobs(conn).values()} == {"failed"}

    conn.execute(
        'UPDATE asset SET "originalPath" = %s WHERE id = %s',
        [str(immich.data_root / "upload" / "user" / "sign.png"), asset["id"]],
    )
    assert {s[0] for s in jobs(conn).values()} == {"queued"}
    assert run_worker(conn.info.dbname) == {"done": 3 + 3 + 1}


def test_a_failure_to_queue_never_fails_immichs_upload(attached):
    immich, conn = attached, attached.conn
    conn.execute("ALTER TABLE photo_ai.job ADD CONSTRAINT refuse_jobs CHECK (false) NOT VALID")
    notices = []
    conn.add_notice_handler(lambda d: notices.append(d.message_primary))
    upload_with_preview(immich, "invoice.png")
    assert any("could not follow an INSERT of assets" in n for n in notices)
    assert conn.execute("SELECT count(*) FROM asset").fetchone()[0] == 1
    assert jobs(conn) == {}
    conn.execute("ALTER TABLE photo_ai.job DROP CONSTRAINT refuse_jobs")
    assert conn.execute("SELECT photo_ai.backfill()").fetchone()[0] == 3


def test_person_searches_immichs_named_persons_and_photo_ai_groups_none(attached):
    immich, conn = attached, attached.conn
    friends, alice_again = analysed(immich, "friends.png", "alice_again.png")
    alice = assign(conn, faces_of(conn, friends)[1][0], "Alice", immich.user_id)
    assert persons_of(conn, alice_again) == [None]  # photo_ai joins persons only as they arrive
    conn.execute(
        'UPDATE asset_face SET "personId" = %s WHERE "assetId" = %s', [alice, alice_again["id"]]
    )

    found = conn.execute(
        "SELECT asset_id FROM photo_ai.hybrid_search('person:alice', 100)"
    ).fetchall()
    assert {r[0] for r in found} == {friends["id"], alice_again["id"]}
    # Immich's persons are Immich's: photo_ai keeps no persons of its own there
    assert conn.execute("SELECT count(*) FROM photo_ai.person").fetchone()[0] == 0
    assert "people" not in {t for (_, t) in jobs(conn)}
