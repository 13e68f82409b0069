"""The sidecar's settings: every one is an environment variable prefixed PHOTO_AI_."""

import ipaddress
import sys
from collections.abc import Callable
from functools import cached_property
from pathlib import Path
from typing import Any, Literal, TypeVar

from pydantic import Field, SecretStr, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

# Medium-format cameras write ~102 MP; anything much larger is a scan or a bomb.
DEFAULT_MAX_IMAGE_PIXELS = 120_000_000
# Decoded pixels held at once by all requests together: one picture of the largest size, or
# a hundred of 1.2 megapixels. Every task asked of eight 119-megapixel pictures at once, on
# CPU, peaked at 1.5 GiB (one-bit PNGs) and 2.1 GiB (RGB JPEGs); twice this, 2.3-2.7 GiB.
DEFAULT_MAX_PIXELS_IN_FLIGHT = DEFAULT_MAX_IMAGE_PIXELS
# A key shorter than this can be guessed; `openssl rand -hex 32` makes a good one.
MIN_API_KEY_LENGTH = 16

ServerSettings = TypeVar("ServerSettings", bound=BaseSettings)


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
    return secret_problem(settings.host, settings.api_key_value, "PHOTO_AI_API_KEY")


def secret_problem(host: str, secret: str | None, variable: str) -> str | None:
    """Why a server of this project must not listen on `host` with this secret (the value of
    the environment variable `variable`), or None: off loopback a secret is required, and one
    that could be guessed (short, or with spaces at either end) is refused."""
    if secret is None:
        if is_loopback(host):
            return None
        return (
            f"refusing to listen on {host}: set {variable} (at least {MIN_API_KEY_LENGTH} "
            "characters; required on any address but loopback)"
        )
    if len(secret.strip()) < MIN_API_KEY_LENGTH or secret != secret.strip():
        return (
            f"{variable} must be at least {MIN_API_KEY_LENGTH} characters, without "
            "spaces at either end (make one with: openssl rand -hex 32)"
        )
    return None


def settings_to_start(
    program: str,
    settings_class: type[ServerSettings],
    problem: Callable[[ServerSettings], str | None],
    **given: Any,
) -> ServerSettings | None:
    """The settings a server starts with (the environment's, and `given` over them), or None
    once stderr says why `program` must not start: a value pydantic refuses, or `problem`."""
    try:
        settings = settings_class(**given)
    except ValidationError as e:
        prefix = settings_class.model_config.get("env_prefix", "")
        print(f"{program}: invalid {prefix} setting:\n{e}", file=sys.stderr)
        return None
    why = problem(settings)
    if why:
        print(f"{program}: {why}", file=sys.stderr)
        return None
    return settings
