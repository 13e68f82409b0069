"""The pipeline as the tests drive it: assets added with SQL, the worker called as pg_cron
calls it, the job table read back."""

from __future__ import annotations

import threading
from pathlib import Path

import psycopg
import pytest

from photo_ai_cli.local import dsn
from tests.support.sidecars import Sidecar


def point_at(conn: psycopg.Connection, sidecar: Sidecar) -> None:
    conn.execute(
        "SELECT photo_ai.configure(sidecar_url => %s, api_key => %s)", [sidecar.url, sidecar.key]
    )


def install_photo_ai(conn: psycopg.Connection, sidecar: Sidecar) -> None:
    """photo_ai created in the connected database (Immich's, say), pointed at the sidecar."""
    conn.execute("CREATE EXTENSION photo_ai CASCADE")
    point_at(conn, sidecar)


@pytest.fixture
def db(conn, pipeline_sidecar) -> psycopg.Connection:
    """A fresh photo_ai database whose worker talks to the pipeline sidecar."""
    point_at(conn, pipeline_sidecar)
    return conn


def add_assets(conn: psycopg.Connection, *paths: Path | str) -> list[str]:
    rows = conn.execute(
        "INSERT INTO photo_ai.asset (original_path) SELECT unnest(%s::text[]) RETURNING id",
        [[str(p) for p in paths]],
    ).fetchall()
    return [str(r[0]) for r in rows]


def image_tasks_only(conn: psycopg.Connection) -> None:
    """Turns the derived tasks off (people, tags): for tests of how image jobs are run."""
    conn.execute("UPDATE photo_ai.task SET on_by_default = false WHERE reads <> '{}'")


def run_worker(database: str, **arguments) -> dict:
    """CALL photo_ai.run_worker on its own connection, as pg_cron would; returns its summary."""
    arguments.setdefault("until_idle", True)
    arguments.setdefault("max_seconds", 300)
    names = ", ".join(f"{name} => %({name})s" for name in arguments)
    with psycopg.connect(dsn(database), autocommit=True) as worker:
        return worker.execute(f"CALL photo_ai.run_worker({names})", arguments).fetchone()[0]


def jobs(conn: psycopg.Connection) -> dict[tuple[str, str], tuple]:
    rows = conn.execute(
        "SELECT asset_id::text, task::text, state::text, attempts, last_error FROM photo_ai.job"
    ).fetchall()
    return {(r[0], r[1]): r[2:] for r in rows}


def in_thread(target, *args, **kwargs) -> tuple[threading.Thread, list]:
    """Starts target in a thread; the list receives its return value."""
    out: list = []
    thread = threading.Thread(target=lambda: out.append(target(*args, **kwargs)), daemon=True)
    thread.start()
    return thread, out


def database_of(conn: psycopg.Connection) -> str:
    return conn.info.dbname
