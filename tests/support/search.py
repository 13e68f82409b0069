"""Search with known inputs: photos whose OCR lines and CLIP embeddings are written
directly (tiny CLIP weights are random), so that ranking and fusion can be asserted."""

from __future__ import annotations

import numpy as np
import psycopg
import pytest

MODEL = "ViT-B-16"
DIM = 512
NOWHERE = "http://127.0.0.1:9"  # nothing listens on the discard port


@pytest.fixture
def search_db(conn: psycopg.Connection) -> psycopg.Connection:
    """A photo_ai database whose sidecar cannot be reached: the semantic arm works only
    from embeddings a test puts in the query cache."""
    conn.execute("SELECT photo_ai.configure(sidecar_url => %s)", [NOWHERE])
    return conn


def line(text: str, height: float = 40, y: float = 0, score: float = 0.98) -> dict:
    """An OCR line as the sidecar returns it, a box `height` pixels high."""
    width = 30 * len(text)
    box = [[10, y], [10 + width, y], [10 + width, y + height], [10, y + height]]
    return {"text": text, "score": score, "box": box}


def add_photo(
    conn: psycopg.Connection,
    *lines: dict | str,
    owner: str | None = None,
    taken_at: str | None = None,
    embedding: np.ndarray | None = None,
) -> str:
    """A photo with OCR lines (plain strings get the same height) and optionally an
    embedding; returns its asset id."""
    asset = conn.execute(
        "INSERT INTO photo_ai.asset (original_path, owner_id, taken_at) VALUES (%s, %s, %s) "
        "RETURNING id",
        ["/photos/test.jpg", owner, taken_at],
    ).fetchone()[0]
    ocr_lines = [line(x, y=60 * i) if isinstance(x, str) else x for i, x in enumerate(lines)]
    if ocr_lines:
        result = {"model": "test", "text": "\n".join(x["text"] for x in ocr_lines)}
        conn.execute(
            "SELECT photo_ai.write_ocr(%s, %s)",
            [asset, psycopg.types.json.Jsonb(result | {"lines": ocr_lines})],
        )
    if embedding is not None:
        conn.execute(
            "INSERT INTO photo_ai.clip_embedding (asset_id, model, embedding) "
            "VALUES (%s, %s, %s::vector)",
            [asset, MODEL, vector_text(embedding)],
        )
    return str(asset)


def unit(*weights: tuple[int, float]) -> np.ndarray:
    """A unit vector with the given (axis, weight) components."""
    v = np.zeros(DIM)
    for axis, weight in weights:
        v[axis] = weight
    return v / np.linalg.norm(v)


def vector_text(v: np.ndarray) -> str:
    return "[" + ",".join(f"{x:.6f}" for x in v) + "]"


def cache_query(conn: psycopg.Connection, query: str, embedding: np.ndarray) -> None:
    """Puts a query's embedding in the cache, as if the sidecar had computed it."""
    conn.execute(
        "INSERT INTO photo_ai.query_embedding (model, query, embedding) VALUES (%s, %s, %s)",
        [MODEL, query, vector_text(embedding)],
    )


def search(conn: psycopg.Connection, query: str, **arguments) -> list[dict]:
    names = "".join(f", {name} => %({name})s" for name in arguments)
    cursor = conn.cursor(row_factory=psycopg.rows.dict_row)
    return cursor.execute(
        f"SELECT * FROM hybrid_search(%(query)s{names})", {"query": query, **arguments}
    ).fetchall()


def ids(rows: list[dict]) -> list[str]:
    return [str(r["asset_id"]) for r in rows]
