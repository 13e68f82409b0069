"""Fixtures of the command-line tests: folders of pictures, a real sidecar reading them."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image

from inference_sidecar.testing.process import RunningSidecar, start_sidecar
from photo_ai_cli import sample_photos

# A few of the demo's samples: a receipt, a sign, a screenshot and a scene without text.
OCR_SAMPLES = tuple(
    s
    for s in sample_photos.SAMPLES
    if s.path
    in (
        "receipts/增值税专用发票.jpg",
        "signs/parking.jpg",
        "screenshots/chat.png",
        "scenes/forest.jpg",
    )
)


def picture(path: Path, colour=(200, 30, 30), size=(64, 48), **save) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", size, colour).save(path, **save)
    return path


@pytest.fixture(scope="session")
def samples_folder() -> Iterator[Path]:
    """The OCR samples, drawn once per session where the sidecar may read them."""
    folder = Path(tempfile.mkdtemp(prefix="photo_ai_cli_samples_"))
    sample_photos.generate(folder, OCR_SAMPLES)
    yield folder
    shutil.rmtree(folder)


@pytest.fixture(scope="session")
def ocr_sidecar(samples_folder: Path, tmp_path_factory) -> Iterator[RunningSidecar]:
    """A real sidecar (real OCR; no CLIP or face model) with the samples as its library."""
    workdir = tmp_path_factory.mktemp("cli_sidecar")
    running = start_sidecar(
        workdir / "sidecar.log",
        api_key="cli-test-key",
        model_dir=str(workdir / "no_models"),
        library_roots=str(samples_folder),
        device="cpu",
        log_level="warning",
    )
    yield running
    running.stop()
