"""Importing a folder of photos into photo_ai.asset, the standalone asset table.

Every image file under the folder, recursively, by its name (.jpg .jpeg .png .webp .heic
.heif .gif .tif .tiff, any case); hidden files and folders are skipped, and so are links
that lead out of the folder. Each file is recorded by its absolute path with its SHA-1
checksum (as Immich records it) and the date it was taken (EXIF), so importing again:

- adds files that are new,
- updates files whose content changed (the database queues them again),
- leaves unchanged files alone (nothing is queued),
- moves to the trash (deleted_at) assets under the folder whose file is gone, and takes
  them out of the trash when the file comes back.

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
    unchanged: int = 0
    trashed: int = 0  # file gone: moved to the trash

    def summary(self) -> str:
        parts = [f"{self.found} images found"]
        for name in ("added", "changed", "restored", "unchanged", "trashed"):
            if getattr(self, name):
                parts.append(f"{getattr(self, name)} {name}")
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
        raise NotADirectoryError(f"not a folder: {folder}")
    report = ImportReport(folder)

    def skip(_: Path) -> None:
        report.skipped += 1

    rows = []
    for path in find_images(folder, skip):
        rows.append((str(path), checksum(path), taken_at(path)))
        if progress:
            progress(path)
    report.found = len(rows)
    prefix = str(folder).rstrip("/") + "/"

    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", [_LOCK_KEY])
        conn.execute(
            "CREATE TEMP TABLE photo_ai_cli_incoming "
            "(path text PRIMARY KEY, checksum bytea, taken_at timestamp) ON COMMIT DROP"
        )
        with conn.cursor().copy(
            "COPY photo_ai_cli_incoming (path, checksum, taken_at) FROM STDIN"
        ) as copy:
            for row in rows:
                copy.write_row(row)
        # Taken-at times from EXIF carry no zone: they are the camera's local time.
        report.added = conn.execute(
            "INSERT INTO photo_ai.asset (original_path, checksum, taken_at) "
            "SELECT i.path, i.checksum, i.taken_at::timestamptz FROM photo_ai_cli_incoming i "
            "WHERE NOT EXISTS (SELECT FROM photo_ai.asset a WHERE a.original_path = i.path)"
        ).rowcount
        changed = conn.execute(
            "WITH target AS ("
            "  SELECT a.id, a.deleted_at IS NOT NULL AS was_trashed, i.checksum, i.taken_at"
            "  FROM photo_ai.asset a JOIN photo_ai_cli_incoming i ON i.path = a.original_path"
            "  WHERE a.checksum IS DISTINCT FROM i.checksum OR a.deleted_at IS NOT NULL"
            "  FOR UPDATE OF a) "
            "UPDATE photo_ai.asset a SET checksum = t.checksum, "
            "  taken_at = coalesce(t.taken_at::timestamptz, a.taken_at), "
            "  deleted_at = NULL, updated_at = now() "
            "FROM target t WHERE a.id = t.id "
            "RETURNING t.was_trashed"
        ).fetchall()
        report.restored = sum(1 for (was_trashed,) in changed if was_trashed)
        report.changed = len(changed) - report.restored
        report.trashed = conn.execute(
            "UPDATE photo_ai.asset a SET deleted_at = now(), updated_at = now() "
            "WHERE a.deleted_at IS NULL AND left(a.original_path, length(%s)) = %s "
            "  AND NOT EXISTS (SELECT FROM photo_ai_cli_incoming i "
            "                  WHERE i.path = a.original_path)",
            [prefix, prefix],
        ).rowcount
    report.unchanged = report.found - report.added - report.changed - report.restored
    return report
