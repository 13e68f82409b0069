"""What Immich v2's server does, reproduced for the tests: its SQL (the statements its
repositories generate, as in immich-app/immich server/src/queries/*.sql), its search
tokenizer and its requests to the machine-learning service. Nothing here is photo_ai's: the
tests use it to act as Immich and to read photo_ai's results the way Immich reads them."""

from __future__ import annotations

import hashlib
import json
import uuid
from datetime import UTC, datetime
from pathlib import Path

import psycopg

# ---------------------------------------------------------------------------------------------
# server/src/utils/database.ts: tokenizeForSearch, a line-for-line port (UTF-16 code units in
# JS; the ranges are all in the Basic Multilingual Plane, so code points behave the same).


def _is_cjk(c: int) -> bool:
    return (
        0x4E00 <= c <= 0x9FFF
        or 0xAC00 <= c <= 0xD7AF
        or 0x3040 <= c <= 0x309F
        or 0x30A0 <= c <= 0x30FF
        or 0x3400 <= c <= 0x4DBF
    )


def tokenize_for_search(text: str) -> list[str]:
    tokens: list[str] = []
    i = 0
    while i < len(text):
        c = ord(text[i])
        if c <= 32:
            i += 1
            continue
        start = i
        if _is_cjk(c):
            while i < len(text) and _is_cjk(ord(text[i])):
                i += 1
            if i - start == 1:
                tokens.append(text[start])
            else:
                tokens.extend(text[k] + text[k + 1] for k in range(start, i - 1))
        else:
            while i < len(text) and ord(text[i]) > 32 and not _is_cjk(ord(text[i])):
                i += 1
            tokens.append(text[start:i])
    return tokens


# ---------------------------------------------------------------------------------------------
# Uploads: AssetMediaService.create -> AssetRepository.create, upsertExif; then the metadata
# job (upsertJobStatus metadataExtractedAt) and the thumbnail job (upsertFiles, previewAt).

CREATE_USER = """
insert into "user" ("email", "name", "isAdmin") values (%s, %s, true) returning "id"
"""

CREATE_ASSET = """
insert into "asset" ("ownerId", "libraryId", "checksum", "originalPath", "deviceAssetId",
                     "deviceId", "fileCreatedAt", "fileModifiedAt", "localDateTime", "type",
                     "isFavorite", "duration", "visibility", "livePhotoVideoId",
                     "originalFileName")
values (%(owner)s, null, %(checksum)s, %(path)s, %(device_asset_id)s, 'WEB', %(created)s,
        %(created)s, %(created)s, %(type)s, false, null, 'timeline', null, %(file_name)s)
returning *
"""

UPSERT_EXIF = """
insert into "asset_exif" ("assetId", "fileSizeInByte") values (%s, %s)
on conflict ("assetId") do update set "fileSizeInByte" = "excluded"."fileSizeInByte"
"""

METADATA_EXTRACTED = """
update "asset_exif" set "exifImageWidth" = %(width)s, "exifImageHeight" = %(height)s
where "assetId" = %(id)s;
"""

UPSERT_JOB_STATUS = """
insert into "asset_job_status" ("assetId", "{column}") values (%s, now())
on conflict ("assetId") do update set "{column}" = "excluded"."{column}"
"""

UPSERT_FILES = """
insert into "asset_file" ("assetId", "path", "type") values (%s, %s, %s)
on conflict ("assetId", "type") do update set "path" = "excluded"."path"
"""

# ---------------------------------------------------------------------------------------------
# Search: SearchRepository.searchSmart and searchMetadata with an OCR filter, as generated
# (searchAssetBuilder: visibility timeline, the user's assets, not trashed). Immich runs the
# smart search after "SET LOCAL vchordrq.probes", a VectorChord setting this machine lacks.


def _timeline_search(table: str, order_by: str, *conditions: str) -> str:
    """searchAssetBuilder's statement over one search table and the users' timeline."""
    where = "".join(f"  and {condition}\n" for condition in conditions)
    return f"""
select "asset".*
from "asset"
  inner join "{table}" on "asset"."id" = "{table}"."assetId"
where "asset"."visibility" = 'timeline'
  and "asset"."ownerId" = any (%(user_ids)s::uuid[])
{where}  and "asset"."deletedAt" is null
order by {order_by}
limit %(size)s offset 0
"""


SEARCH_SMART = _timeline_search("smart_search", "smart_search.embedding <=> %(embedding)s")
SEARCH_OCR = _timeline_search(
    "ocr_search",
    '"asset"."fileCreatedAt" desc',
    "f_unaccent(ocr_search.text) %%>> f_unaccent(%(tokens)s)",
)


def search_smart(conn: psycopg.Connection, user_id, embedding: str, size: int = 100) -> list[str]:
    rows = conn.execute(
        SEARCH_SMART, {"user_ids": [user_id], "embedding": embedding, "size": size}
    ).fetchall()
    return [str(r[0]) for r in rows]


def search_ocr(conn: psycopg.Connection, user_id, query: str, size: int = 100) -> list[str]:
    tokens = " ".join(tokenize_for_search(query))
    rows = conn.execute(
        SEARCH_OCR, {"user_ids": [user_id], "tokens": tokens, "size": size}
    ).fetchall()
    return [str(r[0]) for r in rows]


# ---------------------------------------------------------------------------------------------
# The database side of an Immich library


class ImmichServer:
    """Acts as Immich's server on one database: creates users, uploads assets, makes their
    previews, all with Immich's own statements."""

    def __init__(self, conn: psycopg.Connection, data_root: Path):
        self.conn = conn
        self.data_root = data_root

    def create_user(self, email: str = "admin@example.com", name: str = "Admin") -> uuid.UUID:
        return self.conn.execute(CREATE_USER, [email, name]).fetchone()[0]

    def upload(self, owner, original: Path, *, asset_type: str = "IMAGE") -> dict:
        """An upload: the asset row, then its EXIF row (file size)."""
        data = original.read_bytes()
        with self.conn.transaction():
            cursor = self.conn.cursor(row_factory=psycopg.rows.dict_row)
            asset = cursor.execute(
                CREATE_ASSET,
                {
                    "owner": owner,
                    "checksum": hashlib.sha1(data).digest(),
                    "path": str(original),
                    "device_asset_id": f"web-{original.name}-{uuid.uuid4().hex[:8]}",
                    "created": datetime(2024, 5, 1, 12, 0, tzinfo=UTC),
                    "type": asset_type,
                    "file_name": original.name,
                },
            ).fetchone()
            self.conn.execute(UPSERT_EXIF, [asset["id"], len(data)])
        return asset

    def extract_metadata(self, asset: dict, width: int, height: int) -> None:
        self.conn.execute(METADATA_EXTRACTED, {"id": asset["id"], "width": width, "height": height})
        self.job_status(asset, "metadataExtractedAt")

    def make_preview(self, asset: dict, preview: Path) -> None:
        """The thumbnail job: preview and thumbnail files, then previewAt/thumbnailAt."""
        self.conn.execute(UPSERT_FILES, [asset["id"], str(preview), "preview"])
        self.conn.execute(UPSERT_FILES, [asset["id"], str(preview), "thumbnail"])
        self.job_status(asset, "previewAt")
        self.job_status(asset, "thumbnailAt")

    def job_status(self, asset: dict, column: str) -> None:
        self.conn.execute(UPSERT_JOB_STATUS.format(column=column), [asset["id"]])


# ---------------------------------------------------------------------------------------------
# The machine-learning service: MachineLearningRepository (machine-learning.repository.ts).
# predict() posts a FormData: "entries" (JSON.stringify of the request), then "image" (a Blob
# of the file, which fetch sends with the file name "blob" and application/octet-stream) or
# "text". No API key. The server reads only the fields below.

CLIP_MODEL = "ViT-B-32__openai"  # Immich's default
FACE_MODEL = "buffalo_l"
OCR_MODEL = "PP-OCRv5_mobile"


def clip_visual_request() -> dict:
    return {"clip": {"visual": {"modelName": CLIP_MODEL}}}


def clip_textual_request(language: str | None = None) -> dict:
    options = {} if language is None else {"language": language}  # undefined is dropped
    return {"clip": {"textual": {"modelName": CLIP_MODEL, "options": options}}}


def face_request(min_score: float = 0.7) -> dict:
    return {
        "facial-recognition": {
            "detection": {"modelName": FACE_MODEL, "options": {"minScore": min_score}},
            "recognition": {"modelName": FACE_MODEL},
        }
    }


def ocr_request(min_detection=0.5, min_recognition=0.8, max_resolution=736) -> dict:
    return {
        "ocr": {
            "detection": {
                "modelName": OCR_MODEL,
                "options": {"minScore": min_detection, "maxResolution": max_resolution},
            },
            "recognition": {"modelName": OCR_MODEL, "options": {"minScore": min_recognition}},
        }
    }


def predict_form(entries: dict, image: bytes | None = None, text: str | None = None):
    """The multipart body fields as Immich's FormData has them, in its order."""
    fields = {"entries": (None, json.dumps(entries, separators=(",", ":")))}
    if image is not None:
        fields["image"] = ("blob", image, "application/octet-stream")
    else:
        fields["text"] = (None, text)
    return fields
