"""The inference sidecar as a background process of the project: started, found again,
restarted when its settings change, stopped.

State lives in <project>/.cache/sidecar/:
    sidecar.pid    the running process
    sidecar.json   the settings it was started with (host, port, roots, model dir, device)
    sidecar.log    its output
    api_key        the key it requires, made once (mode 600); the database is given it
    roots.json     the photo folders imported so far: all of them stay library roots

The sidecar listens on loopback only (127.0.0.1) unless PHOTO_AI_HOST says otherwise.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import secrets
import socket
from dataclasses import asdict, dataclass, field
from pathlib import Path

import httpx

from photo_ai_cli import config, local
from photo_ai_cli.background import BackgroundProgram


class SidecarError(RuntimeError):
    pass


@dataclass(frozen=True)
class SidecarSettings:
    host: str = "127.0.0.1"
    port: int = 3003
    library_roots: tuple[str, ...] = ()
    model_dir: str = ""
    device: str = "auto"
    code: str = ""  # the sidecar's source files as they were: changed code restarts it

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @classmethod
    def from_env(cls, library_roots: list[Path] | tuple[str, ...] = ()) -> SidecarSettings:
        return cls(
            host=os.environ.get("PHOTO_AI_HOST", "127.0.0.1"),
            port=int(os.environ.get("PHOTO_AI_PORT", "3003")),
            library_roots=tuple(sorted({str(Path(r).resolve()) for r in library_roots})),
            model_dir=str(config.model_dir()),
            device=os.environ.get("PHOTO_AI_DEVICE", "auto"),
            code=sidecar_code_stamp(),
        )


@dataclass
class Running:
    pid: int
    settings: SidecarSettings
    api_key: str
    log: Path
    started: bool = False  # this call started it
    reason: str = ""  # why it was (re)started
    extra: dict = field(default_factory=dict)

    @property
    def url(self) -> str:
        return self.settings.url


class SidecarManager:
    def __init__(self, state: Path | None = None):
        self.dir = Path(state or config.state_dir() / "sidecar")
        self.program = BackgroundProgram("sidecar", "inference_sidecar", self.dir)
        self.log_file = self.program.log_file
        self.key_file = self.dir / "api_key"
        self.roots_file = self.dir / "roots.json"

    # ----------------------------------------------------------------- state files

    def api_key(self) -> str:
        """The key this project's sidecar requires: PHOTO_AI_API_KEY, else one made once."""
        if os.environ.get("PHOTO_AI_API_KEY"):
            return os.environ["PHOTO_AI_API_KEY"]
        if not self.key_file.exists():
            self.dir.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as f:
                f.write(secrets.token_urlsafe(24) + "\n")
        return self.key_file.read_text().strip()

    def known_roots(self) -> list[str]:
        if not self.roots_file.exists():
            return []
        try:
            return [str(r) for r in json.loads(self.roots_file.read_text())]
        except (ValueError, TypeError):
            return []

    def remember_root(self, folder: Path) -> list[str]:
        """Adds a photo folder to the library roots; returns them all (existing ones only)."""
        roots = {r for r in self.known_roots() if Path(r).is_dir()}
        roots.add(str(Path(folder).resolve()))
        self.dir.mkdir(parents=True, exist_ok=True)
        self.roots_file.write_text(json.dumps(sorted(roots), indent=1) + "\n")
        return sorted(roots)

    # ----------------------------------------------------------------- queries

    def running(self) -> Running | None:
        """The sidecar this project started, if it is still running (stale files removed)."""
        found = self.program.running()
        if found is None:
            return None
        recorded = found[1]
        try:
            settings = SidecarSettings(
                **recorded | {"library_roots": tuple(recorded["library_roots"])}
            )
        except (TypeError, KeyError):
            self.program.forget()
            return None
        return Running(found[0], settings, self.api_key(), self.log_file)

    def health(self, running: Running | None = None, timeout: float = 10) -> dict:
        running = running or self.running()
        if running is None:
            raise SidecarError("the sidecar is not running")
        response = httpx.get(
            f"{running.url}/health", headers={"x-api-key": running.api_key}, timeout=timeout
        )
        response.raise_for_status()
        return response.json()

    # ----------------------------------------------------------------- start / stop

    def start(self, settings: SidecarSettings) -> Running:
        """Starts the sidecar, or keeps the one running when its settings are the same.

        A sidecar of this project running with other settings (a new photo folder, another
        port) is stopped and started again.
        """
        current = self.running()
        reason = ""
        if current is not None:
            if current.settings == settings and local.answers_ping(current.url):
                return current
            changed = [
                name
                for name in asdict(settings)
                if getattr(settings, name) != getattr(current.settings, name)
            ]
            reason = f"new {', '.join(changed)}" if changed else "it was not answering"
            self.stop()
        if _port_in_use(settings.host, settings.port):
            raise SidecarError(
                f"port {settings.port} on {settings.host} is already in use by another program "
                f"(not this project's sidecar). Choose another: PHOTO_AI_PORT=3013 make demo"
            )
        self.program.note_start(asdict(settings))
        sidecar = local.spawn_sidecar(
            self.log_file, config.project_root(), detached=True, **self._launch_settings(settings)
        )
        self.program.record(sidecar.pid, asdict(settings))
        try:
            sidecar.wait_until_up()
        except local.SidecarDidNotStart as failure:
            self.program.forget()
            raise SidecarError(str(failure)) from None
        return Running(sidecar.pid, settings, self.api_key(), self.log_file, True, reason)

    def _launch_settings(self, settings: SidecarSettings) -> dict[str, str]:
        """The sidecar's PHOTO_AI_* settings: these, and a few passed on from this process."""
        passed_on = {
            name: os.environ[f"PHOTO_AI_{name.upper()}"]
            for name in ("clip_model", "max_image_pixels")
            if f"PHOTO_AI_{name.upper()}" in os.environ
        }
        return passed_on | dict(
            host=settings.host,
            port=str(settings.port),
            api_key=self.api_key(),
            model_dir=settings.model_dir,
            library_roots=":".join(settings.library_roots),
            device=settings.device,
            log_level=os.environ.get("PHOTO_AI_LOG_LEVEL", "warning"),
        )

    def stop(self) -> bool:
        """Stops this project's sidecar; False when none was running."""
        return self.program.stop()


def sidecar_code_stamp() -> str:
    """A digest of the sidecar package's files (names, sizes, times), cheap to take."""
    spec = importlib.util.find_spec("inference_sidecar")
    if spec is None or not spec.submodule_search_locations:
        return ""
    digest = hashlib.sha1()
    for root in spec.submodule_search_locations:
        for path in sorted(Path(root).rglob("*.py")):
            info = path.stat()
            digest.update(f"{path}:{info.st_size}:{info.st_mtime_ns}\n".encode())
    return digest.hexdigest()[:16]


def _port_in_use(host: str, port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(1)
        return s.connect_ex((host if host not in ("0.0.0.0", "::") else "127.0.0.1", port)) == 0
