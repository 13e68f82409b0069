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
