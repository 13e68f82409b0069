"""`make demo`: the database, the sidecar, a folder of photos imported and analysed, and a
few searches; then where everything is and how to stop it. Safe to run again: nothing is
imported twice and finished work is not redone."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from photo_ai_cli import config, db, follow, importer, local, progress, sample_photos, search
from photo_ai_cli.sidecar import Running, SidecarManager, SidecarSettings
from photo_ai_web import serve as web_serve

DEFAULT_OCR_QUERY = "ocr:发票"
DEFAULT_HYBRID_QUERY = "停车场"
DEFAULT_SEMANTIC_QUERY = "clip:海边的日落"


@dataclass
class DemoOptions:
    photos: Path | None = None  # None: the generated samples in demo_photos/
    ocr_query: str = DEFAULT_OCR_QUERY
    hybrid_query: str = DEFAULT_HYBRID_QUERY
    semantic_query: str = DEFAULT_SEMANTIC_QUERY
    results: int = 5
    workers: int = 2
    max_seconds: int = 3600


def step(message: str) -> None:
    print(f"==> {message}", flush=True)


def detail(message: str) -> None:
    print(f"    {message}", flush=True)


def ensure_sidecar(manager: SidecarManager, folder: Path) -> Running:
    roots = manager.remember_root(folder)
    running = manager.start(SidecarSettings.from_env(roots))
    how = "already running"
    if running.started:
        how = f"restarted ({running.reason})" if running.reason else "started"
    step(f"sidecar {how}: {running.url}, pid {running.pid}")
    detail(f"library roots: {', '.join(running.settings.library_roots)}")
    return running


def model_states(health: dict) -> dict[str, bool]:
    return {task: bool(m.get("available")) for task, m in health.get("models", {}).items()}


def _unblock_found_models(conn) -> None:
    """Tells the queue at once about models the sidecar now has (an idle worker would ask
    its /health within seconds anyway), so a model added since the last run is used now."""
    conn.execute("SELECT photo_ai.probe_sidecar()")


def _enabled_tasks(conn) -> list[str]:
    return [r[0] for r in conn.execute("SELECT unnest(photo_ai.enabled_tasks())::text")]


def run(options: DemoOptions) -> int:
    started = time.monotonic()
    manager = SidecarManager()

    conn = db.connect()
    step(
        f"database {conn.info.host}:{conn.info.port}/{conn.info.dbname}: "
        f"{db.ensure_extension(conn)}"
    )

    if options.photos is None:
        folder = config.demo_photos_dir()
        generated = sample_photos.generate(folder)
        step(
            f"sample photos in {folder}: {len(generated.paths)} pictures "
            f"({len(generated.written)} drawn now, {len(generated.unchanged)} already there)"
        )
    else:
        folder = Path(options.photos).expanduser().resolve()
        if not folder.is_dir():
            raise SystemExit(f"error: PHOTOS={options.photos} is not a folder")
        step(f"your photos: {folder}")

    running = ensure_sidecar(manager, folder)
    health = manager.health(running)
    available = model_states(health)
    detail(
        "models: "
        + ", ".join(f"{task} {'ready' if ok else 'missing'}" for task, ok in available.items())
    )
    db.configure_sidecar(conn, running.url, running.api_key)
    _unblock_found_models(conn)

    report = importer.import_folder(conn, folder)
    step(f"import {folder}: {report.summary()}")

    enabled = _enabled_tasks(conn)
    followed = tuple(t for t in enabled if available.get(t))
    step(
        f"worker: CALL photo_ai.run_worker(...) on {options.workers} connections "
        f"({', '.join(followed) or 'no task has its model'})"
    )
    work = progress.run_worker(followed, workers=options.workers, max_seconds=options.max_seconds)
    _print_work(work, enabled, available)

    step("search")
    base = folder
    for query in (options.ocr_query, options.hybrid_query):
        print(search.format_result(search.search(conn, query, options.results), base))
        print()
    if available.get("clip"):
        print(
            search.format_result(search.search(conn, options.semantic_query, options.results), base)
        )
    else:
        print(f"Search {options.semantic_query!r}: skipped")
        print(search.clip_model_help(health, config.model_dir()))
    if not available.get("faces") and "faces" in enabled:
        print()
        print(search.face_model_help(health, config.model_dir()))
    print()
    _start_worker_service(options.workers)
    page = _start_search_page()
    print()
    _print_where(folder, running, manager, time.monotonic() - started, page)
    conn.close()
    return 1 if work.errors else 0


def _start_worker_service(workers: int) -> None:
    """photo-ai work --follow in the background: photos added from now on are analysed as
    they arrive, and show up on the search page while you watch."""
    try:
        pid, started = follow.start_in_background(workers)
    except follow.DidNotStart as e:
        step(f"worker service: could not start: {e}")
        return
    step(f"worker service {'started' if started else 'already running'}: pid {pid}")


def _start_search_page() -> web_serve.RunningPage | None:
    """The search page in the background (photo-ai serve --background), opened where a
    browser can show it."""
    try:
        page = web_serve.start_in_background()
    except web_serve.PageDidNotStart as e:
        step(f"search page: could not start: {e}")
        return None
    step(f"search page {'started' if page.started else 'already running'}: {page.url}")
    if web_serve.open_in_browser(page.url):
        detail("opened in your browser")
    return page


def _print_work(work: progress.WorkReport, enabled: list[str], available: dict[str, bool]):
    if work.interrupted:
        detail("interrupted: jobs a worker held are retried once their lease ends (5 minutes)")
    for error in work.errors:
        detail(f"worker error: {error}")
    for task in enabled:
        counts = work.states.get(task, {})
        parts = [
            f"{counts.get(s, 0)} {s}"
            for s in ("done", "failed", "queued", "running")
            if counts.get(s, 0)
        ]
        note = "" if available.get(task) else " (waiting for its model)"
        detail(f"{task}: {', '.join(parts) or 'no jobs'}{note}")
    if work.count("failed"):
        detail("why they failed: SELECT * FROM photo_ai.failed_jobs;")
    detail(f"took {work.seconds:.0f}s")


def _print_where(
    folder: Path,
    running: Running,
    manager: SidecarManager,
    seconds: float,
    page: web_serve.RunningPage | None,
):
    root = config.project_root()

    def short(path: Path) -> str:
        path = Path(path)
        return str(path.relative_to(root)) if path.is_relative_to(root) else str(path)

    py = short(root / ".venv" / "bin" / "python")
    print(f"Done in {seconds:.0f}s. Where things are:")
    print(f"  photos    {folder}")
    print(f"  database  {local.psql_command()}   (data .pg/data, log .pg/server.log)")
    print(
        f"  sidecar   {running.url}  pid {running.pid}, log {short(manager.log_file)}, "
        f"API key {short(manager.key_file)}"
    )
    print(f"  models    {config.model_dir()}  (PHOTO_AI_MODEL_DIR)")
    if page is not None:
        print(f"  search    {page.url}  the search page, pid {page.pid}, log {short(page.log)}")
    print("Try:")
    print(f"  {py} -m photo_ai_cli search 'ocr:停车场'")
    print(f"  {local.psql_command()} -c \"SELECT * FROM hybrid_search('ocr:合计') LIMIT 5\"")
    print(f"  {local.psql_command()} -c 'SELECT * FROM photo_ai.status'")
    print("  make demo PHOTOS=~/Pictures      (your own folder; add or change files and run again)")
    print("Stop:")
    print("  make worker-stop     the worker service (new photos wait in the queue)")
    print("  make serve-stop      the search page")
    print("  make sidecar-stop    the sidecar (the database keeps your data)")
    print("  make db-stop         the database; `make demo` starts both again")
