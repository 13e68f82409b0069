"""Where things live: the project folder, its state under .cache/, the photos and models.
(The database and the sidecar process: photo_ai_cli.local.)"""

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
