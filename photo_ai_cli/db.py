"""The database side of the commands: connecting, and making sure photo_ai is installed and
current in the demo's database."""

from __future__ import annotations

import hashlib
import subprocess
from pathlib import Path

import psycopg

from photo_ai_cli import config


class DatabaseUnavailable(RuntimeError):
    pass


def connect(dsn: str | None = None, autocommit: bool = True) -> psycopg.Connection:
    dsn = dsn or config.dsn()
    try:
        return psycopg.connect(dsn, autocommit=autocommit, connect_timeout=10)
    except psycopg.OperationalError as e:
        raise DatabaseUnavailable(
            f"cannot connect to PostgreSQL ({dsn}): {str(e).strip()}\n"
            "Start the project's cluster with `make db-start` (or run `make demo`)."
        ) from e


def _extension_script() -> Path | None:
    """The install script CREATE EXTENSION would run now, where pg_config says it is."""
    try:
        sharedir = subprocess.run(
            ["/usr/lib/postgresql/15/bin/pg_config", "--sharedir"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None
    control = Path(sharedir) / "extension" / "photo_ai.control"
    if not control.exists():
        return None
    for line in control.read_text().splitlines():
        if line.startswith("default_version"):
            version = line.split("=", 1)[1].strip().strip("'\"")
            return control.with_name(f"photo_ai--{version}.sql")
    return None


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
    stamp, digest = _stamp_file(conn), _digest(_extension_script())
    if installed is None:
        conn.execute("CREATE EXTENSION photo_ai CASCADE")
        message = f"created extension photo_ai {default}"
    elif installed != default:
        conn.execute("ALTER EXTENSION photo_ai UPDATE")
        message = f"updated extension photo_ai {installed} -> {default}"
    else:
        known = stamp.read_text().strip() if stamp.exists() else None
        has_search = conn.execute(
            "SELECT to_regprocedure('public.hybrid_search(text,integer)') IS NOT NULL "
            "OR EXISTS (SELECT FROM pg_proc WHERE proname = 'hybrid_search' "
            "AND pronamespace = 'public'::regnamespace)"
        ).fetchone()[0]
        # a development build changed under the same version number, or (first run here)
        # an install from before search existed
        stale = (known is None and not has_search) or (
            known is not None and digest is not None and known != digest
        )
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
