-------------------------------------------------------------------------------
-- The OCR text index: each line weighted by how prominent it is in the photo, so a word
-- printed large as a title outranks the same word in small print.

-------------------------------------------------------------------------------
-- ocr_box_edge: the distance between two corners of an OCR box (its corners run top-left,
-- top-right, bottom-right, bottom-left, [x, y] in pixels)
create or replace function photo_ai.ocr_box_edge(_box jsonb, _from int, _to int)
returns float8
language sql immutable strict parallel safe
set search_path to pg_catalog, pg_temp
as $func$
    select pg_catalog.sqrt(((_box->_from->>0)::float8 - (_box->_to->>0)::float8) ^ 2
                         + ((_box->_from->>1)::float8 - (_box->_to->>1)::float8) ^ 2)
$func$;
comment on function photo_ai.ocr_box_edge(jsonb, int, int) is
    'The distance in pixels between two corners (0 to 3) of an OCR box.';

-------------------------------------------------------------------------------
-- ocr_line_height: a line's height, the mean of its left and right edges, so a rotated
-- line measures its letters, not its bounding rectangle
create or replace function photo_ai.ocr_line_height(_box jsonb)
returns float8
language sql immutable strict parallel safe
set search_path to pg_catalog, pg_temp
as $func$
    select (photo_ai.ocr_box_edge(_box, 0, 3) + photo_ai.ocr_box_edge(_box, 1, 2)) / 2
$func$;
comment on function photo_ai.ocr_line_height(jsonb) is
    'The height of an OCR line from its four corners (mean of the left and right edges).';

-------------------------------------------------------------------------------
-- ocr_line_size: how large a line's letters are, in pixels. A box's height overstates
-- them, by the margin detection leaves around blurred, low-contrast or tilted text (in
-- photographed pages body text measured up to the title's height); its length per
-- character does not, as a CJK character is as wide as it is high and a Latin one about
-- half as wide. So: the box's shorter side, or its longer side per character where that
-- is less (either way round, so a vertical line measures alike)
create or replace function photo_ai.ocr_line_size(_box jsonb, _text text)
returns float8
language sql immutable parallel safe
set search_path to pg_catalog, pg_temp
as $func$
    select least(m.height, m.width,
                 greatest(m.height, m.width) / greatest(1, c.wide + 0.5 * (c.chars - c.wide)))
    from (select photo_ai.ocr_line_height(_box) as height,
                 -- the mean of the top and bottom edges
                 (photo_ai.ocr_box_edge(_box, 0, 1) + photo_ai.ocr_box_edge(_box, 3, 2)) / 2
                     as width) m
    cross join (select pg_catalog.char_length(coalesce(_text, '')) as chars,
                       pg_catalog.char_length(pg_catalog.regexp_replace(coalesce(_text, ''),
                           '[^\u3000-\u9fff\uac00-\ud7af\uf900-\ufaff\uff00-\uff60\uffe0-\uffe6]',
                           '', 'g')) as wide) c
$func$;
comment on function photo_ai.ocr_line_size(jsonb, text) is
    'How large an OCR line''s letters are: its box''s shorter side, or its longer side per '
    'character (CJK 1, others 1/2) where that is less.';

-------------------------------------------------------------------------------
-- ocr_line_weight: A for the photo's largest text (titles, sign lettering), then B, C,
-- D as it gets smaller; a doubtful reading drops one step. A is for what a person notices
-- first: text within 15% of the largest. (At 3/4, a chat's messages, 0.73 of its title,
-- measured A as often as not, and ranked with the titles: bench/README.md.)
-- (_height and _tallest are the sizes of the line's letters and of the largest line's: the
-- names are 0.2.0's, and an upgrade cannot rename them)
create or replace function photo_ai.ocr_line_weight(_height float8, _tallest float8, _score float8)
returns "char"
language sql immutable parallel safe
set search_path to pg_catalog, pg_temp
as $func$
    select (array['A', 'B', 'C', 'D'])[least(4,
        case when _tallest is null or _tallest <= 0 or _height is null then 4
             when _height >= 0.85 * _tallest then 1
             when _height >= 0.5 * _tallest then 2
             when _height >= 0.3 * _tallest then 3
             else 4 end
        + (coalesce(_score, 1) < 0.8)::int)]::"char"
$func$;
comment on function photo_ai.ocr_line_weight(float8, float8, float8) is
    'The text search weight of an OCR line: A when its letters are 0.85 of the largest '
    'line''s or more, B from 1/2, C from 0.3, D below; one step lower when recognised with '
    'a score under 0.8.';

-------------------------------------------------------------------------------
-- ocr_tsvector: an OCR result's search vector, line by line with its weight (a line
-- with no box keeps weight D, the weight of plain text)
create or replace function photo_ai.ocr_tsvector(_text text, _lines jsonb)
returns tsvector
language plpgsql stable parallel safe security definer
set search_path to pg_catalog, pg_temp
as $func$
declare
    _tsv tsvector := '';
    _line record;
begin
    if coalesce(pg_catalog.jsonb_array_length(_lines), 0) = 0 then
        return pg_catalog.setweight(photo_ai.zh_tsvector(coalesce(_text, '')), 'D');
    end if;
    for _line in
        with measured as (
            select l->>'text' as text, (l->>'score')::float8 as score
                 , photo_ai.ocr_line_size(l->'box', l->>'text') as size
            from pg_catalog.jsonb_array_elements(_lines) with ordinality as e(l, n)
            order by e.n)
        select m.text, photo_ai.ocr_line_weight(m.size, max(m.size) over (), m.score) as weight
        from measured m
    loop
        -- || puts each line after the last: no phrase runs across two lines
        _tsv := _tsv || pg_catalog.setweight(photo_ai.zh_tsvector(coalesce(_line.text, '')),
                                             _line.weight);
    end loop;
    return _tsv;
end
$func$;
comment on function photo_ai.ocr_tsvector(text, jsonb) is
    'The search vector of an OCR result: every line''s zh_tsvector, weighted A to D by the '
    'size of its letters against the photo''s largest and by its recognition score.';

-------------------------------------------------------------------------------
-- create_zhparser_config: zhparser is optional, so it is only ever reached through the
-- catalog and dynamic SQL
create or replace function photo_ai.create_zhparser_config()
returns void
language plpgsql volatile
set search_path to pg_catalog, pg_temp
as $func$
declare
    _parser oid;
    _parser_name text;
begin
    if exists (select 1 from pg_catalog.pg_ts_config c
               where c.cfgname = 'zhparser_words' and c.cfgnamespace = 'photo_ai'::regnamespace) then
        return;
    end if;
    select p.oid, pg_catalog.format('%I.%I', n.nspname, p.prsname) into _parser, _parser_name
    from pg_catalog.pg_ts_parser p
    join pg_catalog.pg_namespace n on n.oid = p.prsnamespace
    join pg_catalog.pg_depend d on d.classid = 'pg_catalog.pg_ts_parser'::regclass and d.objid = p.oid
    join pg_catalog.pg_extension e on e.oid = d.refobjid and e.extname = 'zhparser'
    where d.deptype = 'e';
    if _parser is null then
        raise exception 'photo_ai: the zhparser extension is not installed in this database'
            using hint = 'CREATE EXTENSION zhparser, or keep jieba: photo_ai.rebuild_text_index(''jieba'')';
    end if;
    execute pg_catalog.format('create text search configuration photo_ai.zhparser_words (parser = %s)',
                              _parser_name);
    -- every token type but punctuation (w), as is: the character lexemes do the rest
    execute pg_catalog.format(
        'alter text search configuration photo_ai.zhparser_words add mapping for %s with pg_catalog.simple',
        (select pg_catalog.string_agg(pg_catalog.quote_ident(t.alias), ', ')
         from pg_catalog.ts_token_type(_parser) t where t.alias <> 'w'));
    -- created outside the extension script (zhparser came later): make it ours, so that
    -- DROP EXTENSION photo_ai takes it along
    if not exists (select 1 from pg_catalog.pg_depend d
                   where d.classid = 'pg_catalog.pg_ts_config'::regclass and d.deptype = 'e'
                     and d.objid = 'photo_ai.zhparser_words'::text::regconfig) then
        execute 'alter extension photo_ai add text search configuration photo_ai.zhparser_words';
    end if;
end
$func$;
comment on function photo_ai.create_zhparser_config() is
    'Creates the text search configuration photo_ai.zhparser_words on zhparser''s parser '
    '(every token type but punctuation, unchanged); a clear error where zhparser is missing.';

-------------------------------------------------------------------------------
-- rebuild_text_index: choose the word segmenter and re-index every OCR text with it
create or replace function photo_ai.rebuild_text_index(parser text default null)
returns bigint
language plpgsql volatile security definer
set search_path to pg_catalog, pg_temp
as $func$
declare
    _parser text := coalesce(rebuild_text_index.parser,
        case when exists (select 1 from pg_catalog.pg_extension where extname = 'zhparser')
             then 'zhparser' else 'jieba' end);
    _count bigint;
begin
    if _parser not in ('zhparser', 'jieba') then
        raise exception 'photo_ai: parser must be zhparser or jieba, got %', _parser;
    end if;
    if _parser = 'zhparser' then
        perform photo_ai.create_zhparser_config();
    end if;
    perform photo_ai.set_setting('text_parser', pg_catalog.to_jsonb(_parser));
    update photo_ai.ocr_result r set tsv = photo_ai.ocr_tsvector(r.text, r.lines);
    get diagnostics _count = row_count;
    raise notice 'photo_ai: % OCR texts indexed with %', _count, _parser;
    return _count;
end
$func$;
comment on function photo_ai.rebuild_text_index(text) is
    'Sets the word segmenter of the text index (zhparser or jieba; by default zhparser where '
    'that extension is installed) and re-computes the search vector of every OCR text. '
    'Returns how many were re-indexed.';

-- An install or upgrade that finds text_parser = zhparser (chosen when zhparser was there)
-- makes sure its configuration exists.
do $zhparser_config$
begin
    if photo_ai.text_parser() = 'zhparser' then
        perform photo_ai.create_zhparser_config();
    end if;
end
$zhparser_config$;

-- The install or upgrade that applies migration 031 (new rules for the text index) indexes
-- every OCR text again, now that the functions that build the index are the new ones.
do $reindex$
begin
    if exists (select 1 from photo_ai.migration
               where name = 'migrations/031_reindex_ocr_text.sql'
                 and applied_at >= pg_catalog.now()) then
        update photo_ai.ocr_result r set tsv = photo_ai.ocr_tsvector(r.text, r.lines);
    end if;
end
$reindex$;
