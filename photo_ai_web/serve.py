"""`photo-ai serve` (also `python -m photo_ai_web`): the search page in the foreground, or in
the background (--background, what `make demo` does), stopped with --stop.

    photo-ai serve                         http://127.0.0.1:8080, until Ctrl-C
    photo-ai serve --port 8081 --background
    photo-ai serve --status | --stop
    PHOTO_AI_WEB_PASSWORD=... photo-ai serve --host 0.0.0.0
"""

from __future__ import annotations

import argparse
import os
import socket
import sys
import webbrowser
from collections.abc import Callable
from pathlib import Path

from inference_sidecar.settings import settings_to_start
from photo_ai_cli.db import DatabaseUnavailable
from photo_ai_cli.sidecar import SidecarManager
from photo_ai_web.background import BackgroundPage, PageDidNotStart, RunningPage
from photo_ai_web.settings import WebSettings, startup_problem


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", help="address to listen on (PHOTO_AI_WEB_HOST; 127.0.0.1)")
    parser.add_argument("--port", type=int, help="port (PHOTO_AI_WEB_PORT; 8080)")
    what = parser.add_mutually_exclusive_group()
    what.add_argument("--background", action="store_true", help="start it in the background")
    what.add_argument("--stop", action="store_true", help="stop the background page")
    what.add_argument("--status", action="store_true", help="is the background page running?")


def run(args: argparse.Namespace) -> int:
    background = BackgroundPage()
    if args.stop:
        print("search page stopped" if background.stop() else "search page was not running")
        return 0
    if args.status:
        running = background.running()
        if running is None:
            print("search page: not running")
            return 3
        print(f"search page: running at {running.url}, pid {running.pid}, log {running.log}")
        return 0
    given = {k: v for k, v in (("host", args.host), ("port", args.port)) if v is not None}
    settings = settings_to_start("photo-ai serve", WebSettings, startup_problem, **given)
    if settings is None:
        return 2
    if args.background:
        return _start_in_background(background, settings)
    return serve(settings)


def library_roots(settings: WebSettings) -> list[Path] | Callable[[], list[Path]]:
    """PHOTO_AI_LIBRARY_ROOTS, else every folder `photo-ai import` has imported (asked again
    when a photo lies outside them: a folder imported while the page runs)."""
    if settings.library_root_paths():
        return settings.library_root_paths()
    manager = SidecarManager()
    return lambda: [Path(r) for r in manager.known_roots()]


def serve(settings: WebSettings) -> int:
    import uvicorn

    from photo_ai_cli import local
    from photo_ai_web.app import create_app
    from photo_ai_web.database import Database

    dsn = local.dsn()
    try:
        Database(dsn).check()
    except DatabaseUnavailable as e:
        print(f"photo-ai serve: {e}", file=sys.stderr)
        return 2
    if _port_taken(settings.host, settings.port):
        print(
            f"photo-ai serve: port {settings.port} on {settings.host} is in use; choose another "
            f"with --port or PHOTO_AI_WEB_PORT",
            file=sys.stderr,
        )
        return 2
    roots = library_roots(settings)
    known = roots() if callable(roots) else roots
    if not known:
        print(
            "photo-ai serve: no library roots yet: photos are shown once a folder is imported "
            "(photo-ai import) or PHOTO_AI_LIBRARY_ROOTS names them",
            file=sys.stderr,
        )
    print(f"search page: {settings.url}  (library roots: {', '.join(map(str, known)) or 'none'})")
    sys.stdout.flush()
    uvicorn.run(
        create_app(settings, dsn, roots),
        host=settings.host,
        port=settings.port,
        log_level="warning",
        timeout_graceful_shutdown=5,
    )
    return 0


def _start_in_background(background: BackgroundPage, settings: WebSettings) -> int:
    try:
        page = background.start(settings.host, settings.port, settings.url)
    except PageDidNotStart as e:
        print(f"photo-ai serve: {e}", file=sys.stderr)
        return 2
    state = "started" if page.started else "already running"
    print(f"search page {state}: {page.url}  (pid {page.pid}, log {page.log})")
    print("  stop it with: make serve-stop  (or photo-ai serve --stop)")
    return 0


def start_in_background() -> RunningPage:
    """The page in the background with the environment's settings, as `make demo` leaves
    it; PageDidNotStart says why not."""
    settings = WebSettings()
    problem = startup_problem(settings)
    if problem:
        raise PageDidNotStart(problem)
    return BackgroundPage().start(settings.host, settings.port, settings.url)


def open_in_browser(url: str) -> bool:
    """Opens the page where a desktop is there to show it (never a text browser in the
    terminal of a server)."""
    if not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        return False
    return webbrowser.open(url)


def _port_taken(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError:
            return True
    return False


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="photo-ai serve", description=__doc__)
    add_arguments(parser)
    return run(parser.parse_args(argv))
