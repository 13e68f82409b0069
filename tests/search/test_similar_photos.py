"""similar_assets and search_by_image, and the semantic arm of hybrid_search, through the
real sidecar (tiny random CLIP: only "a photo is nearest to itself" can be relied on)."""

from __future__ import annotations

import psycopg
import pytest

from tests.support.pipeline import add_assets, database_of, point_at, run_worker
from tests.support.search import add_photo, search


@pytest.fixture
def embedded(conn, pipeline_sidecar, library) -> dict[str, str]:
    """The library's three good pictures (the invoice twice), analysed by the worker."""
    point_at(conn, pipeline_sidecar)
    conn.execute("SELECT photo_ai.configure(tasks => '{ocr,clip}')")
    names = ("invoice", "invoice_again", "sign", "faces")
    files = ("invoice.png", "invoice.png", "sign.png", "faces.png")
    assets = dict(zip(names, add_assets(conn, *(library / f for f in files)), strict=True))
    assert run_worker(database_of(conn)) == {"done": 8 + 4}  # and their tags
    return assets


def similar(conn: psycopg.Connection, asset: str, n: int = 20) -> list[tuple[str, float]]:
    rows = conn.execute("SELECT * FROM similar_assets(%s, %s)", [asset, n]).fetchall()
    return [(str(a), s) for a, s in rows]


def test_similar_assets_puts_the_same_picture_first(conn, embedded):
    rows = similar(conn, embedded["invoice"])
    assert [a for a, _ in rows][0] == embedded["invoice_again"]
    assert rows[0][1] == pytest.approx(1.0, abs=1e-4)
    assert embedded["invoice"] not in [a for a, _ in rows], "the photo itself is left out"
    assert {a for a, _ in rows} == {embedded[k] for k in ("invoice_again", "sign", "faces")}
    assert [s for _, s in rows] == sorted((s for _, s in rows), reverse=True)
    assert len(similar(conn, embedded["invoice"], 1)) == 1


def test_max_results_below_one_gives_nothing_and_the_largest_gives_all(conn, embedded, library):
    assert similar(conn, embedded["invoice"], 0) == similar(conn, embedded["invoice"], -1) == []
    assert len(similar(conn, embedded["invoice"], 2147483647)) == 3
    image = (library / "sign.png").read_bytes()
    for n, found in ((-1, 0), (0, 0), (2147483647, 4)):
        rows = conn.execute("SELECT * FROM search_by_image(%s, %s)", [image, n]).fetchall()
        assert len(rows) == found


def test_similar_assets_stays_within_the_owner(conn, embedded):
    owner = "00000000-0000-0000-0000-00000000000a"
    conn.execute(
        "UPDATE photo_ai.asset SET owner_id = %s WHERE id = ANY(%s::uuid[])",
        [owner, [embedded["invoice"], embedded["sign"]]],
    )
    assert [a for a, _ in similar(conn, embedded["invoice"])] == [embedded["sign"]]


def test_search_by_image_finds_the_uploaded_picture(conn, embedded, library):
    image = (library / "sign.png").read_bytes()
    rows = conn.execute("SELECT * FROM search_by_image(%s, 2)", [image]).fetchall()
    assert str(rows[0][0]) == embedded["sign"]
    assert rows[0][1] == pytest.approx(1.0, abs=1e-3)
    assert len(rows) == 2


def test_search_by_image_reports_a_bad_image(conn, embedded):
    with pytest.raises(psycopg.errors.RaiseException, match="bad_image|could not|image"):
        conn.execute("SELECT * FROM search_by_image(%s)", [b"not an image"])


def test_an_unknown_asset_is_a_clear_error(conn, embedded):
    missing = "00000000-0000-0000-0000-000000000000"
    with pytest.raises(psycopg.errors.NoDataFound, match=f"no asset with id {missing}"):
        similar(conn, missing)


def test_an_asset_without_embedding_is_a_clear_error(conn):
    conn.execute("SELECT photo_ai.configure(sidecar_url => 'http://127.0.0.1:9')")
    photo = add_photo(conn, "发票")
    with pytest.raises(psycopg.errors.NoDataFound, match="has no CLIP embedding yet"):
        similar(conn, photo)


def test_the_semantic_arm_embeds_the_query_through_the_sidecar_once(conn, embedded):
    first = search(conn, "clip:增值税发票")
    assert len(first) == 4 and all(r["semantic_arm"] == "on" for r in first)
    assert [r["semantic_rank"] for r in first] == [1, 2, 3, 4]
    cached = conn.execute("SELECT query, model FROM photo_ai.query_embedding").fetchall()
    assert cached == [("增值税发票", "ViT-B-16")]

    conn.execute("SELECT photo_ai.configure(sidecar_url => 'http://127.0.0.1:9')")
    again = search(conn, "clip:增值税发票")
    assert [r["asset_id"] for r in again] == [r["asset_id"] for r in first], "from the cache"


def test_fusion_with_real_ocr_and_clip(conn, embedded):
    rows = search(conn, "发票")
    by_id = {str(r["asset_id"]): r for r in rows}
    for name in ("invoice", "invoice_again"):
        assert by_id[embedded[name]]["text_rank"] in (1, 2)
        assert by_id[embedded[name]]["semantic_rank"] is not None
        assert "发票" in by_id[embedded[name]]["snippet"]
    invoices = {embedded["invoice"], embedded["invoice_again"]}
    assert {str(r["asset_id"]) for r in rows[:2]} == invoices
    assert by_id[embedded["sign"]]["text_rank"] is None


def test_a_model_other_than_the_photos_turns_the_semantic_arm_off(conn, embedded):
    conn.execute("UPDATE photo_ai.clip_embedding SET model = 'RN50'")
    rows = search(conn, "发票")
    assert rows and rows[0]["semantic_arm"].startswith("off: the photos were embedded with RN50")
