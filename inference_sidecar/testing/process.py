"""A sidecar as a child process, for tests and benchmarks: `python -m inference_sidecar` on
a free loopback port, waited for until it answers /ping, stopped on request."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

STARTUP_TIMEOUT_S = 120


class SidecarDidNotStart(RuntimeError):
    pass


@dataclass
class RunningSidecar:
    url: str
    key: str | None
    process: subprocess.Popen
    log: Path

    def alive(self) -> bool:
        return self.process.poll() is None

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def sidecar_environment(**settings: str) -> dict[str, str]:
    """This process's environment without PHOTO_AI_* variables, plus the given settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PHOTO_AI_")}
    env.update({f"PHOTO_AI_{name.upper()}": str(value) for name, value in settings.items()})
    return env


def start_sidecar(log: Path, cwd: Path | None = None, **settings: str) -> RunningSidecar:
    """Starts a sidecar with the given PHOTO_AI_* settings (host and port chosen here unless
    given) and returns once it answers /ping."""
    settings = {"host": "127.0.0.1", "port": str(free_port()), **settings}
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "inference_sidecar"],
            env=sidecar_environment(**settings),
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=cwd or log.parent,
        )
    sidecar = RunningSidecar(
        f"http://{settings['host']}:{settings['port']}", settings.get("api_key"), process, log
    )
    _wait_until_up(sidecar)
    return sidecar


def _wait_until_up(sidecar: RunningSidecar) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while time.monotonic() < deadline:
        if not sidecar.alive():
            raise SidecarDidNotStart(f"sidecar exited at start:\n{sidecar.log.read_text()}")
        try:
            if httpx.get(f"{sidecar.url}/ping", timeout=2).text == "pong":
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    sidecar.stop()
    raise SidecarDidNotStart(
        f"sidecar did not answer /ping in {STARTUP_TIMEOUT_S}s:\n{sidecar.log.read_text()}"
    )
