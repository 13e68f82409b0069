"""Chinese full text: what zh_tsvector indexes and zh_tsquery finds, line weights, and
switching the word segmenter with rebuild_text_index()."""

from __future__ import annotations

import psycopg
import pytest

from photo_ai_cli.local import dsn
from tests.support.search import add_photo, ids, line, search


def matches(conn: psycopg.Connection, text: str, query: str) -> bool:
    return conn.execute(
        "SELECT photo_ai.zh_tsvector(%s) @@ photo_ai.zh_tsquery(%s)", [text, query]
    ).fetchone()[0]


@pytest.mark.parametrize(
    "query",
    [
        "海淀",  # a word inside a compound
        "京",  # one character
        "北京市海淀区",  # the whole compound
        "市海淀",  # across a word boundary: still the printed text
        "喵星人奶茶",  # not in any dictionary
        "Invoice",
        "INVOICE",
        "ｉｎｖｏｉｃｅ",  # full-width letters
        "2024",
        "128.50",
        "¥128.50",
        "发票 2024",  # several terms, anywhere
        "3号楼",
    ],
)
def test_what_is_printed_is_found(conn, query):
    text = "北京市海淀区 喵星人奶茶铺 3号楼\n发票 Invoice 2024 ¥128.50"
    assert matches(conn, text, query)


@pytest.mark.parametrize(
    "query",
    [
        "海滨",  # shares a character
        "区发",  # would join two lines
        "128.5",  # a different amount
        "12",  # a piece of a number
        "invoices",
        "淀海",  # the right characters in the wrong order
        "发票 2025",  # one term missing
    ],
)
def test_what_is_not_printed_is_not_found(conn, query):
    text = "北京市海淀区 喵星人奶茶铺 3号楼\n发票 Invoice 2024 ¥128.50"
    assert not matches(conn, text, query)


@pytest.mark.parametrize(
    "query", ["", "   ", "& | ! :", "!", ":*", "<->", "'", "\\", "((", '"', "-"]
)
def test_operators_alone_are_no_query(conn, query):
    assert conn.execute("SELECT photo_ai.zh_tsquery(%s)", [query]).fetchone()[0] is None


def test_sql_in_a_query_is_plain_text(conn):
    tsquery = conn.execute(
        "SELECT photo_ai.zh_tsquery(%s)::text", ["'; DROP TABLE photo_ai.asset; --"]
    ).fetchone()[0]
    assert tsquery == "'drop' & 'table' & 'photo' <-> 'ai' <-> 'asset'"


def test_a_title_outranks_small_print(search_db):
    small = add_photo(
        search_db,
        line("会议纪要 2024年3月", height=40),
        line("附件：发票复印件一份", height=12, y=60),
    )
    title = add_photo(search_db, line("增值税发票", height=80), line("开票日期 2024", 30, 100))
    doubtful = add_photo(search_db, line("发票", height=80, score=0.5), line("其他", 80, 100))
    rows = search(search_db, "ocr:发票")
    assert ids(rows) == [title, doubtful, small]
    assert rows[0]["text_score"] > rows[1]["text_score"] > rows[2]["text_score"]


def printed(text: str, size: float, y: float, box_height: float | None = None) -> dict:
    """An OCR line of letters `size` pixels high (a CJK character as wide as it is high, any
    other half as wide), in a box `box_height` high: detection leaves a margin around text
    that is blurred, faint or seen at an angle, and more around small text than large."""
    units = sum(1 if ord(c) >= 0x3000 else 0.5 for c in text)
    height = box_height or size
    box = [[10, y], [10 + size * units, y], [10 + size * units, y + height], [10, y + height]]
    return {"text": text, "score": 0.98, "box": box}


def test_a_title_outranks_body_text_in_as_tall_a_box(search_db):
    """A photographed chat: its messages (letters 0.7 of the title's) come back in boxes
    as tall as the title's, and mention the word twice; the title still ranks first."""
    chat = add_photo(
        search_db,
        printed("会议纪要", 36, 0, box_height=46),
        printed("沁芳斋 龙井新茶", 25, 80, box_height=44),
        printed("明天去沁芳斋喝茶", 25, 160, box_height=44),
    )
    sign = add_photo(search_db, printed("沁芳斋茶馆", 36, 0, box_height=46))
    assert ids(search(search_db, "ocr:沁芳斋")) == [sign, chat]


def test_an_upgrade_indexes_the_ocr_text_again(make_database):
    """OCR text indexed by 0.2.0's rules is indexed by the new ones once photo_ai is updated."""
    with psycopg.connect(dsn(make_database()), autocommit=True) as conn:
        conn.execute("CREATE EXTENSION photo_ai VERSION '0.2.0' CASCADE")
        add_photo(
            conn,
            printed("会议纪要", 36, 0, box_height=46),
            printed("沁芳斋 龙井新茶", 25, 80, box_height=44),
        )
        old = conn.execute("SELECT tsv::text FROM photo_ai.ocr_result").fetchone()[0]
        conn.execute("ALTER EXTENSION photo_ai UPDATE")
        stored, rebuilt = conn.execute(
            "SELECT tsv::text, photo_ai.ocr_tsvector(text, lines)::text FROM photo_ai.ocr_result"
        ).fetchone()
        assert stored == rebuilt != old


def test_the_snippet_marks_the_line_that_matched(search_db):
    add_photo(search_db, "欢迎光临", "合计 ¥128.50 Invoice", "谢谢")
    (row,) = search(search_db, "ocr:invoice")
    assert row["snippet"] == "合计 ¥128.50 «Invoice»"


def test_rebuild_text_index_reindexes_every_text(search_db):
    photo = add_photo(search_db, "停车场 出口")
    search_db.execute("UPDATE photo_ai.ocr_result SET tsv = ''")
    assert search(search_db, "ocr:出口") == []
    assert search_db.execute("SELECT photo_ai.rebuild_text_index()").fetchone()[0] == 1
    assert ids(search(search_db, "ocr:出口")) == [photo]
    assert search_db.execute("SELECT photo_ai.text_parser()").fetchone()[0] == "jieba"


def test_zhparser_is_refused_clearly_where_it_is_not_installed(search_db):
    with pytest.raises(psycopg.errors.RaiseException, match="zhparser extension is not installed"):
        search_db.execute("SELECT photo_ai.rebuild_text_index('zhparser')")
    assert search_db.execute("SELECT photo_ai.text_parser()").fetchone()[0] == "jieba"
    with pytest.raises(psycopg.errors.RaiseException, match="zhparser or jieba"):
        search_db.execute("SELECT photo_ai.rebuild_text_index('bigram')")


def test_switching_to_zhparser_reindexes_with_its_configuration(search_db):
    """zhparser cannot be installed here: a stand-in configuration of the same name (the
    default parser) takes its place, so the switch and the zhparser branch run for real."""
    photo = add_photo(search_db, "增值税专用发票")
    search_db.execute("CREATE TEXT SEARCH CONFIGURATION photo_ai.zhparser_words (COPY = simple)")
    search_db.execute("SELECT photo_ai.rebuild_text_index('zhparser')")
    assert search_db.execute("SELECT photo_ai.text_parser()").fetchone()[0] == "zhparser"
    words = search_db.execute(
        "SELECT photo_ai.zhparser_tsvector('增值税专用发票')::text"
    ).fetchone()[0]
    tsv = search_db.execute("SELECT tsv::text FROM photo_ai.ocr_result").fetchone()[0]
    assert words.split(":")[0] in tsv, "the word part comes from the zhparser configuration"
    for query in ("ocr:发票", "ocr:专用", "ocr:票"):
        assert ids(search(search_db, query)) == [photo], "characters match whatever the parser"
    search_db.execute("SELECT photo_ai.rebuild_text_index('jieba')")
    assert ids(search(search_db, "ocr:专用发票")) == [photo]


def test_zhparser_compounds_on_when_indexing_and_off_when_querying(conn):
    """DESIGN.md's measured zhparser facts, as the functions' own settings."""
    settings = dict(
        conn.execute(
            "SELECT proname, proconfig FROM pg_proc WHERE proname IN "
            "('zhparser_tsvector', 'zhparser_tsquery')"
        ).fetchall()
    )
    assert "zhparser.multi_short=on" in settings["zhparser_tsvector"]
    query_settings = settings["zhparser_tsquery"]
    for name in ("multi_short", "multi_duality", "multi_zmain", "multi_zall"):
        assert f"zhparser.{name}=off" in query_settings


def test_a_whole_word_outranks_the_same_characters_across_words(search_db):
    """海淀 is in 上海淀粉厂 (上海 + 淀粉厂) only by accident: both are found (the text
    holds the characters), the district first, where jieba finds the word."""
    accident = add_photo(search_db, "上海淀粉厂")
    district = add_photo(search_db, "北京市海淀区")
    assert ids(search(search_db, "ocr:海淀")) == [district, accident]
