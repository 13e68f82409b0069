"""An Immich v3.1 database (Immich's own schema, tests/immich/immich_v3_schema.sql), a data
directory laid out like Immich's /data (originals under upload/, previews under thumbs/),
and a real sidecar with tiny models that reads it and lets Immich's /predict in without a
key, as the compose overlay runs it."""

from __future__ import annotations

import io
import os
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from PIL import Image, ImageDraw

from inference_sidecar.testing.tiny_models import draw_tiny_face
from tests.immich.immich_server import ImmichServer
from tests.support import pictures
from tests.support.database import superuser, template
from tests.support.pipeline import install_photo_ai
from tests.support.sidecars import Sidecar, start_sidecar

HERE = Path(__file__).resolve().parent
SCHEMA_SQL = (HERE / "immich_v3_schema.sql").read_text()
IMMICH_TEMPLATE = f"photo_ai_test_immich_{os.getpid()}"


# ---------------------------------------------------------------------------------------------
# pictures: faces the tiny detector finds; "dots" and "bar" faces embed differently


def _face_picture(faces) -> Image.Image:
    image = Image.new("RGB", (640, 640), (20, 20, 20))
    draw = ImageDraw.Draw(image)
    for centre, half, mark in faces:
        x1, y1, x2, y2 = draw_tiny_face(draw, centre, half)
        if mark == "dots":
            for dx in (0.3, 0.7):
                cx, cy = x1 + (x2 - x1) * dx, y1 + (y2 - y1) * 0.35
                draw.ellipse((cx - 3, cy - 3, cx + 3, cy + 3), fill=(30, 30, 30))
        elif mark == "bar":
            top = y1 + (y2 - y1) // 3
            draw.rectangle((x1, top, x2 - 1, top + 3), fill=(40, 40, 40))
    return image


# every original, and a JPEG preview of it under thumbs/
ORIGINALS = {
    "invoice.png": lambda: pictures.text_picture(),
    "sign.png": lambda: pictures.text_picture(pictures.SIGN_LINES),
    "friends.png": lambda: _face_picture([((320, 320), 32, "dots"), ((128, 128), 32, "bar")]),
    "alice_again.png": lambda: _face_picture([((192, 448), 32, "dots")]),
    "bob_again.png": lambda: _face_picture([((448, 192), 32, "bar")]),
    "stranger.png": lambda: _face_picture([((320, 320), 32, None)]),
    "dark.png": lambda: Image.new("RGB", (320, 240), (10, 40, 90)),
}


@dataclass
class ImmichData:
    """Immich's data directory (UPLOAD_LOCATION, mounted at /data in Immich's containers)."""

    root: Path

    def original(self, name: str) -> Path:
        return self.root / "upload" / "user" / name

    def preview_of(self, name: str) -> Path:
        """Immich's preview of an original: a JPEG under thumbs/ (same size here)."""
        return self.root / "thumbs" / "user" / (Path(name).stem + "-preview.jpeg")

    def copy(self, name: str, new_name: str) -> Path:
        target = self.original(new_name)
        shutil.copyfile(self.original(name), target)
        target.chmod(0o644)
        return target


@pytest.fixture(scope="session")
def immich_data() -> Iterator[ImmichData]:
    # Readable by the postgres OS user, unlike pytest's private tmp directories.
    root = Path(tempfile.mkdtemp(prefix="photo_ai_immich_data_"))
    root.chmod(0o755)
    data = ImmichData(root)
    for folder in (root / "upload" / "user", root / "thumbs" / "user"):
        folder.mkdir(parents=True)
        for part in (folder.parent, folder):
            part.chmod(0o755)
    for name, make in ORIGINALS.items():
        picture = make()
        picture.save(data.original(name))
        buffer = io.BytesIO()
        picture.save(buffer, "JPEG", quality=92)
        data.preview_of(name).write_bytes(buffer.getvalue())
    for path in root.rglob("*"):
        if path.is_file():
            path.chmod(0o644)
    yield data
    shutil.rmtree(root)


@pytest.fixture(scope="session")
def immich_sidecar(tmp_path_factory, immich_data, tiny_model_dir) -> Iterator[Sidecar]:
    """The sidecar as the compose overlay runs it: a key for photo_ai's worker, Immich's
    /predict and /ping open, the data directory as its library root."""
    running = start_sidecar(
        tmp_path_factory.mktemp("immich_sidecar"),
        "immich-key-0123456789abcdef",
        model_dir=str(tiny_model_dir),
        library_roots=str(immich_data.root),
        immich_without_key="true",
    )
    yield running
    running.stop()


# ---------------------------------------------------------------------------------------------
# databases


@pytest.fixture(scope="session")
def immich_template(cluster: str) -> Iterator[str]:
    """A database with Immich v3.1's schema and nothing of photo_ai, cloned per test."""
    yield from template(SCHEMA_SQL, IMMICH_TEMPLATE)


@pytest.fixture
def immich_db(immich_template, make_database) -> str:
    """A fresh Immich database, photo_ai not installed."""
    return make_database(immich_template)


@pytest.fixture
def immich(immich_db, immich_data) -> Iterator[ImmichServer]:
    """Immich's server on a fresh Immich database (photo_ai not installed yet)."""
    with superuser(immich_db) as conn:
        yield ImmichServer(conn, immich_data.root)


@pytest.fixture
def attached(immich, immich_sidecar) -> ImmichServer:
    """An Immich database with photo_ai installed on top (Immich mode) and one user."""
    install_photo_ai(immich.conn, immich_sidecar)
    immich.user_id = immich.create_user()
    return immich
