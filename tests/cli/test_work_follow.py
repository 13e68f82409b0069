"""`photo-ai work --follow`, the worker service, as a process: photos inserted one by one
are analysed as they arrive (woken by the queue's NOTIFY, not by its slow poll); it comes
back after losing its connections; SIGTERM stops it and leaves no job running."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator

import psycopg
import pytest

from photo_ai_cli.follow import APPLICATION_NAME
from photo_ai_cli.local import dsn
from tests.support.pipeline import database_of
from tests.support.standin import StandinSidecar

POLL_SECONDS = 60  # far longer than any wait below: only a notification can wake it


def wait_for(condition, timeout: float = 30.0) -> float:
    """Seconds until condition() held; fails the test after `timeout`."""
    started = time.monotonic()
    while not condition():
        assert time.monotonic() - started < timeout, "timed out waiting"
        time.sleep(0.02)
    return time.monotonic() - started


def count(conn: psycopg.Connection, state: str) -> int:
    return conn.execute("SELECT count(*) FROM photo_ai.job WHERE state = %s", [state]).fetchone()[0]


@pytest.fixture
def follow(conn, tmp_path) -> Iterator:
    """Starts `python -m photo_ai_cli work --follow` on the test's database."""
    started: list[subprocess.Popen] = []

    def start(workers: int = 2) -> subprocess.Popen:
        env = os.environ | {"PHOTO_AI_DSN": dsn(database_of(conn))}
        log = (tmp_path / f"follow{len(started)}.log").open("w")
        process = subprocess.Popen(
            [sys.executable, "-m", "photo_ai_cli", "work", "--follow",
             "--workers", str(workers), "--poll-seconds", str(POLL_SECONDS)],
            env=env, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        started.append(process)
        wait_for(lambda: (tmp_path / f"follow{len(started) - 1}.log").read_text() != "")
        return process

    yield start
    for process in started:
        process.kill()
        process.wait()


def test_photos_inserted_one_by_one_are_analysed_as_they_arrive(conn, follow):
    with StandinSidecar() as standin:
        conn.execute(
            "SELECT photo_ai.configure(sidecar_url => %s, tasks => '{clip}')", [standin.url]
        )
        follow()
        for n in range(20):
            conn.execute("INSERT INTO photo_ai.asset (original_path) VALUES (%s)", [f"/p/{n}.jpg"])
            wait_for(lambda n=n: count(conn, "done") == n + 1, timeout=POLL_SECONDS / 2)
        assert len(standin.photos_sent()) == 20


def test_it_comes_back_after_losing_its_connections(conn, follow):
    with StandinSidecar() as standin:
        conn.execute(
            "SELECT photo_ai.configure(sidecar_url => %s, tasks => '{clip}')", [standin.url]
        )
        follow(workers=1)
        listening = "SELECT pid FROM pg_stat_activity WHERE application_name = %s AND datname = %s"
        names = [APPLICATION_NAME, database_of(conn)]
        wait_for(lambda: conn.execute(listening, names).fetchone() is not None)
        conn.execute(f"SELECT pg_terminate_backend(pid) FROM ({listening}) l", names)
        conn.execute("INSERT INTO photo_ai.asset (original_path) VALUES ('/p/after.jpg')")
        wait_for(lambda: count(conn, "done") == 1, timeout=POLL_SECONDS / 2)


def test_sigterm_stops_it_and_gives_back_what_it_held(conn, follow):
    with StandinSidecar(delay=2) as standin:
        conn.execute(
            "SELECT photo_ai.configure(sidecar_url => %s, tasks => '{clip}')", [standin.url]
        )
        process = follow(workers=1)
        conn.execute(
            "INSERT INTO photo_ai.asset (original_path) "
            "SELECT '/p/' || g || '.jpg' FROM generate_series(1, 5) g"
        )
        assert standin.started.wait(timeout=30), "it took work"
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0

    assert count(conn, "running") == 0
    assert count(conn, "done") + count(conn, "queued") == 5
    attempts = conn.execute(
        "SELECT DISTINCT attempts FROM photo_ai.job WHERE state = 'queued'"
    ).fetchall()
    assert attempts in ([], [(0,)]), "given back with their tries"


def test_the_service_runs_in_the_background_until_stopped(conn, tmp_path):
    env = os.environ | {
        "PHOTO_AI_DSN": dsn(database_of(conn)),
        "PHOTO_AI_STATE_DIR": str(tmp_path / "state"),
    }

    def photo_ai(*arguments: str) -> str:
        done = subprocess.run(
            [sys.executable, "-m", "photo_ai_cli", "work", *arguments],
            env=env, capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        assert done.returncode == 0, done.stdout + done.stderr
        return done.stdout

    with StandinSidecar() as standin:
        conn.execute(
            "SELECT photo_ai.configure(sidecar_url => %s, tasks => '{clip}')", [standin.url]
        )
        assert "worker service started" in photo_ai("--follow", "--background")
        try:
            assert "already running" in photo_ai("--follow", "--background")
            conn.execute("INSERT INTO photo_ai.asset (original_path) VALUES ('/p/1.jpg')")
            wait_for(lambda: count(conn, "done") == 1, timeout=POLL_SECONDS / 2)
        finally:
            assert "stopped" in photo_ai("--stop")
    assert "was not running" in photo_ai("--stop")
