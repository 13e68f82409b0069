"""The search page's speed: its server time for a search beside hybrid_search's own time on
the same queries in the same run, and the thumbnails of a screen of results.

    .venv/bin/python bench/search_page.py            # 20,000 photos
    .venv/bin/python bench/search_page.py --quick    # 5,000 photos
    .venv/bin/python bench/search_page.py --rebuild  # generate and load the data again

The library is bench/search_speed.py's (its generator and loader, its own database here:
photo_ai_bench_page, photo_ai_bench_page_quick): clustered CLIP-like embeddings, OCR-like
texts on a third of the photos written through photo_ai.store_result, text queries whose
embeddings are in hybrid_search's cache, the HNSW index as the extension builds it (m 24,
ef_construction 128). Every photo's file is one of 60 real JPEGs drawn here (each photo
still gets its own thumbnail: the cache is per asset).

Each query is asked three ways (`ocr:` text only, no prefix: both arms and the fusion,
`clip:` meaning only). Per query, alternately, after a warm-up:
- hybrid_search: `SELECT * FROM hybrid_search(q, max_results => 49)` (what the page asks:
  a page of 48 and one more to know there is more), as photo_ai_reader, prepared, the
  round trip measured by the client;
- the page: `GET /?q=...` from `python -m photo_ai_web` in its own process, its server time
  (the Server-Timing header the page sets around the whole request: middleware, the search,
  the photos' cards, the template).
The ratio is page over hybrid_search, per query (median of the rounds); goal <= 1.5.

Thumbnails: the 48 of one results page, cold (made from the files) and then warm (from the
disk cache), one after another and six at a time as a browser fetches them; goal: a warm
screen well under a second.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import psycopg
import search_speed as speed  # the library's generator and loader (bench/search_speed.py)

ROOT = speed.ROOT
sys.path.insert(0, str(ROOT))

from photo_ai_cli.local import dsn, free_port  # noqa: E402
from photo_ai_cli.pictures import text_page  # noqa: E402
from photo_ai_web.settings import WebSettings  # noqa: E402

FULL = speed.Scale("page", 20_000, 120, 30, 0, "photo_ai_bench_page")
QUICK = speed.Scale("page_quick", 5_000, 60, 20, 0, "photo_ai_bench_page_quick")
HNSW = ("halfvec", 24, 128)  # the extension's own index (sql/migrations/040_halfvec_clip_index.sql)
PAGE_SIZE = WebSettings.model_fields["page_size"].default  # the page's own
FILES = 60
ROUNDS = 7
GOAL_RATIO = 1.5
GOAL_SCREEN_MS = 1000.0
STATE = ROOT / ".cache" / "bench_search_page"
KINDS = (("ocr:", "ocr: (text)"), ("", "both arms"), ("clip:", "clip: (meaning)"))


def say(message: str) -> None:
    print(message, flush=True)


# =============================================================================== the library


def draw_files(folder: Path) -> None:
    """FILES photos with printed text, 1024x768, once (kept under .cache/)."""
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(FILES):
        path = folder / f"{i:02d}.jpg"
        if not path.exists():
            lines = (f"发票 {i:02d} 号", "合计 ¥128.50", "停车场 出口 EXIT 3")
            text_page(lines, size=(1024, 768), font_size=64).save(path, quality=90)


def point_at_files(conn: psycopg.Connection, folder: Path) -> None:
    """Every photo's path becomes one of the drawn files (without queueing any work)."""
    prefix = f"{folder}/"
    done = conn.execute(
        "SELECT bool_and(original_path LIKE %s || '%%') FROM photo_ai.asset", [prefix]
    ).fetchone()[0]
    if done:
        return
    with conn.transaction():
        conn.execute("SET LOCAL session_replication_role = replica")  # no triggers: no jobs
        conn.execute(
            "UPDATE photo_ai.asset SET original_path = %s || lpad((abs(hashtext(id::text)) "
            "%% %s)::text, 2, '0') || '.jpg'",
            [prefix, FILES],
        )


def text_queries(conn: psycopg.Connection) -> list[str]:
    return [
        r[0] for r in conn.execute("SELECT query FROM bench_query WHERE kind = 'text' ORDER BY id")
    ]


# =============================================================================== the page


class PageProcess:
    """`python -m photo_ai_web` on a free port, over the bench's database."""

    def __init__(self, database: str, folder: Path, state: Path):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {k: v for k, v in os.environ.items() if not k.startswith("PHOTO_AI_WEB_")}
        env.update(
            PHOTO_AI_DSN=dsn(database),
            PHOTO_AI_STATE_DIR=str(state),
            PHOTO_AI_LIBRARY_ROOTS=str(folder),
            PHOTO_AI_WEB_PAGE_SIZE=str(PAGE_SIZE),
        )
        self.log = (state / "page.log").open("wb")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "photo_ai_web", "--port", str(self.port)],
            env=env,
            cwd=ROOT,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(f"the page did not start: see {self.log.name}")
            try:
                if httpx.get(self.url + "/healthz", timeout=1).text == "ok":
                    return
            except httpx.TransportError:
                time.sleep(0.1)
        raise SystemExit("the page did not answer in 60 s")

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=15)
        self.log.close()


def server_ms(response: httpx.Response) -> float:
    match = re.search(r"app;dur=([0-9.]+)", response.headers["server-timing"])
    return float(match.group(1))


# =============================================================================== measuring


def measure_searches(conn: psycopg.Connection, page: PageProcess, queries: list[str]) -> dict:
    """{kind: [(query, hybrid_search ms, page server ms, page wall ms)]}, medians of ROUNDS."""
    results: dict[str, list] = {label: [] for _, label in KINDS}
    with httpx.Client(base_url=page.url, timeout=60) as client:
        for prefix, label in KINDS:
            for text in queries:
                query = prefix + text
                sql = "SELECT * FROM hybrid_search(%s, max_results => %s)"
                hybrid, server, wall = [], [], []
                for round_ in range(ROUNDS + 2):
                    ms, _ = speed.timed(conn, sql, [query, PAGE_SIZE + 1])
                    started = time.perf_counter()
                    response = client.get("/", params={"q": query})
                    elapsed = (time.perf_counter() - started) * 1000
                    response.raise_for_status()
                    if round_ >= 2:  # the first two warm both up
                        hybrid.append(ms)
                        server.append(server_ms(response))
                        wall.append(elapsed)
                results[label].append(
                    (
                        query,
                        statistics.median(hybrid),
                        statistics.median(server),
                        statistics.median(wall),
                    )
                )
    return results


def thumbnail_urls(page: PageProcess, query: str) -> list[str]:
    html = httpx.get(page.url + "/", params={"q": query}, timeout=60).text
    return re.findall(r'<img src="(/thumb/[^"]+)"', html)


def fetch_all(page: PageProcess, urls: list[str], at_once: int) -> float:
    """Milliseconds to fetch every URL with `at_once` connections (a browser uses six)."""
    pending = list(urls)
    lock = threading.Lock()

    def work() -> None:
        with httpx.Client(base_url=page.url, timeout=60) as client:
            while True:
                with lock:
                    if not pending:
                        return
                    url = pending.pop()
                client.get(url).raise_for_status()

    started = time.perf_counter()
    threads = [threading.Thread(target=work) for _ in range(at_once)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return (time.perf_counter() - started) * 1000


# =============================================================================== output


def print_searches(results: dict, scale: speed.Scale) -> list[float]:
    say("")
    say(
        f"search page against hybrid_search: {scale.assets:,} photos, "
        f"{len(next(iter(results.values())))} queries per kind, median of {ROUNDS} rounds each"
    )
    say("")
    columns = ("hybrid_search", "page (server)", "ratio", "page (client)")
    say(f"{'kind':16} {columns[0]:>14} {columns[1]:>14} {columns[2]:>7} {columns[3]:>14}")
    ratios = []
    for label, rows in results.items():
        kind_ratios = [server / hybrid for _, hybrid, server, _ in rows]
        ratios += kind_ratios
        say(
            f"{label:16} {statistics.median(r[1] for r in rows):11.1f} ms "
            f"{statistics.median(r[2] for r in rows):11.1f} ms "
            f"{statistics.median(kind_ratios):6.2f}x "
            f"{statistics.median(r[3] for r in rows):11.1f} ms"
        )
    worst = max(ratios)
    say("")
    say(
        f"ratio page / hybrid_search over all {len(ratios)} queries: median "
        f"{statistics.median(ratios):.2f}x, worst {worst:.2f}x (goal <= {GOAL_RATIO}x)"
    )
    return ratios


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="5,000 photos")
    parser.add_argument("--rebuild", action="store_true", help="generate and load again")
    args = parser.parse_args()
    scale = QUICK if args.quick else FULL
    speed.ensure_database(scale, args.rebuild)
    folder, state = STATE / "photos", STATE / scale.name
    draw_files(folder)
    shutil.rmtree(state / "web", ignore_errors=True)  # thumbnails start cold
    state.mkdir(parents=True, exist_ok=True)
    with psycopg.connect(dsn(scale.database), autocommit=True) as conn:
        speed.use_index(conn, *HNSW)
        point_at_files(conn, folder)
        conn.execute("SELECT photo_ai.configure(sidecar_url => 'http://127.0.0.1:9')")
        queries = text_queries(conn)
        conn.execute("SET ROLE photo_ai_reader")
        page = PageProcess(scale.database, folder, state)
        try:
            ratios = print_searches(measure_searches(conn, page, queries), scale)
            urls = thumbnail_urls(page, queries[0])
            cold = fetch_all(page, urls, 1)
            warm = fetch_all(page, urls, 1)
            warm_six = fetch_all(page, urls, 6)
        finally:
            page.stop()
    say("")
    say(f"thumbnails of one results page ({len(urls)}, {FILES} distinct 1024x768 JPEG files):")
    say(f"  cold (made from the files), one at a time: {cold:7.0f} ms")
    say(f"  warm (disk cache), one at a time:          {warm:7.0f} ms")
    say(
        f"  warm, six at a time (as a browser):        {warm_six:7.0f} ms  "
        f"(goal well under {GOAL_SCREEN_MS:.0f} ms)"
    )
    met = statistics.median(ratios) <= GOAL_RATIO and warm_six < GOAL_SCREEN_MS
    say("goals met" if met else "goals NOT met")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
