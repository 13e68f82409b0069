"""The project's programs that keep running after the command that started them (the
sidecar, the search page, the worker service, as `make demo` leaves them).

Each has a folder under the state directory holding <name>.pid, <name>.json (what it was
started with) and <name>.log. A program runs in a session of its own, so a terminal's
Ctrl-C does not reach it; a recorded pid counts only while /proc says it is still that
program (pids are reused); stopping is SIGTERM, then SIGKILL after a grace period.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from photo_ai_cli import config

STOP_TIMEOUT_S = 20
LOG_TAIL_LINES = 30


class BackgroundProgram:
    def __init__(self, name: str, module: str, folder: Path, marks: tuple[str, ...] = ()):
        """`module` is run as `python -m <module>`; `marks` are arguments that tell this
        program from other runs of the same module."""
        self.name, self.module, self.dir = name, module, Path(folder)
        self.signature = [part.encode() for part in (module, *marks)]
        self.pid_file = self.dir / f"{name}.pid"
        self.settings_file = self.dir / f"{name}.json"
        self.log_file = self.dir / f"{name}.log"

    def running(self) -> tuple[int, dict] | None:
        """The pid and recorded settings of the program, if it still runs (else its stale
        files are removed)."""
        try:
            pid = int(self.pid_file.read_text().split()[0])
            settings = json.loads(self.settings_file.read_text())
        except (OSError, ValueError, IndexError):
            return None
        if not self._is_ours(pid):
            self.forget()
            return None
        return pid, settings

    def launch(
        self, arguments: list[str], settings: dict, env: dict | None = None
    ) -> subprocess.Popen:
        """Starts `python -m <module> <arguments>` in the background."""
        self.note_start(settings)
        with self.log_file.open("ab") as log:
            process = subprocess.Popen(
                [sys.executable, "-m", self.module, *arguments],
                env=env,
                cwd=config.project_root(),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.record(process.pid, settings)
        return process

    def note_start(self, settings: dict) -> None:
        self.dir.mkdir(parents=True, exist_ok=True)
        with self.log_file.open("ab") as log:
            log.write(f"\n==> {time.strftime('%F %T')} starting: {settings}\n".encode())

    def record(self, pid: int, settings: dict) -> None:
        """Remembers a program started here (by launch, or by a launcher of its own)."""
        self.pid_file.write_text(f"{pid}\n")
        self.settings_file.write_text(json.dumps(settings, indent=1) + "\n")

    def wait_until(
        self, process: subprocess.Popen, ready: Callable[[], bool], timeout_s: float, what: str
    ) -> None:
        """Returns once ready() holds; raises DidNotStart (with the log's tail) when the
        program exits first or stays silent for timeout_s. (Asked of the child itself: just
        after exec, /proc may not show its command line yet.)"""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if process.poll() is not None:
                self.forget()
                raise DidNotStart(f"{what} exited at start; {self.log_file} ends with:\n"
                                  f"{self.log_tail()}")  # fmt: skip
            if ready():
                return
            time.sleep(0.2)
        self.stop()
        raise DidNotStart(f"{what} did not start in {timeout_s:.0f}s; see {self.log_file}")

    def stop(self) -> bool:
        """Stops the program; False when it was not running."""
        running = self.running()
        if running is None:
            return False
        pid = running[0]
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + STOP_TIMEOUT_S
        while self._is_ours(pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        if self._is_ours(pid):
            os.kill(pid, signal.SIGKILL)
            while self._is_ours(pid):
                time.sleep(0.05)
        self.forget()
        return True

    def forget(self) -> None:
        for path in (self.pid_file, self.settings_file):
            path.unlink(missing_ok=True)

    def log_tail(self, lines: int = LOG_TAIL_LINES) -> str:
        try:
            return "\n".join(self.log_file.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def _is_ours(self, pid: int) -> bool:
        """pid is alive, not a zombie, and runs this program's module."""
        try:
            finished, _ = os.waitpid(pid, os.WNOHANG)  # reaps it when it is our own child
            if finished == pid:
                return False
        except ChildProcessError:
            pass
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except (OSError, IndexError):
            return False
        return all(part in cmdline for part in self.signature) and state not in ("Z", "X")


class DidNotStart(RuntimeError):
    pass
