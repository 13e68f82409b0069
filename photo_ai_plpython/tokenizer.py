"""The character-level tokenizer behind every text search, and jieba's word segmentation.

Text is NFKC-normalised and case-folded, then cut into runs:
  * a run of CJK characters (spaces inside it are OCR noise and are skipped) is indexed as
    every character and every pair of neighbours: 海淀区 -> 海 淀 区 海淀 淀区;
  * a run of letters and digits is one word: Invoice -> invoice; 128.50 -> 128, 50.
A pair sits at its first character's position, so a query is the exact phrase of its pairs
(one character: itself), and it matches exactly the texts that contain it, known to a
dictionary or not. Lines lie one position further apart, so no phrase spans two.

Lexemes hold only letters and digits, so the literals built here need no escaping.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass

from photo_ai_plpython.cjk import python_class

# tsvector positions end here; text past it could not be found by a phrase anyway
MAX_POSITION = 16383
# Only this much of a text is looked at, so a huge text cannot hold a backend for long
# (each position takes at least one character, plus separators).
MAX_TEXT_CHARS = 8 * MAX_POSITION
# A lexeme may not pass 2047 bytes; a longer word is indexed (and queried) as a phrase of
# pieces this long, so it still matches itself.
MAX_WORD_CHARS = 100

_CJK = python_class()
_RUN = re.compile(rf"([{_CJK}](?:\s*[{_CJK}])*)|([^\W_{_CJK}]+)")
_SPACE = re.compile(r"\s+")


@dataclass(frozen=True)
class Run:
    position: int  # of its first character, counted from 1
    is_cjk: bool
    chars: str


def runs(text: str) -> Iterator[Run]:
    position = 1
    normalised = unicodedata.normalize("NFKC", text[:MAX_TEXT_CHARS]).casefold()
    for line in normalised.splitlines():
        for match in _RUN.finditer(line):
            if position > MAX_POSITION:
                return
            if match.group(2):
                word = match.group(2)
                for start in range(0, len(word), MAX_WORD_CHARS):
                    yield Run(position, False, word[start : start + MAX_WORD_CHARS])
                    position += 1
            else:
                chars = _SPACE.sub("", match.group(1))
                yield Run(position, True, chars)
                position += len(chars)
        position += 1


def index_lexemes(run: Run) -> list[tuple[int, str]]:
    if not run.is_cjk:
        return [(run.position, run.chars)]
    singles = [(run.position + i, c) for i, c in enumerate(run.chars)]
    pairs = [(run.position + i, run.chars[i : i + 2]) for i in range(len(run.chars) - 1)]
    return singles + pairs


def query_lexemes(run: Run) -> list[tuple[int, str]]:
    if not run.is_cjk or len(run.chars) == 1:
        return [(run.position, run.chars)]
    return [(run.position + i, run.chars[i : i + 2]) for i in range(len(run.chars) - 1)]


def tsvector_literal(text: str) -> str:
    """Every lexeme of the text with its positions, as a tsvector literal."""
    positions: dict[str, list[str]] = {}
    for run in runs(text):
        for position, lexeme in index_lexemes(run):
            if position <= MAX_POSITION:
                positions.setdefault(lexeme, []).append(str(position))
    return " ".join(f"'{lexeme}':{','.join(p)}" for lexeme, p in positions.items())


def tsquery_literal(text: str) -> str | None:
    """The text as one exact phrase, a tsquery literal; None when it has no letters."""
    phrase = [lexeme for run in runs(text) for lexeme in query_lexemes(run)]
    if not phrase:
        return None
    parts = [f"'{phrase[0][1]}'"]
    for (before, _), (position, lexeme) in zip(phrase, phrase[1:], strict=False):
        parts.append(f"<{position - before}> '{lexeme}'")
    return " ".join(parts)


def jieba_words(cache: dict, text: str) -> list[str]:
    """jieba's search-mode words (compounds and the words inside them: 增值税 -> 增值,
    增值税). The tokenizer is built once per backend and kept in `cache` (plpython's GD):
    loading its dictionary takes about a second."""
    tokenizer = cache.get("photo_ai.jieba")
    if tokenizer is None:
        import logging

        import jieba

        jieba.setLogLevel(logging.WARNING)
        tokenizer = jieba.Tokenizer()
        tokenizer.initialize()
        cache["photo_ai.jieba"] = tokenizer
    words = (w.strip() for w in tokenizer.cut_for_search(text[:MAX_TEXT_CHARS]))
    return [w for w in words if w]
