"""Searching from the command line: hybrid_search's results as a readable table, with each
arm's rank (why an asset was found) and the OCR snippet; notices it raises (such as the
semantic arm being off) are shown too."""

from __future__ import annotations

import os
import shutil
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import psycopg

CLIP_FILE_NAMES = {
    "RN50": "clip_cn_rn50.pt",
    "ViT-B-16": "clip_cn_vit-b-16.pt",
    "ViT-L-14": "clip_cn_vit-l-14.pt",
    "ViT-L-14-336": "clip_cn_vit-l-14-336.pt",
    "ViT-H-14": "clip_cn_vit-h-14.pt",
}


@dataclass
class Hit:
    rank: int
    asset_id: str
    path: str
    score: float
    text_rank: int | None
    semantic_rank: int | None
    snippet: str
    taken_at: datetime | None = None
    checksum: str | None = None  # hex, of the file as imported
    semantic_arm: str | None = None  # 'on', 'not asked' or 'off: <why>'


@dataclass
class SearchResult:
    query: str
    hits: list[Hit]
    notices: list[str]
    error: str | None = None


def has_hybrid_search(conn: psycopg.Connection) -> bool:
    return conn.execute(
        "SELECT EXISTS (SELECT FROM pg_proc WHERE proname = 'hybrid_search' "
        "AND pronamespace = 'public'::regnamespace)"
    ).fetchone()[0]


# hybrid_search's hits with each one's photo (path, date taken, checksum), best first; the
# photos are read through photo_ai.asset_cards, so a reader and Immich mode are served alike
SEARCH_SQL = (
    "WITH h AS MATERIALIZED (SELECT * FROM hybrid_search(%s, max_results => %s, "
    "    owner_id => %s, taken_after => %s, taken_before => %s)) "
    "SELECT h.asset_id::text, c.path, h.score, h.text_rank, h.semantic_rank, h.snippet, "
    "       c.taken_at, c.checksum, h.semantic_arm "
    "FROM h LEFT JOIN photo_ai.asset_cards(ARRAY(SELECT asset_id FROM h)) c "
    "     ON c.asset_id = h.asset_id "
    "ORDER BY h.score DESC, h.text_rank, h.semantic_rank, h.asset_id"
)


def search_parameters(
    query: str,
    limit: int,
    owner_id: str | None = None,
    taken_after: datetime | None = None,
    taken_before: datetime | None = None,
) -> list:
    """SEARCH_SQL's parameters."""
    return [query, limit, owner_id, taken_after, taken_before]


def hits_from_rows(rows: list[tuple]) -> list[Hit]:
    return [
        Hit(i + 1, r[0], r[1] or "?", float(r[2]), r[3], r[4], r[5] or "", *r[6:])
        for i, r in enumerate(rows)
    ]


class Notices:
    """Collects the NOTICEs of a connection's statements (a notice handler): hybrid_search
    raises one when its semantic arm is off."""

    def __init__(self) -> None:
        self.messages: list[str] = []

    def __call__(self, diagnostic: psycopg.errors.Diagnostic) -> None:
        if diagnostic.message_primary:
            self.messages.append(diagnostic.message_primary)


def search(
    conn: psycopg.Connection,
    query: str,
    limit: int = 5,
    *,
    owner_id: str | None = None,
    taken_after: datetime | None = None,
    taken_before: datetime | None = None,
) -> SearchResult:
    """hybrid_search with each hit's photo (SEARCH_SQL)."""
    notices = Notices()
    conn.add_notice_handler(notices)
    parameters = search_parameters(query, limit, owner_id, taken_after, taken_before)
    try:
        rows = conn.execute(SEARCH_SQL, parameters).fetchall()
    except psycopg.errors.UndefinedFunction as e:
        # asked only now, so that a search costs one round trip
        if not has_hybrid_search(conn):
            return SearchResult(query, [], [], "hybrid_search() is not installed in this database")
        return SearchResult(query, [], notices.messages, str(e).strip())
    except psycopg.Error as e:
        return SearchResult(query, [], notices.messages, str(e).strip())
    finally:
        conn.remove_notice_handler(notices)
    return SearchResult(query, hits_from_rows(rows), notices.messages)


def _width(text: str) -> int:
    """Terminal columns: CJK characters take two."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def _clip(text: str, columns: int) -> str:
    text = " ".join(text.split())
    if _width(text) <= columns:
        return text
    out, used = [], 0
    for char in text:
        w = _width(char)
        if used + w > columns - 1:
            break
        out.append(char)
        used += w
    return "".join(out) + "…"


def _tail(text: str, columns: int) -> str:
    """The end of text that fits in columns (a path keeps its file name)."""
    out, used = [], 0
    for char in reversed(text):
        used += _width(char)
        if used > columns:
            break
        out.append(char)
    return "".join(reversed(out))


def _pad(text: str, columns: int) -> str:
    return text + " " * max(0, columns - _width(text))


def _why(hit: Hit) -> str:
    """Which arm found it, at which rank: ocr#1, clip#3."""
    parts = []
    if hit.text_rank is not None:
        parts.append(f"ocr#{hit.text_rank}")
    if hit.semantic_rank is not None:
        parts.append(f"clip#{hit.semantic_rank}")
    return " ".join(parts)


def format_result(result: SearchResult, base: Path | None = None) -> str:
    lines = [f"Search {result.query!r}:"]
    lines += [f"  note: {n}" for n in result.notices]
    if result.error:
        lines.append(f"  error: {result.error}")
        return "\n".join(lines)
    if not result.hits:
        lines.append("  (no results)")
        return "\n".join(lines)
    columns = shutil.get_terminal_size((120, 20)).columns
    if base is None:
        base = Path(os.path.commonpath([str(Path(h.path).parent) for h in result.hits]))
        if base != Path("/"):
            lines[0] = f"Search {result.query!r} (in {base}):"
    names = []
    for hit in result.hits:
        path = Path(hit.path)
        if base is not None and path.is_relative_to(base):
            path = path.relative_to(base)
        names.append(str(path))
    name_width = min(max(_width(n) for n in names), 44)
    names = [n if _width(n) <= name_width else "…" + _tail(n, name_width - 1) for n in names]
    whys = [_why(hit) for hit in result.hits]
    why_width = max(len(w) for w in whys)
    for hit, name, why in zip(result.hits, names, whys, strict=True):
        head = (
            f"  {hit.rank:>2}. {_pad(_clip(name, name_width), name_width)}  "
            f"{hit.score:7.4f}  {why:<{why_width}}"
        )
        snippet = _clip(hit.snippet, max(20, columns - _width(head) - 2)) if hit.snippet else ""
        lines.append(f"{head} {snippet}".rstrip())
    return "\n".join(lines)


CLIP_DOWNLOAD = "https://clip-cn-beijing.oss-cn-beijing.aliyuncs.com/checkpoints/"
FACES_DOWNLOAD = "https://github.com/deepinsight/insightface/releases/download/v0.7/buffalo_l.zip"


def clip_model_help(health: dict | None, model_dir: Path, clip_model: str = "ViT-B-16") -> str:
    """How to add the CLIP model: which file, where, which variable."""
    clip = (health or {}).get("models", {}).get("clip", {})
    name = CLIP_FILE_NAMES.get(clip_model, "clip_cn_vit-b-16.pt")
    wanted = Path(clip.get("path") or model_dir / "clip" / name)
    return "\n".join(
        [
            "The semantic arm is off: the sidecar has no Chinese-CLIP checkpoint.",
            f"  sidecar says: {clip.get('missing') or 'CLIP model not available'}",
            f"  To turn it on, put Chinese-CLIP's {clip_model} checkpoint at {wanted}:",
            f"    mkdir -p {wanted.parent}",
            f"    curl -L -o {wanted} \\",
            f"         {CLIP_DOWNLOAD}{name}",
            "  (PHOTO_AI_MODEL_DIR moves the model folder; the file goes in its clip/ folder.)",
            "  Then run `make demo` again: the sidecar finds the file without a restart, the",
            "  waiting clip jobs run, and search by meaning works:",
            "    SELECT * FROM hybrid_search('clip:海边的日落');",
        ]
    )


def face_model_help(health: dict | None, model_dir: Path) -> str:
    faces = (health or {}).get("models", {}).get("faces", {})
    wanted = Path(faces.get("path") or model_dir / "faces" / "buffalo_l")
    return "\n".join(
        [
            "Faces are off: no InsightFace buffalo_l pack (det_10g.onnx, w600k_r50.onnx).",
            f"  curl -L -o /tmp/buffalo_l.zip {FACES_DOWNLOAD}",
            f"  mkdir -p {wanted} && unzip -o /tmp/buffalo_l.zip -d {wanted}",
            "  then run `make demo` again.",
        ]
    )
