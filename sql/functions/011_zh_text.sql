-------------------------------------------------------------------------------
-- zh_tsvector: the text search vector of Chinese, English and numbers mixed
create or replace function photo_ai.zh_tsvector(_text text)
returns tsvector
language sql immutable strict parallel safe
set search_path to pg_catalog, pg_temp
as $func$
    select pg_catalog.to_tsvector('pg_catalog.simple',
        pg_catalog.array_to_string(photo_ai.zh_tokens(pg_catalog.lower(_text)), ' '))
$func$;
comment on function photo_ai.zh_tsvector(text) is
    'Text search vector for Chinese and mixed text: jieba words (and the words inside '
    'compounds), lower-cased, in the simple configuration.';
