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
import signal
import socket
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import httpx

from photo_ai_cli import config

STARTUP_TIMEOUT_S = 180
STOP_TIMEOUT_S = 20


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
        self.pid_file = self.dir / "sidecar.pid"
        self.settings_file = self.dir / "sidecar.json"
        self.log_file = self.dir / "sidecar.log"
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

    def _pid(self) -> int | None:
        try:
            return int(self.pid_file.read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return None

    def _recorded_settings(self) -> SidecarSettings | None:
        try:
            data = json.loads(self.settings_file.read_text())
            data["library_roots"] = tuple(data["library_roots"])
            return SidecarSettings(**data)
        except (OSError, ValueError, TypeError, KeyError):
            return None

    @staticmethod
    def _is_sidecar(pid: int) -> bool:
        """True when pid is alive and is a `python -m inference_sidecar` (not a reused pid)."""
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except OSError:
            return False
        return b"inference_sidecar" in cmdline and _alive(pid)

    def _clear(self) -> None:
        for path in (self.pid_file, self.settings_file):
            path.unlink(missing_ok=True)

    # ----------------------------------------------------------------- queries

    def running(self) -> Running | None:
        """The sidecar this project started, if it is still running (stale files removed)."""
        pid = self._pid()
        if pid is None:
            return None
        settings = self._recorded_settings()
        if not self._is_sidecar(pid) or settings is None:
            self._clear()
            return None
        return Running(pid, settings, self.api_key(), self.log_file)

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
            if current.settings == settings and self._answers(current.url):
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
        self.dir.mkdir(parents=True, exist_ok=True)
        env = {k: v for k, v in os.environ.items() if not k.startswith("PHOTO_AI_")}
        env.update(
            PHOTO_AI_HOST=settings.host,
            PHOTO_AI_PORT=str(settings.port),
            PHOTO_AI_API_KEY=self.api_key(),
            PHOTO_AI_MODEL_DIR=settings.model_dir,
            PHOTO_AI_LIBRARY_ROOTS=":".join(settings.library_roots),
            PHOTO_AI_DEVICE=settings.device,
            PHOTO_AI_LOG_LEVEL=os.environ.get("PHOTO_AI_LOG_LEVEL", "warning"),
        )
        for name in ("PHOTO_AI_CLIP_MODEL", "PHOTO_AI_MAX_IMAGE_PIXELS"):
            if name in os.environ:
                env[name] = os.environ[name]
        with self.log_file.open("ab") as log:
            log.write(f"\n==> {time.strftime('%F %T')} starting: {settings}\n".encode())
            log.flush()
            process = subprocess.Popen(
                [sys.executable, "-m", "inference_sidecar"],
                env=env,
                cwd=config.project_root(),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # not killed by the terminal's Ctrl-C
            )
        self.pid_file.write_text(f"{process.pid}\n")
        self.settings_file.write_text(json.dumps(asdict(settings), indent=1) + "\n")
        running = Running(process.pid, settings, self.api_key(), self.log_file, True, reason)
        self._wait_until_up(running, process)
        return running

    def _answers(self, url: str) -> bool:
        try:
            return httpx.get(f"{url}/ping", timeout=3).text == "pong"
        except httpx.HTTPError:
            return False

    def _wait_until_up(self, running: Running, process: subprocess.Popen) -> None:
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while time.monotonic() < deadline:
            if process.poll() is not None:
                self._clear()
                raise SidecarError(
                    f"the sidecar exited at start (status {process.returncode}); "
                    f"its log {self.log_file} ends with:\n{self.log_tail()}"
                )
            if self._answers(running.url):
                return
            time.sleep(0.2)
        self.stop()
        raise SidecarError(
            f"the sidecar did not answer {running.url}/ping within {STARTUP_TIMEOUT_S}s; "
            f"see {self.log_file}:\n{self.log_tail()}"
        )

    def stop(self) -> bool:
        """Stops this project's sidecar; False when none was running."""
        pid = self._pid()
        if pid is None or not self._is_sidecar(pid):
            self._clear()
            return False
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + STOP_TIMEOUT_S
        while _alive(pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        if _alive(pid):
            os.kill(pid, signal.SIGKILL)
            while _alive(pid):
                time.sleep(0.05)
        self._clear()
        return True

    def log_tail(self, lines: int = 20) -> str:
        try:
            return "\n".join(self.log_file.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"


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


def _alive(pid: int) -> bool:
    """True while pid exists and is not a zombie (reaped if it is our own child)."""
    try:
        finished, _ = os.waitpid(pid, os.WNOHANG)
        if finished == pid:
            return False
    except ChildProcessError:
        pass
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state not in ("Z", "X")


def _port_in_use(host: str, port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(1)
        return s.connect_ex((host if host not in ("0.0.0.0", "::") else "127.0.0.1", port)) == 0
