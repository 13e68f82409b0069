"""Immich mode: what photo_ai adds to Immich's own jobs, how fast it indexes what they
wrote, and how its search compares with Immich's, each beside a baseline from the same run.

    .venv/bin/python bench/immich_mode.py            # 10,000 photos
    .venv/bin/python bench/immich_mode.py --quick    # 2,000 photos

Two Immich v3.1 databases (tests/immich/immich_v3_schema.sql) hold the same library: one
Immich alone, one with photo_ai installed (Immich mode; its sidecar URL a dead port: nothing
here needs one). The photos are made in bulk as Immich's upload, metadata and thumbnail jobs
leave them (asset, EXIF, preview rows; 1440x1080); each has 6 OCR lines of Chinese (a title,
five lines of invoice, sign or receipt print with random numbers, at different heights).
Printed, in one run:
1. Immich's job writes a photo, as tests/immich/immich_server.py issues them (one
   transaction a photo): its OCR job's (asset_ocr, ocr_search, ocrAt) and its smart search
   job's (smart_search, 512 dimensions), without and with photo_ai's triggers, in
   alternating slices of 500 photos; then the OCR job again on the first quarter of the
   photos (Immich deletes and inserts their lines in one statement). Tasks as installed:
   the smart search trigger also queues a tags job.
2. Indexing: CALL photo_ai.run_worker() on the ocr_from_immich jobs those writes queued (no
   sidecar), beside the same results stored by photo_ai.write_ocr in a loop of SQL calls on a
   standalone photo_ai database (the standalone pipeline's store). The tags task is turned
   off for this, so only the OCR index is timed.
3. Search over the indexed library: hybrid_search('ocr:<word>', 250) beside Immich's own OCR
   search (its web page's query, 250 results) on the same database, p50 over a few words.
The databases (photo_ai_bench_immich_*) are dropped at the end.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import numpy as np
from psycopg.types.json import Jsonb

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from tags import unit, vector_text  # noqa: E402

from photo_ai_cli import local  # noqa: E402
from tests.immich.immich_server import ImmichServer, ocr_line  # noqa: E402
from tests.support.database import drop_database, superuser, template  # noqa: E402

DATABASE = "photo_ai_bench_immich"
SCHEMA_SQL = (ROOT / "tests" / "immich" / "immich_v3_schema.sql").read_text()
DEAD_SIDECAR = "SELECT photo_ai.configure(sidecar_url => 'http://127.0.0.1:9')"
WIDTH, HEIGHT = 1440, 1080
SLICE = 500
ROUNDS = 7
TITLES = (
    "增值税专用发票",
    "海淀区图书馆",
    "超市购物小票",
    "停车场收费标准",
    "北京市朝阳医院门诊收费票据",
)
PRINT = (
    "购买方 北京市海淀区某某科技有限公司",
    "金额{a},{b:03d}.{c:02d}",
    "开票日期2026-{m:02d}-{d:02d}",
    "税额{a}.{c:02d}",
    "开放时间 9:00-21:00 周一闭馆",
    "合计 ¥{a}.{c:02d} 实收 ¥{b}.00",
    "收款员 {b:03d} 号 欢迎再次光临",
    "如需发票请到服务台办理",
    "地址 中关村大街{a}号",
    "每小时{d}元 超过24小时按{m}0元计",
    "纳税人识别号 91110108MA0{b:03d}{a}",
)
WORDS = ("发票", "海淀", "图书馆", "停车场", "服务台", "收款员")
IMMICH_LIBRARY = """
with added as (
  insert into asset ("ownerId", checksum, "checksumAlgorithm", "originalPath", "fileCreatedAt",
                     "fileModifiedAt", "localDateTime", type, "originalFileName", width, height)
  select %(owner)s, sha256(n::text::bytea), 'sha1', '/data/upload/user/' || n || '.jpg', t, t,
         t, 'IMAGE', n || '.jpg', %(width)s, %(height)s
  from generate_series(1, %(photos)s) n,
       lateral (select timestamptz '2020-01-01' + n * interval '1 hour' t) d
  returning id, "originalPath"
), exif as (
  insert into asset_exif ("assetId", "exifImageWidth", "exifImageHeight", "fileSizeInByte")
  select id, %(width)s, %(height)s, 400000 from added
)
insert into asset_file ("assetId", type, path)
select id, kind, replace("originalPath", '/upload/', '/thumbs/') || '-' || kind from added,
       unnest(array['preview', 'thumbnail']) kind
"""


def photo_lines(rng: random.Random) -> list[tuple]:
    """A photo's OCR lines as Immich's job stores them: a title, then five lines of print."""
    lines = [ocr_line(rng.choice(TITLES), 0.04, rng.uniform(0.06, 0.1), left=0.2)]
    for row in range(5):
        numbers = {"a": rng.randint(1, 999), "b": rng.randint(0, 999), "c": rng.randint(0, 99),
                   "m": rng.randint(1, 12), "d": rng.randint(1, 28)}  # fmt: skip
        text = rng.choice(PRINT).format(**numbers)
        lines.append(ocr_line(text, 0.2 + 0.14 * row, rng.uniform(0.02, 0.045)))
    return lines


def sidecar_result(lines: list[tuple]) -> dict:
    """The same lines as the sidecar's OCR result (boxes in pixels), for photo_ai.write_ocr."""
    rows = sorted(lines, key=lambda line: (line[1][1], line[1][0]))
    return {
        "model": "PP-OCRv5_mobile",
        "text": "\n".join(text for text, *_ in rows),
        "lines": [
            {
                "text": text,
                "score": score,
                "box": [[box[k] * WIDTH, box[k + 1] * HEIGHT] for k in range(0, 8, 2)],
            }
            for text, box, _, score in rows
        ],
    }


@contextmanager
def immich_database(name: str, photos: int, with_photo_ai: bool):
    """An Immich v3.1 database with the library (photo_ai installed first where asked):
    Immich's server on it and the photos' ids in order; dropped on leaving."""
    try:
        with contextmanager(template)(SCHEMA_SQL, name), superuser(name) as conn:
            if with_photo_ai:
                conn.execute("CREATE EXTENSION photo_ai CASCADE")
                conn.execute(DEAD_SIDECAR)
            immich = ImmichServer(conn, Path("/data"))
            immich.user_id = immich.create_user()
            values = {"owner": immich.user_id, "photos": photos, "width": WIDTH, "height": HEIGHT}
            conn.execute(IMMICH_LIBRARY, values)
            conn.execute("VACUUM ANALYZE")
            ids = [r[0] for r in conn.execute('SELECT id FROM asset ORDER BY "fileCreatedAt"')]
            yield immich, ids
    finally:
        drop_database(name)


def job_write_ms(libraries: dict, write, results: list) -> dict[str, float]:
    """Milliseconds a photo of Immich's `write(immich, asset, result)` for the first photos,
    one result each, on each library, in alternating slices (so that the machine's load
    falls on both alike)."""
    spent = dict.fromkeys(libraries, 0.0)
    for start in range(0, len(results), SLICE):
        for name, (immich, ids) in libraries.items():
            started = time.perf_counter()
            chunk = results[start : start + SLICE]
            for asset, result in zip(ids[start : start + len(chunk)], chunk, strict=True):
                write(immich, {"id": asset}, result)
            spent[name] += time.perf_counter() - started
    return {name: 1000 * seconds / len(results) for name, seconds in spent.items()}


def worker_rate(conn, photos: int) -> float:
    """Photos a second of run_worker on the queued ocr_from_immich jobs, tags turned off."""
    conn.execute("UPDATE photo_ai.task SET on_by_default = false WHERE name = 'tags'")
    conn.execute("DELETE FROM photo_ai.job WHERE task = 'tags'")
    queued = "SELECT count(*) FROM photo_ai.job WHERE task = 'ocr_from_immich' AND state = %s"
    assert conn.execute(queued, ["queued"]).fetchone()[0] == photos
    started = time.perf_counter()
    conn.execute("CALL photo_ai.run_worker(max_seconds => 3600, until_idle => true)")
    seconds = time.perf_counter() - started
    assert conn.execute(queued, ["done"]).fetchone()[0] == photos
    return photos / seconds


def store_rate(results: list[dict]) -> float:
    """Photos a second of photo_ai.write_ocr called once a photo, on a standalone database."""
    name = f"{DATABASE}_standalone"
    try:
        with local.fresh_database(name) as conn:
            conn.execute(DEAD_SIDECAR)
            ids = conn.execute(
                "INSERT INTO photo_ai.asset (original_path) "
                "SELECT '/bench/' || n FROM generate_series(1, %s) n RETURNING id",
                [len(results)],
            ).fetchall()
            conn.execute("VACUUM ANALYZE")
            started = time.perf_counter()
            for (asset,), result in zip(ids, results, strict=True):
                conn.execute("SELECT photo_ai.write_ocr(%s, %s)", [asset, Jsonb(result)])
            return len(results) / (time.perf_counter() - started)
    finally:
        drop_database(name)


def search_ms(immich: ImmichServer) -> tuple[dict[str, float], dict[str, int]]:
    """p50 milliseconds of hybrid_search('ocr:…') and of Immich's OCR search over WORDS, and
    the fewest photos each found for a word."""
    searches = {
        "photo_ai": lambda word: immich.conn.execute(
            "SELECT asset_id FROM hybrid_search(%s, 250)", [f"ocr:{word}"]
        ).fetchall(),
        "immich": lambda word: immich.search_ocr(immich.user_id, word),
    }
    times: dict[str, list[float]] = {side: [] for side in searches}
    fewest = {side: min(len(search(word)) for word in WORDS) for side, search in searches.items()}
    for _ in range(ROUNDS):
        for word in WORDS:
            for side, search in searches.items():
                started = time.perf_counter()
                search(word)
                times[side].append(1000 * (time.perf_counter() - started))
    return {side: statistics.median(ms) for side, ms in times.items()}, fewest


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="2,000 photos")
    photos = 2_000 if parser.parse_args().quick else 10_000
    rng = random.Random(10)
    lines = [photo_lines(rng) for _ in range(photos)]
    embeddings = [
        vector_text(v) for v in unit(np.random.default_rng(10).normal(size=(photos, 512)))
    ]
    print(f"{photos} photos, {len(lines[0])} OCR lines each "
          f"(load average {os.getloadavg()[0]:.1f})")  # fmt: skip

    with (
        immich_database(f"{DATABASE}_alone", photos, False) as alone,
        immich_database(f"{DATABASE}_photo_ai", photos, True) as attached,
    ):
        libraries = {"alone": alone, "photo_ai": attached}
        ocr = job_write_ms(libraries, ImmichServer.write_ocr, lines)
        again = job_write_ms(libraries, ImmichServer.write_ocr, lines[: photos // 4])
        clip = job_write_ms(libraries, ImmichServer.write_clip, embeddings)
        print("Immich's job writes, ms a photo   Immich alone  with photo_ai  ratio")
        for job, ms in (
            ("OCR job (6 lines)", ocr),
            ("OCR job again, a quarter", again),
            ("smart search job", clip),
        ):
            print(f"  {job:30} {ms['alone']:10.2f} {ms['photo_ai']:14.2f} "
                  f"{ms['photo_ai'] / ms['alone']:6.2f}x")  # fmt: skip

        stored = store_rate([sidecar_result(photo) for photo in lines])
        indexed = worker_rate(attached[0].conn, photos)
        print("Indexing, photos/s               write_ocr loop  run_worker  ratio")
        print(f"  ocr_from_immich (tags off)     {stored:14.0f} {indexed:11.0f} "
              f"{indexed / stored:6.2f}x")  # fmt: skip

        p50, fewest = search_ms(attached[0])
        print("Search, p50 ms                   Immich's OCR  hybrid_search  ratio")
        print(f"  {len(WORDS)} words x {ROUNDS}, 250 results      {p50['immich']:7.2f} "
              f"{p50['photo_ai']:14.2f} {p50['photo_ai'] / p50['immich']:6.2f}x  (fewest found "
              f"for a word: {fewest['immich']} and {fewest['photo_ai']})")  # fmt: skip


if __name__ == "__main__":
    main()
