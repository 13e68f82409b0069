"""Thumbnails and previews, made once and kept on disk.

A photo is read only by its asset id: the database gives its path (photo_ai.source_asset,
so in Immich mode the preview Immich made) and checksum, and the file is read only under
the library roots, through the sidecar's own confinement (inference_sidecar.paths: absolute
paths, no `..`, symlinks resolved inside a root, opened without following a link) and
decoded as the sidecar decodes it (inference_sidecar.images: pixel count checked from the
header, EXIF orientation applied, HEIC through pillow-heif, first frame, 8-bit RGB).

The cache key is the checksum together with the file's size and modification time, so a
photo changed on disk gets a new thumbnail even before it is imported again. Files:
    <cache>/<size>/<first two hex digits of the id>/<id>-<key>.jpg
    <cache>/<size>/<..>/<id>-<key>.json     the source's upright width and height
Older files of the same photo are removed when a new one is made.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from PIL import Image

from inference_sidecar.errors import ForbiddenPath, SidecarError
from inference_sidecar.images import decode_image
from inference_sidecar.paths import read_library_file, resolve_in_roots

JPEG_QUALITY = 82
LOCK_STRIPES = 64


class PhotoUnavailable(Exception):
    """The photo cannot be shown: outside the roots (403), missing (404), too large (413),
    not decodable (422). `status` is the HTTP status to answer with."""

    def __init__(self, status: int, detail: str):
        super().__init__(detail)
        self.status, self.detail = status, detail


@dataclass(frozen=True)
class Cached:
    path: Path  # the JPEG
    width: int  # the source's upright size, in the pixels face boxes are given in
    height: int


class Thumbnails:
    """`library_roots` is a list, or a function that lists them: then a photo outside the
    roots makes it be asked again (a folder imported since the page started)."""

    def __init__(
        self,
        cache_dir: Path,
        library_roots: list[Path] | Callable[[], list[Path]],
        sizes: dict[str, int],
        max_pixels: int,
        max_file_bytes: int,
    ):
        self.cache_dir = Path(cache_dir)
        self._list_roots = library_roots if callable(library_roots) else None
        self.roots = list(library_roots() if callable(library_roots) else library_roots)
        self.sizes = dict(sizes)
        self.max_pixels = max_pixels
        self.max_file_bytes = max_file_bytes
        self._locks = [threading.Lock() for _ in range(LOCK_STRIPES)]

    def get(self, asset_id: str, source: str, checksum: str | None, size: str) -> Cached:
        """The cached JPEG of `size` for this photo, made now when missing or stale."""
        pixels = self.sizes[size]
        try:
            info = os.stat(self._resolve(source))
        except SidecarError as e:
            raise PhotoUnavailable(e.status, e.detail) from e
        except OSError as e:
            raise PhotoUnavailable(404, f"cannot read {source}: {e.strerror}") from e
        if not stat.S_ISREG(info.st_mode):  # a FIFO would block the reader, a folder fail it
            raise PhotoUnavailable(404, f"not a regular file: {source}")
        key = hashlib.sha1(
            f"{checksum}|{info.st_size}|{info.st_mtime_ns}|{pixels}".encode()
        ).hexdigest()[:16]
        folder = self.cache_dir / size / asset_id[:2]
        image, meta = folder / f"{asset_id}-{key}.jpg", folder / f"{asset_id}-{key}.json"
        cached = _read_cached(image, meta)
        if cached is not None:
            return cached
        with self._locks[hash(asset_id) % LOCK_STRIPES]:
            cached = _read_cached(image, meta)  # made meanwhile by another request
            if cached is None:
                cached = self._make(source, image, meta, pixels)
                _remove_older(folder, asset_id, keep=key)
        return cached

    def _resolve(self, source: str) -> Path:
        try:
            return resolve_in_roots(source, self.roots)
        except ForbiddenPath:
            if self._list_roots is None:
                raise
            self.roots = list(self._list_roots())
            return resolve_in_roots(source, self.roots)

    def read(self, asset_id: str, source: str, checksum: str | None, size: str) -> bytes:
        """The JPEG's bytes (read again if a newer version replaced it meanwhile)."""
        try:
            return self.get(asset_id, source, checksum, size).path.read_bytes()
        except FileNotFoundError:
            return self.get(asset_id, source, checksum, size).path.read_bytes()

    def _make(self, source: str, image_path: Path, meta_path: Path, pixels: int) -> Cached:
        try:
            data = read_library_file(source, self.roots, self.max_file_bytes)
            picture = decode_image(data, self.max_pixels)
        except SidecarError as e:
            raise PhotoUnavailable(e.status, e.detail) from e
        width, height = picture.size
        picture.thumbnail((pixels, pixels), Image.Resampling.LANCZOS, reducing_gap=3.0)
        image_path.parent.mkdir(parents=True, exist_ok=True)
        _write_atomically(image_path, lambda f: picture.save(f, "JPEG", quality=JPEG_QUALITY))
        _write_atomically(
            meta_path, lambda f: f.write(json.dumps({"width": width, "height": height}).encode())
        )
        return Cached(image_path, width, height)


def _read_cached(image: Path, meta: Path) -> Cached | None:
    try:
        size = json.loads(meta.read_bytes())
    except (OSError, ValueError):
        return None
    if not image.exists():
        return None
    return Cached(image, int(size["width"]), int(size["height"]))


def _write_atomically(path: Path, write) -> None:
    """Written beside its final name and renamed into place: a reader never sees half a file."""
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=".", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _remove_older(folder: Path, asset_id: str, keep: str) -> None:
    for old in folder.glob(f"{asset_id}-*"):
        if not old.name.startswith(f"{asset_id}-{keep}."):
            old.unlink(missing_ok=True)
