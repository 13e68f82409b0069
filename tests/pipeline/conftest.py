"""The pipeline against a real database and a real sidecar: images in a library the
sidecar may read (and the postgres OS user too, for the bytes mode), tiny models."""

from __future__ import annotations

import shutil
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from inference_sidecar.testing.tiny_models import make_tiny_clip_checkpoint, make_tiny_face_pack
from tests.conftest import dsn
from tests.sidecar import pictures
from tests.sidecar.conftest import Sidecar, start_sidecar, stop_sidecar


@pytest.fixture(scope="session")
def library() -> Iterator[Path]:
    # Readable by the postgres OS user, unlike pytest's private tmp directories.
    root = Path(tempfile.mkdtemp(prefix="photo_ai_library_"))
    root.chmod(0o755)
    pictures.text_picture().save(root / "invoice.png")
    pictures.text_picture(("停车场 出口", "EXIT 3")).save(root / "sign.png")
    pictures.face_picture()[0].save(root / "faces.png")
    (root / "corrupt.jpg").write_bytes(pictures.truncated_jpeg())
    for path in root.iterdir():
        path.chmod(0o644)
    yield root
    shutil.rmtree(root)


def _start(tmp_path_factory, library: Path, name: str, with_models: bool) -> Sidecar:
    workdir = tmp_path_factory.mktemp(name)
    model_dir = workdir / "models"
    if with_models:
        make_tiny_clip_checkpoint(model_dir)
        make_tiny_face_pack(model_dir)
    return start_sidecar(
        workdir, f"{name}-key", model_dir=str(model_dir), library_roots=str(library)
    )


@pytest.fixture(scope="session")
def pipeline_sidecar(tmp_path_factory, library) -> Iterator[Sidecar]:
    running = _start(tmp_path_factory, library, "pipeline_sidecar", with_models=True)
    yield running
    stop_sidecar(running)


@pytest.fixture(scope="session")
def modelless_sidecar(tmp_path_factory, library) -> Iterator[Sidecar]:
    running = _start(tmp_path_factory, library, "modelless_sidecar", with_models=False)
    yield running
    stop_sidecar(running)


def point_at(conn: psycopg.Connection, sidecar: Sidecar) -> None:
    conn.execute(
        "SELECT photo_ai.configure(sidecar_url => %s, api_key => %s)", [sidecar.url, sidecar.key]
    )


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
