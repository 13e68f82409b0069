"""python -m photo_ai_cli COMMAND ... (also installed as the `photo-ai` command)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from photo_ai_cli import (
    config,
    db,
    demo,
    follow,
    importer,
    migrate_from_aio,
    progress,
    sample_photos,
    search,
)
from photo_ai_cli.sidecar import SidecarError, SidecarManager, SidecarSettings
from photo_ai_plpython.file_names import storable_path
from photo_ai_web import serve as web_serve


def _demo(args: argparse.Namespace) -> int:
    options = demo.DemoOptions(
        photos=Path(args.photos) if args.photos else None,
        ocr_query=args.ocr_query,
        hybrid_query=args.hybrid_query,
        semantic_query=args.semantic_query,
        results=args.results,
        workers=args.workers,
    )
    return demo.run(options)


def _import(args: argparse.Namespace) -> int:
    folder = Path(args.folder).expanduser().resolve()
    with db.connect_to_library() as conn:
        report = importer.import_folder(conn, folder)
    print(f"{storable_path(folder)}: {report.summary()}")  # printable, as it is stored
    manager = SidecarManager()
    roots = manager.remember_root(folder)
    running = manager.running()
    if running is not None and str(folder) not in running.settings.library_roots:
        manager.start(SidecarSettings.from_env(roots))
        print(f"sidecar restarted with library roots {', '.join(roots)}")
    elif running is None:
        print("the sidecar is not running: `make sidecar-start`, then `photo_ai_cli work`")
    return 0


def _work(args: argparse.Namespace) -> int:
    if args.stop:
        stopped = follow.background_service().stop()
        print("worker service stopped" if stopped else "worker service was not running")
        return 0
    if args.follow:
        db.connect_to_library().close()  # a clear message when photo_ai is not there
        if args.background:
            pid, started = follow.start_in_background(args.workers)
            print(f"worker service {'started' if started else 'already running'}, pid {pid}")
            return 0
        options = follow.FollowOptions(args.workers, args.batch_size, args.poll_seconds)
        return follow.follow(options)
    manager = SidecarManager()
    running = manager.running()
    with db.connect_to_library() as conn:
        enabled = [r[0] for r in conn.execute("SELECT unnest(photo_ai.enabled_tasks())::text")]
    if running is not None:
        available = demo.model_states(manager.health(running))
        tasks = tuple(t for t in enabled if available.get(t))
    else:
        print("note: this project's sidecar is not running (make sidecar-start)", file=sys.stderr)
        tasks = tuple(enabled)
    with db.connect_to_library() as conn:
        started = db.database_now(conn)
    report = progress.run_worker(tasks, workers=args.workers, max_seconds=args.max_seconds)
    print(json.dumps(dict(report.summary)))
    with db.connect_to_library() as conn:
        people = db.settle_faces(conn, started)
    if people and people["grouped"]:
        print(
            f"people: {people['grouped']} faces grouped, {people['persons_founded']} new persons, "
            f"{people['waiting']} faces wait"
        )
    for error in report.errors:
        print(f"worker error: {error}", file=sys.stderr)
    return 1 if report.errors else 0


def _search(args: argparse.Namespace) -> int:
    with db.connect_to_library() as conn:
        result = search.search(conn, args.query, args.results)
    print(search.format_result(result))
    return 1 if result.error else 0


def _status(args: argparse.Namespace) -> int:
    with db.connect_to_library() as conn:
        rows = conn.execute(
            "SELECT task, state::text, jobs, problem FROM photo_ai.status"
        ).fetchall()
    tasks: dict[str, list] = {}
    for task, state, jobs, problem in rows:
        entry = tasks.setdefault(task, [[], None])
        if jobs:
            entry[0].append(f"{jobs} {state}")
        entry[1] = entry[1] or problem
    width = max([6, *map(len, tasks)])
    for task, (counts, problem) in tasks.items():
        print(f"{task:{width}} {', '.join(counts) or 'no jobs'}")
        if problem:
            print(f"{'':{width}} waiting: {problem}")
    return 0


def _sidecar(args: argparse.Namespace) -> int:
    manager = SidecarManager()
    if args.action == "stop":
        print("sidecar stopped" if manager.stop() else "sidecar was not running")
        return 0
    if args.action == "status":
        running = manager.running()
        if running is None:
            print("sidecar: not running")
            return 3
        models = demo.model_states(manager.health(running))
        print(f"sidecar: running at {running.url}, pid {running.pid}, log {running.log}")
        print(f"  library roots: {', '.join(running.settings.library_roots)}")
        print(
            "  models: "
            + ", ".join(f"{t} {'ready' if ok else 'missing'}" for t, ok in models.items())
        )
        return 0
    roots = manager.known_roots()
    if args.photos:
        roots = manager.remember_root(Path(args.photos))
    if not roots:
        roots = manager.remember_root(config.demo_photos_dir())
    running = manager.start(SidecarSettings.from_env(roots))
    state = "started" if running.started else "already running"
    print(f"sidecar {state}: {running.url}, pid {running.pid}, log {running.log}")
    print(f"  library roots: {', '.join(running.settings.library_roots)}")
    print("  stop it with: make sidecar-stop")
    return 0


def _samples(args: argparse.Namespace) -> int:
    folder = Path(args.folder) if args.folder else config.demo_photos_dir()
    result = sample_photos.generate(folder)
    print(f"{folder}: {len(result.written)} drawn, {len(result.unchanged)} unchanged")
    return 0


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="photo_ai_cli", description=__doc__)
    sub = p.add_subparsers(dest="command", required=True)

    d = sub.add_parser("demo", help="start everything, import photos, analyse, search")
    d.add_argument("--photos", help="your own folder (default: generated samples)")
    d.add_argument("--ocr-query", default=demo.DEFAULT_OCR_QUERY)
    d.add_argument("--hybrid-query", default=demo.DEFAULT_HYBRID_QUERY)
    d.add_argument("--semantic-query", default=demo.DEFAULT_SEMANTIC_QUERY)
    d.add_argument("-n", "--results", type=int, default=5)
    d.add_argument("--workers", type=int, default=2, help="worker connections (default 2)")
    d.set_defaults(func=_demo)

    i = sub.add_parser("import", help="import (or re-sync) a folder of photos")
    i.add_argument("folder")
    i.set_defaults(func=_import)

    w = sub.add_parser("work", help="run the worker until the queue is idle, or --follow it")
    w.add_argument("--workers", type=int, default=2)
    w.add_argument("--max-seconds", type=int, default=3600)
    w.add_argument(
        "--follow",
        action="store_true",
        help="keep running: work as soon as photos are queued (LISTEN), until SIGTERM",
    )
    w.add_argument("--batch-size", type=int, default=8, help="with --follow: jobs per claim")
    w.add_argument(
        "--background", action="store_true", help="with --follow: as a background service"
    )
    w.add_argument("--stop", action="store_true", help="stop the background worker service")
    w.add_argument(
        "--poll-seconds",
        type=float,
        default=30.0,
        help="with --follow: look at the queue at least this often (default 30)",
    )
    w.set_defaults(func=_work)

    s = sub.add_parser("search", help="hybrid_search, printed")
    s.add_argument("query")
    s.add_argument("-n", "--results", type=int, default=10)
    s.set_defaults(func=_search)

    st = sub.add_parser("status", help="jobs per task and state")
    st.set_defaults(func=_status)

    sc = sub.add_parser("sidecar", help="the background sidecar")
    sc.add_argument("action", choices=("start", "stop", "status"))
    sc.add_argument("--photos", help="add this folder to the library roots")
    sc.set_defaults(func=_sidecar)

    sp = sub.add_parser("samples", help="draw the sample photos")
    sp.add_argument("folder", nargs="?")
    sp.set_defaults(func=_samples)

    ma = sub.add_parser("migrate-from-aio", help="immich-all-in-one's database -> Immich's")
    migrate_from_aio.add_arguments(ma)
    ma.set_defaults(func=migrate_from_aio.run)

    sv = sub.add_parser("serve", help="the search page (http://127.0.0.1:8080)")
    web_serve.add_arguments(sv)
    sv.set_defaults(func=web_serve.run)
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        return args.func(args)
    except (db.DatabaseUnavailable, SidecarError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("\ninterrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
