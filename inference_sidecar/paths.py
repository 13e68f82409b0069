"""Reading images by path, confined to the configured library roots."""

import os
import stat
from pathlib import Path, PurePosixPath

from inference_sidecar.errors import FileTooLarge, ForbiddenPath, ImageNotFound
from photo_ai_plpython.file_names import os_path


def resolve_in_roots(raw_path: str, roots: list[Path]) -> Path:
    """The real path of `raw_path` if it lies inside one of `roots`, else ForbiddenPath.

    `..` is refused outright, even where it would land inside a root: a client that
    sends it is building paths it should not. Symlinks are followed first, so a link
    inside a root that points outside it is refused too.
    """
    if not roots:
        raise ForbiddenPath("reading by path is off: no PHOTO_AI_LIBRARY_ROOTS configured")
    if "\x00" in raw_path:
        raise ForbiddenPath("path contains a NUL byte")
    path = PurePosixPath(raw_path)
    if not path.is_absolute():
        raise ForbiddenPath(f"path must be absolute: {raw_path}")
    if ".." in path.parts:
        raise ForbiddenPath(f"path must not contain '..': {raw_path}")
    real = Path(os.path.realpath(os_path(raw_path)))  # a name that is not UTF-8: file_names
    if not any(real.is_relative_to(root) for root in roots):
        raise ForbiddenPath(f"path is outside PHOTO_AI_LIBRARY_ROOTS: {raw_path}")
    return real


def read_library_file(raw_path: str, roots: list[Path], max_bytes: int) -> bytes:
    real = resolve_in_roots(raw_path, roots)
    try:
        # Only a regular file is opened: opening a FIFO blocks until a writer comes, and a
        # device may act on being opened. O_NONBLOCK covers a FIFO swapped in after the
        # check (it changes nothing for a regular file), and the resolved path is opened
        # without following a link again, so a link swapped in cannot lead out of the roots.
        _check_regular(os.lstat(real).st_mode, raw_path)
        fd = os.open(real, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except FileNotFoundError as e:
        raise ImageNotFound(f"no such file: {raw_path}") from e
    except OSError as e:
        raise ImageNotFound(f"cannot open {raw_path}: {e.strerror}") from e
    try:
        return _read_regular_file(fd, raw_path, max_bytes)
    finally:
        os.close(fd)


def _check_regular(mode: int, raw_path: str) -> None:
    if not stat.S_ISREG(mode):
        raise ImageNotFound(f"not a regular file: {raw_path}")


def _read_regular_file(fd: int, raw_path: str, max_bytes: int) -> bytes:
    info = os.fstat(fd)
    _check_regular(info.st_mode, raw_path)
    if info.st_size > max_bytes:
        raise file_too_large(info.st_size, max_bytes)
    chunks, total = [], 0
    try:
        while chunk := os.read(fd, min(1 << 20, max_bytes + 1 - total)):
            chunks.append(chunk)
            total += len(chunk)
            if total > max_bytes:  # the file grew since fstat
                raise file_too_large(total, max_bytes)
    except OSError as e:
        raise ImageNotFound(f"cannot read {raw_path}: {e.strerror}") from e
    return b"".join(chunks)


def file_too_large(size: int, max_bytes: int) -> FileTooLarge:
    return FileTooLarge(
        f"file has {size} bytes; the limit is {max_bytes} (PHOTO_AI_MAX_FILE_BYTES)"
    )
