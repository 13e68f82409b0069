"""photo_ai installed on Immich v3.1's own schema: Immich's jobs stay the only writers of
Immich's tables, and photo_ai indexes what they wrote (its Chinese text index from asset_ocr,
smart_search's vectors read in place, Immich's persons), with no sidecar in the normal flow."""

from __future__ import annotations

import subprocess
from pathlib import Path

import psycopg
import pytest

from photo_ai_cli.local import dsn
from tests.immich import immich_server as immich_ref
from tests.immich.immich_server import ocr_line
from tests.support import ROOT
from tests.support.database import superuser
from tests.support.pipeline import run_worker

# Immich's tables: photo_ai may change none of their columns, constraints or indexes
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
    "asset_ocr_audit",
    "system_metadata",
    "user",
)
# what Immich's machine-learning jobs write: photo_ai must leave every row as it is
IMMICH_RESULTS = ("asset_ocr", "ocr_search", "smart_search", "asset_face", "face_search")

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

PHOTO_AI_TRIGGERS = [
    "asset photo_ai_forget_deleted",
    "asset_ocr photo_ai_ocr_deleted",
    "asset_ocr photo_ai_ocr_inserted",
    "asset_ocr photo_ai_ocr_updated",
    "smart_search photo_ai_embedding_inserted",
    "smart_search photo_ai_embedding_updated",
]

# what Immich's OCR job wrote for three photos (as the ML service read their previews)
INVOICE = [
    ocr_line("增值税专用发票", 0.05, 0.08, left=0.25),
    ocr_line("购买方 北京市海淀区某某科技有限公司", 0.2, 0.03),
    ocr_line("金额1,234.00", 0.3, 0.03),
    ocr_line("开票日期2026-07-30", 0.35, 0.03),
    ocr_line("税额160.42", 0.4, 0.03),
]
SIGN = [ocr_line("海淀区图书馆", 0.3, 0.15, left=0.1), ocr_line("开放时间 9:00-21:00", 0.6, 0.05)]
RECEIPT = [ocr_line("超市购物小票", 0.1, 0.06), ocr_line("如需发票请到服务台", 0.8, 0.02)]


def immich_catalog(conn: psycopg.Connection) -> list[str]:
    quoted = [('"user"' if t == "user" else t) for t in IMMICH_TABLES]
    rows = conn.execute(IMMICH_CATALOG, {"tables": list(IMMICH_TABLES), "quoted": quoted})
    return [r[0] for r in rows]


def immich_rows(conn: psycopg.Connection, tables=IMMICH_TABLES) -> dict[str, list]:
    """Every row of Immich's tables, as text, sorted."""
    return {
        table: [r[0] for r in conn.execute(f'SELECT t::text FROM public."{table}" t ORDER BY 1')]
        for table in tables
    }


def photo_ai_triggers(conn: psycopg.Connection) -> list[str]:
    rows = conn.execute(
        "SELECT tgrelid::regclass::text || ' ' || tgname FROM pg_trigger "
        "WHERE tgname LIKE 'photo_ai%' ORDER BY 1"
    )
    return [r[0] for r in rows]


def view_tables(conn: psycopg.Connection, view: str) -> set[str]:
    """The tables a view of photo_ai's reads."""
    rows = conn.execute(
        "SELECT DISTINCT d.refobjid::regclass::text FROM pg_depend d "
        "JOIN pg_rewrite r ON r.oid = d.objid AND d.classid = 'pg_rewrite'::regclass "
        "WHERE r.ev_class = %s::regclass AND d.refobjid <> %s::regclass "
        "AND d.refclassid = 'pg_class'::regclass",
        [view, view],
    )
    return {r[0] for r in rows}


def jobs(conn: psycopg.Connection) -> dict[tuple[str, str], tuple]:
    rows = conn.execute("SELECT asset_id::text, task, state::text, worker_id FROM photo_ai.job")
    return {(r[0], r[1]): r[2:] for r in rows}


def upload(immich, name: str, size=(800, 600)) -> dict:
    """An upload as Immich handles it: asset, metadata, then the preview."""
    asset = immich.upload(immich.user_id, immich.data_root / "upload" / "user" / name)
    immich.extract_metadata(asset, *size)
    immich.make_preview(
        asset, immich.data_root / "thumbs" / "user" / (Path(name).stem + "-preview.jpeg")
    )
    return asset


def embedding(*hot: int) -> str:
    """A 512-dimension unit vector spread over the given dimensions, as Immich stores one."""
    values = [0.0] * 512
    for i in hot:
        values[i] = 1 / len(hot) ** 0.5
    return "[" + ",".join(str(v) for v in values) + "]"


def search(conn: psycopg.Connection, query: str) -> list[str]:
    rows = conn.execute("SELECT asset_id::text FROM hybrid_search(%s, 20)", [query]).fetchall()
    return [r[0] for r in rows]


@pytest.fixture
def offline(immich) -> object:
    """photo_ai on Immich with no sidecar reachable (its URL answers nothing)."""
    immich.conn.execute("CREATE EXTENSION photo_ai CASCADE")
    immich.conn.execute("SELECT photo_ai.configure(sidecar_url => 'http://127.0.0.1:9')")
    immich.user_id = immich.create_user()
    return immich


@pytest.fixture
def library(offline) -> dict:
    """An invoice, a sign and a receipt uploaded, and Immich's jobs' rows for them: OCR,
    smart search, and a face with a person on the sign."""
    immich = offline
    files = {"invoice": "invoice.png", "sign": "sign.png", "receipt": "dark.png"}
    assets = {name: upload(immich, file) for name, file in files.items()}
    for name, lines in (("invoice", INVOICE), ("sign", SIGN), ("receipt", RECEIPT)):
        immich.write_ocr(assets[name], lines)
    immich.write_clip(assets["invoice"], embedding(0, 10))
    immich.write_clip(assets["sign"], embedding(1, 10))  # nearer the invoice than the receipt
    immich.write_clip(assets["receipt"], embedding(0, 11, 12))
    (face,) = immich.write_faces(assets["sign"], (800, 600), [(10, 10, 90, 90, embedding(5))])
    immich.name_person(immich.create_person(immich.user_id, face), "小明")
    return {name: str(asset["id"]) for name, asset in assets.items()}


# ---------------------------------------------------------------------------------------------


def test_create_extension_on_immich_attaches_and_changes_nothing_of_immich(immich):
    before = immich_catalog(immich.conn)

    immich.conn.execute("CREATE EXTENSION photo_ai CASCADE")

    conn = immich.conn
    assert conn.execute("SELECT photo_ai.setting('mode') #>> '{}'").fetchone()[0] == "immich"
    assert photo_ai_triggers(conn) == PHOTO_AI_TRIGGERS
    assert view_tables(conn, "photo_ai.source_asset") == {"asset", "asset_file"}
    assert view_tables(conn, "photo_ai.image_embedding") == {"smart_search"}
    assert immich_catalog(conn) == before, "Immich's columns, constraints, indexes stay"


def test_immichs_ocr_rows_are_indexed_with_no_sidecar_and_left_as_immich_wrote_them(
    offline, library
):
    conn = offline.conn
    written = immich_rows(conn, IMMICH_RESULTS)
    assert all(written.values()), "Immich's jobs wrote every table"

    summary = run_worker(conn.info.dbname)

    assert summary["done"] == 3, "one ocr_from_immich job per photo, no second inference"
    assert search(conn, "ocr:发票")[:2] == [library["invoice"], library["receipt"]], (
        "the invoice's title outranks the receipt's small print"
    )
    assert search(conn, "ocr:海淀")[0] == library["sign"]
    assert library["invoice"] not in search(conn, "ocr:图书馆")
    assert search(conn, "ocr:图书馆") == [library["sign"]]
    assert immich_rows(conn, IMMICH_RESULTS) == written, "byte for byte as Immich wrote them"
    # Immich's own unchanged queries still find them
    assert offline.search_smart(offline.user_id, embedding(0, 10))[0] == library["invoice"]
    assert set(offline.search_ocr(offline.user_id, "发票")) == {
        library["receipt"],
        library["invoice"],
    }
    # Immich computed the image tasks: photo_ai records them, analyses nothing itself
    recorded = jobs(conn)
    assert {recorded[(library[n], "ocr")] for n in library} == {("done", "immich")}
    assert {recorded[(library[n], "clip")] for n in library} == {("done", "immich")}
    assert not any(task == "faces" for _, task in recorded)
    # the tags wait for the sidecar, and status says so instead of waiting silently
    problem = conn.execute(
        "SELECT problem FROM photo_ai.status WHERE task = 'tags' AND problem IS NOT NULL"
    ).fetchone()
    assert problem and "sidecar" in problem[0]


def test_smart_search_is_read_in_place_and_persons_are_immichs(offline, library):
    conn = offline.conn
    run_worker(conn.info.dbname)
    similar = conn.execute(
        "SELECT asset_id::text FROM similar_assets(%s, 5)", [library["invoice"]]
    ).fetchall()
    assert [r[0] for r in similar] == [library["sign"], library["receipt"]], (
        "ranked by Immich's own smart_search vectors"
    )
    assert conn.execute("SELECT count(*) FROM photo_ai.clip_embedding").fetchone()[0] == 0
    assert search(conn, "person:小明") == [library["sign"]]
    assert conn.execute("SELECT count(*) FROM photo_ai.person").fetchone()[0] == 0


def test_immichs_ocr_job_running_again_reindexes_and_removed_text_is_forgotten(offline, library):
    conn = offline.conn
    run_worker(conn.info.dbname)
    invoice = {"id": library["invoice"]}
    recorded = "SELECT generation FROM photo_ai.job WHERE asset_id = %s AND task = %s"
    before = [
        conn.execute(recorded, [invoice["id"], t]).fetchone()[0] for t in ("ocr", "ocr_from_immich")
    ]
    offline.write_ocr(invoice, [ocr_line("海淀区图书馆借书单", 0.1, 0.1)])
    after = [
        conn.execute(recorded, [invoice["id"], t]).fetchone()[0] for t in ("ocr", "ocr_from_immich")
    ]
    assert after == [g + 1 for g in before], "one write of Immich's, recorded and queued once"
    offline.write_ocr({"id": library["sign"]}, [])  # Immich found no text this time
    run_worker(conn.info.dbname)
    assert search(conn, "ocr:发票") == [library["receipt"]]
    assert search(conn, "ocr:图书馆") == [library["invoice"]]


def test_an_offline_file_keeps_its_index_and_comes_back_without_work(offline, library):
    conn = offline.conn
    run_worker(conn.info.dbname)
    before = conn.execute(
        "SELECT asset_id, created_at FROM photo_ai.ocr_result ORDER BY 1"
    ).fetchall()
    job_ids = conn.execute("SELECT id, generation, state FROM photo_ai.job ORDER BY 1").fetchall()

    offline.set_offline([library["invoice"]])
    assert library["invoice"] not in search(conn, "ocr:发票"), "offline is in the trash"
    offline.set_online([library["invoice"]])

    assert search(conn, "ocr:发票")[0] == library["invoice"]
    assert (
        conn.execute("SELECT asset_id, created_at FROM photo_ai.ocr_result ORDER BY 1").fetchall()
        == before
    ), "nothing dropped, nothing redone"
    assert (
        conn.execute("SELECT id, generation, state FROM photo_ai.job ORDER BY 1").fetchall()
        == job_ids
    )


def test_a_deleted_asset_leaves_nothing_behind(offline, library):
    conn = offline.conn
    run_worker(conn.info.dbname)
    conn.execute("DELETE FROM asset WHERE id = %s", [library["invoice"]])
    for table in ("photo_ai.job", "photo_ai.ocr_result", "photo_ai.asset_tag"):
        count = conn.execute(
            f"SELECT count(*) FROM {table} WHERE asset_id = %s", [library["invoice"]]
        ).fetchone()[0]
        assert count == 0, table


def test_backfill_indexes_what_immich_wrote_before_photo_ai(immich):
    immich.user_id = immich.create_user()
    invoice = upload(immich, "invoice.png")
    immich.write_ocr(invoice, INVOICE)
    immich.write_clip(invoice, embedding(1))
    conn = immich.conn
    conn.execute("CREATE EXTENSION photo_ai CASCADE")
    conn.execute("SELECT photo_ai.configure(sidecar_url => 'http://127.0.0.1:9')")
    assert conn.execute("SELECT count(*) FROM photo_ai.job").fetchone()[0] == 0

    assert conn.execute("SELECT photo_ai.backfill()").fetchone()[0] == 2, "ocr_from_immich, tags"
    run_worker(conn.info.dbname)
    assert search(conn, "ocr:发票") == [str(invoice["id"])]
    status = dict(
        conn.execute(
            "SELECT task, jobs FROM photo_ai.status "
            "WHERE task IN ('ocr', 'clip') AND state = 'done'"
        )
    )
    assert status == {"ocr": 1, "clip": 1}, "status counts what Immich's jobs did"


def test_in_app_restore_leaves_photo_ai_working_without_a_manual_step(offline, library, tmp_path):
    """Immich's restore (database-backup.service.ts, v2.5+): its pg_dump --clean --if-exists
    backup replayed by psql --single-transaction after DROP SCHEMA public CASCADE."""
    conn = offline.conn
    run_worker(conn.info.dbname)
    database = conn.info.dbname
    backup = tmp_path / "immich-db-backup.sql"
    dump = subprocess.run(
        ["pg_dump", "--clean", "--if-exists", "--dbname", dsn(database), "--file", str(backup)],
        capture_output=True,
        text=True,
    )
    assert dump.returncode == 0, dump.stderr
    conn.close()
    script = tmp_path / "restore.sql"
    script.write_text(
        "DROP SCHEMA public CASCADE; CREATE SCHEMA public;\n"
        "GRANT ALL ON SCHEMA public TO postgres; GRANT ALL ON SCHEMA public TO public;\n"
        + backup.read_text()
    )
    restore = subprocess.run(
        ["psql", "--single-transaction", "-v", "ON_ERROR_STOP=on", "-X", "-q"]
        + ["--dbname", dsn(database), "--file", str(script)],
        capture_output=True,
        text=True,
    )
    assert restore.returncode == 0, restore.stderr

    with superuser(database) as conn:
        immich = immich_ref.ImmichServer(conn, offline.data_root)
        immich.user_id = offline.user_id
        new = upload(immich, "friends.png")
        immich.write_ocr(new, [ocr_line("海淀公园", 0.2, 0.2)])
        run_worker(database)  # as pg_cron runs it: nobody calls attach_immich()
        assert photo_ai_triggers(conn) == PHOTO_AI_TRIGGERS
        assert view_tables(conn, "photo_ai.source_asset") == {"asset", "asset_file"}
        assert search(conn, "ocr:海淀公园") == [str(new["id"])]
        assert search(conn, "ocr:图书馆") == [library["sign"]], "the index came back with it"


def test_reprocess_writes_immichs_rows_as_immichs_jobs_would(attached, immich_data):
    immich, conn = attached, attached.conn
    invoice = upload(immich, "invoice.png", (800, 200))
    before = conn.execute("SELECT count(*) FROM asset_ocr_audit").fetchone()[0]

    conn.execute("SELECT ai_reprocess(%s, immediate => true)", [invoice["id"]])

    lines = conn.execute(
        'SELECT text, "updateId" IS NOT NULL, "isVisible", x1, y1, x3, y3 FROM asset_ocr '
        'WHERE "assetId" = %s',
        [invoice["id"]],
    ).fetchall()
    assert any("发票" in line[0] for line in lines)
    assert all(line[1] and line[2] for line in lines), "Immich's updateId and isVisible"
    assert all(0 <= v <= 1 for line in lines for v in line[3:]), "normalised corners"
    tokens = conn.execute(
        'SELECT text FROM ocr_search WHERE "assetId" = %s', [invoice["id"]]
    ).fetchone()[0]
    expected = [t for line in lines for t in immich_ref.tokenize_for_search(line[0])]
    assert sorted(tokens.split()) == sorted(expected)
    assert immich.search_ocr(immich.user_id, "发票") == [str(invoice["id"])]
    assert conn.execute(
        'SELECT vector_dims(embedding) FROM smart_search WHERE "assetId" = %s', [invoice["id"]]
    ).fetchone() == (512,)
    assert search(conn, "ocr:发票") == [str(invoice["id"])], "and indexed at once (immediate)"

    # again: Immich's audit sees the old lines go, as after Immich's own job
    conn.execute("SELECT ai_reprocess(%s, tasks => '{ocr}')", [invoice["id"]])
    assert conn.execute("SELECT count(*) FROM asset_ocr_audit").fetchone()[0] == before + len(lines)
    with pytest.raises(psycopg.errors.RaiseException, match="faces are Immich's") as refused:
        conn.execute("SELECT ai_reprocess(%s, tasks => '{faces}')", [invoice["id"]])
    assert "Refresh faces" in refused.value.diag.message_hint


def test_reprocess_with_no_sidecar_says_why_and_writes_nothing(offline, library):
    conn = offline.conn
    rows = immich_rows(conn, IMMICH_RESULTS)
    with pytest.raises(psycopg.errors.RaiseException, match="no ocr result"):
        conn.execute("SELECT ai_reprocess(%s)", [library["invoice"]])
    assert immich_rows(conn, IMMICH_RESULTS) == rows


def test_upgrades_keep_immich_mode(offline):
    conn = offline.conn
    version = conn.execute("SELECT photo_ai.version()").fetchone()[0]
    body = (ROOT / "extensions" / "photo_ai" / f"photo_ai--{version}.sql").read_text()
    body = body.split("\\quit", 1)[1].replace("create schema photo_ai;", "")
    with conn.transaction():
        conn.execute(body)  # what ALTER EXTENSION ... UPDATE runs
    assert photo_ai_triggers(conn) == PHOTO_AI_TRIGGERS
    assert view_tables(conn, "photo_ai.source_asset") == {"asset", "asset_file"}


def test_an_old_photo_ai_on_immich_is_upgraded_into_the_reading_design(immich):
    conn = immich.conn
    conn.execute("CREATE EXTENSION photo_ai VERSION '0.2.0' CASCADE")
    immich.user_id = immich.create_user()
    upload(immich, "invoice.png")
    assert conn.execute("SELECT count(*) FROM photo_ai.job").fetchone()[0] == 3, "0.2.0 analysed"
    conn.execute("ALTER EXTENSION photo_ai UPDATE")
    assert conn.execute("SELECT count(*) FROM photo_ai.job").fetchone()[0] == 0, "Immich's now"
    assert conn.execute("SELECT photo_ai.setting('mode') #>> '{}'").fetchone()[0] == "immich"
    assert photo_ai_triggers(conn) == PHOTO_AI_TRIGGERS
    tasks = {r[0] for r in conn.execute("SELECT name FROM photo_ai.task")}
    assert "ocr_from_immich" in tasks and not tasks & {"immich_ocr", "immich_clip", "immich_faces"}


def test_detach_and_attach_again(offline, library):
    conn = offline.conn
    assert conn.execute("SELECT photo_ai.detach_immich()").fetchone()[0] == {"mode": "standalone"}
    assert photo_ai_triggers(conn) == []
    assert conn.execute("SELECT count(*) FROM photo_ai.source_asset").fetchone()[0] == 0

    attached_again = conn.execute("SELECT photo_ai.attach_immich()").fetchone()[0]
    assert attached_again["mode"] == "immich" and attached_again["assets"] == 3
    assert photo_ai_triggers(conn) == PHOTO_AI_TRIGGERS


def test_drop_extension_cascade_keeps_every_immich_row(offline, library):
    conn = offline.conn
    run_worker(conn.info.dbname)
    catalog, rows = immich_catalog(conn), immich_rows(conn)

    conn.execute("DROP EXTENSION photo_ai CASCADE")

    assert immich_catalog(conn) == catalog
    assert immich_rows(conn) == rows
    assert photo_ai_triggers(conn) == []
    assert conn.execute("SELECT to_regnamespace('photo_ai')").fetchone()[0] is None
    # Immich goes on without it
    offline.write_ocr({"id": library["sign"]}, SIGN)
    conn.execute("DELETE FROM asset WHERE id = %s", [library["invoice"]])


def test_without_immich_photo_ai_stays_standalone(make_database):
    with superuser(make_database()) as conn:
        conn.execute("CREATE EXTENSION photo_ai CASCADE")
        assert conn.execute("SELECT photo_ai.setting('mode') #>> '{}'").fetchone()[0] == "auto"
        assert view_tables(conn, "photo_ai.source_asset") == {"photo_ai.asset"}
        assert photo_ai_triggers(conn) == []
        with pytest.raises(psycopg.errors.RaiseException, match="missing: asset, asset_file"):
            conn.execute("SELECT photo_ai.attach_immich()")
        assert conn.execute("SELECT photo_ai.detach_immich()").fetchone()[0] == {
            "mode": "standalone"
        }


def test_a_failure_to_record_never_fails_immichs_job(offline):
    immich, conn = offline, offline.conn
    conn.execute("ALTER TABLE photo_ai.job ADD CONSTRAINT refuse_jobs CHECK (false) NOT VALID")
    notices = []
    conn.add_notice_handler(lambda d: notices.append(d.message_primary))
    invoice = upload(immich, "invoice.png")
    immich.write_ocr(invoice, INVOICE)
    assert any("could not follow Immich's INSERT of public.asset_ocr" in n for n in notices)
    assert conn.execute("SELECT count(*) FROM asset_ocr").fetchone()[0] == len(INVOICE)
    conn.execute("ALTER TABLE photo_ai.job DROP CONSTRAINT refuse_jobs")
    assert conn.execute("SELECT photo_ai.backfill()").fetchone()[0] == 1


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
