"""One definition of which characters are CJK: the server's Python tokenizer and the SQL
that asks whether a word is CJK text agree on every boundary of every range."""

from __future__ import annotations

import re

from photo_ai_plpython.cjk import CJK_RANGES, python_class


def test_python_and_sql_agree_on_what_is_cjk(conn):
    edges = {c for first, last in CJK_RANGES for c in (first - 1, first, last, last + 1)}
    samples = [chr(c) for c in sorted(edges)]
    in_python = [bool(re.fullmatch(f"[{python_class()}]", c)) for c in samples]
    in_sql = conn.execute(
        "SELECT array_agg(photo_ai.is_cjk_text(c) ORDER BY n) "
        "FROM unnest(%s::text[]) WITH ORDINALITY u(c, n)",
        [samples],
    ).fetchone()[0]
    assert in_sql == in_python
    assert sum(in_python) == 2 * len(CJK_RANGES)
