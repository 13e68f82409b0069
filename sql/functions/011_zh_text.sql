-------------------------------------------------------------------------------
-- Chinese full text. A text is indexed twice over, in one tsvector:
--   characters  char_lexemes(): every CJK character and neighbouring pair, every word of
--               letters or digits. Queries match on these: an exact phrase, so a word the
--               dictionary lacks (OCR'd shop names, new words) and a single character are
--               found, and nothing that does not contain the query is.
--   words       the word segmenter's words, zhparser where that extension is installed,
--               jieba otherwise (the setting text_parser, switched by rebuild_text_index).
--               A query's words are OR-ed with its phrase: they find nothing the phrase
--               does not, but a text where the query is a whole word ranks higher.
-- zh_tsvector() and zh_tsquery() are the pair the rest of photo_ai uses.

-------------------------------------------------------------------------------
-- text_parser: the word segmenter in use, 'zhparser' or 'jieba'
create or replace function photo_ai.text_parser()
returns text
language sql stable
set search_path to pg_catalog, pg_temp
as $func$
    select photo_ai.setting('text_parser') #>> '{}'
$func$;
comment on function photo_ai.text_parser() is
    'The word segmenter of the text index: zhparser or jieba (see rebuild_text_index).';

-------------------------------------------------------------------------------
-- is_cjk_text: only CJK characters (and spaces), the texts word segmenters are for
create or replace function photo_ai.is_cjk_text(_text text)
returns boolean
language sql immutable strict parallel safe
set search_path to pg_catalog, pg_temp
as $func$
    -- the CJK ranges of photo_ai_plpython/cjk.py, written in by the build
    select _text ~ '^[\s@CJK_RANGES@]*$'
       and _text ~ '\S'
$func$;
comment on function photo_ai.is_cjk_text(text) is
    'True when a text holds only CJK characters and spaces (at least one character).';

-------------------------------------------------------------------------------
-- jieba: search mode at index time, so a compound and the dictionary words inside it are
-- each a lexeme (增值税专用发票 -> 增值 增值税 专用 发票 专用发票). Only words of two or
-- more CJK characters are kept: the character lexemes hold everything else.
create or replace function photo_ai.jieba_tsvector(_text text)
returns tsvector
language sql immutable strict parallel safe
set search_path to pg_catalog, pg_temp
as $func$
    select pg_catalog.to_tsvector('pg_catalog.simple', pg_catalog.array_to_string(array(
        select w from pg_catalog.unnest(photo_ai.zh_tokens(pg_catalog.lower(_text))) w
        where pg_catalog.char_length(w) > 1 and photo_ai.is_cjk_text(w)), ' '))
$func$;
comment on function photo_ai.jieba_tsvector(text) is
    'The words jieba finds in a text (search mode: compounds and the words inside them), '
    'two CJK characters or more.';

-- The query side needs no segmentation: since search mode indexes every dictionary word
-- whole, a CJK query that is a word is found as one lexeme. (Segmenting it would load
-- jieba's dictionary, about a second, in every new connection that searches, and a
-- phrase of its words rarely matches: search mode interleaves the words inside them.)
create or replace function photo_ai.jieba_tsquery(_text text)
returns tsquery
language sql immutable strict parallel safe
set search_path to pg_catalog, pg_temp
as $func$
    select pg_catalog.phraseto_tsquery('pg_catalog.simple',
                                       pg_catalog.regexp_replace(_text, '\s+', '', 'g'))
$func$;
comment on function photo_ai.jieba_tsquery(text) is
    'A CJK query as one word, the lexeme jieba''s search mode indexes when it is one.';

-------------------------------------------------------------------------------
-- zhparser (SCWS). Measured: with default settings two-character words inside a
-- compound are missed (北京 in 北京市). Indexing with multi_short on recovers them; at
-- query time it must be off, or one word turns into a phrase of pieces and stops matching
-- (multi_zmain and multi_zall break two-character queries). The settings are ordinary
-- GUCs, so each function sets them for its own duration only.
create or replace function photo_ai.zhparser_tsvector(_text text)
returns tsvector
language plpgsql stable strict
set search_path to pg_catalog, pg_temp
set zhparser.multi_short to on
set zhparser.multi_duality to off
set zhparser.multi_zmain to off
set zhparser.multi_zall to off
as $func$
begin
    -- the configuration exists only where zhparser does: looked up when called
    return pg_catalog.to_tsvector('photo_ai.zhparser_words'::text::regconfig, _text);
end
$func$;
comment on function photo_ai.zhparser_tsvector(text) is
    'The words zhparser finds in a text, with short words inside compounds (multi_short on).';

create or replace function photo_ai.zhparser_tsquery(_text text)
returns tsquery
language plpgsql stable strict
set search_path to pg_catalog, pg_temp
set zhparser.multi_short to off
set zhparser.multi_duality to off
set zhparser.multi_zmain to off
set zhparser.multi_zall to off
as $func$
begin
    return pg_catalog.phraseto_tsquery('photo_ai.zhparser_words'::text::regconfig, _text);
end
$func$;
comment on function photo_ai.zhparser_tsquery(text) is
    'A query as the phrase of the words zhparser finds in it, every compound setting off.';

-------------------------------------------------------------------------------
-- zh_tsvector: the index of a text, characters and words
create or replace function photo_ai.zh_tsvector(_text text)
returns tsvector
language plpgsql stable strict parallel safe security definer
set search_path to pg_catalog, pg_temp
as $func$
begin
    return photo_ai.char_lexemes(_text, false)::tsvector
        || case photo_ai.text_parser()
               when 'zhparser' then photo_ai.zhparser_tsvector(_text)
               else photo_ai.jieba_tsvector(_text) end;
end
$func$;
comment on function photo_ai.zh_tsvector(text) is
    'Text search vector for Chinese, English and numbers mixed: every CJK character and '
    'neighbouring pair, letter and digit words (NFKC, case-folded), and the words of the '
    'text_parser (zhparser or jieba).';

-------------------------------------------------------------------------------
-- phrase_tsquery: one phrase (a term, or a quoted run of terms) as it must occur
create or replace function photo_ai.phrase_tsquery(_phrase text)
returns tsquery
language plpgsql stable strict parallel safe
set search_path to pg_catalog, pg_temp
as $func$
declare
    _chars tsquery := photo_ai.char_lexemes(_phrase, true)::tsquery;
    _words tsquery;
begin
    if _chars is null or not photo_ai.is_cjk_text(_phrase) then
        return _chars;
    end if;
    _words := case photo_ai.text_parser()
                  when 'zhparser' then photo_ai.zhparser_tsquery(_phrase)
                  else photo_ai.jieba_tsquery(_phrase) end;
    if pg_catalog.numnode(_words) > 0 and _words <> _chars then
        return _chars || _words;
    end if;
    return _chars;
end
$func$;
comment on function photo_ai.phrase_tsquery(text) is
    'The tsquery of one phrase: its exact character phrase, OR its words'' phrase for CJK '
    'text (which ranks whole-word matches higher). NULL when it has no letters.';

-------------------------------------------------------------------------------
-- zh_tsquery: every whitespace-separated term of a text, each an exact phrase
create or replace function photo_ai.zh_tsquery(_text text)
returns tsquery
language plpgsql stable strict parallel safe security definer
set search_path to pg_catalog, pg_temp
as $func$
declare
    _query tsquery;
    _term tsquery;
begin
    for _term in
        select photo_ai.phrase_tsquery(t)
        from pg_catalog.regexp_split_to_table(_text, '\s+') t
    loop
        if _term is not null then
            _query := case when _query is null then _term else _query && _term end;
        end if;
    end loop;
    return _query;
end
$func$;
comment on function photo_ai.zh_tsquery(text) is
    'The text search query of plain text: every whitespace-separated term must occur, each '
    'as it is written (Chinese, English and numbers mixed). Operators and quotes are plain '
    'text. NULL when the text has no letters or digits.';
