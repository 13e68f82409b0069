"""The database side of the commands: connecting, and making sure photo_ai is installed and
current in the demo's database."""

from __future__ import annotations

import hashlib
from datetime import datetime
from pathlib import Path

import psycopg

from photo_ai_cli import config, local


class DatabaseUnavailable(RuntimeError):
    pass


def connect(dsn: str | None = None, autocommit: bool = True) -> psycopg.Connection:
    dsn = dsn or local.dsn()
    try:
        return psycopg.connect(dsn, autocommit=autocommit, connect_timeout=10)
    except psycopg.OperationalError as e:
        raise DatabaseUnavailable(
            f"cannot connect to PostgreSQL ({dsn}): {str(e).strip()}\n"
            "Start the project's cluster with `make db-start` (or run `make demo`)."
        ) from e


class ExtensionMissing(DatabaseUnavailable):
    pass


def connect_to_library(dsn: str | None = None) -> psycopg.Connection:
    """A connection to a database that has photo_ai, or ExtensionMissing saying how to get
    it there (the commands that read or write photos need it; `demo` creates it)."""
    conn = connect(dsn)
    if conn.execute("SELECT FROM pg_extension WHERE extname = 'photo_ai'").fetchone() is None:
        name, server = conn.info.dbname, f"{conn.info.host}:{conn.info.port}"
        conn.close()
        raise ExtensionMissing(
            f"photo_ai is not installed in the database {name} on {server}: `make demo` "
            f"creates it, or in that database: CREATE EXTENSION photo_ai CASCADE "
            "(PHOTO_AI_DATABASE or PHOTO_AI_DSN pick another database)"
        )
    return conn


def _stamp_file(conn: psycopg.Connection) -> Path:
    info = conn.info
    return config.state_dir() / "demo" / f"extension-{info.port}-{info.dbname}.sha256"


def _digest(path: Path | None) -> str | None:
    if path is None or not path.exists():
        return None
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _reinstall_keeping_assets(conn: psycopg.Connection) -> int:
    """Drops and recreates photo_ai, putting the assets back (their jobs are queued again).

    Only for a development checkout whose extension changed without a new version number:
    released versions are upgraded with ALTER EXTENSION ... UPDATE instead.
    """
    with conn.transaction():
        conn.execute(
            "CREATE TEMP TABLE photo_ai_cli_saved_asset ON COMMIT DROP AS "
            "SELECT * FROM photo_ai.asset"
        )
        conn.execute("DROP EXTENSION photo_ai CASCADE")
        conn.execute("CREATE EXTENSION photo_ai CASCADE")
        columns = [
            r[0]
            for r in conn.execute(
                "SELECT a.attname FROM pg_attribute a "
                "JOIN pg_attribute s ON s.attname = a.attname "
                " AND s.attrelid = 'photo_ai_cli_saved_asset'::regclass "
                "WHERE a.attrelid = 'photo_ai.asset'::regclass AND a.attnum > 0 "
                "AND NOT a.attisdropped ORDER BY a.attnum"
            )
        ]
        names = ", ".join(f'"{c}"' for c in columns)
        cur = conn.execute(
            f"INSERT INTO photo_ai.asset ({names}) SELECT {names} FROM photo_ai_cli_saved_asset"
        )
        return cur.rowcount


def ensure_extension(conn: psycopg.Connection) -> str:
    """Creates or upgrades photo_ai in the connected database; returns what it did."""
    row = conn.execute(
        "SELECT default_version, installed_version FROM pg_available_extensions "
        "WHERE name = 'photo_ai'"
    ).fetchone()
    if row is None:
        raise DatabaseUnavailable(
            "the photo_ai extension is not installed on this server: run `make install`"
        )
    default, installed = row
    stamp, digest = _stamp_file(conn), _digest(local.extension_script())
    if installed is None:
        conn.execute("CREATE EXTENSION photo_ai CASCADE")
        message = f"created extension photo_ai {default}"
    elif installed != default:
        conn.execute("ALTER EXTENSION photo_ai UPDATE")
        message = f"updated extension photo_ai {installed} -> {default}"
    else:
        known = stamp.read_text().strip() if stamp.exists() else None
        # a development build changed under the same version number
        stale = known is not None and digest is not None and known != digest
        if stale:
            kept = _reinstall_keeping_assets(conn)
            message = (
                f"the photo_ai {default} scripts changed since they were installed here "
                f"(same version: a development build); reinstalled it, keeping {kept} assets, "
                "which are analysed again"
            )
        else:
            message = f"extension photo_ai {default} is installed"
    if digest is not None:
        stamp.parent.mkdir(parents=True, exist_ok=True)
        stamp.write_text(digest + "\n")
    return message


def configure_sidecar(conn: psycopg.Connection, url: str, api_key: str | None) -> None:
    conn.execute(
        "SELECT photo_ai.configure(sidecar_url => %s, api_key => %s)", [url, api_key or ""]
    )


def settle_faces(conn: psycopg.Connection, analysed_since: datetime) -> dict | None:
    """Once the queue is drained: photo_ai.recognize_faces() settles the faces of the photos
    analysed since then, which the grouping left waiting while they arrived
    (docs/people.md). None where no faces are grouped (Immich mode, the people task off)."""
    enabled = conn.execute("SELECT 'people' = ANY(photo_ai.enabled_tasks())").fetchone()[0]
    if not enabled:
        return None
    return conn.execute(
        "SELECT photo_ai.recognize_faces(_analysed_since => %s)", [analysed_since]
    ).fetchone()[0]


def database_now(conn: psycopg.Connection) -> datetime:
    """The database's clock: what photo_ai's timestamps are compared with."""
    return conn.execute("SELECT clock_timestamp()").fetchone()[0]
