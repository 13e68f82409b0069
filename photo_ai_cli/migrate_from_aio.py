"""`photo-ai migrate-from-aio`: the database part of moving from immich-all-in-one (a fork of
Immich v1.134) to upstream Immich with photo_ai. docs/from-immich-all-in-one.md is the guide.

What the fork left in Immich's database, and what becomes of it:

- its migration row `1746367790313-CreateOCRInfo` in `kysely_migrations`: deleted, or
  upstream Immich refuses to start (Kysely stops on an executed migration it does not know);
- `ALTER DATABASE ... SET default_text_search_config = 'chinese'`: reset;
- its OCR, `ocr_info("assetId", text, "ocrJson")`: turned into Immich's own `asset_ocr` and
  `ocr_search` rows as Immich's OCR job writes them, for the photos Immich has no OCR lines
  for, then the table is dropped. Immich's tables exist only once upstream Immich has run its
  migrations, so a first run before that does the first two steps and keeps `ocr_info`, and
  a run after it converts.

`ocrJson` is what the fork's gateway made of mt-photos-ai's answer: {"texts": [...],
"scores": ["0.98", ...], "boxes": [{"x1", "y1", "x2", "y2"}]} in pixels of the preview the
fork read, where x2/y2 hold mt-photos-ai's width and height, not the far corner. A box
becomes Immich's four corners (top-left, top-right, bottom-right, bottom-left) as fractions
of that preview. Its size is not stored: it is Immich's preview of the photo, whose shorter
side is the preview size (Immich's setting image.preview.size, 1440 unless changed) and
never larger than the original's. A photo whose size Immich does not know keeps no lines and
is left to Immich's OCR job. mt-photos-ai gives one score a line: it is both the box score
and the text score. Every line the fork kept is kept, whatever Immich's score thresholds.

One transaction, changing nothing unless --apply is given; running it again changes nothing.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass

import psycopg
from psycopg import sql

from photo_ai_cli import db

FORK_MIGRATION = "1746367790313-CreateOCRInfo"
IMMICH_PREVIEW_SIZE = 1440  # Immich's default image.preview.size


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--apply",
        action="store_true",
        help="make the changes (without it: a dry run, showing what would change)",
    )
    parser.add_argument(
        "--preview-size",
        type=int,
        help="the shorter side of the previews the fork read (default: Immich's setting "
        f"image.preview.size, else {IMMICH_PREVIEW_SIZE})",
    )


@dataclass
class Outcome:
    """What a run did (or, in a dry run, would do)."""

    migration_row_deleted: bool = False
    text_search_default: str | None = None  # the database's setting that was reset
    fork_photos: int = 0  # rows of ocr_info
    converted_photos: int = 0
    converted_lines: int = 0
    photos_with_immich_ocr: int = 0  # left as Immich wrote them
    photos_without_size: int = 0  # left for Immich's OCR job
    ocr_info_dropped: bool = False
    waits_for_immich: bool = False  # Immich's OCR tables are not there yet

    def lines(self) -> list[str]:
        said = [
            f"fork's migration row {FORK_MIGRATION}: "
            + ("deleted" if self.migration_row_deleted else "not there"),
            "database default text search configuration: "
            + (f"{self.text_search_default} reset" if self.text_search_default else "not set"),
        ]
        if self.waits_for_immich:
            said.append(
                f"ocr_info ({self.fork_photos} photos) kept: start upstream Immich, let it "
                "finish its migrations, then run this again to convert it"
            )
        elif self.ocr_info_dropped:
            said += [
                f"ocr_info: {self.fork_photos} photos; {self.converted_photos} converted "
                f"({self.converted_lines} lines) into asset_ocr and ocr_search",
                f"  {self.photos_with_immich_ocr} already had Immich's OCR: kept as it is",
                f"  {self.photos_without_size} without a known image size: "
                "left for Immich's OCR job",
                "ocr_info: dropped",
            ]
        else:
            said.append("ocr_info: not there (nothing to convert)")
        return said


def run(args: argparse.Namespace) -> int:
    try:
        with db.connect() as conn:
            outcome = migrate(conn, apply=args.apply, preview_size=args.preview_size)
    except (psycopg.Error, NotReady) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    heading = "changed" if args.apply else "dry run, nothing changed (--apply makes it so)"
    print(f"immich-all-in-one -> Immich ({heading}):")
    for line in outcome.lines():
        print(f"  {line}")
    return 0


class NotReady(RuntimeError):
    pass


def migrate(
    conn: psycopg.Connection, apply: bool = False, preview_size: int | None = None
) -> Outcome:
    """Every step in one transaction, rolled back unless `apply`."""
    with conn.transaction():
        outcome = Outcome(
            migration_row_deleted=_delete_migration_row(conn),
            text_search_default=_reset_text_search_default(conn),
        )
        if _exists(conn, "public.ocr_info"):
            _convert_ocr_info(conn, outcome, preview_size)
        if not apply:
            raise psycopg.Rollback()
    return outcome


def _exists(conn: psycopg.Connection, table: str) -> bool:
    return conn.execute("SELECT to_regclass(%s) IS NOT NULL", [table]).fetchone()[0]


def _exists_function(conn: psycopg.Connection, signature: str) -> bool:
    return conn.execute("SELECT to_regprocedure(%s) IS NOT NULL", [signature]).fetchone()[0]


def _delete_migration_row(conn: psycopg.Connection) -> bool:
    if not _exists(conn, "public.kysely_migrations"):
        return False
    deleted = conn.execute(
        "DELETE FROM public.kysely_migrations WHERE name = %s", [FORK_MIGRATION]
    ).rowcount
    return deleted > 0


def _reset_text_search_default(conn: psycopg.Connection) -> str | None:
    """Resets the database's own default_text_search_config; the value it had, if any."""
    value = conn.execute(
        "SELECT split_part(s.setting, '=', 2) FROM pg_db_role_setting r "
        "CROSS JOIN unnest(r.setconfig) s(setting) "
        "WHERE r.setrole = 0 AND starts_with(s.setting, 'default_text_search_config=') "
        "AND r.setdatabase = (SELECT oid FROM pg_database WHERE datname = current_database())"
    ).fetchone()
    if value is None:
        return None
    database = conn.info.dbname
    conn.execute(
        sql.SQL("ALTER DATABASE {} RESET default_text_search_config").format(
            sql.Identifier(database)
        )
    )
    return value[0]


def _convert_ocr_info(conn: psycopg.Connection, outcome: Outcome, preview_size: int | None) -> None:
    outcome.fork_photos = conn.execute("SELECT count(*) FROM public.ocr_info").fetchone()[0]
    if not _exists(conn, "public.asset_ocr"):
        outcome.waits_for_immich = True
        return
    if not _exists_function(conn, "photo_ai.immich_search_tokens(text)"):
        raise NotReady(
            f"photo_ai is not installed in the database {conn.info.dbname}: it makes Immich's "
            "search tokens. Enable it (docker exec immich_postgres photo-ai-enable), then run "
            "this again."
        )
    size = preview_size or _immich_preview_size(conn)
    conn.execute(FORK_PHOTOS, {"preview_size": size})
    conn.execute(FORK_LINES)
    outcome.photos_with_immich_ocr = conn.execute(PHOTOS_WITH_IMMICH_OCR).fetchone()[0]
    outcome.photos_without_size = conn.execute(
        "SELECT count(*) FROM pg_temp.fork_photo WHERE NOT sized"
    ).fetchone()[0]
    outcome.converted_lines = conn.execute(INSERT_ASSET_OCR).rowcount
    outcome.converted_photos = conn.execute(INSERT_OCR_SEARCH).rowcount
    conn.execute(MARK_OCR_DONE)
    conn.execute("DROP TABLE public.ocr_info")
    outcome.ocr_info_dropped = True


def _immich_preview_size(conn: psycopg.Connection) -> int:
    row = conn.execute(
        "SELECT (value #>> '{image,preview,size}')::int FROM public.system_metadata "
        "WHERE key = 'system-config'"
    ).fetchone()
    return row[0] if row and row[0] else IMMICH_PREVIEW_SIZE


# The fork's photos that Immich has no OCR lines for, with the size of the preview the fork
# read (width and height as Immich shows the photo: asset.width/height, or EXIF's turned by
# its orientation as Immich's AddAssetWidthHeight migration does); then their lines in
# Immich's shape: corners as fractions of that preview, clamped into the picture.
FORK_PHOTOS = """
CREATE TEMP TABLE fork_photo ON COMMIT DROP AS
SELECT o."assetId" AS asset_id
     , CASE jsonb_typeof(o."ocrJson" -> 'texts') WHEN 'array' THEN o."ocrJson" -> 'texts' END
       AS texts
     , CASE jsonb_typeof(o."ocrJson" -> 'boxes') WHEN 'array' THEN o."ocrJson" -> 'boxes' END
       AS boxes
     , CASE jsonb_typeof(o."ocrJson" -> 'scores') WHEN 'array' THEN o."ocrJson" -> 'scores' END
       AS scores
     , coalesce(shown.width > 0 AND shown.height > 0, false) AS sized
     , round(shown.width * scale.factor) AS width, round(shown.height * scale.factor) AS height
FROM public.ocr_info o
JOIN public.asset a ON a.id = o."assetId"
LEFT JOIN public.asset_exif e ON e."assetId" = o."assetId"
CROSS JOIN LATERAL (
    SELECT coalesce((to_jsonb(a) ->> 'width')::float8,
                    CASE WHEN e.orientation IN ('5', '6', '7', '8', '-90', '90')
                         THEN e."exifImageHeight" ELSE e."exifImageWidth" END) AS width
         , coalesce((to_jsonb(a) ->> 'height')::float8,
                    CASE WHEN e.orientation IN ('5', '6', '7', '8', '-90', '90')
                         THEN e."exifImageWidth" ELSE e."exifImageHeight" END) AS height
) shown
CROSS JOIN LATERAL (
    SELECT least(1.0, %(preview_size)s / nullif(least(shown.width, shown.height), 0)) AS factor
) scale
WHERE NOT EXISTS (SELECT FROM public.asset_ocr i WHERE i."assetId" = o."assetId")
  AND NOT EXISTS (SELECT FROM public.ocr_search i WHERE i."assetId" = o."assetId")
"""

FORK_LINES = """
CREATE TEMP TABLE fork_line ON COMMIT DROP AS
SELECT p.asset_id, n AS line, l.text, l.score
     , greatest(0, least(1, l.x / p.width)) AS left_edge
     , greatest(0, least(1, (l.x + l.box_width) / p.width)) AS right_edge
     , greatest(0, least(1, l.y / p.height)) AS top_edge
     , greatest(0, least(1, (l.y + l.box_height) / p.height)) AS bottom_edge
FROM pg_temp.fork_photo p
CROSS JOIN LATERAL generate_series(0, least(jsonb_array_length(p.texts),
                                            jsonb_array_length(p.boxes)) - 1) n
CROSS JOIN LATERAL (
    -- the gateway's {x1, y1, x2, y2} is mt-photos-ai's {x, y, width, height}
    SELECT p.texts ->> n AS text
         , coalesce((p.scores ->> n)::real, 0) AS score
         , coalesce(b ->> 'x', b ->> 'x1')::float8 AS x
         , coalesce(b ->> 'y', b ->> 'y1')::float8 AS y
         , coalesce(b ->> 'width', b ->> 'x2')::float8 AS box_width
         , coalesce(b ->> 'height', b ->> 'y2')::float8 AS box_height
    FROM (SELECT p.boxes -> n AS b) box
) l
WHERE p.sized AND btrim(l.text) <> ''
"""

PHOTOS_WITH_IMMICH_OCR = """
SELECT count(*) FROM public.ocr_info o
WHERE o."assetId" NOT IN (SELECT asset_id FROM pg_temp.fork_photo)
"""

# As Immich's OCR job writes them (OcrService.handleOcr, OcrRepository.upsert): a row a line,
# and the search text: every line's tokens (tokenizeForSearch), in order, joined by spaces.
INSERT_ASSET_OCR = """
INSERT INTO public.asset_ocr
    ("assetId", x1, y1, x2, y2, x3, y3, x4, y4, "boxScore", "textScore", text)
SELECT asset_id, left_edge, top_edge, right_edge, top_edge, right_edge, bottom_edge
     , left_edge, bottom_edge, score, score, text
FROM pg_temp.fork_line
ORDER BY asset_id, line
"""

INSERT_OCR_SEARCH = """
INSERT INTO public.ocr_search ("assetId", text)
SELECT l.asset_id, string_agg(t.token, ' ' ORDER BY l.line, t.k)
FROM pg_temp.fork_line l
CROSS JOIN LATERAL unnest(photo_ai.immich_search_tokens(l.text)) WITH ORDINALITY t(token, k)
GROUP BY l.asset_id
"""

# Immich's OCR job then sees these photos as read, and does not read them again.
MARK_OCR_DONE = """
INSERT INTO public.asset_job_status ("assetId", "ocrAt")
SELECT DISTINCT asset_id, now() FROM pg_temp.fork_line
ON CONFLICT ("assetId") DO UPDATE
SET "ocrAt" = coalesce(public.asset_job_status."ocrAt", excluded."ocrAt")
"""
