"""The search page as a background program of the project, as `make demo` leaves it
(photo_ai_cli.background: state in <state dir>/web/page.pid, page.json, page.log)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import httpx

from photo_ai_cli import config
from photo_ai_cli.background import BackgroundProgram, DidNotStart

STARTUP_TIMEOUT_S = 60
PageDidNotStart = DidNotStart


@dataclass
class RunningPage:
    pid: int
    url: str
    log: Path
    started: bool = False  # this call started it


class BackgroundPage:
    def __init__(self, state_dir: Path | None = None):
        self.program = BackgroundProgram(
            "page", "photo_ai_web", Path(state_dir or config.state_dir() / "web")
        )
        self.log_file = self.program.log_file

    def running(self) -> RunningPage | None:
        """The page this project started, if it still runs."""
        found = self.program.running()
        if found is None or "url" not in found[1]:
            return None
        return RunningPage(found[0], found[1]["url"], self.log_file)

    def start(self, host: str, port: int, url: str) -> RunningPage:
        """Starts `python -m photo_ai_web` in the background, or keeps the one running at the
        same address; returns once it answers."""
        current = self.running()
        if current is not None:
            if current.url == url and _answers(url):
                return current
            self.stop()
        settings = {"host": host, "port": port, "url": url}
        process = self.program.launch(["--host", host, "--port", str(port)], settings)
        self.program.wait_until(
            process, lambda: _answers(url), STARTUP_TIMEOUT_S, "the search page"
        )
        return RunningPage(process.pid, url, self.log_file, started=True)

    def stop(self) -> bool:
        """Stops the page this project started; False when none was running."""
        return self.program.stop()

    def log_tail(self) -> str:
        return self.program.log_tail()


def _answers(url: str) -> bool:
    try:
        return httpx.get(f"{url}/healthz", timeout=2).text == "ok"
    except httpx.HTTPError:
        return False
