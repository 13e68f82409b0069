"""How soon a photo is searchable after it arrives, beside the sidecar's own time for it.

    .venv/bin/python bench/freshness.py            # 20 photos
    .venv/bin/python bench/freshness.py --quick    # 8 photos

It starts the real sidecar (real RapidOCR; tiny CLIP and face models where ./models has
none, and the output says so) and `photo-ai work --follow` (one worker, a poll interval of
a minute: only the queue's NOTIFY can wake it in time) on its own database
(photo_ai_bench_freshness). Photos are inserted one at a time, each once the one before is
searchable: every job of the photo done, derived ones (people) included, so hybrid_search
finds it by its text and its meaning. Then the same photos are sent to the sidecar alone,
one /v1/analyze each, as the worker sends them. Printed: p50 and p95 of insert to
searchable, of the sidecar's own time, and of the difference per photo (goal: p95 of the
difference at most 1 s).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pipeline import prepare_models, render_photos  # noqa: E402

from photo_ai_cli.local import dsn, fresh_database, start_sidecar  # noqa: E402

DATABASE = "photo_ai_bench_freshness"
TASKS = ["ocr", "clip", "faces"]
KEY = "bench-key-0123456789abcdef"


def follow(log: Path) -> subprocess.Popen:
    """`photo-ai work --follow` on the bench database, its log in `log`."""
    process = subprocess.Popen(
        [sys.executable, "-m", "photo_ai_cli", "work", "--follow",
         "--workers", "1", "--poll-seconds", "60"],
        env=os.environ | {"PHOTO_AI_DSN": dsn(DATABASE)},
        stdout=log.open("w"), stderr=subprocess.STDOUT, cwd=ROOT,
    )  # fmt: skip
    deadline = time.monotonic() + 30
    while log.read_text() == "":
        if process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"work --follow did not start:\n{log.read_text()}")
        time.sleep(0.05)
    return process


def searchable_after(conn: psycopg.Connection, path: Path) -> float:
    """Seconds from the INSERT's commit until every job of the photo is done."""
    started = time.perf_counter()
    asset = conn.execute(
        "INSERT INTO photo_ai.asset (original_path) VALUES (%s) RETURNING id", [str(path)]
    ).fetchone()[0]
    while True:
        pending = conn.execute(
            "SELECT count(*) FILTER (WHERE state <> 'done'), "
            "       count(*) FILTER (WHERE task = 'people') "
            "FROM photo_ai.job WHERE asset_id = %s",
            [asset],
        ).fetchone()
        if pending == (0, 1):  # the image tasks and the people task their faces queued
            return time.perf_counter() - started
        if time.perf_counter() - started > 120:
            raise RuntimeError(f"{path.name} was not analysed within 2 minutes")
        time.sleep(0.005)


def sidecar_seconds(url: str, paths: list[Path]) -> list[float]:
    """The sidecar's own time for each photo: one /v1/analyze, as the worker asks it."""
    seconds = []
    with httpx.Client(base_url=url, headers={"X-API-Key": KEY}, timeout=120) as client:
        for path in paths:
            started = time.perf_counter()
            body = {"path": str(path), "tasks": TASKS, "options": {"faces": {"min_score": 0.7}}}
            answer = client.post("/v1/analyze", json=body)
            seconds.append(time.perf_counter() - started)
            answer.raise_for_status()
    return seconds


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="8 photos instead of 20")
    parser.add_argument("--model-dir", type=Path, default=ROOT / "models")
    args = parser.parse_args()
    count = 8 if args.quick else 20

    with tempfile.TemporaryDirectory(prefix="photo_ai_bench_") as scratch:
        folder = Path(scratch)
        folder.chmod(0o755)
        photos = render_photos(folder, count + 2)
        warm, photos = photos[:2], photos[2:]
        model_dir, tiny = prepare_models(args.model_dir, folder / "models")
        sidecar = start_sidecar(folder / "sidecar.log", api_key=KEY, model_dir=str(model_dir),
                                library_roots=str(folder), log_level="warning")  # fmt: skip
        worker = None
        try:
            sidecar_seconds(sidecar.url, warm)  # the models loaded
            conn = fresh_database(DATABASE)
            conn.execute("SELECT photo_ai.configure(sidecar_url => %s, api_key => %s)",
                         [sidecar.url, KEY])  # fmt: skip
            worker = follow(folder / "follow.log")
            searchable_after(conn, warm[0])  # the worker's first photo (its connections warm)
            fresh = [searchable_after(conn, path) for path in photos]
            alone = sidecar_seconds(sidecar.url, photos)
        finally:
            if worker is not None:
                worker.terminate()
                worker.wait(timeout=30)
            sidecar.stop()
    report(fresh, alone, tiny)


def report(fresh: list[float], alone: list[float], tiny: list[str]) -> None:
    beyond = [f - a for f, a in zip(fresh, alone, strict=True)]
    print(f"freshness: {len(fresh)} photos inserted one at a time, tasks {'+'.join(TASKS)} "
          "and people, one `work --follow` worker"
          + (f" (tiny stand-in models for {', '.join(tiny)})" if tiny else ""))  # fmt: skip
    print(f"  {'':34} {'p50':>8} {'p95':>8}")
    for name, values in (
        ("insert to searchable", fresh),
        ("the sidecar alone, same photos", alone),
        ("difference (photo by photo)", beyond),
    ):
        p50, p95 = percentile(values, 0.5), percentile(values, 0.95)
        print(f"  {name:34} {p50:7.3f}s {p95:7.3f}s")
    print(f"  ratio of medians: {statistics.median(fresh) / statistics.median(alone):.2f}x "
          "(goal: p95 of the difference <= 1 s)")  # fmt: skip


if __name__ == "__main__":
    main()
