"""Importing a folder of photos into photo_ai.asset, the standalone asset table.

Every image file under the folder, recursively, by its name (.jpg .jpeg .png .webp .heic
.heif .gif .tif .tiff, any case); hidden files and folders are skipped, and so are links
that lead out of the folder. Each file is recorded by its absolute path with its SHA-1
checksum (as Immich records it) and the date it was taken (EXIF). A photo is its content:
files with the same bytes (a copy, a link inside the folder) are one asset with the others
as its copies (photo_ai.asset_copy; import_plan.py says which file holds it). Importing
again:

- adds files that are new,
- updates files whose content changed (the database queues them again),
- leaves unchanged files alone (nothing is queued),
- follows a file that was moved or renamed inside the folder (same asset),
- moves to the trash (deleted_at) assets under the folder whose file is gone, and takes
  them out of the trash when the file comes back.

A name that is not UTF-8 (a GBK name from a Windows zip file) is stored as
photo_ai_plpython.file_names says, so that the sidecar opens the very same file.

All changes happen in one transaction, one INSERT and one UPDATE each, so the database's
statement-level triggers queue the whole import at once.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import psycopg
from PIL import Image

from photo_ai_cli.import_plan import Asset, File, Plan, plan_import
from photo_ai_plpython.file_names import storable_path

IMAGE_SUFFIXES = frozenset(
    {".jpg", ".jpeg", ".png", ".webp", ".heic", ".heif", ".gif", ".tif", ".tiff"}
)
_LOCK_KEY = 0x70686F746F5F6169 & 0x7FFFFFFFFFFFFFFF  # "photo_ai": one import at a time

try:  # HEIC dates; the sidecar reads HEIC with the same plug-in
    import pillow_heif

    pillow_heif.register_heif_opener()
except ImportError:  # pragma: no cover - pillow-heif is a dependency
    pass


@dataclass
class ImportReport:
    folder: Path
    found: int = 0  # image files under the folder
    skipped: int = 0  # other files (not images, hidden, links out of the folder)
    added: int = 0
    changed: int = 0
    restored: int = 0  # back from the trash
    moved: int = 0  # the same content at another path
    unchanged: int = 0
    copies: int = 0  # files with the content of another: one photo, found once
    trashed: int = 0  # file gone: moved to the trash

    def summary(self) -> str:
        parts = [f"{self.found} images found"]
        for name in ("added", "changed", "restored", "moved", "unchanged", "trashed"):
            if getattr(self, name):
                parts.append(f"{getattr(self, name)} {name}")
        if self.copies:
            parts.append(f"{self.copies} identical to another (kept as copies of one photo)")
        if self.skipped:
            noun = "file" if self.skipped == 1 else "files"
            parts.append(f"{self.skipped} other {noun} skipped")
        return ", ".join(parts)


def is_image_name(path: Path) -> bool:
    return path.suffix.lower() in IMAGE_SUFFIXES


def find_images(folder: Path, skipped: Callable[[Path], None] | None = None) -> Iterator[Path]:
    """Image files under folder, recursively, in a stable order."""
    folder = Path(folder).resolve()
    for directory, dirnames, filenames in os.walk(folder):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in sorted(filenames):
            path = Path(directory) / name
            if name.startswith(".") or not is_image_name(path) or not _stays_inside(path, folder):
                if skipped:
                    skipped(path)
                continue
            if path.is_file():
                yield path
            elif skipped:
                skipped(path)


def _stays_inside(path: Path, folder: Path) -> bool:
    if not path.is_symlink():
        return True
    try:
        return path.resolve().is_relative_to(folder)
    except OSError:
        return False


def checksum(path: Path) -> bytes:
    digest = hashlib.sha1()
    with path.open("rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    return digest.digest()


def taken_at(path: Path) -> datetime | None:
    """EXIF DateTimeOriginal (else DateTime), read from the header only; None if absent."""
    try:
        with Image.open(path) as image:
            exif = image.getexif()
            value = exif.get_ifd(0x8769).get(0x9003) or exif.get(0x0132)
    except Exception:  # an unreadable file is the pipeline's to report, not the importer's
        return None
    if not isinstance(value, str):
        return None
    try:
        return datetime.strptime(value.strip("\0 ")[:19], "%Y:%m:%d %H:%M:%S")
    except ValueError:
        return None


def import_folder(
    conn: psycopg.Connection,
    folder: Path,
    progress: Callable[[Path], None] | None = None,
) -> ImportReport:
    """Brings photo_ai.asset in line with the image files under folder (see module doc)."""
    folder = Path(folder).resolve()
    if not folder.is_dir():
        raise NotADirectoryError(f"not a folder: {storable_path(folder)}")
    report = ImportReport(folder)

    def skip(_: Path) -> None:
        report.skipped += 1

    files = []
    for path in find_images(folder, skip):
        files.append(File(storable_path(path), checksum(path), taken_at(path)))
        if progress:
            progress(path)
    report.found = len(files)
    prefix = storable_path(folder).rstrip("/") + "/"

    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", [_LOCK_KEY])
        plan = plan_import(files, _assets_concerned(conn, files, prefix))
        _apply(conn, plan, prefix)
    report.added, report.changed = plan.count("added"), plan.count("changed")
    report.restored, report.moved = plan.count("restored"), plan.count("moved")
    report.unchanged, report.copies = plan.unchanged, len(plan.copies)
    report.trashed = len(plan.trashed)
    return report


def _assets_concerned(conn: psycopg.Connection, files: list[File], prefix: str) -> list[Asset]:
    """The assets under the folder, and the live ones elsewhere with a file's content
    (photo-ai import gives none an owner), oldest first."""
    rows = conn.execute(
        "SELECT a.id::text, a.original_path, a.checksum, a.deleted_at IS NOT NULL, "
        "       left(a.original_path, length(%(prefix)s)) = %(prefix)s, "
        "       array(SELECT c.path FROM photo_ai.asset_copy c WHERE c.asset_id = a.id "
        "             AND left(c.path, length(%(prefix)s)) <> %(prefix)s ORDER BY c.path) "
        "FROM photo_ai.asset a "
        "WHERE left(a.original_path, length(%(prefix)s)) = %(prefix)s "
        "   OR (a.deleted_at IS NULL AND a.owner_id IS NULL AND a.checksum = ANY(%(sums)s)) "
        "ORDER BY a.created_at, a.id",
        {"prefix": prefix, "sums": sorted({f.checksum for f in files})},
    ).fetchall()
    return [Asset(*r[:5], copies_elsewhere=tuple(r[5])) for r in rows]


def _apply(conn: psycopg.Connection, plan: Plan, prefix: str) -> None:
    """The plan in one statement per kind of change, so that the triggers queue it at once."""
    conn.execute(
        "CREATE TEMP TABLE photo_ai_cli_change (kind text, asset_id uuid, path text, "
        "checksum bytea, taken_at timestamp) ON COMMIT DROP"
    )
    with conn.cursor().copy("COPY photo_ai_cli_change FROM STDIN") as copy:
        for c in plan.changes:
            copy.write_row((c.kind, c.asset_id, c.path, c.checksum, c.taken_at))
    # Taken-at times from EXIF carry no zone: they are the camera's local time.
    conn.execute(
        "INSERT INTO photo_ai.asset (id, original_path, checksum, taken_at) "
        "SELECT asset_id, path, checksum, taken_at::timestamptz FROM photo_ai_cli_change "
        "WHERE kind = 'added'"
    )
    conn.execute(
        "UPDATE photo_ai.asset a SET original_path = c.path, "
        "  checksum = coalesce(c.checksum, a.checksum), "
        "  taken_at = coalesce(c.taken_at::timestamptz, a.taken_at), "
        "  deleted_at = NULL, updated_at = now() "
        "FROM photo_ai_cli_change c WHERE c.kind <> 'added' AND a.id = c.asset_id"
    )
    conn.execute(
        "UPDATE photo_ai.asset SET deleted_at = now(), updated_at = now() "
        "WHERE id = ANY(%s::uuid[])",
        [plan.trashed],
    )
    conn.execute(
        "DELETE FROM photo_ai.asset_copy WHERE left(path, length(%s)) = %s OR path = ANY(%s)",
        [prefix, prefix, plan.no_longer_copies],
    )
    conn.execute(
        "UPDATE photo_ai.asset_copy c SET asset_id = r.holder "
        "FROM unnest(%s::uuid[], %s::uuid[]) AS r(retired, holder) WHERE c.asset_id = r.retired",
        [list(plan.repointed), list(plan.repointed.values())],
    )
    conn.execute(
        "INSERT INTO photo_ai.asset_copy (path, asset_id) "
        "SELECT * FROM unnest(%s::text[], %s::uuid[])",
        [list(plan.copies), list(plan.copies.values())],
    )
