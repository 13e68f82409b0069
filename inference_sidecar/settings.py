"""The sidecar's settings: every one is an environment variable prefixed PHOTO_AI_."""

import ipaddress
from functools import cached_property
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

# Medium-format cameras write ~102 MP; anything much larger is a scan or a bomb.
DEFAULT_MAX_IMAGE_PIXELS = 120_000_000
# Decoded pixels held at once by all requests together: one picture of the largest size, or
# a hundred of 1.2 megapixels. Every task asked of eight 119-megapixel pictures at once, on
# CPU, peaked at 1.5 GiB (one-bit PNGs) and 2.1 GiB (RGB JPEGs); twice this, 2.3-2.7 GiB.
DEFAULT_MAX_PIXELS_IN_FLIGHT = DEFAULT_MAX_IMAGE_PIXELS
# A key shorter than this can be guessed; `openssl rand -hex 32` makes a good one.
MIN_API_KEY_LENGTH = 16


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="PHOTO_AI_", extra="ignore")

    host: str = "127.0.0.1"
    port: int = Field(3003, ge=1, le=65535)
    api_key: SecretStr | None = None
    model_dir: Path = Path("models")
    clip_model: str = "ViT-B-16"
    face_model: str = "buffalo_l"
    device: Literal["auto", "cpu", "cuda"] = "auto"
    # A str, not list[Path]: pydantic-settings would expect JSON for a list.
    library_roots: str = ""
    max_image_pixels: int = Field(DEFAULT_MAX_IMAGE_PIXELS, gt=0)
    max_pixels_in_flight: int = Field(DEFAULT_MAX_PIXELS_IN_FLIGHT, gt=0)
    max_file_bytes: int = Field(200 * 1024 * 1024, gt=0)
    batch_max_size: int = Field(16, ge=1, le=1024)
    batch_max_wait_ms: float = Field(5.0, ge=0, le=1000)
    face_min_score: float = Field(0.7, ge=0, le=1)
    ocr_min_score: float = Field(0.5, ge=0, le=1)
    immich_without_key: bool = False
    api_docs: bool | None = None  # /docs, /redoc, /openapi.json; unset: on for a loopback host
    decode_threads: int = Field(4, ge=1, le=64)
    log_level: Literal["debug", "info", "warning", "error"] = "info"

    @cached_property
    def library_root_paths(self) -> list[Path]:
        return [Path(part).resolve() for part in self.library_roots.split(":") if part.strip()]

    @property
    def api_key_value(self) -> str | None:
        key = self.api_key.get_secret_value() if self.api_key else ""
        return key or None

    @property
    def docs_on(self) -> bool:
        return is_loopback(self.host) if self.api_docs is None else self.api_docs


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def startup_problem(settings: Settings) -> str | None:
    """Why the sidecar must not start with these settings, or None."""
    key = settings.api_key_value
    if not is_loopback(settings.host) and key is None:
        return (
            f"refusing to listen on {settings.host}: set PHOTO_AI_API_KEY "
            "(required whenever PHOTO_AI_HOST is not a loopback address)"
        )
    if key is not None and (len(key.strip()) < MIN_API_KEY_LENGTH or key != key.strip()):
        return (
            f"PHOTO_AI_API_KEY must be at least {MIN_API_KEY_LENGTH} characters, without "
            "spaces at either end (make one with: openssl rand -hex 32)"
        )
    return None
