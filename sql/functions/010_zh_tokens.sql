-------------------------------------------------------------------------------
-- The tokenizers, in the server's own Python: thin shims over the photo_ai_plpython
-- package (photo_ai_plpython/tokenizer.py holds the code and its unit tests). The path put
-- on sys.path is the package's directory for this version, written in by the build.

-------------------------------------------------------------------------------
-- zh_tokens: Chinese word segmentation with jieba
create or replace function photo_ai.zh_tokens(_text text)
returns text[]
language plpython3u immutable strict parallel safe security definer
set search_path to pg_catalog, pg_temp
as $python$
    import sys
    package = "@PYTHON_PATH@"
    package in sys.path or sys.path.insert(0, package)
    from photo_ai_plpython import tokenizer
    return tokenizer.jieba_words(GD, _text)
$python$;
comment on function photo_ai.zh_tokens(text) is
    'Splits Chinese (and mixed) text into words with jieba''s search mode: compounds and the '
    'words inside them.';

-------------------------------------------------------------------------------
-- char_lexemes: the character-level tokenizer behind every text search: CJK runs as
-- single characters and overlapping pairs, letter and digit runs as words
create or replace function photo_ai.char_lexemes(_text text, _as_query boolean)
returns text
language plpython3u immutable strict parallel safe security definer
set search_path to pg_catalog, pg_temp
as $python$
    import sys
    package = "@PYTHON_PATH@"
    package in sys.path or sys.path.insert(0, package)
    from photo_ai_plpython import tokenizer
    if _as_query:
        return tokenizer.tsquery_literal(_text)
    return tokenizer.tsvector_literal(_text)
$python$;
comment on function photo_ai.char_lexemes(text, boolean) is
    'The character-level tokenizer: CJK runs as single characters and overlapping pairs, '
    'letter and digit runs as words, NFKC and case-folded. Returns a tsvector literal, or '
    'with _as_query the exact phrase as a tsquery literal (NULL without letters).';
