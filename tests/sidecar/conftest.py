"""Real sidecars for the HTTP tests: `python -m inference_sidecar` as a subprocess on a free
loopback port, with tiny models written by the same factories the model tests use.

- `sidecar`: every model present (tiny CLIP and face pack, real OCR), an API key, a
  library root (plus a second one), a low pixel limit so bombs are cheap to build.
- `bare_sidecar`: no model files at all (OCR still works: its models ship in the wheel),
  its own key, and Immich's /predict let through without one.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from inference_sidecar.testing.tiny_models import make_tiny_clip_checkpoint, make_tiny_face_pack
from tests.sidecar import pictures

STARTUP_TIMEOUT_S = 120
MAX_IMAGE_PIXELS = 4_000_000
MAX_FILE_BYTES = 2_000_000


@dataclass
class Sidecar:
    url: str
    key: str
    library: Path  # first library root
    outside: Path  # a directory outside every root
    process: subprocess.Popen
    log: Path

    def client(self, key: str | None = "own", header: str = "x-api-key") -> httpx.Client:
        """A client sending this sidecar's key (or `key` itself, or none when None)."""
        headers = {} if key is None else {header: self.key if key == "own" else key}
        return httpx.Client(base_url=self.url, headers=headers, timeout=120)

    def alive(self) -> bool:
        return self.process.poll() is None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def sidecar_env(**settings: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PHOTO_AI_")}
    env.update({f"PHOTO_AI_{name.upper()}": value for name, value in settings.items()})
    return env


def start_sidecar(workdir: Path, key: str, **settings: str) -> Sidecar:
    port = free_port()
    library, outside = workdir / "library", workdir / "outside"
    log = workdir / "sidecar.log"
    defaults = dict(
        host="127.0.0.1",
        port=str(port),
        api_key=key,
        device="cpu",
        log_level="warning",
        library_roots=f"{library}:{workdir / 'second_root'}",
    )
    env = sidecar_env(**(defaults | settings))
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "inference_sidecar"],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=workdir,
        )
    sidecar = Sidecar(f"http://127.0.0.1:{port}", key, library, outside, process, log)
    wait_until_up(sidecar)
    return sidecar


def wait_until_up(sidecar: Sidecar) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while time.monotonic() < deadline:
        if not sidecar.alive():
            pytest.fail(f"sidecar exited at start:\n{sidecar.log.read_text()}")
        try:
            if httpx.get(f"{sidecar.url}/ping", timeout=2).text == "pong":
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    stop_sidecar(sidecar)
    pytest.fail(f"sidecar did not answer /ping in {STARTUP_TIMEOUT_S}s:\n{sidecar.log.read_text()}")


def stop_sidecar(sidecar: Sidecar) -> None:
    sidecar.process.terminate()
    try:
        sidecar.process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        sidecar.process.kill()
        sidecar.process.wait()


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
