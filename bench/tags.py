"""Tags: what computing them costs at 100,000 photos x the built-in vocabulary, and what
adding one label to such a library costs, beside the same matrix product in numpy.

    .venv/bin/python bench/tags.py            # 100,000 photos
    .venv/bin/python bench/tags.py --quick    # 10,000 photos

The library is synthetic: each photo's embedding a mixture of two or three labels'
directions plus noise (so photos have tags to store), the labels' embeddings stored as the
worker stores them, for every built-in label. Printed, in one run:
- numpy's product + softmax + top-k for the whole library, in-process: the baseline, and
  the library as the tags task leaves it (asset_tag, tag_basis), stored from it;
- tags_of (the task's compute function) and write_tags (its store, with the description)
  per photo, on a sample;
- the whole library tagged by the worker (CALL photo_ai.run_worker): the jobs queued by
  photo_ai.tag_library_again(), then photos a second over a slice, and the library's time
  from it;
- adding one label: add_label, then what the worker does before it claims (its embedding
  through a stand-in sidecar's /v1/clip/text, one request; apply_new_labels, one distance
  a photo), beside tagging the library again (what a removed label costs).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from people import copy_vectors  # noqa: E402

from photo_ai_cli import local  # noqa: E402
from tests.support.standin import StandinSidecar  # noqa: E402
from tests.support.tags import tags_answer  # noqa: E402

DATABASE = "photo_ai_bench_tags"
MODEL = "ViT-B-16"
SAMPLE = 2000
WORKER_SECONDS = 60


def unit(x: np.ndarray) -> np.ndarray:
    return (x / np.linalg.norm(x, axis=-1, keepdims=True)).astype(np.float32)


def vector_text(v: np.ndarray) -> str:
    return "[" + ",".join(f"{x:.6f}" for x in v) + "]"


def library(conn, photos: int, rng) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Stores label embeddings for the built-in vocabulary and `photos` photos near them;
    returns both."""
    names = [r[0] for r in conn.execute("SELECT name FROM photo_ai.vocabulary ORDER BY name")]
    labels = unit(rng.normal(size=(len(names), 512)))
    with conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO photo_ai.label_embedding (model, label, embedding) VALUES (%s, %s, %s)",
            [(MODEL, n, vector_text(v)) for n, v in zip(names, labels, strict=True)],
        )
    mixture = np.zeros((photos, len(names)), dtype=np.float32)
    for _ in range(3):
        mixture[np.arange(photos), rng.integers(0, len(names), photos)] += rng.uniform(
            0.2, 1.0, photos
        )
    embeddings = unit(mixture @ labels + rng.normal(scale=0.03, size=(photos, 512)))
    copy_vectors(conn, embeddings)
    # tags never search by vector: the HNSW index would only slow the load
    for (index,) in conn.execute(
        "SELECT indexrelid::regclass::text FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
        "JOIN pg_am a ON a.oid = c.relam "
        "WHERE indrelid = 'photo_ai.clip_embedding'::regclass AND a.amname = 'hnsw'"
    ).fetchall():
        conn.execute(f"DROP INDEX {index}")
    conn.execute(
        "INSERT INTO photo_ai.asset (original_path) "
        "SELECT '/bench/' || n FROM generate_series(0, %s - 1) n",
        [photos],
    )
    conn.execute("ANALYZE bench_face, photo_ai.asset")
    conn.execute(
        "INSERT INTO photo_ai.clip_embedding (asset_id, model, embedding) "
        "SELECT a.id, %s, f.embedding FROM photo_ai.asset a "
        "JOIN bench_face f ON f.n = split_part(a.original_path, '/', 3)::int",
        [MODEL],
    )
    conn.execute("DELETE FROM photo_ai.job")
    conn.execute("VACUUM ANALYZE")
    return names, labels, embeddings


def numpy_tags(labels: np.ndarray, embeddings: np.ndarray) -> tuple[float, list, np.ndarray]:
    """Every photo's tags in numpy, the same rule (softmax at scale 100, probability 0.1,
    at most 6): (seconds, [(photo, label, probability, similarity)], log partitions)."""
    started = time.perf_counter()
    rows, partitions = [], []
    for chunk in range(0, len(embeddings), 10_000):
        similarity = embeddings[chunk : chunk + 10_000] @ labels.T
        logits = 100.0 * similarity.astype(np.float64)
        top = logits.max(axis=1, keepdims=True)
        log_partition = top[:, 0] + np.log(np.exp(logits - top).sum(axis=1))
        p = np.exp(logits - log_partition[:, None])
        best = np.argsort(-p, axis=1)[:, :6]
        for i, js in enumerate(best):
            rows += [(chunk + i, j, p[i, j], similarity[i, j]) for j in js if p[i, j] >= 0.1]
        partitions.append(log_partition)
    return time.perf_counter() - started, rows, np.concatenate(partitions)


def store_tags(conn, names: list[str], rows: list, partitions: np.ndarray) -> None:
    """The library as the tags task leaves it: asset_tag and tag_basis for every photo."""
    found = conn.execute("SELECT split_part(original_path, '/', 3)::int, id FROM photo_ai.asset")
    ids = dict(found.fetchall())
    with conn.cursor() as cur:
        with cur.copy("COPY photo_ai.asset_tag (asset_id, label, probability, similarity) "
                      "FROM STDIN") as copy:  # fmt: skip
            for n, j, p, sim in rows:
                copy.write_row((ids[n], names[j], float(p), float(sim)))
        with cur.copy(
            "COPY photo_ai.tag_basis (asset_id, model, log_partition) FROM STDIN"
        ) as copy:
            for n, lp in enumerate(partitions):
                copy.write_row((ids[n], MODEL, float(lp)))
    conn.execute("VACUUM ANALYZE photo_ai.asset_tag, photo_ai.tag_basis")


def per_photo_ms(conn, sql: str) -> float:
    ids = [
        r[0]
        for r in conn.execute("SELECT asset_id FROM photo_ai.clip_embedding LIMIT %s", [SAMPLE])
    ]
    started = time.perf_counter()
    with conn.transaction():
        for asset in ids:
            conn.execute(sql, [asset])
    return 1000 * (time.perf_counter() - started) / len(ids)


def tag_library(conn, photos: int) -> tuple[float, float, float]:
    """Queues the library's tags; runs the worker on them for a while: (seconds to queue,
    photos a second, seconds the whole library would take)."""
    started = time.perf_counter()
    conn.execute("SELECT photo_ai.tag_library_again()")
    queued = time.perf_counter() - started
    started = time.perf_counter()
    conn.execute(
        "CALL photo_ai.run_worker(max_seconds => %s, batch_size => 64, until_idle => true)",
        [WORKER_SECONDS],
    )
    seconds = time.perf_counter() - started
    done = conn.execute(
        "SELECT count(*) FROM photo_ai.job WHERE task = 'tags' AND state = 'done'"
    ).fetchone()[0]
    conn.execute(
        "UPDATE photo_ai.job SET state = 'done' WHERE task = 'tags'"
    )  # the rest: same work
    rate = done / seconds
    return queued, rate, queued + photos / rate


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="10,000 photos")
    photos = 10_000 if parser.parse_args().quick else 100_000
    rng = np.random.default_rng(13)
    conn = local.fresh_database(DATABASE)
    conn.execute(
        "SELECT photo_ai.configure(tasks => '{clip}', sidecar_url => 'http://127.0.0.1:9')"
    )
    names, labels, embeddings = library(conn, photos, rng)
    print(f"{photos} photos x {len(labels)} labels (load average {os.getloadavg()[0]:.1f})")
    baseline, rows, partitions = numpy_tags(labels, embeddings)
    store_tags(conn, names, rows, partitions)

    compute = per_photo_ms(conn, "SELECT photo_ai.tags_of(%s)")
    store = per_photo_ms(
        conn, "SELECT photo_ai.write_tags(a, photo_ai.tags_of(a)) FROM (SELECT %s::uuid a) x"
    )
    print(
        f"numpy, the whole library:        {baseline:8.2f} s "
        f"({1e6 * baseline / photos:.0f} us a photo)"
    )
    print(
        f"tags_of, a photo:                {compute:8.2f} ms "
        f"({compute * photos / 1000 / baseline:.0f}x numpy)"
    )
    print(f"tags_of + write_tags, a photo:   {store:8.2f} ms")  # fmt: skip

    queued, rate, library_s = tag_library(conn, photos)
    print(f"the library through the worker:  {library_s / 60:8.2f} min ({rate:.0f} photos/s, "
          f"queued in {queued:.1f} s; {library_s / baseline:.0f}x numpy)")  # fmt: skip

    with StandinSidecar(tags_answer({})) as standin:
        conn.execute("SELECT photo_ai.configure(sidecar_url => %s)", [standin.url])
        started = time.perf_counter()
        conn.execute("SELECT photo_ai.add_label('柯基', 'corgi')")
        conn.execute("SELECT photo_ai.prepare_tasks()")  # what the worker does before it claims
        added = time.perf_counter() - started
    assert (
        conn.execute("SELECT count(*) FROM photo_ai.job WHERE state = 'queued'").fetchone()[0] == 0
    )
    print(f"add_label, applied to the library: {added:6.2f} s (embedded and applied in place; "
          f"{library_s / added:.0f}x faster than tagging the library again)")  # fmt: skip


if __name__ == "__main__":
    main()
