"""The photo-ai command as a user runs it: a clear message, never a traceback, where the
database has no photo_ai; and folders as careless users have them (a file name that is not
UTF-8, copies of one photo) imported, read by the real OCR and searched."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from photo_ai_cli import importer
from photo_ai_cli.local import dsn
from photo_ai_plpython.file_names import os_path, storable_path
from tests.support.pipeline import add_assets, point_at, run_worker
from tests.support.search import search

RECEIPT, SIGN = "receipts/增值税专用发票.jpg", "signs/parking.jpg"  # OCR reads 发票, 停车场


def photo_ai(*arguments: str | Path, database: str, state: Path) -> subprocess.CompletedProcess:
    """`python -m photo_ai_cli ...` on `database`, keeping its state in `state`."""
    environment = os.environ | {"PHOTO_AI_DSN": dsn(database), "PHOTO_AI_STATE_DIR": str(state)}
    return subprocess.run(
        [sys.executable, "-m", "photo_ai_cli", *map(str, arguments)],
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.fixture
def folder(import_root: Path) -> Path:
    """An empty folder under the OCR sidecar's second library root."""
    path = import_root / uuid.uuid4().hex
    path.mkdir()
    return path


@pytest.mark.parametrize(
    "command", [["status"], ["search", "发票"], ["work"], ["import", "."]], ids=lambda c: c[0]
)
def test_a_database_without_photo_ai_gets_a_clear_message(make_database, tmp_path, command):
    ran = photo_ai(*command, database=make_database(), state=tmp_path)
    assert ran.returncode == 2
    assert "Traceback" not in ran.stderr + ran.stdout
    assert "photo_ai is not installed in the database" in ran.stderr
    assert "CREATE EXTENSION photo_ai CASCADE" in ran.stderr


def test_status_counts_the_jobs_per_task(conn, tmp_path):
    add_assets(conn, "/photos/a.jpg", "/photos/b.jpg")
    ran = photo_ai("status", database=conn.info.dbname, state=tmp_path)
    assert ran.returncode == 0, ran.stderr
    assert "ocr    2 queued" in ran.stdout.splitlines()


def test_a_name_that_is_not_utf8_is_imported_read_and_found(
    conn, ocr_sidecar, samples_folder, folder, tmp_path
):
    """A GBK name, as a zip file made on Windows in China writes it (发票.jpg)."""
    gbk_name = os.path.join(os.fsencode(folder), "发票".encode("gbk") + b".jpg")
    shutil.copyfile(samples_folder / RECEIPT, gbk_name)
    shutil.copyfile(samples_folder / SIGN, folder / "parking.jpg")
    point_at(conn, ocr_sidecar)
    conn.execute("SELECT photo_ai.configure(tasks => '{ocr}')")

    ran = photo_ai("import", folder, database=conn.info.dbname, state=tmp_path)
    assert ran.returncode == 0, ran.stderr
    assert "2 images found, 2 added" in ran.stdout
    assert run_worker(conn.info.dbname) == {"done": 2}

    hits = search(conn, "ocr:发票")
    assert len(hits) == 1
    stored = conn.execute(
        "SELECT original_path FROM photo_ai.asset WHERE id = %s", [hits[0]["asset_id"]]
    ).fetchone()[0]
    assert stored == storable_path(gbk_name)
    assert os.fsencode(os_path(stored)) == gbk_name, "the stored name opens the same file"
    assert len(search(conn, "ocr:停车场")) == 1


def test_copies_of_a_photo_are_one_hit(conn, ocr_sidecar, samples_folder, folder):
    receipt = folder / "receipt.jpg"
    shutil.copyfile(samples_folder / RECEIPT, receipt)
    shutil.copyfile(receipt, folder / "receipt (1).jpg")
    (folder / "shortcut.jpg").symlink_to(receipt)
    point_at(conn, ocr_sidecar)
    conn.execute("SELECT photo_ai.configure(tasks => '{ocr}')")
    report = importer.import_folder(conn, folder)
    assert (report.added, report.copies) == (1, 2)
    assert run_worker(conn.info.dbname) == {"done": 1}
    assert len(search(conn, "ocr:发票")) == 1


def test_status_says_why_work_waits(conn, tmp_path):
    conn.execute("SELECT photo_ai.configure(sidecar_url => 'http://127.0.0.1:9')")
    add_assets(conn, "/photos/a.jpg")
    run_worker(conn.info.dbname)
    ran = photo_ai("status", database=conn.info.dbname, state=tmp_path)
    assert ran.returncode == 0, ran.stderr
    waiting = [line for line in ran.stdout.splitlines() if "waiting:" in line]
    assert waiting and all("127.0.0.1:9" in line for line in waiting)
