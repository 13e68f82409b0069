"""OCR search quality: photo_ai's `ocr:` search beside Immich's OCR search and plain
to_tsvector('simple'), on two labelled corpora read by the real OCR, side by side.

    .venv/bin/python bench/search_quality.py            # 200 photos in each corpus
    .venv/bin/python bench/search_quality.py --quick    # 60
    .venv/bin/python bench/search_quality.py --corpus hard   # one corpus only

The corpora (bench/quality_corpus.py) are rendered receipts, signs, chat screenshots and
notices in Chinese and English, the same printed photos twice: `clean`, a third of them
untouched, a third mildly and a third badly degraded (noise, blur, a slight rotation, low
JPEG quality), and `hard`, every one photographed: on a table, turned and in perspective,
in uneven light, with low contrast, blur, sensor noise and JPEG artefacts. Relevance is
known by construction: a photo is relevant when its printed text contains the query,
graded 3 when it is printed as the title, 2 as body text, 1 in small print.

The photos are read by the sidecar's RapidOCR through the database pipeline (CALL
photo_ai.run_worker); the OCR output is cached under .cache/search_quality/, keyed by the
corpus, its version, the seed and the size, so a re-run measures the current SQL in
seconds. Every method then searches the same OCR text:

- photo_ai: hybrid_search('ocr:' || query): character pairs + words, lines weighted by
  their height and recognition score, ranked by ts_rank.
- photo_ai, lines unweighted: the same matches ranked without the line weights: what
  the weights add.
- Immich: its server's method (server/src/utils/database.ts): text and query tokenized by
  tokenizeForSearch (CJK runs as overlapping bigrams, a lone CJK character kept, other runs
  split at spaces), matched with pg_trgm's strict word similarity
  `f_unaccent(ocr_search.text) %>> f_unaccent(query)`, hits sorted by date, newest first.
- simple: to_tsvector('simple', text) @@ plainto_tsquery('simple', query), by ts_rank.
- jieba words only: jieba's search-mode words on both sides, no character pairs, by
  ts_rank: what the pairs add.

Figures: recall and precision pooled over all (query, photo) pairs; nDCG@10 with the
graded relevance, averaged over the queries that have relevant photos; the OCR ceiling is
the share of relevant photos whose OCR text contains the query at all (no exact method can
find the others).
"""

from __future__ import annotations

import argparse
import json
import math
import shutil
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import psycopg
from psycopg.types.json import Jsonb

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.quality_corpus import (  # noqa: E402
    CORPORA,
    QUERIES,
    contains,
    grade,
    make_corpus,
    write_images,
)
from photo_ai_cli import local  # noqa: E402
from photo_ai_cli.local import dsn, start_sidecar  # noqa: E402

DATABASE = "photo_ai_bench_search_quality"
CACHE = ROOT / ".cache" / "search_quality"

METHODS = {
    "photo_ai ocr:": """
        select h.asset_id from photo_ai.hybrid_search('ocr:' || %(query)s, 100000) h""",
    "photo_ai, lines unweighted": """
        select o.asset_id from photo_ai.ocr_result o
        cross join photo_ai.parse_search('ocr:' || %(query)s) p
        where o.tsv @@ p.include_query
        order by ts_rank('{1, 1, 1, 1}', o.tsv, p.include_query) desc, o.asset_id""",
    "Immich (bigrams, %>>, by date)": """
        select s.asset_id from immich_ocr_search s
        join photo_ai.source_asset a on a.id = s.asset_id
        where f_unaccent(s.text) %%>> f_unaccent(%(immich_query)s)
        order by a.taken_at desc""",
    "to_tsvector('simple')": """
        select o.asset_id from photo_ai.ocr_result o
        cross join lateral (select to_tsvector('simple', o.text) as tsv,
                                   plainto_tsquery('simple', %(query)s) as q) x
        where x.tsv @@ x.q
        order by ts_rank(x.tsv, x.q) desc""",
    "jieba words only": """
        select w.asset_id from jieba_words w
        cross join lateral (select plainto_tsquery('simple', array_to_string(
            photo_ai.zh_tokens(lower(%(query)s)), ' ')) as q) x
        where w.tsv @@ x.q
        order by ts_rank(w.tsv, x.q) desc""",
}


# --- OCR through the pipeline, cached ------------------------------------------------------


def cache_path(corpus: str, seed: int, count: int) -> Path:
    # the clean corpus keeps the name it had when it was the only one
    name = "" if corpus == "clean" else f"{corpus}-"
    return CACHE / f"ocr-{name}v{CORPORA[corpus]}-seed{seed}-n{count}.json"


def fresh_database() -> psycopg.Connection:
    conn = local.fresh_database(DATABASE, "pg_trgm", "unaccent")
    # Immich's own definition
    conn.execute(
        "CREATE FUNCTION f_unaccent(text) RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE "
        "STRICT RETURN unaccent('unaccent', $1)"
    )
    return conn


def add_assets(conn: psycopg.Connection, photos, folder: Path) -> dict[str, str]:
    """Assets for the photos; their ids come from their names, so that ties in a ranking
    fall the same way in every run."""
    rows = conn.execute(
        "INSERT INTO photo_ai.asset (id, original_path, taken_at) "
        "SELECT md5(p)::uuid, p, t FROM unnest(%s::text[], %s::timestamptz[]) AS u(p, t) "
        "RETURNING id, original_path",
        [[str(folder / p.name) for p in photos], [p.taken_at for p in photos]],
    ).fetchall()
    return {Path(path).name: str(asset) for asset, path in rows}


def ocr_through_pipeline(
    conn: psycopg.Connection, corpus: str, seed: int, count: int
) -> dict[str, dict]:
    """Renders the photos, has the worker OCR them through a sidecar, returns the results
    by file name."""
    library = Path(tempfile.mkdtemp(prefix="photo_ai_quality_"))
    library.chmod(0o755)  # the sidecar reads by path; so would the postgres user
    try:
        print(f"rendering {count} photos of the {corpus} corpus ...", flush=True)
        photos = make_corpus(seed, count, render=True, corpus=corpus)
        write_images(photos, library)
        sidecar = start_sidecar(
            library / "sidecar.log",
            model_dir=str(library / "no_models"),
            library_roots=str(library),
            api_key="quality-0123456789abcdef",
            log_level="warning",
        )
        try:
            conn.execute(
                "SELECT photo_ai.configure(sidecar_url => %s, "
                "api_key => 'quality-0123456789abcdef', tasks => '{ocr}')",
                [sidecar.url],
            )
            ids = add_assets(conn, photos, library)
            run_worker_with_progress(conn, len(ids))
        finally:
            sidecar.stop()
        names = {asset: name for name, asset in ids.items()}
        rows = conn.execute(
            "SELECT asset_id::text, jsonb_build_object('model', model, 'text', text, "
            "'lines', lines) FROM photo_ai.ocr_result"
        ).fetchall()
        return {names[asset]: result for asset, result in rows}
    finally:
        shutil.rmtree(library)


def run_worker_with_progress(conn: psycopg.Connection, total: int) -> None:
    started = time.monotonic()
    with psycopg.connect(dsn(DATABASE), autocommit=True) as worker:
        while True:
            worker.execute("CALL photo_ai.run_worker(max_seconds => 15, until_idle => true)")
            done = conn.execute(
                "SELECT count(*) FROM photo_ai.job WHERE state IN ('done', 'failed')"
            ).fetchone()[0]
            print(f"  OCR {done}/{total} in {time.monotonic() - started:.0f} s", flush=True)
            if done >= total:
                return


def load_ocr(conn: psycopg.Connection, photos, results: dict[str, dict]) -> dict[str, str]:
    """Assets for the photos with their cached OCR results, indexed by the current SQL."""
    conn.execute("SELECT photo_ai.configure(tasks => '{}')")  # nothing to queue
    ids = add_assets(conn, photos, Path("/cached"))
    with conn.transaction():
        for name, asset in ids.items():
            if name in results:
                conn.execute("SELECT photo_ai.write_ocr(%s, %s)", [asset, Jsonb(results[name])])
    return ids


def build_baselines(conn: psycopg.Connection) -> None:
    # Immich's tokenizer as photo_ai's Immich mode writes ocr_search (tested against a port
    # of Immich's own code in tests/immich)
    conn.execute(
        "CREATE TABLE immich_ocr_search AS SELECT asset_id, array_to_string("
        "photo_ai.immich_search_tokens((SELECT coalesce(string_agg(l->>'text', ' '), '') "
        "FROM jsonb_array_elements(lines) l)), ' ') AS text FROM photo_ai.ocr_result"
    )
    conn.execute(
        "CREATE TABLE jieba_words AS SELECT asset_id, to_tsvector('simple', "
        "array_to_string(photo_ai.zh_tokens(lower(text)), ' ')) AS tsv FROM photo_ai.ocr_result"
    )


# --- measuring -----------------------------------------------------------------------------


def ndcg_at_10(ranked: list[str], relevant: dict[str, int]) -> float:
    gain = sum((2 ** relevant.get(a, 0) - 1) / math.log2(i + 2) for i, a in enumerate(ranked[:10]))
    ideal = sorted(relevant.values(), reverse=True)[:10]
    best = sum((2**g - 1) / math.log2(i + 2) for i, g in enumerate(ideal))
    return gain / best


def measure(conn, photos, ids, ocr_lines) -> tuple[dict, dict]:
    totals = defaultdict(lambda: defaultdict(float))
    by_kind = defaultdict(lambda: defaultdict(lambda: [0, 0]))  # kind -> method -> [tp, rel]
    for query, kind in QUERIES:
        relevant = {ids[p.name]: g for p in photos if (g := grade(p.lines, query))}
        in_ocr = [
            a
            for a in relevant
            if all(any(contains(t, term) for t in ocr_lines.get(a, [])) for term in query.split())
        ]
        totals["ceiling"]["found"] += len(in_ocr)
        totals["ceiling"]["relevant"] += len(relevant)
        by_kind[kind]["OCR ceiling"][0] += len(in_ocr)
        by_kind[kind]["OCR ceiling"][1] += len(relevant)
        immich_query = conn.execute(
            "SELECT array_to_string(photo_ai.immich_search_tokens(%s), ' ')", [query]
        ).fetchone()[0]
        for method, sql in METHODS.items():
            ranked = [
                str(r[0]) for r in conn.execute(sql, {"query": query, "immich_query": immich_query})
            ]
            hits = sum(1 for a in ranked if a in relevant)
            t = totals[method]
            t["hits"] += hits
            t["returned"] += len(ranked)
            t["relevant"] += len(relevant)
            if relevant:
                t["ndcg"] += ndcg_at_10(ranked, relevant)
                t["queries"] += 1
            by_kind[kind][method][0] += hits
            by_kind[kind][method][1] += len(relevant)
    return totals, by_kind


def ocr_results(corpus: str, seed: int, count: int) -> dict[str, dict]:
    """The corpus's OCR results, from the cache or read now (and cached)."""
    cached = cache_path(corpus, seed, count)
    if cached.exists():
        print(f"OCR results of the {corpus} corpus from {cached.relative_to(ROOT)}")
        return json.loads(cached.read_text())
    with fresh_database() as conn:
        results = ocr_through_pipeline(conn, corpus, seed, count)
    CACHE.mkdir(parents=True, exist_ok=True)
    cached.write_text(json.dumps(results, ensure_ascii=False))
    return results


@dataclass
class Figures:
    """What one corpus measured."""

    ceiling: dict  # found, relevant
    totals: dict  # method -> hits, returned, relevant, ndcg, queries
    by_kind: dict  # kind -> method -> [hits, relevant]

    def recall(self, method: str) -> float:
        return self.totals[method]["hits"] / self.totals[method]["relevant"]

    def precision(self, method: str) -> float:
        t = self.totals[method]
        return t["hits"] / t["returned"] if t["returned"] else float("nan")

    def ndcg(self, method: str) -> float:
        return self.totals[method]["ndcg"] / self.totals[method]["queries"]


def measure_corpus(corpus: str, seed: int, count: int) -> Figures:
    results = ocr_results(corpus, seed, count)
    conn = fresh_database()  # a cached run and a fresh one measure alike
    try:
        photos = make_corpus(seed, count, render=False, corpus=corpus)
        ids = load_ocr(conn, photos, results)
        build_baselines(conn)
        ocr_lines = {ids[n]: [line["text"] for line in r["lines"]] for n, r in results.items()}
        totals, by_kind = measure(conn, photos, ids, ocr_lines)
    finally:
        conn.close()
    return Figures(totals.pop("ceiling"), totals, by_kind)


def print_report(args, count: int, figures: dict[str, Figures], seconds: float) -> None:
    print(
        f"\nsearch quality: {count} photos in each corpus (seed {args.seed}), {len(QUERIES)} "
        f"queries  [{seconds:.0f} s]"
    )
    for corpus, f in figures.items():
        print(
            f"  {corpus:6} {int(f.ceiling['relevant'])} relevant (query, photo) pairs, "
            f"OCR ceiling {f.ceiling['found'] / f.ceiling['relevant']:.3f}"
        )
    header = "".join(f"  {c + ': recall':>14} {'precision':>9} {'nDCG@10':>7}" for c in figures)
    print(f"\n{'method':30}{header}")
    for method in METHODS:
        cells = "".join(
            f"  {f.recall(method):14.3f} {f.precision(method):9.3f} {f.ndcg(method):7.3f}"
            for f in figures.values()
        )
        print(f"{method:30}{cells}")
    columns = ["OCR ceiling", *METHODS]
    for corpus, f in figures.items():
        print(f"\n{corpus + ': recall by kind':26} {'  '.join(f'{c[:14]:>14}' for c in columns)}")
        for kind, methods in f.by_kind.items():
            cells = []
            for column in columns:
                hits, relevant = methods[column]
                cells.append(f"{hits / relevant:14.3f}" if relevant else f"{'-':>14}")
            print(f"{kind:26} {'  '.join(cells)}")
    print("\nfalse positives in all:")
    for corpus, f in figures.items():
        wrong = {m: int(t["returned"] - t["hits"]) for m, t in f.totals.items()}
        print(f"  {corpus:6} " + ", ".join(f"{m} {n}" for m, n in wrong.items()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="60 photos instead of 200")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--count", type=int, help="number of photos (overrides --quick)")
    parser.add_argument(
        "--corpus", choices=[*CORPORA, "both"], default="both", help="default: both, side by side"
    )
    args = parser.parse_args()
    count = args.count or (60 if args.quick else 200)
    corpora = list(CORPORA) if args.corpus == "both" else [args.corpus]
    started = time.monotonic()
    figures = {corpus: measure_corpus(corpus, args.seed, count) for corpus in corpora}
    print_report(args, count, figures, time.monotonic() - started)


if __name__ == "__main__":
    main()
