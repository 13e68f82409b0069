"""The pipeline's own cost, beside a baseline measured in the same run.

    .venv/bin/python bench/pipeline.py            # full run
    .venv/bin/python bench/pipeline.py --quick    # a short one

1. Trigger cost: inserting 10,000 assets with photo_ai's triggers, against the same insert
   with the triggers disabled (ratio of medians).
2. End to end: the same photos through the database pipeline (insert, CALL run_worker with
   1 and 2 workers) against the sidecar alone answering the same /v1/analyze requests from
   1 and 2 client threads. overhead = pipeline wall time / sidecar wall time (goal <= 1.10).
3. Per photo: the database's own cost of a photo (claim, request, store, commit), through
   one worker, against a stand-in sidecar that answers at once (tests/support/standin.py),
   beside the same requests sent to it from outside the database by the same client code
   (photo_ai_plpython.sidecar_http): the milliseconds a photo costs the pipeline beyond its
   HTTP round trip.
4. Scale out: 2 sidecars (URLs in rotation) and 2 workers against 1 and 1, on one queue,
   CLIP and faces with tiny models (the queue and the rotation measured, not the 2 cores).

It starts its own sidecar and uses its own database (photo_ai_bench_pipeline). OCR is the
real RapidOCR; where ./models has no CLIP checkpoint or face pack, tiny models of the real
formats stand in, and the output says so.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from inference_sidecar.models.clip import clip_checkpoint_path  # noqa: E402
from inference_sidecar.models.faces import face_pack_dir  # noqa: E402
from inference_sidecar.testing.tiny_models import (  # noqa: E402
    make_tiny_clip_checkpoint,
    make_tiny_face_pack,
)
from photo_ai_cli.local import dsn, free_port, start_sidecar  # noqa: E402
from photo_ai_cli.local import fresh_database as fresh_photo_ai_database  # noqa: E402
from photo_ai_cli.pictures import text_page  # noqa: E402
from photo_ai_plpython import sidecar_http  # noqa: E402

DATABASE = "photo_ai_bench_pipeline"
PHRASES = (
    "增值税专用发票",
    "合计 ¥128.50",
    "Invoice 2024",
    "北京市海淀区中关村大街",
    "收据 No. 0042",
    "会议纪要 2024-03-18",
    "Total 3,980.00",
    "欢迎光临 停车场出口",
)
TASKS = ["ocr", "clip", "faces"]


def render_photos(folder: Path, count: int) -> list[Path]:
    paths = []
    for i in range(count):
        phrases = [PHRASES[(i + line) % len(PHRASES)] for line in range(3)]
        ground, margin = (235 - i % 5 * 8, 232, 225), 60 + i % 3 * 40
        image = text_page(phrases, (1280, 960), 44, ground, (20, 20, 20), (margin, 100), 260 / 44)
        paths.append(folder / f"photo_{i:03d}.jpg")
        image.save(paths[-1], quality=90)
        paths[-1].chmod(0o644)
    return paths


def prepare_models(model_dir: Path, scratch: Path) -> tuple[Path, list[str]]:
    """The user's models where present; otherwise tiny stand-ins in a scratch directory."""
    if (
        clip_checkpoint_path(model_dir, "ViT-B-16").exists()
        and face_pack_dir(model_dir, "buffalo_l").exists()
    ):
        return model_dir, []
    make_tiny_clip_checkpoint(scratch)
    make_tiny_face_pack(scratch)
    return scratch, ["clip", "faces"]


def fresh_database() -> None:
    fresh_photo_ai_database(DATABASE).close()


def timed(action) -> float:
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


# --- 1. trigger cost ----------------------------------------------------------------------

INSERT_10K = (
    "INSERT INTO photo_ai.asset (original_path) "
    "SELECT '/photos/' || g || '.jpg' FROM generate_series(1, 10000) g"
)


def insert_seconds(conn: psycopg.Connection, with_trigger: bool) -> float:
    conn.execute("ALTER TABLE photo_ai.asset DISABLE TRIGGER USER")
    conn.execute("TRUNCATE photo_ai.asset, photo_ai.job CASCADE")
    if with_trigger:
        conn.execute("ALTER TABLE photo_ai.asset ENABLE TRIGGER USER")
    return timed(lambda: conn.execute(INSERT_10K))


def trigger_cost(rounds: int) -> tuple[float, float]:
    with psycopg.connect(dsn(DATABASE), autocommit=True) as conn:
        conn.execute("SELECT photo_ai.configure(tasks => '{ocr,clip,faces}')")
        insert_seconds(conn, True)  # warm-up
        plain, queued = [], []
        for _ in range(rounds):
            plain.append(insert_seconds(conn, False))
            queued.append(insert_seconds(conn, True))
        jobs = conn.execute("SELECT count(*) FROM photo_ai.job").fetchone()[0]
        assert jobs == 30000, f"the trigger queued {jobs} jobs, not 30000"
        conn.execute("ALTER TABLE photo_ai.asset ENABLE TRIGGER USER")
        conn.execute("DELETE FROM photo_ai.asset")
    return statistics.median(plain), statistics.median(queued)


# --- 2. end to end --------------------------------------------------------------------------


def sidecar_alone(url: str, key: str, photos: list[Path], clients: int) -> float:
    """The requests the worker would send, from `clients` threads sharing the photos."""

    def client(share: list[Path]) -> None:
        with httpx.Client(base_url=url, headers={"x-api-key": key}, timeout=300) as http:
            for path in share:
                body = {"path": str(path), "tasks": TASKS, "options": {"faces": {"min_score": 0.7}}}
                http.post("/v1/analyze", json=body).raise_for_status()

    return timed(lambda: run_threads(client, [photos[i::clients] for i in range(clients)]))


def pipeline(photos: list, workers: int, expected: dict | None = None) -> float:
    with psycopg.connect(dsn(DATABASE), autocommit=True) as conn:
        conn.execute("DELETE FROM photo_ai.asset")
        conn.execute(
            "INSERT INTO photo_ai.asset (original_path) SELECT unnest(%s::text[])",
            [[str(p) for p in photos]],
        )

    def worker(_: object) -> None:
        with psycopg.connect(dsn(DATABASE), autocommit=True) as conn:
            conn.execute(
                "CALL photo_ai.run_worker(max_seconds => 900, batch_size => 4, until_idle => true)"
            )

    seconds = timed(lambda: run_threads(worker, [None] * workers))
    with psycopg.connect(dsn(DATABASE), autocommit=True) as conn:
        states = dict(conn.execute("SELECT state::text, count(*) FROM photo_ai.job GROUP BY 1"))
    # and each photo's people job, which groups the faces it was found to have
    expected = expected or {"done": (len(TASKS) + 1) * len(photos)}
    assert states == expected, f"pipeline left jobs unfinished: {states}"
    return seconds


def answers(url: str) -> bool:
    try:
        return httpx.get(f"{url}/health", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def send_directly(url: str, paths: list[str]) -> None:
    """The worker's requests, sent by the client the database uses, from outside it."""
    state, sidecars = {}, sidecar_http.Sidecars([url], None, 30.0)
    for path in paths:
        body = json.dumps({"path": path, "tasks": ["clip"]})
        sidecar_http.request(state, sidecars, "POST", "/v1/analyze", json_document=body)


def per_photo_cost(count: int, rounds: int) -> None:
    paths = [f"/photos/{n}.jpg" for n in range(count)]
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    # in a process of its own: sharing this interpreter's GIL would slow the baseline
    standin = subprocess.Popen([sys.executable, "-m", "tests.support.standin", str(port)], cwd=ROOT)
    try:
        while not answers(url):
            time.sleep(0.1)
        with psycopg.connect(dsn(DATABASE), autocommit=True) as conn:
            conn.execute("SELECT photo_ai.configure(sidecar_url => %s, tasks => '{clip}')", [url])
        alone, piped = [], []
        for _ in range(rounds):
            alone.append(timed(lambda: send_directly(url, paths)))
            piped.append(pipeline(paths, 1, {"done": count}))
    finally:
        standin.kill()
    a, p = statistics.median(alone) / count, statistics.median(piped) / count
    print(
        f"\nper photo: {count} photos x clip, a stand-in sidecar answering at once, "
        f"median of {rounds}"
    )
    print(f"  client alone {a * 1000:6.2f} ms   pipeline {p * 1000:6.2f} ms   "
          f"the database's own cost {(p - a) * 1000:6.2f} ms a photo")  # fmt: skip


def run_threads(target, arguments: list) -> None:
    threads = [threading.Thread(target=target, args=(a,)) for a in arguments]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer photos and rounds")
    parser.add_argument("--model-dir", type=Path, default=ROOT / "models")
    args = parser.parse_args()
    count, rounds = (8, 1) if args.quick else (24, 3)

    fresh_database()
    plain, queued = trigger_cost(rounds=3 if args.quick else 7)
    print("trigger cost: INSERT of 10,000 assets (median)")
    print(f"  without triggers {plain * 1000:8.1f} ms")
    print(
        f"  with triggers    {queued * 1000:8.1f} ms   ratio {queued / plain:.2f}x "
        f"(30,000 jobs queued)"
    )

    with tempfile.TemporaryDirectory(prefix="photo_ai_bench_") as scratch:
        scratch_dir = Path(scratch)
        scratch_dir.chmod(0o755)
        photos = render_photos(scratch_dir, count)
        model_dir, tiny = prepare_models(args.model_dir, scratch_dir / "models")
        sidecar = start_sidecar(
            scratch_dir / "sidecar.log",
            api_key="bench-key-0123456789abcdef",
            model_dir=str(model_dir),
            library_roots=str(scratch_dir),
            log_level="warning",
        )
        try:
            with psycopg.connect(dsn(DATABASE), autocommit=True) as conn:
                conn.execute(
                    "SELECT photo_ai.configure(sidecar_url => %s, api_key => %s)",
                    [sidecar.url, sidecar.key],
                )
            sidecar_alone(sidecar.url, sidecar.key, photos[:2], 1)  # load the models
            report_end_to_end(sidecar, photos, rounds, tiny)
            # each photo four times: with tiny models a photo takes milliseconds
            report_scale_out(sidecar, scratch_dir, model_dir, photos * 4, rounds)
        finally:
            sidecar.stop()
    per_photo_cost(100 if args.quick else 500, rounds)


def report_end_to_end(sidecar, photos: list[Path], rounds: int, tiny: list[str]) -> None:
    print(
        f"\nend to end: {len(photos)} photos x tasks {'+'.join(TASKS)}, median of {rounds}"
        + (f" (tiny stand-in models for {', '.join(tiny)})" if tiny else "")
    )
    print(
        f"  {'workers':>7} {'sidecar alone':>14} {'pipeline':>10} {'assets/s':>9} {'overhead':>9}"
    )
    for workers in (1, 2):
        alone, piped = [], []
        for _ in range(rounds):
            alone.append(sidecar_alone(sidecar.url, sidecar.key, photos, workers))
            piped.append(pipeline(photos, workers))
        a, p = statistics.median(alone), statistics.median(piped)
        print(f"  {workers:>7} {a:>13.2f}s {p:>9.2f}s {len(photos) / p:>9.2f} {p / a:>8.3f}x")


def report_scale_out(sidecar, scratch: Path, model_dir: Path, photos: list[Path], rounds: int):
    """2 sidecars (URLs in rotation) x 2 workers against 1 x 1, on one queue, twice: real
    sidecars with tiny CLIP and face models on this machine, whose two cores are then the
    limit; and stand-ins that answer after 50 ms, as sidecars whose models run elsewhere
    (a GPU machine), so that what is measured is how the queue and the rotation share the
    work."""
    print(f"\nscale out: {len(photos)} photos, median of {rounds}, {os.cpu_count()} cores")
    print(f"  {'sidecars':34} {'1 x 1 worker':>14} {'2 x 2 workers':>14} {'throughput':>10}")
    second = start_sidecar(scratch / "sidecar2.log", api_key=sidecar.key, model_dir=str(model_dir),
                           library_roots=str(scratch), log_level="warning")  # fmt: skip
    try:
        sidecar_alone(second.url, second.key, photos[:2], 1)  # load its models
        local_pair = [sidecar.url, second.url]
        scale_out_row("real, clip+faces (tiny models)", local_pair, "{clip,faces}", photos, rounds)
    finally:
        second.stop()
    ports = [free_port(), free_port()]
    standins = [
        subprocess.Popen([sys.executable, "-m", "tests.support.standin", str(p), "0.05"], cwd=ROOT)
        for p in ports
    ]
    try:
        urls = [f"http://127.0.0.1:{p}" for p in ports]
        while not all(answers(u) for u in urls):
            time.sleep(0.1)
        scale_out_row("stand-ins answering after 50 ms", urls, "{clip}", photos, rounds)
    finally:
        for standin in standins:
            standin.kill()
        with psycopg.connect(dsn(DATABASE), autocommit=True) as conn:
            conn.execute("SELECT photo_ai.configure(sidecar_url => %s, tasks => %s)",
                         [sidecar.url, TASKS])  # fmt: skip


def scale_out_row(name: str, urls: list[str], tasks: str, photos: list[Path], rounds: int):
    jobs = {"{clip,faces}": 3, "{clip}": 1}[tasks]  # clip, faces, and people for the faces
    seconds = {}
    for workers in (1, 2):
        with psycopg.connect(dsn(DATABASE), autocommit=True) as conn:
            conn.execute("SELECT photo_ai.configure(sidecar_url => %s, tasks => %s)",
                         [",".join(urls[:workers]), tasks])  # fmt: skip
        seconds[workers] = statistics.median(
            pipeline(photos, workers, {"done": jobs * len(photos)}) for _ in range(rounds)
        )
    one, two = (len(photos) / seconds[n] for n in (1, 2))
    print(f"  {name:34} {one:9.2f} ph/s {two:9.2f} ph/s {two / one:9.2f}x")


if __name__ == "__main__":
    main()
