"""scripts/db.sh as a user meets it: start, start again, a crash's leftovers, a busy port."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from photo_ai_cli.local import free_port
from tests.support import ROOT

DB_SH = ROOT / "scripts" / "db.sh"


def db_sh(command: str, data: Path, port: int) -> subprocess.CompletedProcess:
    env = os.environ | {"PHOTO_AI_PGDATA": str(data), "PHOTO_AI_PGPORT": str(port)}
    return subprocess.run([DB_SH, command], env=env, capture_output=True, text=True, timeout=120)


@pytest.fixture
def own_cluster() -> Iterator[tuple[Path, int]]:
    """A second cluster in a directory of its own, stopped and removed afterwards."""
    parent = Path(tempfile.mkdtemp(prefix="photo_ai_cluster_"))
    parent.chmod(0o755)
    data, port = parent / "pg", free_port()
    yield data, port
    db_sh("stop", data, port)
    shutil.rmtree(parent, ignore_errors=True)


def test_start_creates_the_database_and_a_second_start_is_a_no_op(own_cluster):
    data, port = own_cluster
    first = db_sh("start", data, port)
    assert first.returncode == 0, first.stderr
    assert f"127.0.0.1:{port}" in first.stdout

    again = db_sh("start", data, port)
    assert again.returncode == 0 and "already running" in again.stdout
    listed = subprocess.run(
        [
            "psql",
            "-h",
            "127.0.0.1",
            "-p",
            str(port),
            "-U",
            "postgres",
            "-tAc",
            "SELECT datname FROM pg_database WHERE datname = 'photo_ai'",
        ],
        capture_output=True,
        text=True,
    )
    assert listed.stdout.strip() == "photo_ai"
    assert db_sh("status", data, port).returncode == 0
    db_sh("stop", data, port)
    assert db_sh("status", data, port).returncode == 3


def test_a_stale_pid_file_after_a_crash_is_recovered(own_cluster):
    data, port = own_cluster
    assert db_sh("start", data, port).returncode == 0
    pid = int((data / "data" / "postmaster.pid").read_text().split()[0])
    os.kill(pid, signal.SIGKILL)

    restarted = db_sh("start", data, port)

    assert restarted.returncode == 0, restarted.stderr
    assert "running on" in restarted.stdout


def test_a_busy_port_names_the_port_and_the_variable(own_cluster):
    data, port = own_cluster
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", port))
        squatter.listen()
        result = db_sh("start", data, port)
    assert result.returncode != 0
    assert str(port) in result.stderr and "PHOTO_AI_PGPORT" in result.stderr
