"""The services of this machine that the command line, the tests and the benchmarks share:
the PostgreSQL cluster to connect to, the PostgreSQL build tools, and starting an inference
sidecar as a child process.

Settings (environment):
    PHOTO_AI_DSN        the whole connection string (a database name given in code replaces
                        the one in it); without it, the project's cluster:
    PHOTO_AI_PGPORT     its port on 127.0.0.1 (55432), superuser postgres
    PHOTO_AI_DATABASE   the database the commands use (photo_ai)
    PG_CONFIG           the pg_config of the server (/usr/lib/postgresql/15/bin/pg_config)
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import psycopg
from psycopg import sql
from psycopg.conninfo import make_conninfo

DEFAULT_PG_CONFIG = "/usr/lib/postgresql/15/bin/pg_config"
SIDECAR_STARTUP_TIMEOUT_S = 180
LOG_TAIL_LINES = 40

# --------------------------------------------------------------------------- the database


def pg_port() -> int:
    return int(os.environ.get("PHOTO_AI_PGPORT", "55432"))


def database_name() -> str:
    return os.environ.get("PHOTO_AI_DATABASE", "photo_ai")


def dsn(dbname: str | None = None) -> str:
    """PHOTO_AI_DSN, else the project's cluster's superuser on loopback; `dbname` names
    another database on the same server (default: PHOTO_AI_DATABASE)."""
    server = os.environ.get("PHOTO_AI_DSN") or (
        f"host=127.0.0.1 port={pg_port()} user=postgres dbname={database_name()}"
    )
    return server if dbname is None else make_conninfo(server, dbname=dbname)


def fresh_database(name: str, *extensions: str) -> psycopg.Connection:
    """A new, empty database of that name on the cluster (an older one is dropped), with
    photo_ai and the given extensions created: what a benchmark starts from. Returns an
    autocommit connection to it."""
    with psycopg.connect(dsn("postgres"), autocommit=True) as admin:
        admin.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    conn = psycopg.connect(dsn(name), autocommit=True)
    for extension in ("photo_ai", *extensions):
        conn.execute(sql.SQL("CREATE EXTENSION {} CASCADE").format(sql.Identifier(extension)))
    return conn


def psql_command(dbname: str | None = None) -> str:
    return f"psql -h 127.0.0.1 -p {pg_port()} -U postgres {dbname or database_name()}"


# --------------------------------------------------------------------------- the build tools


def pg_config() -> str:
    """The pg_config that names the server's directories (PG_CONFIG overrides it)."""
    return os.environ.get("PG_CONFIG") or DEFAULT_PG_CONFIG


def extension_script(extension: str = "photo_ai") -> Path | None:
    """The install script CREATE EXTENSION would run now (None when not installed)."""
    try:
        sharedir = subprocess.run(
            [pg_config(), "--sharedir"], capture_output=True, text=True, check=True
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None
    control = Path(sharedir) / "extension" / f"{extension}.control"
    if not control.exists():
        return None
    for line in control.read_text().splitlines():
        if line.startswith("default_version"):
            version = line.split("=", 1)[1].strip().strip("'\"")
            return control.with_name(f"{extension}--{version}.sql")
    return None


# --------------------------------------------------------------------------- the sidecar


class SidecarDidNotStart(RuntimeError):
    pass


@dataclass
class SidecarProcess:
    """A `python -m inference_sidecar` started by this process."""

    url: str
    key: str | None
    process: subprocess.Popen
    log: Path

    @property
    def pid(self) -> int:
        return self.process.pid

    def alive(self) -> bool:
        return self.process.poll() is None

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def log_tail(self, lines: int = LOG_TAIL_LINES) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def wait_until_up(self, timeout_s: float = SIDECAR_STARTUP_TIMEOUT_S) -> None:
        """Returns once it answers /ping; stops it and raises when it exits or stays silent."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if not self.alive():
                raise SidecarDidNotStart(
                    f"the sidecar exited at start (status {self.process.returncode}); "
                    f"its log {self.log} ends with:\n{self.log_tail()}"
                )
            if answers_ping(self.url):
                return
            time.sleep(0.1)
        self.stop()
        raise SidecarDidNotStart(
            f"the sidecar did not answer {self.url}/ping within {timeout_s:.0f}s; "
            f"see {self.log}:\n{self.log_tail()}"
        )


def answers_ping(url: str, timeout: float = 3) -> bool:
    try:
        return httpx.get(f"{url}/ping", timeout=timeout).text == "pong"
    except httpx.HTTPError:
        return False


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def sidecar_environment(**settings: str) -> dict[str, str]:
    """This process's environment without PHOTO_AI_* variables, plus the given settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PHOTO_AI_")}
    env.update({f"PHOTO_AI_{name.upper()}": str(value) for name, value in settings.items()})
    return env


def spawn_sidecar(
    log: Path, cwd: Path | None = None, detached: bool = False, **settings: str
) -> SidecarProcess:
    """Starts a sidecar with the given PHOTO_AI_* settings (host and port chosen here unless
    given), its output appended to `log`; `detached` puts it in a session of its own, so a
    terminal's Ctrl-C does not reach it. Returns at once: see SidecarProcess.wait_until_up."""
    settings = {"host": "127.0.0.1", "port": str(free_port()), **settings}
    with log.open("ab") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "inference_sidecar"],
            env=sidecar_environment(**settings),
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=cwd or log.parent,
            start_new_session=detached,
        )
    url = f"http://{settings['host']}:{settings['port']}"
    return SidecarProcess(url, settings.get("api_key"), process, log)


def start_sidecar(log: Path, cwd: Path | None = None, **settings: str) -> SidecarProcess:
    """spawn_sidecar, returning once the sidecar answers /ping."""
    sidecar = spawn_sidecar(log, cwd, **settings)
    sidecar.wait_until_up()
    return sidecar
