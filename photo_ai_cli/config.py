"""Where things live: the project folder, its state under .cache/, the database to use."""

from __future__ import annotations

import os
from pathlib import Path

PACKAGE_ROOT = Path(__file__).resolve().parent.parent


def project_root() -> Path:
    """The checkout the commands work in (PHOTO_AI_HOME overrides it)."""
    return Path(os.environ.get("PHOTO_AI_HOME") or PACKAGE_ROOT).resolve()


def state_dir() -> Path:
    """Pid files, logs and the sidecar's key: <project>/.cache/ (git-ignored)."""
    return Path(os.environ.get("PHOTO_AI_STATE_DIR") or project_root() / ".cache").resolve()


def demo_photos_dir() -> Path:
    return project_root() / "demo_photos"


def model_dir() -> Path:
    """The sidecar's model folder: PHOTO_AI_MODEL_DIR, else <project>/models."""
    configured = os.environ.get("PHOTO_AI_MODEL_DIR")
    return Path(configured).resolve() if configured else project_root() / "models"


def pg_port() -> int:
    return int(os.environ.get("PHOTO_AI_PGPORT", "55432"))


def database_name() -> str:
    return os.environ.get("PHOTO_AI_DATABASE", "photo_ai")


def dsn(dbname: str | None = None) -> str:
    """The embedded cluster's superuser on loopback (PHOTO_AI_DSN replaces all of it)."""
    if os.environ.get("PHOTO_AI_DSN") and dbname is None:
        return os.environ["PHOTO_AI_DSN"]
    return f"host=127.0.0.1 port={pg_port()} user=postgres dbname={dbname or database_name()}"


def psql_command(dbname: str | None = None) -> str:
    return f"psql -h 127.0.0.1 -p {pg_port()} -U postgres {dbname or database_name()}"
