"""Fixtures of the command-line tests: the OCR samples drawn once, a real sidecar reading them."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from photo_ai_cli import sample_photos
from tests.cli.ocr_samples import OCR_SAMPLES
from tests.support.sidecars import Sidecar, start_sidecar


@pytest.fixture(scope="session")
def samples_folder() -> Iterator[Path]:
    """The OCR samples, drawn once per session where the sidecar may read them."""
    folder = Path(tempfile.mkdtemp(prefix="photo_ai_cli_samples_"))
    sample_photos.generate(folder, OCR_SAMPLES)
    yield folder
    shutil.rmtree(folder)


@pytest.fixture(scope="session")
def import_root() -> Iterator[Path]:
    """A second library root, empty, for tests that import folders of their own."""
    folder = Path(tempfile.mkdtemp(prefix="photo_ai_cli_imports_"))
    yield folder
    shutil.rmtree(folder)


@pytest.fixture(scope="session")
def ocr_sidecar(samples_folder: Path, import_root: Path, tmp_path_factory) -> Iterator[Sidecar]:
    """A real sidecar (real OCR; no CLIP or face model) with the samples (and import_root)
    as its library."""
    workdir = tmp_path_factory.mktemp("cli_sidecar")
    running = start_sidecar(
        workdir,
        "cli-test-key-0123456789abcdef",
        model_dir=str(workdir / "no_models"),
        library_roots=f"{samples_folder}:{import_root}",
    )
    yield running
    running.stop()
