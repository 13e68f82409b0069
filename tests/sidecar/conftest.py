"""Real sidecars for the HTTP tests: `python -m inference_sidecar` as a subprocess on a free
loopback port, with tiny models written by the same factories the model tests use.

- `sidecar`: every model present (tiny CLIP and face pack, real OCR), an API key, a
  library root (plus a second one), a low pixel limit so bombs are cheap to build.
- `bare_sidecar`: no model files at all (OCR still works: its models ship in the wheel),
  its own key, and Immich's /predict let through without one.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from inference_sidecar.testing.process import RunningSidecar, SidecarDidNotStart
from inference_sidecar.testing.process import start_sidecar as spawn_sidecar
from inference_sidecar.testing.tiny_models import make_tiny_clip_checkpoint, make_tiny_face_pack
from tests.sidecar import pictures

MAX_IMAGE_PIXELS = 4_000_000
MAX_FILE_BYTES = 2_000_000


@dataclass
class Sidecar:
    url: str
    key: str
    library: Path  # first library root
    outside: Path  # a directory outside every root
    running: RunningSidecar

    def client(self, key: str | None = "own", header: str = "x-api-key") -> httpx.Client:
        """A client sending this sidecar's key (or `key` itself, or none when None)."""
        headers = {} if key is None else {header: self.key if key == "own" else key}
        return httpx.Client(base_url=self.url, headers=headers, timeout=120)

    def alive(self) -> bool:
        return self.running.alive()


def start_sidecar(workdir: Path, key: str, **settings: str) -> Sidecar:
    library, outside = workdir / "library", workdir / "outside"
    defaults = dict(
        api_key=key,
        device="cpu",
        log_level="warning",
        library_roots=f"{library}:{workdir / 'second_root'}",
    )
    try:
        running = spawn_sidecar(workdir / "sidecar.log", cwd=workdir, **(defaults | settings))
    except SidecarDidNotStart as failure:
        pytest.fail(str(failure))
    return Sidecar(running.url, key, library, outside, running)


def stop_sidecar(sidecar: Sidecar) -> None:
    sidecar.running.stop()


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
def sidecar(tmp_path_factory) -> Iterator[Sidecar]:
    workdir = tmp_path_factory.mktemp("sidecar")
    model_dir = workdir / "models"
    make_tiny_clip_checkpoint(model_dir)
    make_tiny_face_pack(model_dir)
    make_library(workdir)
    running = start_sidecar(
        workdir,
        "test-key",
        model_dir=str(model_dir),
        max_image_pixels=str(MAX_IMAGE_PIXELS),
        max_file_bytes=str(MAX_FILE_BYTES),
        batch_max_wait_ms="50",
    )
    yield running
    stop_sidecar(running)


@pytest.fixture(scope="session")
def bare_sidecar(tmp_path_factory) -> Iterator[Sidecar]:
    workdir = tmp_path_factory.mktemp("bare_sidecar")
    make_library(workdir)
    running = start_sidecar(
        workdir, "bare-key", model_dir=str(workdir / "no_models"), immich_without_key="true"
    )
    yield running
    stop_sidecar(running)


@pytest.fixture(scope="session")
def client(sidecar: Sidecar) -> Iterator[httpx.Client]:
    with sidecar.client() as c:
        yield c
