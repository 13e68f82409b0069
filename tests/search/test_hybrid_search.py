"""hybrid_search: prefixes, reciprocal rank fusion, exclusions, phrases, filters, bad input,
the query embedding cache, and a search whose semantic arm is off."""

from __future__ import annotations

import math

import psycopg
import pytest

from tests.support.pipeline import point_at
from tests.support.search import add_photo, cache_query, ids, line, search, unit, vector_text


@pytest.fixture
def photos(search_db) -> dict[str, str]:
    """Four photos: text only, meaning only, both (each second best), neither."""
    beach = unit((0, 1.0))
    cache_query(search_db, "海边 发票", beach)
    return {
        "text": add_photo(search_db, line("海边 发票", height=80), line("Invoice", 30, 100)),
        "meaning": add_photo(search_db, "Sunset", embedding=unit((0, 1.0), (1, 0.1))),
        "both": add_photo(
            search_db,
            line("Beach Resort", height=80),
            line("发票 海边", height=40, y=100),
            embedding=unit((0, 1.0), (1, 0.3)),
        ),
        "neither": add_photo(search_db, "收据", embedding=unit((2, 1.0))),
    }


def test_no_prefix_fuses_both_arms_and_agreement_wins(search_db, photos):
    rows = search(search_db, "海边 发票")
    by_id = {str(r["asset_id"]): r for r in rows}
    assert ids(rows)[0] == photos["both"], "found by both arms beats first place in one"
    both = by_id[photos["both"]]
    assert (both["text_rank"], both["semantic_rank"]) == (2, 2)
    assert both["score"] == pytest.approx(2 / 62)
    assert by_id[photos["text"]]["semantic_rank"] is None
    assert by_id[photos["meaning"]]["text_rank"] is None
    assert by_id[photos["meaning"]]["semantic_rank"] == 1
    assert all(r["semantic_arm"] == "on" for r in rows)
    assert [r["score"] for r in rows] == sorted((r["score"] for r in rows), reverse=True)


def test_ocr_prefix_searches_text_only(search_db, photos):
    rows = search(search_db, "ocr: 海边 发票")
    assert set(ids(rows)) == {photos["text"], photos["both"]}
    assert all(r["semantic_rank"] is None and r["semantic_arm"] == "not asked" for r in rows)
    assert all("«" in r["snippet"] for r in rows)


def test_clip_prefix_searches_meaning_only(search_db, photos):
    rows = search(search_db, "CLIP:海边 发票")
    assert ids(rows) == [photos["meaning"], photos["both"], photos["neither"]]
    assert all(r["text_rank"] is None and r["snippet"] is None for r in rows)
    assert rows[0]["semantic_score"] == pytest.approx(1 / 1.01**0.5, abs=1e-4)


def test_weights_and_k_reshape_the_fusion(search_db, photos):
    text_heavy = search(search_db, "海边 发票", semantic_weight=0.0)
    assert ids(text_heavy)[:2] == [photos["text"], photos["both"]]
    rows = search(search_db, "海边 发票", rrf_k=1)
    assert rows[0]["score"] == pytest.approx(1 / 3 + 1 / 3)
    with pytest.raises(psycopg.errors.RaiseException, match="rrf_k"):
        search(search_db, "海边", rrf_k=0)


def test_min_similarity_drops_weak_semantic_hits(search_db, photos):
    rows = search(search_db, "clip:海边 发票", min_similarity=0.5)
    assert photos["neither"] not in ids(rows)


def test_max_results_cuts_the_list(search_db, photos):
    assert len(search(search_db, "海边 发票", max_results=2)) == 2
    assert search(search_db, "海边 发票", max_results=0) == []
    assert search(search_db, "海边 发票", max_results=-1) == []


@pytest.mark.parametrize("prefix", ["", "ocr:", "clip:"])
def test_the_largest_numbers_mean_all_of_them(search_db, photos, prefix):
    everything = search(search_db, prefix + "海边 发票")
    assert search(search_db, prefix + "海边 发票", max_results=2147483647) == everything
    flat = search(search_db, prefix + "海边 发票", rrf_k=2147483647)
    assert set(ids(flat)) == set(ids(everything)) and ids(flat)[0] == ids(everything)[0]
    assert all(0 < r["score"] < 1e-9 for r in flat)


@pytest.mark.parametrize(
    "weight", [{"text_weight": math.nan}, {"semantic_weight": math.inf}, {"text_weight": None}]
)
def test_a_weight_that_is_no_number_is_refused(search_db, photos, weight):
    with pytest.raises(psycopg.errors.RaiseException, match="weight finite numbers, 0 or more"):
        search(search_db, "海边 发票", **weight)


def test_a_min_similarity_that_is_no_number_is_refused(search_db, photos):
    with pytest.raises(psycopg.errors.RaiseException, match="min_similarity must be a number"):
        search(search_db, "海边 发票", min_similarity=math.nan)


def test_excluded_words_leave_both_arms(search_db, photos):
    cache_query(search_db, "海边", unit((0, 1.0)))
    rows = search(search_db, "海边 -Invoice")
    assert photos["text"] not in ids(rows)
    assert photos["both"] in ids(rows)
    clip_rows = search(search_db, 'clip:海边 -"收据"')
    assert photos["neither"] not in ids(clip_rows) and photos["meaning"] in ids(clip_rows)


def test_a_quoted_phrase_must_occur_as_written(search_db):
    together = add_photo(search_db, "Invoice 2024 合计")
    apart = add_photo(search_db, "2024 年度", "Invoice")
    assert set(ids(search(search_db, "ocr:invoice 2024"))) == {together, apart}
    assert ids(search(search_db, 'ocr:"invoice 2024"')) == [together]
    assert ids(search(search_db, 'ocr:"invoice 2024')) == [together], "an open quote runs on"


def test_filters_hold_in_both_arms(search_db):
    alice, bob = "00000000-0000-0000-0000-00000000000a", "00000000-0000-0000-0000-00000000000b"
    cache_query(search_db, "发票", unit((0, 1.0)))
    old = add_photo(search_db, "发票", owner=alice, taken_at="2020-05-01", embedding=unit((0, 1.0)))
    new = add_photo(search_db, "发票", owner=alice, taken_at="2024-05-01", embedding=unit((0, 1.0)))
    bobs = add_photo(search_db, "发票", owner=bob, taken_at="2024-05-01", embedding=unit((0, 1.0)))
    trashed = add_photo(search_db, "发票", owner=alice, embedding=unit((0, 1.0)))
    search_db.execute("UPDATE photo_ai.asset SET deleted_at = now() WHERE id = %s", [trashed])

    for prefix in ("", "ocr:", "clip:"):
        assert set(ids(search(search_db, prefix + "发票"))) == {old, new, bobs}
        assert set(ids(search(search_db, prefix + "发票", owner_id=alice))) == {old, new}
        after = search(search_db, prefix + "发票", owner_id=alice, taken_after="2021-01-01")
        assert ids(after) == [new]
        before = search(search_db, prefix + "发票", taken_before="2020-05-01")
        assert ids(before) == [old], "taken_before is inclusive"


@pytest.mark.parametrize(
    "query",
    [
        "",
        "   ",
        "ocr:",
        "clip:",
        "& | ! :",
        '"',
        '"open quote',
        "'; DROP TABLE photo_ai.asset; --",
        "-",
        "x" * 10_000,
        "发票" * 5_000,
        "ocr:" + "发 票 " * 2_000,
        "\\",
        "\x01\t\n",
    ],
)
def test_bad_input_is_never_an_error(search_db, photos, query):
    rows = search(search_db, query)
    assert isinstance(rows, list)
    if not query.strip() or query.strip() in ("ocr:", "clip:", "& | ! :", '"', "-"):
        assert rows == []
    assert search_db.execute("SELECT count(*) FROM photo_ai.asset").fetchone()[0] == 4


def test_the_text_arm_answers_when_the_sidecar_does_not(search_db):
    photo = add_photo(search_db, "发票", embedding=unit((0, 1.0)))
    notices: list[str] = []
    search_db.add_notice_handler(lambda n: notices.append(n.message_primary))
    rows = search(search_db, "发票")
    assert ids(rows) == [photo]
    assert rows[0]["semantic_arm"].startswith("off: the sidecar did not answer")
    assert any("semantic arm of this search is off" in n for n in notices)


def test_query_embeddings_are_cached_and_the_cache_is_bounded(search_db):
    add_photo(search_db, embedding=unit((0, 1.0)))
    search_db.execute(
        "INSERT INTO photo_ai.setting_override (name, value) VALUES ('query_cache_size', '3')"
    )
    for i in range(4):
        cache_query(search_db, f"q{i}", unit((i, 1.0)))
        search_db.execute(
            "UPDATE photo_ai.query_embedding SET used_at = now() - make_interval(days => 10 - %s) "
            "WHERE query = %s",
            [i, f"q{i}"],
        )
    search_db.execute(
        "SELECT photo_ai.remember_query_embedding('ViT-B-16', 'q4', %s::vector)",
        [str([1.0] + [0.0] * 511)],
    )
    kept = {r[0] for r in search_db.execute("SELECT query FROM photo_ai.query_embedding")}
    assert kept == {"q2", "q3", "q4"}, "the least recently used went"

    search(search_db, "clip:q3")
    used = search_db.execute(
        "SELECT used_at > now() - interval '1 minute' FROM photo_ai.query_embedding "
        "WHERE query = 'q3'"
    ).fetchone()[0]
    assert used, "a cache hit refreshes the entry's recency"


def test_readers_may_search(search_db, photos, test_roles):
    search_db.execute(f"SET ROLE {test_roles['reader']}")
    assert len(search(search_db, "ocr:发票")) == 2
    search_db.execute("RESET ROLE")
    search_db.execute(f"SET ROLE {test_roles['outsider']}")
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        search(search_db, "ocr:发票")


def test_missing_clip_model_leaves_ocr_results_and_says_so(conn, modelless_sidecar):
    point_at(conn, modelless_sidecar)
    photo = add_photo(conn, "停车场 出口", embedding=unit((0, 1.0)))
    notices: list[str] = []
    conn.add_notice_handler(lambda n: notices.append(n.message_primary))

    rows = search(conn, "出口")
    assert ids(rows) == [photo]
    assert rows[0]["text_rank"] == 1 and rows[0]["semantic_rank"] is None
    assert rows[0]["semantic_arm"].startswith("off: the CLIP model is missing")
    assert any("CLIP model is missing" in n for n in notices)
    assert search(conn, "clip:出口") == [], "meaning alone has nothing to give"
    assert conn.execute("SELECT count(*) FROM photo_ai.query_embedding").fetchone()[0] == 0


def test_a_selective_filter_does_not_starve_the_semantic_arm(search_db):
    """Three old photos among 3,000 new ones, far from the query: the index scan gives up
    (after hnsw.max_scan_tuples neighbours the date filter rejects) before it reaches them,
    so the photos the filter keeps are searched exactly."""
    many = search_db.execute(
        "INSERT INTO photo_ai.asset (original_path) SELECT '/photos/' || i "
        "FROM generate_series(1, 3000) i RETURNING id"
    ).fetchall()
    search_db.execute(
        "INSERT INTO photo_ai.clip_embedding (asset_id, model, embedding) "
        "SELECT id, 'ViT-B-16', (SELECT array_agg(CASE WHEN d = 1 THEN 1.0 "
        "WHEN d = 2 + n %% 500 THEN 0.2 ELSE 0 END) FROM generate_series(1, 512) d)::vector "
        "FROM unnest(%s::uuid[]) WITH ORDINALITY AS a(id, n)",
        [[r[0] for r in many]],
    )
    old = [
        add_photo(search_db, taken_at="2001-05-01", embedding=unit((2, 1.0), (0, 0.3 - 0.1 * i)))
        for i in range(3)
    ]
    query = unit((0, 1.0))
    cache_query(search_db, "海边", query)
    search_db.execute("ANALYZE")
    search_db.execute("SET enable_seqscan = off")  # the index, as on a large library
    search_db.execute("SET hnsw.max_scan_tuples = 5")
    search_db.execute("SET hnsw.iterative_scan = relaxed_order")
    index_only = search_db.execute(
        "SELECT count(*) FROM photo_ai.nearest_embeddings(%s::vector, "
        "row(NULL, NULL, '2002-01-01', NULL, NULL)::photo_ai.search_filter, 50, false)",
        [vector_text(query)],
    ).fetchone()[0]
    assert index_only < 3, "the index scan alone comes up short"
    rows = search(search_db, "clip:海边", taken_before="2002-01-01")
    assert ids(rows) == old
