"""The demo's database step: photo_ai created, kept, or (a development build changed under
the same version) recreated with the assets put back."""

from __future__ import annotations

import psycopg
import pytest

from photo_ai_cli import db
from photo_ai_cli.local import dsn


@pytest.fixture
def state(tmp_path, monkeypatch):
    monkeypatch.setenv("PHOTO_AI_STATE_DIR", str(tmp_path / "state"))
    return tmp_path / "state"


def test_creates_then_keeps_the_extension(make_database, state):
    name = make_database()
    with psycopg.connect(dsn(name), autocommit=True) as conn:
        assert db.ensure_extension(conn).startswith("created extension photo_ai")
        assert conn.execute(
            "SELECT to_regprocedure('public.hybrid_search(text,integer,uuid,timestamptz,"
            "timestamptz,float8,float8,integer,float8)') IS NOT NULL"
        ).fetchone()[0]
        stamps = list((state / "demo").glob(f"extension-*-{name}.sha256"))
        assert len(stamps) == 1
        assert db.ensure_extension(conn).endswith("is installed")


def test_a_changed_development_build_is_reinstalled_keeping_the_assets(make_database, state):
    name = make_database()
    with psycopg.connect(dsn(name), autocommit=True) as conn:
        db.ensure_extension(conn)
        asset_id = conn.execute(
            "INSERT INTO photo_ai.asset (original_path, checksum) VALUES ('/p/a.jpg', '\\x01') "
            "RETURNING id"
        ).fetchone()[0]
        conn.execute("UPDATE photo_ai.job SET state = 'done'")
        stamp = next((state / "demo").glob("extension-*.sha256"))
        stamp.write_text("an older build\n")
        message = db.ensure_extension(conn)
        assert "reinstalled it, keeping 1 assets" in message
        row = conn.execute(
            "SELECT original_path, checksum FROM photo_ai.asset WHERE id = %s", [asset_id]
        ).fetchone()
        assert row == ("/p/a.jpg", b"\x01")
        states = {r[0] for r in conn.execute("SELECT state::text FROM photo_ai.job")}
        assert states == {"queued"}  # analysed again by the new build
        assert db.ensure_extension(conn).endswith("is installed")


def test_no_server(monkeypatch):
    monkeypatch.setenv("PHOTO_AI_PGPORT", "1")
    with pytest.raises(db.DatabaseUnavailable, match="make db-start"):
        db.connect()
