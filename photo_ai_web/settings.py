"""The search page's settings: environment variables PHOTO_AI_WEB_*, and the two it shares with
the sidecar (PHOTO_AI_LIBRARY_ROOTS, PHOTO_AI_MAX_IMAGE_PIXELS). The database is the CLI's:
PHOTO_AI_DSN, or PHOTO_AI_DATABASE on the project's cluster."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

from pydantic import AliasChoices, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from inference_sidecar.settings import DEFAULT_MAX_IMAGE_PIXELS, secret_problem
from photo_ai_cli import config


class WebSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="PHOTO_AI_WEB_", extra="ignore")

    host: str = "127.0.0.1"
    port: int = Field(8080, ge=1, le=65535)
    # Required on any address but loopback; when set, every page asks for it.
    password: SecretStr | None = None
    # Immich's web app (https://photos.example.com): each photo links to it there.
    immich_url: str | None = None
    # Directories photos may be read from, separated by ':' (the sidecar's variable). Empty:
    # the folders `photo-ai import` has imported (photo_ai_cli's remembered roots).
    library_roots: str = Field(
        "", validation_alias=AliasChoices("PHOTO_AI_WEB_LIBRARY_ROOTS", "PHOTO_AI_LIBRARY_ROOTS")
    )
    # Thumbnails and the page's secret key; default <state dir>/web (PHOTO_AI_STATE_DIR).
    state_dir: Path | None = None
    max_image_pixels: int = Field(
        DEFAULT_MAX_IMAGE_PIXELS,
        gt=0,
        validation_alias=AliasChoices("PHOTO_AI_WEB_MAX_IMAGE_PIXELS", "PHOTO_AI_MAX_IMAGE_PIXELS"),
    )
    max_file_bytes: int = Field(200 * 1024 * 1024, gt=0)
    max_upload_bytes: int = Field(50 * 1024 * 1024, gt=0)
    page_size: int = Field(48, ge=1, le=500)  # 8 rows of 6: two screens
    thumbnail_pixels: int = Field(400, ge=64, le=2048)
    preview_pixels: int = Field(2048, ge=256, le=8192)
    database_connections: int = Field(8, ge=1, le=100)

    @field_validator("immich_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if not value:
            return None
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError(f"not an http(s) URL: {value}")
        return value.rstrip("/")

    @property
    def password_value(self) -> str | None:
        return (self.password.get_secret_value() if self.password else "") or None

    @property
    def web_state_dir(self) -> Path:
        return Path(self.state_dir or config.state_dir() / "web").resolve()

    def library_root_paths(self) -> list[Path]:
        return [Path(p).resolve() for p in self.library_roots.split(":") if p.strip()]

    @property
    def url(self) -> str:
        host = "127.0.0.1" if self.host in ("0.0.0.0", "::", "") else self.host
        host = f"[{host}]" if ":" in host else host
        return f"http://{host}:{self.port}"


def startup_problem(settings: WebSettings) -> str | None:
    """Why the page must not start with these settings, or None (the sidecar's rule: off
    loopback, a password is required)."""
    return secret_problem(settings.host, settings.password_value, "PHOTO_AI_WEB_PASSWORD")
