"""`photo-ai migrate-from-aio` on a database shaped like immich-all-in-one's after upstream
Immich's migrations (immich_all_in_one.sql): the fork's OCR becomes Immich's own, found by
Immich's own OCR search; Immich's OCR is kept; nothing changes without --apply or twice."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
from psycopg.types.json import Jsonb

from photo_ai_cli.__main__ import main
from photo_ai_cli.local import dsn
from tests.immich.immich_server import ImmichServer, tokenize_for_search

FORK_SQL = (Path(__file__).parent / "immich_all_in_one.sql").read_text()
FORK_MIGRATION = "1746367790313-CreateOCRInfo"


def gateway_json(*lines: tuple[str, str, tuple[float, float, float, float]]) -> dict:
    """ocrJson as the fork's gateway stored it: mt-photos-ai's x, y, width, height under the
    names x1, y1, x2, y2, in pixels of the preview."""
    return {
        "texts": [text for text, _, _ in lines],
        "scores": [score for _, score, _ in lines],
        "boxes": [dict(zip(("x1", "y1", "x2", "y2"), box, strict=True)) for _, _, box in lines],
    }


# name: (original, asset width/height, EXIF width/height/orientation, the fork's lines)
PHOTOS = {
    # 2880x2160: Immich's preview is 1920x1440
    "invoice": (
        "invoice.png",
        (2880, 2160),
        None,
        [
            ("增值税专用发票", "0.99", (96, 144, 480, 72)),
            ("金额 1,234.00", "0.95", (1200, 1000, 600, 60)),
        ],
    ),
    # no asset size yet, EXIF 4032x3024 turned by orientation 6: the preview is 1440x1920
    "sign": ("sign.png", None, (4032, 3024, "6"), [("海淀区图书馆", "0.97", (144, 960, 720, 192))]),
    # smaller than a preview: not enlarged, 800x600
    "receipt": ("dark.png", (800, 600), None, [("小票", "0.91", (80, 60, 160, 30))]),
    # no size known anywhere: left for Immich's OCR job
    "unsized": ("stranger.png", None, None, [("无尺寸照片", "0.9", (10, 10, 100, 20))]),
    # Immich's OCR job has read it already (停车场): the fork's text is not added
    "read_by_immich": ("friends.png", (640, 640), None, [("旧的文字", "0.9", (10, 10, 100, 20))]),
}

# each converted line's corners (left, top, right, bottom) as fractions of its preview
EXPECTED_BOXES = {
    "invoice": [(0.05, 0.1, 0.3, 0.15), (0.625, 1000 / 1440, 0.9375, 1060 / 1440)],
    "sign": [(0.1, 0.5, 0.6, 0.6)],
    "receipt": [(0.1, 0.1, 0.3, 0.15)],
}


@dataclass
class ForkDatabase:
    immich: ImmichServer
    user_id: object
    assets: dict[str, str]

    @property
    def conn(self) -> psycopg.Connection:
        return self.immich.conn

    def search(self, words: str) -> list[str]:
        """Immich's own OCR search (SearchRepository via searchAssetBuilder), as its user."""
        names = {asset_id: name for name, asset_id in self.assets.items()}
        return [names[found] for found in self.immich.search_ocr(self.user_id, words)]

    def immich_ocr_rows(self) -> list[tuple]:
        """Every row Immich's OCR tables hold, in full."""
        return self.conn.execute(
            "SELECT 'asset_ocr', to_jsonb(o)::text FROM asset_ocr o "
            "UNION ALL SELECT 'ocr_search', to_jsonb(s)::text FROM ocr_search s "
            "UNION ALL SELECT 'ocrAt', to_jsonb(j)::text FROM asset_job_status j "
            "ORDER BY 1, 2"
        ).fetchall()


def _write_immich_ocr(conn: psycopg.Connection, asset_id: str, text: str) -> None:
    """Immich's OCR job for one line (OcrService.handleOcr, OcrRepository.upsert)."""
    conn.execute(
        'INSERT INTO asset_ocr ("assetId", x1, y1, x2, y2, x3, y3, x4, y4, "boxScore", '
        '"textScore", text) VALUES (%s, 0.1, 0.1, 0.5, 0.1, 0.5, 0.2, 0.1, 0.2, 0.9, 0.95, %s)',
        [asset_id, text],
    )
    conn.execute(
        'INSERT INTO ocr_search ("assetId", text) VALUES (%s, %s)',
        [asset_id, " ".join(tokenize_for_search(text))],
    )
    conn.execute(
        'INSERT INTO asset_job_status ("assetId", "ocrAt") VALUES (%s, now()) '
        'ON CONFLICT ("assetId") DO UPDATE SET "ocrAt" = excluded."ocrAt"',
        [asset_id],
    )


def _upload(fork: ImmichServer, user_id, original: Path, size, exif) -> str:
    asset = fork.upload(user_id, original)
    if size:
        fork.conn.execute(
            "UPDATE asset SET width = %s, height = %s WHERE id = %s", [*size, asset["id"]]
        )
    if exif:
        fork.conn.execute(
            'UPDATE asset_exif SET "exifImageWidth" = %s, "exifImageHeight" = %s, '
            'orientation = %s WHERE "assetId" = %s',
            [*exif, asset["id"]],
        )
    return str(asset["id"])


def _fork_database(immich: ImmichServer, immich_data, with_photo_ai: bool = True) -> ForkDatabase:
    immich.conn.execute(FORK_SQL)
    if with_photo_ai:
        immich.conn.execute("CREATE EXTENSION photo_ai CASCADE")
    user_id = immich.create_user()
    assets = {}
    for name, (original, size, exif, lines) in PHOTOS.items():
        asset_id = _upload(immich, user_id, immich_data.original(original), size, exif)
        text = " ".join(t for t, _, _ in lines)
        immich.conn.execute(
            'INSERT INTO ocr_info ("assetId", text, "ocrJson") VALUES (%s, %s, %s)',
            [asset_id, text, Jsonb(gateway_json(*lines))],
        )
        assets[name] = asset_id
    _write_immich_ocr(immich.conn, assets["read_by_immich"], "停车场")
    return ForkDatabase(immich, user_id, assets)


@pytest.fixture
def fork(immich, immich_data) -> ForkDatabase:
    return _fork_database(immich, immich_data)


def migrate_from_aio(database: str, monkeypatch, capsys, *arguments: str) -> tuple[int, str]:
    """The command as a user runs it, on `database`: its exit status and what it printed."""
    monkeypatch.setenv("PHOTO_AI_DSN", dsn(database))
    status = main(["migrate-from-aio", *arguments])
    printed = capsys.readouterr()
    return status, printed.out + printed.err


def _fork_state(conn: psycopg.Connection) -> dict:
    return {
        "ocr_info": conn.execute("SELECT to_regclass('public.ocr_info') IS NOT NULL").fetchone()[0],
        "migrations": [r[0] for r in conn.execute("SELECT name FROM kysely_migrations ORDER BY 1")],
        "database_settings": conn.execute(
            "SELECT setconfig FROM pg_db_role_setting WHERE setrole = 0 "
            "AND setdatabase = (SELECT oid FROM pg_database WHERE datname = current_database())"
        ).fetchall(),
    }


def test_the_forks_ocr_is_found_by_immichs_own_search(fork, monkeypatch, capsys):
    before = fork.search("停车")
    immichs_own = [row for row in fork.immich_ocr_rows() if row[0] != "ocrAt"]
    status, printed = migrate_from_aio(fork.conn.info.dbname, monkeypatch, capsys, "--apply")
    assert status == 0, printed
    assert "5 photos; 3 converted (4 lines)" in printed
    assert "1 already had Immich's OCR" in printed and "1 without a known image size" in printed

    assert fork.search("发票") == ["invoice"]
    assert fork.search("金额") == ["invoice"]
    assert fork.search("海淀") == ["sign"]
    assert fork.search("图书馆") == ["sign"]
    assert fork.search("小票") == ["receipt"]
    # Immich's own OCR of a photo stands, and the fork's text for it is not added
    assert fork.search("停车") == before == ["read_by_immich"]
    assert fork.search("旧的") == []
    assert set(immichs_own) <= set(fork.immich_ocr_rows())
    # left for Immich's OCR job: no lines, not marked as read
    assert fork.search("无尺寸") == []
    unread = fork.conn.execute(
        'SELECT "ocrAt" FROM asset_job_status WHERE "assetId" = %s', [fork.assets["unsized"]]
    ).fetchone()
    assert unread is None or unread[0] is None
    # nothing of Immich's was deleted (its sync would have told every phone)
    assert fork.conn.execute("SELECT count(*) FROM asset_ocr_audit").fetchone()[0] == 0


def test_boxes_become_immichs_corners_as_fractions_of_the_preview(fork, monkeypatch, capsys):
    migrate_from_aio(fork.conn.info.dbname, monkeypatch, capsys, "--apply")
    for name, expected in EXPECTED_BOXES.items():
        rows = fork.conn.execute(
            'SELECT x1, y1, x2, y2, x3, y3, x4, y4, "boxScore", "textScore", text '
            'FROM asset_ocr WHERE "assetId" = %s ORDER BY y1',
            [fork.assets[name]],
        ).fetchall()
        lines = PHOTOS[name][3]
        assert [row[10] for row in rows] == [text for text, _, _ in lines]
        for row, (left, top, right, bottom), (_, score, _) in zip(
            rows, expected, lines, strict=True
        ):
            corners = (left, top, right, top, right, bottom, left, bottom)
            assert row[:8] == pytest.approx(corners, abs=1e-6), name
            assert row[8] == row[9] == pytest.approx(float(score))
    marked = fork.conn.execute(
        'SELECT count(*) FROM asset_job_status WHERE "ocrAt" IS NOT NULL AND "assetId" = ANY(%s)',
        [[fork.assets[name] for name in EXPECTED_BOXES]],
    ).fetchone()[0]
    assert marked == len(EXPECTED_BOXES)  # Immich's OCR job will not read them again


def test_what_upstream_immich_refuses_is_gone(fork, monkeypatch, capsys):
    migrate_from_aio(fork.conn.info.dbname, monkeypatch, capsys, "--apply")
    state = _fork_state(fork.conn)
    assert not state["ocr_info"]
    assert FORK_MIGRATION not in state["migrations"] and len(state["migrations"]) == 2
    assert state["database_settings"] == []


def test_a_dry_run_changes_nothing(fork, monkeypatch, capsys):
    state, rows = _fork_state(fork.conn), fork.immich_ocr_rows()
    status, printed = migrate_from_aio(fork.conn.info.dbname, monkeypatch, capsys)
    assert status == 0
    assert "dry run" in printed and "3 converted" in printed
    assert _fork_state(fork.conn) == state and state["ocr_info"]
    assert fork.immich_ocr_rows() == rows
    assert fork.search("发票") == []


def test_running_it_again_changes_nothing(fork, monkeypatch, capsys):
    migrate_from_aio(fork.conn.info.dbname, monkeypatch, capsys, "--apply")
    state, rows = _fork_state(fork.conn), fork.immich_ocr_rows()
    status, printed = migrate_from_aio(fork.conn.info.dbname, monkeypatch, capsys, "--apply")
    assert status == 0
    assert "ocr_info: not there" in printed and "not set" in printed
    assert _fork_state(fork.conn) == state
    assert fork.immich_ocr_rows() == rows


def test_before_immichs_upgrade_it_unblocks_immich_and_keeps_the_ocr(fork, monkeypatch, capsys):
    # upstream Immich has not run yet: none of its OCR tables
    fork.conn.execute("DROP TABLE ocr_search, asset_ocr CASCADE")
    status, printed = migrate_from_aio(fork.conn.info.dbname, monkeypatch, capsys, "--apply")
    assert status == 0, printed
    assert "run this again" in printed
    state = _fork_state(fork.conn)
    assert FORK_MIGRATION not in state["migrations"] and state["database_settings"] == []
    assert fork.conn.execute("SELECT count(*) FROM ocr_info").fetchone()[0] == len(PHOTOS)


def test_without_photo_ai_it_says_how_to_get_it_and_changes_nothing(
    immich, immich_data, monkeypatch, capsys
):
    fork = _fork_database(immich, immich_data, with_photo_ai=False)
    state = _fork_state(fork.conn)
    status, printed = migrate_from_aio(fork.conn.info.dbname, monkeypatch, capsys, "--apply")
    assert status == 2
    assert "photo-ai-enable" in printed
    assert _fork_state(fork.conn) == state
