"""`photo-ai serve` as a command: in the background (what `make demo` leaves running), found
again, stopped; and the clear refusals when it cannot serve."""

from __future__ import annotations

import subprocess
import sys

import httpx

from photo_ai_cli.local import free_port, pg_port, sidecar_environment
from tests.web.library import HTTP_TIMEOUT_S, cards


def photo_ai(*arguments: str, **settings) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "photo_ai_cli", *arguments],
        env=sidecar_environment(pgport=str(pg_port()), **settings),
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_page_runs_in_the_background_until_stopped(analysed, web_library, tmp_path, assets):
    port = free_port()
    settings = dict(
        state_dir=str(tmp_path),
        database=analysed,
        web_port=str(port),
        library_roots=str(web_library),
    )
    started = photo_ai("serve", "--background", **settings)
    assert started.returncode == 0, started.stderr
    url = f"http://127.0.0.1:{port}"
    assert url in started.stdout and "serve-stop" in started.stdout
    try:
        found = httpx.get(url + "/?q=ocr:发票", timeout=HTTP_TIMEOUT_S).text
        assert cards(found)[0] == assets["invoice.png"]
        again = photo_ai("serve", "--background", **settings)
        assert "already running" in again.stdout
        status = photo_ai("serve", "--status", **settings)
        assert status.returncode == 0 and url in status.stdout
    finally:
        stopped = photo_ai("serve", "--stop", **settings)
    assert "stopped" in stopped.stdout
    assert photo_ai("serve", "--status", **settings).returncode == 3
    try:
        httpx.get(url + "/healthz", timeout=2)
        raise AssertionError("the page still answers after --stop")
    except httpx.TransportError:
        pass


def test_no_database_is_a_clear_error(tmp_path):
    failed = photo_ai(
        "serve", state_dir=str(tmp_path), database="photo_ai_no_such_db", web_port=str(free_port())
    )
    assert failed.returncode == 2
    assert "cannot connect to PostgreSQL" in failed.stderr


def test_a_background_page_that_cannot_start_says_why(tmp_path):
    failed = photo_ai(
        "serve",
        "--background",
        state_dir=str(tmp_path),
        database="photo_ai_no_such_db",
        web_port=str(free_port()),
    )
    assert failed.returncode == 2
    assert "exited at start" in failed.stderr and "cannot connect" in failed.stderr
