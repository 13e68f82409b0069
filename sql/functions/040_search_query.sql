-------------------------------------------------------------------------------
-- What a search query says. Syntax: an optional prefix ocr: (text only) or clip: (meaning
-- only); filters person:<name> and tag:<label> anywhere; then terms separated by spaces, all of which must occur; "a quoted phrase" must
-- occur as written; -term or -"phrase" excludes photos whose text has it. Anything else
-- (operators, lone quotes, SQL) is plain text: only letters and digits reach a tsquery.

-------------------------------------------------------------------------------
-- search_terms: the terms of a query, and which ones are excluded (-term)
create or replace function photo_ai.search_terms(_query text)
returns table (term text, excluded boolean)
language sql immutable strict parallel safe
set search_path to pg_catalog, pg_temp
as $func$
    -- a "quoted phrase" (the closing quote may be missing) or a run of other characters,
    -- each with an optional leading minus; a minus inside a word (e-mail) is part of it
    select coalesce(m[2], m[4]), coalesce(m[1], m[3]) = '-'
    from pg_catalog.regexp_matches(_query, '(-?)"([^"]*)"?|(-?)([^\s"]+)', 'g') m
$func$;
comment on function photo_ai.search_terms(text) is
    'Splits a search query into terms ("quoted phrases" kept whole) and says which are '
    'excluded with a leading minus.';

-------------------------------------------------------------------------------
-- parse_search: prefix, text queries and the text to embed, in one record
create or replace function photo_ai.parse_search
( _query text
, out mode text                -- 'both', 'ocr' or 'clip'
, out include_query tsquery    -- what the OCR text must match (NULL: nothing to match)
, out exclude_query tsquery    -- what it must not (NULL: no exclusion)
, out semantic_text text       -- the query for CLIP: the wanted terms, without syntax
, out needles text[]           -- the wanted terms as typed, for the snippet
, out persons text[]           -- the names of person: terms
, out tags text[]              -- the labels of tag: terms
)
language plpgsql stable parallel safe
set search_path to pg_catalog, pg_temp
as $func$
declare
    -- a query longer than this is cut: no photo's text is matched by more
    _text text := pg_catalog.left(coalesce(_query, ''), 500);
    _prefix text[] := pg_catalog.regexp_match(_text, '^\s*(ocr|clip)\s*:(.*)$', 'i');
    -- a filter term: person:<name> or tag:<label>, the value quoted when it has spaces
    _filter_term constant text := '(?:^|\s)(person|tag):(?:"([^"]*)"?|([^\s"]+))';
    _term record;
    _phrase tsquery;
begin
    mode := coalesce(pg_catalog.lower(_prefix[1]), 'both');
    needles := '{}';
    _text := coalesce(_prefix[2], _text);
    select coalesce(array_agg(f.value) filter (where f.kind = 'person'), '{}')
         , coalesce(array_agg(f.value) filter (where f.kind = 'tag'), '{}')
      into persons, tags
    from (select pg_catalog.lower(m[1]) as kind, pg_catalog.btrim(coalesce(m[2], m[3])) as value
          from pg_catalog.regexp_matches(_text, _filter_term, 'gi') m
          where coalesce(m[2], m[3]) ~ '\S') f;
    _text := pg_catalog.regexp_replace(_text, _filter_term, ' ', 'gi');
    for _term in select * from photo_ai.search_terms(_text) loop
        _phrase := photo_ai.phrase_tsquery(_term.term);
        continue when _phrase is null;  -- no letters or digits: nothing to look for
        if _term.excluded then
            exclude_query := case when exclude_query is null then _phrase
                                  else exclude_query || _phrase end;
        else
            include_query := case when include_query is null then _phrase
                                  else include_query && _phrase end;
            semantic_text := pg_catalog.concat_ws(' ', semantic_text, _term.term);
            needles := needles || _term.term;
        end if;
    end loop;
end
$func$;
comment on function photo_ai.parse_search(text) is
    'Reads a search query: its prefix (ocr:, clip:), the tsquery its OCR text must match and '
    'the one it must not, the text to embed for CLIP, the terms to show in a snippet, the '
    'names of its person: terms and the labels of its tag: terms.';

-------------------------------------------------------------------------------
-- ocr_snippet: the first OCR line holding a wanted term, the term marked «»; else the
-- text's first line. A phrase the OCR split differently is shown by its first line.
create or replace function photo_ai.ocr_snippet(_text text, _needles text[])
returns text
language sql immutable parallel safe
set search_path to pg_catalog, pg_temp
as $func$
    select pg_catalog.left(coalesce(
        (select pg_catalog.substr(l.line, 1, f.at - 1) || '«' || pg_catalog.substr(l.line, f.at, f.len)
                || '»' || pg_catalog.substr(l.line, f.at + f.len)
         from pg_catalog.regexp_split_to_table(_text, '\n') with ordinality l(line, n)
         cross join pg_catalog.unnest(_needles) w(needle)
         cross join lateral (select pg_catalog.strpos(pg_catalog.lower(l.line), pg_catalog.lower(w.needle)) as at
                                  , pg_catalog.char_length(w.needle) as len) f
         where f.at > 0
         order by l.n, f.at
         limit 1),
        pg_catalog.split_part(_text, e'\n', 1)), 200)
$func$;
comment on function photo_ai.ocr_snippet(text, text[]) is
    'The OCR line that holds one of the wanted terms, the term marked «»; otherwise the first '
    'line. At most 200 characters.';
