"""Tags and descriptions: labels from the vocabulary that a photo's CLIP embedding matches,
computed by the worker from the stored embeddings, searchable with tag: and by their words.
The stand-in sidecar's embeddings mean something by construction (tests/support/tags.py)."""

from __future__ import annotations

import psycopg
import pytest

from tests.support.pipeline import database_of, run_worker
from tests.support.search import NOWHERE
from tests.support.standin import StandinSidecar
from tests.support.tags import tags_answer

CORGIS = {f"corgi{n}.jpg": {"柯基": 0.8, "狗": 0.6} for n in range(3)}
DOGS = {f"dog{n}.jpg": {"狗": 1.0} for n in range(2)}
# close enough for both labels to be probable: softmax at CLIP's scale (100) is steep
BEACHES = {"beach0.jpg": {"海滩": 1.0}, "beach1.jpg": {"海滩": 0.71, "日落": 0.7}}
PHOTOS = CORGIS | DOGS | BEACHES
TEXTS = {"beach1.jpg": "停车场\n出口"}


def add_photos(conn: psycopg.Connection, names) -> dict[str, str]:
    """One asset per file name, taken in June 2024; {file name: asset id}."""
    rows = conn.execute(
        "INSERT INTO photo_ai.asset (original_path, taken_at) "
        "SELECT '/photos/' || n, '2024-06-15 12:00+00' FROM unnest(%s::text[]) n "
        "RETURNING original_path, id::text",
        [list(names)],
    ).fetchall()
    return {path.rsplit("/", 1)[1]: asset for path, asset in rows}


def tagged(conn: psycopg.Connection, query: str) -> set[str]:
    return {str(r[0]) for r in conn.execute("SELECT asset_id FROM hybrid_search(%s, 100)", [query])}


def tags_of(conn: psycopg.Connection, asset: str) -> list[str]:
    rows = conn.execute(
        "SELECT label FROM photo_ai.asset_tag WHERE asset_id = %s ORDER BY probability DESC",
        [asset],
    )
    return [r[0] for r in rows]


def all_tags(conn: psycopg.Connection) -> list[tuple]:
    rows = conn.execute(
        "SELECT asset_id::text, label, round(probability::numeric, 3) FROM photo_ai.asset_tag "
        "ORDER BY 1, 2"
    )
    return rows.fetchall()


@pytest.fixture
def library(conn):
    """The photos analysed through the worker with the stand-in: (assets, stand-in)."""
    with StandinSidecar(tags_answer(PHOTOS, TEXTS)) as standin:
        conn.execute(
            "SELECT photo_ai.configure(sidecar_url => %s, tasks => %s)",
            [standin.url, ["clip", "ocr"]],
        )
        assets = add_photos(conn, PHOTOS)
        run_worker(database_of(conn))
        yield assets, standin


def test_the_vocabulary_has_hundreds_of_labels_in_chinese_and_english(conn):
    count, named, categories = conn.execute(
        "SELECT count(*), "
        "       count(*) FILTER (WHERE name ~ '[\\u4e00-\\u9fff]' AND name_en ~ '^[A-Za-z]'),"
        "       array_agg(DISTINCT category) FROM photo_ai.vocabulary"
    ).fetchone()
    assert count >= 500 and named == count
    assert {
        "scene",
        "place",
        "object",
        "animal",
        "food",
        "event",
        "weather_light",
        "document",
    } <= set(categories)
    documents = {r[0] for r in conn.execute(
        "SELECT name_en FROM photo_ai.vocabulary WHERE category = 'document'")}  # fmt: skip
    assert {"receipt", "invoice", "screenshot", "ID card", "whiteboard", "menu"} <= documents


def test_photos_get_the_labels_their_embeddings_match(conn, library):
    assets, _ = library
    assert all(tags_of(conn, assets[name])[0] == "狗" for name in DOGS)
    assert all(tags_of(conn, assets[name])[0] == "狗" for name in CORGIS)  # no 柯基 label yet
    assert tags_of(conn, assets["beach0.jpg"]) == ["海滩"]
    assert set(tags_of(conn, assets["beach1.jpg"])) == {"海滩", "日落"}
    assert tagged(conn, "tag:狗") == {assets[n] for n in DOGS | CORGIS}
    assert tagged(conn, "tag:beach") == {assets[n] for n in BEACHES}  # the English name


def test_a_label_added_later_is_applied_by_the_worker_without_sending_any_image_again(
    conn, library
):
    assets, standin = library
    analysed = standin.photos_sent()
    conn.execute("SELECT photo_ai.add_label('柯基', 'corgi')")
    run_worker(database_of(conn))

    assert standin.photos_sent() == analysed
    prompts = [
        t for path, body in standin.received if path == "/v1/clip/text" for t in body["texts"]
    ]
    assert "一张柯基的照片。" in prompts
    assert tagged(conn, "tag:柯基") == {assets[n] for n in CORGIS}
    assert tagged(conn, "tag:corgi") == {assets[n] for n in CORGIS}
    corgi = assets["corgi0.jpg"]
    assert "柯基" in conn.execute("SELECT photo_ai.description(%s)", [corgi]).fetchone()[0]
    # the new label joined each photo's softmax without a tags job, and exactly: as if
    # every photo had been tagged from scratch with it
    queued = "SELECT count(*) FROM photo_ai.job WHERE task = 'tags' AND generation > 1"
    assert conn.execute(queued).fetchone()[0] == 0
    applied = all_tags(conn)
    conn.execute(
        "SELECT photo_ai.write_tags(asset_id, photo_ai.tags_of(asset_id)) "
        "FROM photo_ai.clip_embedding"
    )
    assert all_tags(conn) == applied
    assert "corgi" in conn.execute("SELECT photo_ai.description(%s, 'en')", [corgi]).fetchone()[0]


def test_a_removed_label_leaves_no_tag_and_the_library_is_tagged_again(conn, library):
    assets, _ = library
    assert conn.execute("SELECT photo_ai.remove_label('sunset')").fetchone()[0] is True
    assert "日落" not in tags_of(conn, assets["beach1.jpg"])
    run_worker(database_of(conn))
    assert tags_of(conn, assets["beach1.jpg"]) == ["海滩"]
    assert tagged(conn, "tag:日落") == set()
    # a built-in label stays removed when the extension's labels are written again
    conn.execute("ALTER EXTENSION photo_ai UPDATE")
    assert (
        conn.execute("SELECT count(*) FROM photo_ai.vocabulary WHERE name = '日落'").fetchone()[0]
        == 0
    )


def test_the_description_says_when_what_and_the_largest_text(conn, library):
    assets, _ = library
    said = conn.execute("SELECT photo_ai.description(%s)", [assets["beach1.jpg"]]).fetchone()[0]
    assert said.startswith("2024年6月，海滩，日落") or said.startswith("2024年6月，日落，海滩")
    assert said.endswith("；照片里的文字：「停车场」")
    english = conn.execute(
        "SELECT photo_ai.description(%s, 'en')", [assets["beach1.jpg"]]
    ).fetchone()[0]
    assert english.startswith("June 2024, ") and "beach" in english
    stored = conn.execute(
        "SELECT description FROM photo_ai.asset_description WHERE asset_id = %s",
        [assets["beach1.jpg"]],
    ).fetchone()[0]
    assert stored == said


def test_words_find_tagged_photos_when_clip_cannot_be_asked_below_printed_text(conn, library):
    assets, _ = library
    printed = add_photos(conn, ["sign.jpg"])["sign.jpg"]
    conn.execute(
        "SELECT photo_ai.write_ocr(%s, %s)",
        [printed, psycopg.types.json.Jsonb({"model": "t", "text": "小心狗", "lines": []})],
    )
    conn.execute("SELECT photo_ai.configure(sidecar_url => %s)", [NOWHERE])
    rows = conn.execute(
        "SELECT asset_id::text, semantic_arm, snippet FROM hybrid_search('狗', 20)"
    ).fetchall()
    assert rows[0][0] == printed  # printed text first
    assert {r[0] for r in rows[1:]} == {assets[n] for n in DOGS | CORGIS}
    assert rows[1][1].startswith("off")
    assert "狗" in rows[1][2]  # the description says why it was found
    # ocr: is printed text only
    assert tagged(conn, "ocr:狗") == {printed}


def test_tag_filters_combine_with_words_and_unknown_labels_say_so(conn, library):
    assets, _ = library
    assert tagged(conn, "ocr: tag:海滩 停车场") == {assets["beach1.jpg"]}
    assert tagged(conn, "tag:海滩 tag:日落") == {assets["beach1.jpg"]}
    with conn.cursor() as cursor:
        notices = []
        conn.add_notice_handler(lambda n: notices.append(n.message_primary))
        assert cursor.execute("SELECT * FROM hybrid_search('tag:独角兽')").fetchall() == []
    assert any("no label is called 独角兽" in n for n in notices)


def test_a_deleted_photo_leaves_no_tag_or_description(conn, library):
    assets, _ = library
    conn.execute("DELETE FROM photo_ai.asset WHERE id = %s", [assets["dog0.jpg"]])
    for table in ("asset_tag", "asset_description"):
        left = conn.execute(
            f"SELECT count(*) FROM photo_ai.{table} WHERE asset_id = %s", [assets["dog0.jpg"]]
        ).fetchone()[0]
        assert left == 0, table


def test_status_says_why_tags_wait_while_the_vocabulary_cannot_be_embedded(conn):
    def refuse_texts(path, body):
        if path == "/v1/clip/text":
            return 503, {"error": {"kind": "model_missing", "message": "no CLIP text model"}}
        return tags_answer(PHOTOS)(path, body)

    with StandinSidecar(refuse_texts) as standin:
        conn.execute(
            "SELECT photo_ai.configure(sidecar_url => %s, tasks => %s)", [standin.url, ["clip"]]
        )
        assets = add_photos(conn, DOGS)
        run_worker(database_of(conn))
    problem, queued = conn.execute(
        "SELECT problem, jobs FROM photo_ai.status WHERE task = 'tags' AND state = 'queued'"
    ).fetchone()
    assert "vocabulary cannot be embedded" in problem
    assert queued == len(DOGS)  # waiting, not failed
    with StandinSidecar(tags_answer(PHOTOS)) as standin:
        conn.execute("SELECT photo_ai.configure(sidecar_url => %s)", [standin.url])
        conn.execute("UPDATE photo_ai.problem SET retry_at = now()")  # the wait is over
        run_worker(database_of(conn))
    assert all(tags_of(conn, assets[name]) == ["狗"] for name in DOGS)
