"""How well and how fast photo_ai groups faces into persons.

Quality: synthetic ArcFace-like identities (tests/support/identities.py: hard faces,
siblings, children who grow up, strangers seen once), scored by BCubed precision, recall
and F1 per face, side by side in one run for
  - photo_ai: each photo's faces stored by the worker's own store (write_faces) and grouped
    by the people task's store as they arrive, then one photo_ai.recognize_faces();
  - photo_ai, recognize_faces() also called every 200 faces while photos still arrive;
  - Immich's rule (max distance 0.5, min faces 3), re-implemented from its description;
  - scikit-learn's HDBSCAN (LibrePhotos' choice), min_cluster_size 3.
Cost: one new face grouped (the people task of a photo with one face) at 10k and 100k
faces already grouped, beside the one HNSW search of its 16 nearest faces it starts with;
and a whole recognize_faces() over 10k ungrouped faces.

    .venv/bin/python bench/people.py            # quality on seeds 1-3, cost at 10k and 100k
    .venv/bin/python bench/people.py --quick    # quality on seed 1, cost at 10k
"""

from __future__ import annotations

import argparse
import io
import json
import statistics
import struct
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from photo_ai_cli import local  # noqa: E402
from tests.support.identities import Library, bcubed, immich_rule, library  # noqa: E402
from tests.support.people import face_answer  # noqa: E402

DATABASE = "photo_ai_bench_people"
RECOGNIZE_EVERY = 200


def fresh_database() -> psycopg.Connection:
    conn = local.fresh_database(DATABASE)
    conn.execute("SELECT photo_ai.configure(tasks => '{}')")  # nothing for a sidecar
    return conn


def faces_result(face) -> str:
    """The faces task's result for a photo with one face, as the sidecar answers it."""
    return json.dumps(face_answer([face]))


def add_photo(conn: psycopg.Connection, face) -> str:
    asset = conn.execute(
        "INSERT INTO photo_ai.asset (original_path, taken_at) "
        "VALUES (gen_random_uuid()::text, '2000-01-01'::timestamptz + make_interval(days => %s)) "
        "RETURNING id",
        [int(face.year * 365)],
    ).fetchone()[0]
    conn.execute("SELECT photo_ai.write_faces(%s, %s)", [asset, faces_result(face)])
    return asset


def group_photo(conn: psycopg.Connection, asset: str) -> None:
    """The people task of one photo, as the worker runs it (compute, then store)."""
    conn.execute(
        "SELECT photo_ai.group_faces(%(a)s, photo_ai.ungrouped_faces(%(a)s))", {"a": asset}
    )


def photo_ai_grouping(lib: Library, recognize_every: int | None = None) -> np.ndarray:
    conn = fresh_database()
    assets = []
    for n, face in enumerate(lib.faces, 1):
        assets.append(add_photo(conn, face))
        group_photo(conn, assets[-1])
        if recognize_every and n % recognize_every == 0:
            conn.execute("SELECT photo_ai.recognize_faces()")
    conn.execute("SELECT photo_ai.recognize_faces()")
    persons = dict(
        conn.execute("SELECT f.asset_id::text, f.person_id::text FROM photo_ai.face f").fetchall()
    )
    conn.close()
    ids: dict[str | None, int] = {}
    return np.array(
        [ids.setdefault(persons[str(a)], len(ids)) if persons[str(a)] else -1 for a in assets]
    )


def hdbscan_grouping(lib: Library) -> np.ndarray:
    from sklearn.cluster import HDBSCAN

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        return HDBSCAN(min_cluster_size=3).fit_predict(lib.embeddings)


def quality(seeds: list[int]) -> None:
    methods = {
        "photo_ai": lambda lib: photo_ai_grouping(lib),
        f"photo_ai, recognize every {RECOGNIZE_EVERY}": lambda lib: photo_ai_grouping(
            lib, RECOGNIZE_EVERY
        ),
        "Immich's rule (0.5, 3)": lambda lib: immich_rule(lib.embeddings),
        "HDBSCAN (min_cluster_size 3)": hdbscan_grouping,
    }
    print("grouping quality, BCubed per face (a face with no person is a group of its own)")
    print(f"{'method':36} " + "   ".join(f"seed {s}: P     R     F1 " for s in seeds))
    scores = {name: [] for name in methods}
    libraries = {seed: library(seed=seed) for seed in seeds}
    for name, method in methods.items():
        for seed in seeds:
            lib = libraries[seed]
            scores[name].append(bcubed(lib.labels, method(lib)))
        cells = "   ".join(f"      {p:.3f} {r:.3f} {f:.3f}" for p, r, f in scores[name])
        print(f"{name:36} {cells}", flush=True)
    for seed, lib in libraries.items():
        print(f"  seed {seed}: {len(lib.faces)} faces of {len(set(lib.labels))} identities")


# --------------------------------------------------------------------------- cost


def copy_vectors(conn: psycopg.Connection, embeddings: np.ndarray) -> None:
    """Loads embeddings into bench_face (n, embedding) with a binary COPY (pgvector's
    binary format: dimensions, 0, then big-endian float4s)."""
    conn.execute("CREATE TEMP TABLE bench_face (n int, embedding public.vector(512))")
    buffer = io.BytesIO()
    buffer.write(b"PGCOPY\n\xff\r\n\x00" + struct.pack("!ii", 0, 0))
    dims = embeddings.shape[1]
    body = embeddings.astype(">f4")
    for n, row in enumerate(body):
        buffer.write(struct.pack("!hiiiHH", 2, 4, n, 4 + 4 * dims, dims, 0))
        buffer.write(row.tobytes())
    buffer.write(struct.pack("!h", -1))
    with conn.cursor() as cur, cur.copy("COPY bench_face FROM STDIN (FORMAT binary)") as copy:
        copy.write(buffer.getvalue())


def grouped_library(conn: psycopg.Connection, lib: Library) -> None:
    """Every face of lib stored and grouped as its identity (strangers left alone), in bulk."""
    copy_vectors(conn, lib.embeddings)
    conn.execute("CREATE TEMP TABLE bench_label (n int, identity int)")
    with conn.cursor() as cur, cur.copy("COPY bench_label FROM STDIN") as copy:
        for n, label in enumerate(lib.labels):
            copy.write_row((n, int(label)))
    conn.execute("""
        SET session_replication_role = replica;  -- no queueing, no per-row bookkeeping
        DROP INDEX photo_ai.face_embedding_hnsw_idx;  -- built once at the end, as CREATE would
        CREATE TEMP TABLE bench_person AS
            SELECT identity, gen_random_uuid() AS id
            FROM bench_label GROUP BY identity HAVING count(*) > 1;
        INSERT INTO photo_ai.asset (id, original_path)
            SELECT md5(n::text)::uuid, n::text FROM bench_label;
        INSERT INTO photo_ai.face_scan (asset_id, model, face_count)
            SELECT md5(n::text)::uuid, 'bench', 1 FROM bench_label;
        INSERT INTO photo_ai.person (id, face_count, embedding_sum)
            SELECT p.id, count(*), sum(f.embedding)
            FROM bench_face f JOIN bench_label l USING (n) JOIN bench_person p USING (identity)
            GROUP BY p.id;
        INSERT INTO photo_ai.face (id, asset_id, box, score, landmarks, person_id)
            OVERRIDING SYSTEM VALUE
            SELECT f.n + 1, md5(f.n::text)::uuid, '{10,10,60,60}', 0.9, '{}', p.id
            FROM bench_face f JOIN bench_label l USING (n)
            LEFT JOIN bench_person p USING (identity);
        SELECT setval(pg_get_serial_sequence('photo_ai.face', 'id'), max(id)) FROM photo_ai.face;
        INSERT INTO photo_ai.face_embedding (face_id, embedding)
            SELECT f.n + 1, f.embedding FROM bench_face f;
        SET session_replication_role = origin;
        SET maintenance_work_mem = '1GB';
        CREATE INDEX face_embedding_hnsw_idx ON photo_ai.face_embedding
            USING hnsw (embedding public.vector_cosine_ops);
        ANALYZE photo_ai.face; ANALYZE photo_ai.face_embedding; ANALYZE photo_ai.person;
        ANALYZE photo_ai.asset;
    """)


def scaled_library(faces: int, seed: int) -> Library:
    """About `faces` faces (the first of a larger library), with the quality bench's mix of
    siblings, children and strangers."""
    identities = faces // 12
    lib = library(
        seed=seed,
        identities=identities,
        sibling_pairs=identities // 20,
        children=identities // 50,
        strangers=faces // 20,
    )
    return Library(lib.faces[:faces])


def assignment_cost(size: int, new_faces: int = 200) -> tuple[float, float]:
    """Median ms to group one new face, and to search its 16 nearest faces, at `size`."""
    lib = scaled_library(size + new_faces, seed=size)
    old, new = Library(lib.faces[new_faces:]), lib.faces[:new_faces]
    conn = fresh_database()
    started = time.perf_counter()
    grouped_library(conn, old)
    print(
        f"  {len(old.faces):,} faces loaded and indexed in {time.perf_counter() - started:.0f} s",
        flush=True,
    )
    group_ms, search_ms = [], []
    for face in new:
        asset = add_photo(conn, face)
        face_id = conn.execute(
            "SELECT id FROM photo_ai.face WHERE asset_id = %s", [asset]
        ).fetchone()[0]
        start = time.perf_counter()
        conn.execute(
            "SELECT count(*) FROM photo_ai.face_embedding e, "
            "photo_ai.nearest_faces(e.embedding, NULL, e.face_id, 16) WHERE e.face_id = %s",
            [face_id],
        )
        search_ms.append(1000 * (time.perf_counter() - start))
        start = time.perf_counter()
        group_photo(conn, asset)
        group_ms.append(1000 * (time.perf_counter() - start))
    conn.close()
    return statistics.median(group_ms), statistics.median(search_ms)


def full_pass_cost(size: int) -> tuple[float, dict]:
    """Seconds for one recognize_faces() over `size` ungrouped faces."""
    lib = scaled_library(size, seed=size + 1)
    conn = fresh_database()
    grouped_library(conn, lib)
    conn.execute("UPDATE photo_ai.face SET person_id = NULL")
    conn.execute("DELETE FROM photo_ai.person")
    start = time.perf_counter()
    summary = conn.execute("SELECT photo_ai.recognize_faces()").fetchone()[0]
    seconds = time.perf_counter() - start
    conn.close()
    return seconds, summary


def cost(sizes: list[int]) -> None:
    print("\ncost of grouping (median of 200 new faces, each a photo's people task)")
    rows = []
    for size in sizes:
        group_ms, search_ms = assignment_cost(size)
        rows.append((size, group_ms, search_ms))
    print(f"{'faces':>10}  {'one face grouped':>17}  {'its 16 nearest faces':>21}  ratio")
    for size, group_ms, search_ms in rows:
        ratio = group_ms / search_ms
        print(f"{size:>10,}  {group_ms:>14.2f} ms  {search_ms:>18.2f} ms  {ratio:5.2f}x")
    seconds, summary = full_pass_cost(sizes[0])
    print(
        f"recognize_faces() over {sizes[0]:,} ungrouped faces: {seconds:.1f} s "
        f"({1000 * seconds / sizes[0]:.2f} ms a face): {summary}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="seed 1 only, cost at 10k only")
    args = parser.parse_args()
    quality([1] if args.quick else [1, 2, 3])
    cost([10_000] if args.quick else [10_000, 100_000])


if __name__ == "__main__":
    main()
