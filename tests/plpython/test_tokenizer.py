"""The character tokenizer, run as plain Python (no cluster): what the SQL functions
photo_ai.char_lexemes and zh_tokens return is what these return."""

from __future__ import annotations

import re

from photo_ai_plpython import tokenizer


def lexemes(literal: str) -> dict[str, list[int]]:
    found = re.findall(r"'([^']+)':([\d,]+)", literal)
    return {lexeme: [int(p) for p in positions.split(",")] for lexeme, positions in found}


def test_cjk_runs_become_characters_and_pairs_at_their_positions():
    assert lexemes(tokenizer.tsvector_literal("海淀区")) == {
        "海": [1], "淀": [2], "区": [3], "海淀": [1], "淀区": [2],
    }  # fmt: skip


def test_letters_and_digits_are_words_normalised_and_case_folded():
    assert lexemes(tokenizer.tsvector_literal("Invoice ＮＯ.128.50")) == {
        "invoice": [1], "no": [2], "128": [3], "50": [4],
    }  # fmt: skip


def test_spaces_inside_a_cjk_run_are_ocr_noise_and_lines_never_join():
    assert lexemes(tokenizer.tsvector_literal("停 车场\n出口"))["停车"] == [1]
    positions = lexemes(tokenizer.tsvector_literal("停车\n场"))
    assert "车场" not in positions and positions["场"] == [4], "one position between lines"


def test_a_query_is_the_exact_phrase_of_its_pairs():
    assert tokenizer.tsquery_literal("海淀区") == "'海淀' <1> '淀区'"
    assert tokenizer.tsquery_literal("海") == "'海'"
    assert tokenizer.tsquery_literal("发票 No.8") == "'发票' <2> 'no' <1> '8'"
    assert tokenizer.tsquery_literal("!? …") is None


def test_a_word_longer_than_a_lexeme_may_be_is_cut_into_a_phrase_of_pieces():
    word = "a" * 5000
    pieces = lexemes(tokenizer.tsvector_literal(word))
    assert set(map(len, pieces)) == {tokenizer.MAX_WORD_CHARS}
    assert tokenizer.tsquery_literal(word).count("<1>") == 5000 // tokenizer.MAX_WORD_CHARS - 1
    assert len(tokenizer.tsquery_literal("\ufdf2" * 300)) < 4000, "NFKC cannot blow it up"


def test_a_huge_text_is_looked_at_only_as_far_as_positions_reach():
    literal = tokenizer.tsvector_literal("字" * 10_000_000)
    assert max(max(p) for p in lexemes(literal).values()) == tokenizer.MAX_POSITION


def test_every_lexeme_is_made_of_letters_digits_or_cjk_so_literals_need_no_escaping():
    literal = tokenizer.tsvector_literal("it's a \\ 'quoted' \"text\" -- ; 发票")
    assert set(lexemes(literal)) == {"it", "s", "a", "quoted", "text", "发", "票", "发票"}


def test_jieba_search_mode_gives_compounds_and_the_words_inside_them():
    cache: dict = {}
    words = tokenizer.jieba_words(cache, "增值税专用发票")
    assert {"增值", "增值税", "发票"} <= set(words)
    assert tokenizer.jieba_words(cache, "发票") == ["发票"] and "photo_ai.jieba" in cache
