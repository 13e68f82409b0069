"""Which characters are CJK, defined once.

The tokenizer cuts text into CJK runs and letter/digit runs with these ranges, and the
build writes the same ranges into the SQL that checks whether a word is CJK
(scripts/build_extension.py substitutes @CJK_RANGES@), so the two never disagree.
Immich's own tokenizer has its own, narrower definition; photo_ai.immich_search_tokens
copies Immich's on purpose.
"""

# (first, last) code points, inclusive
CJK_RANGES: tuple[tuple[int, int], ...] = (
    (0x3040, 0x30FF),  # Hiragana, Katakana
    (0x3400, 0x4DBF),  # CJK Unified Ideographs Extension A
    (0x4E00, 0x9FFF),  # CJK Unified Ideographs
    (0xAC00, 0xD7AF),  # Hangul syllables
    (0xF900, 0xFAFF),  # CJK Compatibility Ideographs
    (0x20000, 0x3134F),  # CJK Unified Ideographs Extensions B to G
)


def python_class() -> str:
    """The ranges as the inside of a Python regular expression character class."""
    return "".join(f"{chr(first)}-{chr(last)}" for first, last in CJK_RANGES)


def postgres_class() -> str:
    """The ranges as the inside of a PostgreSQL (ARE) bracket expression, as escapes."""
    return "".join(f"{_escape(first)}-{_escape(last)}" for first, last in CJK_RANGES)


def _escape(code_point: int) -> str:
    return f"\\u{code_point:04x}" if code_point <= 0xFFFF else f"\\U{code_point:08x}"
