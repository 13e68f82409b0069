"""Real sidecars for the tests: `python -m inference_sidecar` as a child process on a free
loopback port (photo_ai_cli.local starts it), with tiny models written by the same
factories the model tests use.

- `sidecar`: every model present (tiny CLIP and face pack, real OCR), an API key, a
  library root (plus a second one), a low pixel limit so bombs are cheap to build.
- `bare_sidecar`: no model files at all (OCR still works: its models ship in the wheel),
  its own key, and Immich's /predict let through without one.
- `pipeline_sidecar`, `modelless_sidecar`: the same two kinds reading `library`, a folder
  the postgres OS user may read too (for the bytes mode).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from inference_sidecar.testing.tiny_models import make_tiny_clip_checkpoint, make_tiny_face_pack
from photo_ai_cli.local import SidecarDidNotStart, SidecarProcess, sidecar_environment
from photo_ai_cli.local import start_sidecar as start_sidecar_process
from tests.support import pictures

MAX_IMAGE_PIXELS = 4_000_000
MAX_FILE_BYTES = 2_000_000


@dataclass
class Sidecar:
    url: str
    key: str
    library: Path  # first library root
    outside: Path  # a directory outside every root
    running: SidecarProcess

    def client(self, key: str | None = "own", header: str = "x-api-key") -> httpx.Client:
        """A client sending this sidecar's key (or `key` itself, or none when None)."""
        headers = {} if key is None else {header: self.key if key == "own" else key}
        return httpx.Client(base_url=self.url, headers=headers, timeout=120)

    def alive(self) -> bool:
        return self.running.alive()

    def stop(self) -> None:
        self.running.stop()


def start_sidecar(workdir: Path, key: str, **settings: str) -> Sidecar:
    """A sidecar working in `workdir` (its log there), requiring `key`; settings are its
    PHOTO_AI_* settings (default: CPU, library roots workdir/library and workdir/second_root)."""
    library, outside = workdir / "library", workdir / "outside"
    defaults = dict(
        api_key=key,
        device="cpu",
        log_level="warning",
        library_roots=f"{library}:{workdir / 'second_root'}",
    )
    try:
        running = start_sidecar_process(workdir / "sidecar.log", workdir, **(defaults | settings))
    except SidecarDidNotStart as failure:
        pytest.fail(str(failure))
    return Sidecar(running.url, key, library, outside, running)


def run_sidecar_to_exit(**settings: str) -> subprocess.CompletedProcess:
    """`python -m inference_sidecar` with settings that must stop it at start: how it ended."""
    return subprocess.run(
        [sys.executable, "-m", "inference_sidecar"],
        env=sidecar_environment(**settings),
        capture_output=True,
        text=True,
        timeout=120,
    )


def make_library(workdir: Path) -> None:
    """Library files the path tests read, and the ways out of the library they must not find."""
    library, outside, second = workdir / "library", workdir / "outside", workdir / "second_root"
    for directory in (library, outside, second, library / "album"):
        directory.mkdir(parents=True, exist_ok=True)
    pictures.text_picture().save(library / "invoice.png")
    pictures.text_picture().save(second / "invoice.jpg", quality=95)
    pictures.text_picture().save(outside / "secret.png")
    (library / "escape.png").symlink_to(outside / "secret.png")
    (library / "album" / "inside_link.png").symlink_to(library / "invoice.png")
    (library / "broken.jpg").write_bytes(pictures.truncated_jpeg())
    (library / "huge.jpg").write_bytes(os.urandom(MAX_FILE_BYTES + 500_000))


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory) -> Path:
    """A model folder with a tiny CLIP checkpoint and a tiny face pack (read-only to tests)."""
    directory = tmp_path_factory.mktemp("tiny_models")
    make_tiny_clip_checkpoint(directory)
    make_tiny_face_pack(directory)
    return directory


@pytest.fixture(scope="session")
def sidecar(tmp_path_factory, tiny_model_dir) -> Iterator[Sidecar]:
    workdir = tmp_path_factory.mktemp("sidecar")
    make_library(workdir)
    running = start_sidecar(
        workdir,
        "test-key-0123456789abcdef",
        model_dir=str(tiny_model_dir),
        max_image_pixels=str(MAX_IMAGE_PIXELS),
        max_file_bytes=str(MAX_FILE_BYTES),
        batch_max_wait_ms="50",
    )
    yield running
    running.stop()


@pytest.fixture(scope="session")
def bare_sidecar(tmp_path_factory) -> Iterator[Sidecar]:
    workdir = tmp_path_factory.mktemp("bare_sidecar")
    make_library(workdir)
    running = start_sidecar(
        workdir,
        "bare-key-0123456789abcdef",
        model_dir=str(workdir / "no_models"),
        immich_without_key="true",
    )
    yield running
    running.stop()


@pytest.fixture(scope="session")
def client(sidecar: Sidecar) -> Iterator[httpx.Client]:
    with sidecar.client() as c:
        yield c


@pytest.fixture(scope="session")
def library() -> Iterator[Path]:
    # Readable by the postgres OS user, unlike pytest's private tmp directories.
    root = Path(tempfile.mkdtemp(prefix="photo_ai_library_"))
    root.chmod(0o755)
    pictures.text_picture().save(root / "invoice.png")
    pictures.text_picture(pictures.SIGN_LINES).save(root / "sign.png")
    pictures.face_picture()[0].save(root / "faces.png")
    (root / "corrupt.jpg").write_bytes(pictures.truncated_jpeg())
    for path in root.iterdir():
        path.chmod(0o644)
    yield root
    shutil.rmtree(root)


def _library_sidecar(tmp_path_factory, library: Path, name: str, models: Path | None) -> Sidecar:
    """A sidecar reading `library`, with the models in `models` (None: no model files)."""
    workdir = tmp_path_factory.mktemp(name)
    model_dir = str(models or workdir / "no_models")
    return start_sidecar(workdir, f"{name}-key", model_dir=model_dir, library_roots=str(library))


@pytest.fixture(scope="session")
def pipeline_sidecar(tmp_path_factory, library, tiny_model_dir) -> Iterator[Sidecar]:
    running = _library_sidecar(tmp_path_factory, library, "pipeline_sidecar", tiny_model_dir)
    yield running
    running.stop()


@pytest.fixture(scope="session")
def modelless_sidecar(tmp_path_factory, library) -> Iterator[Sidecar]:
    running = _library_sidecar(tmp_path_factory, library, "modelless_sidecar", None)
    yield running
    running.stop()
