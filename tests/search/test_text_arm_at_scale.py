"""The text arm ranks a one-word query through the photos with the word in large text
first (sql/functions/042_hybrid_search.sql, text_hits): the answer must stay what
ranking every match by ts_rank gives, with filters, ties and max_results of every size."""

from __future__ import annotations

import pytest

from tests.support.search import add_photo, ids, line, search

EVERY_MATCH = """
SELECT o.asset_id::text FROM photo_ai.ocr_result o JOIN photo_ai.asset a ON a.id = o.asset_id
WHERE o.tsv @@ (photo_ai.parse_search(%(q)s)).include_query
  AND (%(owner)s::uuid IS NULL OR a.owner_id = %(owner)s::uuid)
ORDER BY ts_rank('{0.1, 0.2, 0.4, 1.0}', o.tsv, (photo_ai.parse_search(%(q)s)).include_query)
         DESC, o.asset_id
LIMIT %(n)s
"""
OWNER = "00000000-0000-4000-8000-000000000001"


@pytest.fixture
def mentions(search_db):
    """发票 as a title, in small print, repeated, small print before the title, beside other
    words: 60 photos, a third of them the owner's."""
    title, small = (lambda y: line("发票", height=80, y=y)), (lambda y: line("发票", 14, y))
    shapes = [
        [title(0)],
        [small(0)],
        [small(0), title(60)],
        [title(0), small(60), small(120)],
        [small(0), small(60), small(120)],
        [line("收据", 80), small(60)],
    ]
    for i in range(60):
        owner = OWNER if i % 3 == 0 else None
        add_photo(search_db, *shapes[i % len(shapes)], line(f"店 {i}", 40, 300), owner=owner)
    return search_db


@pytest.mark.parametrize("max_results", [1, 5, 20, 50, 100])
@pytest.mark.parametrize("owner", [None, OWNER])
def test_one_word_ranks_as_every_match_would(mentions, max_results, owner):
    rows = search(mentions, "ocr:发票", max_results=max_results, owner_id=owner)
    expected = mentions.execute(EVERY_MATCH, {"q": "发票", "owner": owner, "n": max_results})
    assert ids(rows) == [r[0] for r in expected.fetchall()]


def test_two_words_rank_as_every_match_would(mentions):
    rows = search(mentions, "ocr:发票 店", max_results=30)
    expected = mentions.execute(EVERY_MATCH, {"q": "发票 店", "owner": None, "n": 30})
    assert ids(rows) == [r[0] for r in expected.fetchall()]
