"""The background sidecar: started once, found again, restarted on new settings, stopped."""

from __future__ import annotations

import os
import socket
import stat
import subprocess
import sys

import httpx
import pytest

from photo_ai_cli.local import free_port
from photo_ai_cli.sidecar import SidecarError, SidecarManager, SidecarSettings


@pytest.fixture
def manager(tmp_path):
    m = SidecarManager(tmp_path / "state")
    yield m
    m.stop()  # never leave one behind


def settings(tmp_path, port: int, *roots: str, **changes) -> SidecarSettings:
    library = tmp_path / "library"
    library.mkdir(exist_ok=True)
    values = dict(
        host="127.0.0.1",
        port=port,
        library_roots=roots or (str(library),),
        model_dir=str(tmp_path / "no_models"),
        device="cpu",
    )
    return SidecarSettings(**(values | changes))


def test_start_status_stop(manager, tmp_path):
    wanted = settings(tmp_path, free_port())
    running = manager.start(wanted)
    assert running.started
    assert manager.program.pid_file.read_text().strip() == str(running.pid)
    assert httpx.get(f"{running.url}/ping", timeout=5).text == "pong"
    health = manager.health(running)
    assert health["models"]["ocr"]["available"] is True
    assert health["models"]["clip"]["available"] is False
    # the key is required, made once, and private
    texts = {"texts": ["海边"]}
    assert httpx.post(f"{running.url}/v1/clip/text", json=texts, timeout=5).status_code == 401
    assert stat.S_IMODE(manager.key_file.stat().st_mode) == 0o600
    assert manager.running().pid == running.pid

    assert manager.stop() is True
    assert manager.running() is None
    assert not manager.program.pid_file.exists()
    assert not os.path.exists(f"/proc/{running.pid}") or _is_zombie(running.pid)
    assert manager.stop() is False


def test_already_running_is_kept_and_new_settings_restart_it(manager, tmp_path):
    port = free_port()
    first = manager.start(settings(tmp_path, port))
    again = manager.start(settings(tmp_path, port))
    assert (again.pid, again.started) == (first.pid, False)

    other_root = tmp_path / "more_photos"
    other_root.mkdir()
    moved = manager.start(settings(tmp_path, port, str(tmp_path / "library"), str(other_root)))
    assert moved.started and moved.pid != first.pid
    assert moved.reason == "new library_roots"
    assert moved.settings.library_roots == (str(tmp_path / "library"), str(other_root))
    assert manager.running().pid == moved.pid
    assert moved.api_key == first.api_key  # the database keeps working with it


def test_a_stale_pid_file_is_ignored(manager, tmp_path):
    manager.dir.mkdir(parents=True)
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        # a live process that is not a sidecar (a reused pid) is never touched
        manager.program.pid_file.write_text(f"{sleeper.pid}\n")
        manager.program.settings_file.write_text("{}")
        assert manager.running() is None
        assert manager.stop() is False
        assert sleeper.poll() is None
    finally:
        sleeper.kill()
        sleeper.wait()
    manager.program.pid_file.write_text(f"{sleeper.pid}\n")  # now a dead one
    assert manager.running() is None
    running = manager.start(settings(tmp_path, free_port()))
    assert running.started


def test_a_port_taken_by_another_program(manager, tmp_path):
    with socket.socket() as other:
        other.bind(("127.0.0.1", 0))
        other.listen()
        with pytest.raises(SidecarError, match="PHOTO_AI_PORT"):
            manager.start(settings(tmp_path, other.getsockname()[1]))
    assert manager.running() is None


def test_a_sidecar_that_cannot_start_says_why(manager, tmp_path):
    with pytest.raises(SidecarError, match="exited at start") as error:
        manager.start(settings(tmp_path, free_port(), device="quantum"))
    assert "device" in str(error.value)  # the log's tail names the bad setting
    assert manager.running() is None
    assert not manager.program.pid_file.exists()


def test_roots_are_remembered(manager, tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    assert manager.remember_root(a) == [str(a)]
    assert manager.remember_root(b) == [str(a), str(b)]
    assert manager.remember_root(a) == [str(a), str(b)]
    b.rmdir()
    assert manager.remember_root(a) == [str(a)]  # a folder that is gone is dropped


def _is_zombie(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True
