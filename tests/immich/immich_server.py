"""What Immich v3.1's server does, reproduced for the tests: its SQL (the statements its
repositories generate, as in immich-app/immich server/src/queries/*.sql, read at the v3.1.0
release commit 8aa95c67470a02a8ddedf03c2e52963af33065ff, mirrored by asah/immich), its
search tokenizer and its requests to the machine-learning service. Nothing here is photo_ai's: the
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
# Users, and the rows every upload gets: its EXIF row (file size), its job status

CREATE_USER = """
insert into "user" ("email", "name", "isAdmin") values (%s, %s, true) returning "id"
"""

UPSERT_EXIF = """
insert into "asset_exif" ("assetId", "fileSizeInByte") values (%s, %s)
on conflict ("assetId") do update set "fileSizeInByte" = "excluded"."fileSizeInByte"
"""

UPSERT_JOB_STATUS = """
insert into "asset_job_status" ("assetId", "{column}") values (%s, now())
on conflict ("assetId") do update set "{column}" = "excluded"."{column}"
"""

# ---------------------------------------------------------------------------------------------
# The database side of an Immich library


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


# ---------------------------------------------------------------------------------------------
# Immich's jobs (tests/immich/immich_v3_schema.sql's tables): uploads, metadata, thumbnails,
# the writers of its own machine-learning jobs, libraries, search. Kysely leaves out the
# columns whose value is undefined; the values below are the ones those jobs pass.

# AssetMediaService.uploadAsset -> AssetRepository.create: no deviceId/deviceAssetId since
# v3.0, checksumAlgorithm 'sha1' (of the file) for uploads, duration `dto.duration || null`.
CREATE_ASSET = """
insert into "asset" ("ownerId", "libraryId", "checksum", "checksumAlgorithm", "originalPath",
                     "fileCreatedAt", "fileModifiedAt", "localDateTime", "type", "isFavorite",
                     "duration", "visibility", "originalFileName")
values (%(owner)s, null, %(checksum)s, 'sha1', %(path)s, %(created)s, %(created)s, %(created)s,
        %(type)s, false, null, 'timeline', %(file_name)s)
returning *
"""

# MetadataService.handleMetadataExtraction: AssetRepository.update (the dimensions it read;
# Immich also sets duration, dates and fileModifiedAt) and upsertExif with
# lockedPropertiesBehavior 'skip' (a property the user locked keeps its value).
METADATA_ASSET = """
update "asset" set "id" = %(id)s, "width" = %(width)s, "height" = %(height)s
where "id" = %(id)s::uuid
"""

METADATA_EXIF = """
insert into "asset_exif" ("assetId", "exifImageWidth", "exifImageHeight")
values (%(id)s, %(width)s, %(height)s)
on conflict ("assetId") do update set
  "exifImageWidth" = case when %(width_name)s = any("asset_exif"."lockedProperties")
                          then "asset_exif"."exifImageWidth"
                          else "excluded"."exifImageWidth" end,
  "exifImageHeight" = case when %(height_name)s = any("asset_exif"."lockedProperties")
                           then "asset_exif"."exifImageHeight"
                           else "excluded"."exifImageHeight" end
"""

# MediaService.handleGenerateThumbnails -> syncFiles -> AssetRepository.upsertFiles (one
# statement for preview and thumbnail; no previewAt/thumbnailAt since v2.6), then
# AssetRepository.update of the thumbhash when it changed.
UPSERT_FILES = """
insert into "asset_file" ("assetId", "type", "path", "isEdited", "isProgressive", "isTransparent")
values {rows}
on conflict ("assetId", "type", "isEdited") do update set
  "path" = "excluded"."path",
  "isProgressive" = "excluded"."isProgressive",
  "isTransparent" = "excluded"."isTransparent"
"""

UPDATE_THUMBHASH = """
update "asset" set "id" = %(id)s, "thumbhash" = %(thumbhash)s where "id" = %(id)s::uuid
"""

# LibraryService: LibraryRepository.create, then handleSyncFiles -> processEntity ->
# AssetRepository.createAll: external files get checksumAlgorithm 'sha1-path', the sha1 of
# "path:" + the path, and their mtime as every date.
CREATE_LIBRARY = """
insert into "library" ("ownerId", "name", "importPaths", "exclusionPatterns")
values (%s, %s, %s, %s) returning *
"""

IMPORT_EXTERNAL_ASSET = """
insert into "asset" ("ownerId", "libraryId", "checksum", "checksumAlgorithm", "originalPath",
                     "fileCreatedAt", "fileModifiedAt", "localDateTime", "type",
                     "originalFileName", "isExternal", "livePhotoVideoId")
values (%(owner)s, %(library)s, %(checksum)s, 'sha1-path', %(path)s, %(mtime)s, %(mtime)s,
        %(mtime)s, %(type)s, %(file_name)s, true, null)
returning *
"""

# LibraryService.handleSyncAssets -> AssetRepository.updateAll. A file that is gone goes
# offline *and into the trash* (deletedAt); one already in the trash only goes offline. When
# it is back: isOffline false and, unless it was trashed before, deletedAt null again. No row
# of smart_search, asset_ocr, ocr_search or asset_face is touched either way; but an asset
# offline for longer than the trash days is deleted (AssetService.handleAssetDeletionCheck
# selects by deletedAt), and its rows go with it by ON DELETE CASCADE.
SET_OFFLINE = """
update "asset" set "isOffline" = true{trash} where "id" = any (%s::uuid[])
"""

# OcrService.handleOcr -> OcrRepository.upsert: one statement deletes the asset's lines (its
# audit trigger records the delete since v3.0), inserts the new ones (fresh ids and updateIds)
# and upserts ocr_search with tokenizeForSearch of every line, space-joined. No line: the
# asset's ocr_search row is deleted instead. Then upsertJobStatus ocrAt.
UPSERT_OCR = """
with "deleted_ocr" as (delete from "asset_ocr" where "assetId" = %s),
  "inserted_ocr" as (
    insert into "asset_ocr" ("assetId", "x1", "y1", "x2", "y2", "x3", "y3", "x4", "y4", "text",
                             "boxScore", "textScore")
    values {rows}
  ),
  "inserted_search" as (
    insert into "ocr_search" ("assetId", "text") values (%s, %s)
    on conflict ("assetId") do update set "text" = "excluded"."text"
  )
select 1 as "dummy"
"""

DELETE_OCR = """
with "deleted_ocr" as (delete from "asset_ocr" where "assetId" = %s),
  "deleted_search" as (delete from "ocr_search" where "assetId" = %s)
select 1 as "dummy"
"""

# SmartInfoService.handleEncodeClip -> SearchRepository.upsert (no job status column).
UPSERT_SMART_SEARCH = """
insert into "smart_search" ("assetId", "embedding") values (%s, %s)
on conflict ("assetId") do update set "embedding" = "excluded"."embedding"
"""

# PersonService.handleDetectFaces -> PersonRepository.refreshFaces: new faces (ids made by the
# server, crypto.randomUUID) and their embeddings in one statement; then facesRecognizedAt.
REFRESH_FACES = """
with "added" as (
    insert into "asset_face" ("id", "assetId", "imageHeight", "imageWidth", "boundingBoxX1",
                              "boundingBoxY1", "boundingBoxX2", "boundingBoxY2")
    values {faces}
  ),
  "added_embeddings" as (insert into "face_search" ("faceId", "embedding") values {embeddings})
select from (select 1) as "dummy"
"""

# PersonService.handleRecognizeFaces: a new person for a core face that matched nobody
# (PersonRepository.create), then PersonRepository.reassignFaces; PersonService.update
# (naming) -> PersonRepository.update.
CREATE_PERSON = """
insert into "person" ("ownerId", "faceAssetId") values (%s, %s) returning *
"""

REASSIGN_FACES = """
update "asset_face" set "personId" = %s where "asset_face"."id" in (%s)
"""

NAME_PERSON = """
update "person" set "id" = %(id)s, "name" = %(name)s where "person"."id" = %(id)s returning *
"""

# Search as the web's search page asks in v3.1 (visibility 'timeline', withExif: true, the
# user's assets): SearchRepository.searchSmart (size 100 by default) and searchMetadata with
# an ocr term (size 250), both through searchAssetBuilderLegacy, each fetching size + 1 rows.
# "set local vchordrq.probes" is a placeholder setting PostgreSQL accepts without VectorChord.
SEARCH_ASSET_COLUMNS = ", ".join(
    f'"asset"."{column}"'
    for column in (
        "id updateId createdAt updatedAt deletedAt status checksum checksumAlgorithm duplicateId "
        "duration fileCreatedAt fileModifiedAt isExternal isFavorite isOffline isEdited "
        "visibility libraryId livePhotoVideoId localDateTime originalFileName originalPath "
        "ownerId stackId thumbhash type width height"
    ).split()
)

SEARCH_SMART = f"""
select to_json("asset_exif") as "exifInfo", {SEARCH_ASSET_COLUMNS}
from "asset"
  inner join "asset_exif" on "asset"."id" = "asset_exif"."assetId"
  inner join "smart_search" on "asset"."id" = "smart_search"."assetId"
where "asset"."visibility" = 'timeline'
  and "asset"."ownerId" = any (%(user_ids)s::uuid[])
  and "asset"."deletedAt" is null
order by smart_search.embedding <=> %(embedding)s, "asset"."id" asc
limit %(limit)s offset 0
"""

SEARCH_OCR = f"""
select to_json("asset_exif") as "exifInfo", {SEARCH_ASSET_COLUMNS}
from "asset"
  inner join "ocr_search" on "asset"."id" = "ocr_search"."assetId"
  inner join "asset_exif" on "asset"."id" = "asset_exif"."assetId"
where "asset"."visibility" = 'timeline'
  and "asset"."ownerId" = any (%(user_ids)s::uuid[])
  and f_unaccent(ocr_search.text) %%>> f_unaccent(%(tokens)s)
  and "asset"."deletedAt" is null
order by "asset"."fileCreatedAt" desc, "asset"."id" desc
limit %(limit)s offset 0
"""


def ocr_line(text: str, top: float, height: float, left: float = 0.05, score: float = 0.95):
    """One line as Immich's OCR job stores it, for ImmichServer.write_ocr: a level box
    `height` high from `top` (fractions of the image), as wide as its characters at roughly
    square letters on a 4:3 picture, with detection and recognition scores."""
    right = min(1.0, left + len(text) * height * 0.75)
    box = (left, top, right, top, right, top + height, left, top + height)
    return text, box, score, score


def _values(row_count: int, width: int) -> str:
    """A multi-row VALUES list of placeholders, as Kysely writes one insert for many rows."""
    row = "(" + ", ".join(["%s"] * width) + ")"
    return ", ".join([row] * row_count)


class ImmichServer:
    """Immich v3.1's server on one database: its users, upload, metadata and thumbnail jobs,
    its own machine-learning jobs' writes (as if they had called an ML service), person
    creation and naming, external libraries going offline and back, and its searches."""

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
                    "created": datetime(2024, 5, 1, 12, 0, tzinfo=UTC),
                    "type": asset_type,
                    "file_name": original.name,
                },
            ).fetchone()
            self.conn.execute(UPSERT_EXIF, [asset["id"], len(data)])
        return asset

    def job_status(self, asset: dict, column: str) -> None:
        self.conn.execute(UPSERT_JOB_STATUS.format(column=column), [asset["id"]])

    def extract_metadata(self, asset: dict, width: int, height: int) -> None:
        values = {"id": asset["id"], "width": width, "height": height}
        self.conn.execute(METADATA_ASSET, values)
        self.conn.execute(
            METADATA_EXIF,
            values | {"width_name": "exifImageWidth", "height_name": "exifImageHeight"},
        )
        self.job_status(asset, "metadataExtractedAt")

    def make_preview(self, asset: dict, preview: Path) -> None:
        """The thumbnail job: preview and thumbnail rows, then the thumbhash."""
        rows = [
            (asset["id"], kind, str(preview), False, False, False)
            for kind in ("preview", "thumbnail")
        ]
        self.conn.execute(
            UPSERT_FILES.format(rows=_values(len(rows), 6)), [v for row in rows for v in row]
        )
        thumbhash = hashlib.sha1(preview.read_bytes()).digest()[:16]  # stands for ThumbHash's bytes
        self.conn.execute(UPDATE_THUMBHASH, {"id": asset["id"], "thumbhash": thumbhash})

    # -- Immich's machine-learning jobs, with what its ML service would have answered

    def write_ocr(self, asset: dict, lines) -> None:
        """The OCR job's writes for `lines`: (text, box, box_score, text_score) each, box the
        8 corner coordinates x1, y1, ... y4 normalised to 0..1, in the ML service's order."""
        asset_id = asset["id"]
        with self.conn.transaction():
            if lines:
                rows = [
                    [asset_id, *box, text, box_score, text_score]
                    for text, box, box_score, text_score in lines
                ]
                tokens = [token for text, *_ in lines for token in tokenize_for_search(text)]
                self.conn.execute(
                    UPSERT_OCR.format(rows=_values(len(rows), 12)),
                    [asset_id, *(v for row in rows for v in row), asset_id, " ".join(tokens)],
                )
            else:
                self.conn.execute(DELETE_OCR, [asset_id, asset_id])
            self.job_status(asset, "ocrAt")

    def write_clip(self, asset: dict, embedding: str) -> None:
        """The smart-search job's write: the embedding as the ML service returns it ('[...]')."""
        self.conn.execute(UPSERT_SMART_SEARCH, [asset["id"], embedding])

    def write_faces(self, asset: dict, image_size: tuple[int, int], faces) -> list[uuid.UUID]:
        """The face-detection job's writes for an asset with no faces yet: `faces` is
        (x1, y1, x2, y2, embedding) each, in pixels of the `image_size` (width, height) the
        ML service saw. Returns the new faces' ids (Immich then queues their recognition)."""
        width, height = image_size
        face_ids = [uuid.uuid4() for _ in faces]
        with self.conn.transaction():
            if faces:
                face_rows = [
                    [face_id, asset["id"], height, width, *[round(c) for c in face[:4]]]
                    for face_id, face in zip(face_ids, faces, strict=True)
                ]
                embedding_rows = [
                    [face_id, face[4]] for face_id, face in zip(face_ids, faces, strict=True)
                ]
                self.conn.execute(
                    REFRESH_FACES.format(
                        faces=_values(len(face_rows), 8), embeddings=_values(len(embedding_rows), 2)
                    ),
                    [v for row in face_rows + embedding_rows for v in row],
                )
            self.job_status(asset, "facesRecognizedAt")
        return face_ids

    def create_person(self, owner, face_id) -> uuid.UUID:
        """Facial recognition of a core face that matched no one: a new, unnamed person."""
        with self.conn.transaction():
            person_id = self.conn.execute(CREATE_PERSON, [owner, face_id]).fetchone()[0]
            self.assign_face(face_id, person_id)
        return person_id

    def assign_face(self, face_id, person_id) -> None:
        self.conn.execute(REASSIGN_FACES, [person_id, face_id])

    def name_person(self, person_id, name: str) -> None:
        self.conn.execute(NAME_PERSON, {"id": person_id, "name": name})

    # -- external libraries

    def create_library(self, owner, import_paths: list[str], name: str = "External") -> dict:
        cursor = self.conn.cursor(row_factory=psycopg.rows.dict_row)
        return cursor.execute(CREATE_LIBRARY, [owner, name, import_paths, []]).fetchone()

    def import_external(self, owner, library: dict, original: Path, *, asset_type="IMAGE") -> dict:
        """A library scan finding a new file (then the same metadata and thumbnail jobs)."""
        path = str(original)
        cursor = self.conn.cursor(row_factory=psycopg.rows.dict_row)
        asset = cursor.execute(
            IMPORT_EXTERNAL_ASSET,
            {
                "owner": owner,
                "library": library["id"],
                "checksum": hashlib.sha1(f"path:{path}".encode()).digest(),
                "path": path,
                "mtime": datetime.fromtimestamp(original.stat().st_mtime, UTC),
                "type": asset_type,
                "file_name": original.name,
            },
        ).fetchone()
        self.conn.execute(UPSERT_EXIF, [asset["id"], original.stat().st_size])
        return asset

    def set_offline(self, asset_ids, *, trashed: bool = False) -> None:
        """A library scan finding the files gone (`trashed`: they were in the trash already)."""
        trash = "" if trashed else ', "deletedAt" = now()'
        self.conn.execute(SET_OFFLINE.format(trash=trash), [list(asset_ids)])

    def set_online(self, asset_ids, *, trashed: bool = False) -> None:
        """A library scan finding the files back."""
        untrash = "" if trashed else ', "deletedAt" = null'
        self.conn.execute(
            f'update "asset" set "isOffline" = false{untrash} where "id" = any (%s::uuid[])',
            [list(asset_ids)],
        )

    # -- search, as the web's search page asks

    def search_smart(self, user_id, embedding: str, size: int = 100) -> list[str]:
        with self.conn.transaction():
            self.conn.execute("set local vchordrq.probes = 1")
            rows = self.conn.execute(
                SEARCH_SMART, {"user_ids": [user_id], "embedding": embedding, "limit": size + 1}
            ).fetchall()
        return [str(r[1]) for r in rows[:size]]

    def search_ocr(self, user_id, query: str, size: int = 250) -> list[str]:
        tokens = " ".join(tokenize_for_search(query))
        rows = self.conn.execute(
            SEARCH_OCR, {"user_ids": [user_id], "tokens": tokens, "limit": size + 1}
        ).fetchall()
        return [str(r[1]) for r in rows[:size]]
