"""The pg_cron schedule, in a cluster of its own (pg_cron lives in the one database that
cron.database_name names: here a fresh photo_ai database nobody else uses)."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from photo_ai_cli.local import free_port
from tests.support import ROOT

ADMIN = "photo_ai_cron_test_admin"


@pytest.fixture(scope="module")
def cron_db() -> Iterator[str]:
    """The photo_ai database of a cluster of its own, with pg_cron and photo_ai installed."""
    parent = Path(tempfile.mkdtemp(prefix="photo_ai_cron_"))
    parent.chmod(0o755)
    env = os.environ | {"PHOTO_AI_PGDATA": str(parent / "pg"), "PHOTO_AI_PGPORT": str(free_port())}
    subprocess.run([ROOT / "scripts" / "db.sh", "start"], env=env, check=True, capture_output=True)
    dsn = f"host=127.0.0.1 port={env['PHOTO_AI_PGPORT']} user=postgres dbname=photo_ai"
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("CREATE EXTENSION pg_cron")
        conn.execute("CREATE EXTENSION photo_ai CASCADE")
        conn.execute(f"CREATE ROLE {ADMIN} NOLOGIN IN ROLE photo_ai_admin")
    yield dsn
    subprocess.run([ROOT / "scripts" / "db.sh", "stop"], env=env, capture_output=True)
    shutil.rmtree(parent, ignore_errors=True)


def scheduled(conn: psycopg.Connection) -> list[tuple[str, str, str]]:
    return conn.execute(
        "SELECT jobname, schedule, command FROM cron.job "
        "WHERE jobname LIKE 'photo\\_ai\\_worker\\_%' ORDER BY 1"
    ).fetchall()


def test_photo_ai_admin_schedules_and_unschedules_the_worker(cron_db):
    with psycopg.connect(cron_db, autocommit=True) as conn:
        conn.execute(f"SET ROLE {ADMIN}")
        ids = [r[0] for r in conn.execute("SELECT photo_ai.schedule_worker(workers => 2)")]
        conn.execute("RESET ROLE")
        jobs = scheduled(conn)
        assert len(ids) == 2 and [j[0] for j in jobs] == ["photo_ai_worker_1", "photo_ai_worker_2"]
        assert all(j[1] == "* * * * *" and "CALL photo_ai.run_worker" in j[2] for j in jobs)

        conn.execute(f"SET ROLE {ADMIN}")
        assert conn.execute("SELECT photo_ai.unschedule_worker()").fetchone()[0] == 2
        conn.execute("RESET ROLE")
        assert scheduled(conn) == []


def test_the_schedule_does_not_outlive_the_extension(cron_db):
    with psycopg.connect(cron_db, autocommit=True) as conn:
        conn.execute("SELECT photo_ai.schedule_worker()")
        ((_, _, command),) = scheduled(conn)
        conn.execute("DROP EXTENSION photo_ai CASCADE")
        try:
            conn.execute(command)  # what pg_cron runs at the next minute: no error, ...
            assert scheduled(conn) == [], "... and no schedule left to run again"
        finally:
            conn.execute("CREATE EXTENSION photo_ai CASCADE")
