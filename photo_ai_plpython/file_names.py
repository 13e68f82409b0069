"""File names that are not UTF-8, kept as text.

A Linux file name is bytes. photo_ai keeps paths as text (PostgreSQL's `text`, JSON), which
must be valid UTF-8, and most names are: those are kept exactly as they are. A name that is
not UTF-8 (a GBK name from a Windows zip file, a Latin-1 name from an old camera) is stored
with each byte that is not part of valid UTF-8 as the private-use character U+EF00 + byte
(U+EF80..U+EFFF: byte 0xB7 is U+EFB7), as MirBSD's OPTU-8 does. A character of that range
that really is in a name is escaped the same way, byte by byte, so that one text names one
file and `os_path(storable_path(name)) == name` for every name.

The importer stores `storable_path`; whoever opens a stored path opens `os_path` of it:
the sidecar and the search page, and the database's own Python when it sends a photo's
bytes (sidecar_http.read_image_file). That is why the mapping lives in this package, the
one that runs inside PostgreSQL too.
"""

from __future__ import annotations

import os

_FIRST, _LAST = 0xEF80, 0xEFFF  # one character per byte 0x80..0xFF
_OFFSET = 0xEF00
# Python's file system encoding keeps an undecodable byte b as the lone surrogate U+DC00 + b
_SURROGATE_OFFSET = 0xDC00


def storable_path(path: str | bytes | os.PathLike) -> str:
    """The text that names `path` (a str from os.walk and friends, or bytes) in the
    database: valid UTF-8, and the same text for an ordinary name."""
    text = os.fsencode(path).decode("utf-8", "surrogateescape")
    if not any(0xDC80 <= ord(c) <= 0xDCFF or _FIRST <= ord(c) <= _LAST for c in text):
        return text
    out = []
    for char in text:
        code = ord(char)
        if 0xDC80 <= code <= 0xDCFF:
            out.append(chr(code - _SURROGATE_OFFSET + _OFFSET))
        elif _FIRST <= code <= _LAST:
            out.extend(chr(_OFFSET + byte) for byte in char.encode())
        else:
            out.append(char)
    return "".join(out)


def os_path(text: str) -> str:
    """The path a stored text names, as Python's os functions take it (undecodable bytes
    as surrogates, what os.fsdecode gives)."""
    if not any(_FIRST <= ord(c) <= _LAST for c in text):
        return text
    raw = bytearray()
    for char in text:
        code = ord(char)
        raw += bytes([code - _OFFSET]) if _FIRST <= code <= _LAST else os.fsencode(char)
    return os.fsdecode(bytes(raw))
