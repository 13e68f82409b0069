-------------------------------------------------------------------------------
-- zh_tokens: Chinese word segmentation with jieba, in the server's own Python
create or replace function photo_ai.zh_tokens(_text text)
returns text[]
language plpython3u immutable strict parallel safe security definer
set search_path to pg_catalog, pg_temp
as $python$
    tokenizer = GD.get("photo_ai.jieba")
    if tokenizer is None:
        import logging
        import jieba
        jieba.setLogLevel(logging.WARNING)
        tokenizer = jieba.Tokenizer()
        tokenizer.initialize()
        GD["photo_ai.jieba"] = tokenizer
    # Search mode also yields the words inside a compound (增值税 -> 增值, 增值税).
    return [w for w in (t.strip() for t in tokenizer.cut_for_search(_text)) if w]
$python$;
comment on function photo_ai.zh_tokens(text) is
    'Splits Chinese (and mixed) text into words with jieba''s search mode: compounds and the '
    'words inside them.';

-------------------------------------------------------------------------------
-- char_lexemes: the character-level tokenizer behind every text search. Text is
-- NFKC-normalised and case-folded, then cut into runs:
--   * a run of CJK characters (spaces inside it are OCR noise and are skipped) is indexed
--     as every character and every pair of neighbours: 海淀区 -> 海 淀 区 海淀 淀区;
--   * a run of letters and digits is one word: Invoice -> invoice; 128.50 -> 128, 50.
-- A pair sits at its first character's position, so a query is the exact phrase of its
-- pairs (one character: itself), and it matches exactly the texts that contain it, known
-- to a dictionary or not. Lines lie one position further apart, so no phrase spans two.
-- Index (_as_query false): a tsvector literal. Query: a tsquery literal, NULL when the text
-- has no letters. Lexemes hold only letters and digits: the literals need no escaping.
create or replace function photo_ai.char_lexemes(_text text, _as_query boolean)
returns text
language plpython3u immutable strict parallel safe security definer
set search_path to pg_catalog, pg_temp
as $python$
    tokenizer = GD.get("photo_ai.char_tokenizer")
    if tokenizer is None:
        import re
        import unicodedata

        cjk = ("\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff"
               "\U00020000-\U0003134f")
        run = re.compile(rf"([{cjk}](?:\s*[{cjk}])*)|([^\W_{cjk}]+)")
        space = re.compile(r"\s+")

        def runs(text):
            """(position, is_cjk, characters) per run, positions counted from 1."""
            position = 1
            for line in unicodedata.normalize("NFKC", text).casefold().splitlines():
                for match in run.finditer(line):
                    if match.group(2):
                        yield position, False, match.group(2)
                        position += 1
                    else:
                        chars = space.sub("", match.group(1))
                        yield position, True, chars
                        position += len(chars)
                position += 1

        def index_lexemes(position, is_cjk, chars):
            if not is_cjk:
                return [(position, chars)]
            singles = [(position + i, c) for i, c in enumerate(chars)]
            pairs = [(position + i, chars[i:i + 2]) for i in range(len(chars) - 1)]
            return singles + pairs

        def query_lexemes(position, is_cjk, chars):
            if not is_cjk or len(chars) == 1:
                return [(position, chars)]
            return [(position + i, chars[i:i + 2]) for i in range(len(chars) - 1)]

        tokenizer = GD["photo_ai.char_tokenizer"] = (runs, index_lexemes, query_lexemes)
    runs, index_lexemes, query_lexemes = tokenizer

    if not _as_query:
        positions = {}
        for found in runs(_text):
            for position, lexeme in index_lexemes(*found):
                # tsvector positions stop at 16383
                positions.setdefault(lexeme, []).append(str(min(position, 16383)))
        return " ".join(f"'{lexeme}':{','.join(p)}" for lexeme, p in positions.items())

    phrase = [lexeme for found in runs(_text) for lexeme in query_lexemes(*found)]
    if not phrase:
        return None
    parts = [f"'{phrase[0][1]}'"]
    for (before, _), (position, lexeme) in zip(phrase, phrase[1:]):
        parts.append(f"<{position - before}> '{lexeme}'")
    return " ".join(parts)
$python$;
comment on function photo_ai.char_lexemes(text, boolean) is
    'The character-level tokenizer: CJK runs as single characters and overlapping pairs, '
    'letter and digit runs as words, NFKC and case-folded. Returns a tsvector literal, or '
    'with _as_query the exact phrase as a tsquery literal (NULL without letters).';
