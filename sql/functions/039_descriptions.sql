-------------------------------------------------------------------------------
-- Descriptions: a short sentence about a photo, from what is known of it: when it was
-- taken, its strongest tags, the named people in it, its largest line of text. Built, not
-- generated: no captioning model can be had here (a captioner would be one more derived
-- task whose result replaces the sentence; ARCHITECTURE.md, "Tags").

-------------------------------------------------------------------------------
-- description_parts: the pieces of a description, in Chinese and English
create or replace function photo_ai.description_parts
( _asset_id uuid
, out taken_at timestamptz
, out tags text[]
, out tags_en text[]
, out people text[]
, out text_line text
)
language sql stable
set search_path to pg_catalog, pg_temp
as $func$
    select (select a.taken_at from photo_ai.source_asset a where a.id = _asset_id)
         , coalesce(s.names, '{}'), coalesce(s.names_en, '{}')
         , array(select distinct p.name from photo_ai.person_asset p
                 where p.asset_id = _asset_id and p.name <> '' order by p.name)
         , (select pg_catalog.left(coalesce(
                       (select pg_catalog.btrim(l->>'text')
                        from pg_catalog.jsonb_array_elements(o.lines) l
                        where pg_catalog.btrim(l->>'text') <> ''
                        order by photo_ai.ocr_line_size(l->'box', l->>'text') desc nulls last
                        limit 1),
                       -- a result without boxes: its first line
                       nullif(pg_catalog.btrim(pg_catalog.split_part(o.text, e'\n', 1)), '')), 40)
            from photo_ai.ocr_result o where o.asset_id = _asset_id)
    -- the four strongest tags, read once for both languages
    from (select array_agg(t.name order by t.n) as names, array_agg(t.name_en order by t.n) as names_en
          from photo_ai.asset_tags(_asset_id) with ordinality t(name, name_en, probability, n)
          where t.n <= 4) s
$func$;
comment on function photo_ai.description_parts(uuid) is
    'What a photo''s description says: date taken, its four strongest tags (Chinese and '
    'English), its named people, its largest OCR line.';

-------------------------------------------------------------------------------
-- description_sentence: the parts in one sentence, in Chinese or English
create or replace function photo_ai.description_sentence
(_taken_at timestamptz, _tags text[], _people text[], _text_line text, _english boolean)
returns text
language sql stable
set search_path to pg_catalog, pg_temp
as $func$
    select nullif(case when _english then
        pg_catalog.concat_ws('; ',
            nullif(pg_catalog.array_to_string(pg_catalog.array_prepend(
                pg_catalog.to_char(_taken_at, 'FMMonth YYYY'), _tags), ', '), ''),
            'people: ' || nullif(pg_catalog.array_to_string(_people, ', '), ''),
            'text in the photo: “' || _text_line || '”')
    else
        pg_catalog.concat_ws('；',
            nullif(pg_catalog.array_to_string(pg_catalog.array_prepend(
                pg_catalog.to_char(_taken_at, 'YYYY"年"FMMM"月"'), _tags), '，'), ''),
            '人物：' || nullif(pg_catalog.array_to_string(_people, '、'), ''),
            '照片里的文字：「' || _text_line || '」')
    end, '')
$func$;
comment on function photo_ai.description_sentence(timestamptz, text[], text[], text, boolean) is
    'A description from its parts (date taken, tags, named people, largest text line), in '
    'Chinese or English; NULL when there are none.';

-------------------------------------------------------------------------------
-- description: "2024年6月，海边，狗，日落；人物：小明；照片里的文字：「停车场」"
create or replace function photo_ai.description(asset_id uuid, language text default 'zh')
returns text
language sql stable security definer
set search_path to pg_catalog, pg_temp
as $func$
    select photo_ai.description_sentence(p.taken_at,
               case when e.english then p.tags_en else p.tags end, p.people, p.text_line, e.english)
    from photo_ai.description_parts(description.asset_id) p
       , (select pg_catalog.lower(coalesce(description.language, 'zh')) like 'en%' as english) e
$func$;
comment on function photo_ai.description(uuid, text) is
    'A short description of a photo in Chinese (language ''en'': English) from its date '
    'taken, strongest tags, named people and largest line of text; NULL when nothing is '
    'known of it yet.';

-------------------------------------------------------------------------------
-- description_tsvector: what the description arm of search matches: each tag's names in
-- both languages and its synonyms, weighted by how probable the tag is
create or replace function photo_ai.description_tsvector(_asset_id uuid)
returns tsvector
language plpgsql stable
set search_path to pg_catalog, pg_temp
as $func$
declare
    _tsv tsvector := '';
    _tag record;
begin
    for _tag in
        select pg_catalog.concat_ws(' ', l.name, l.name_en,
                                    pg_catalog.array_to_string(l.synonyms, ' ')) as words
             , case when t.probability >= 0.5 then 'A' when t.probability >= 0.3 then 'B'
                    when t.probability >= 0.15 then 'C' else 'D' end as weight
        from photo_ai.asset_tag t
        join photo_ai.label l on l.name = t.label
        where t.asset_id = _asset_id
        order by t.probability desc, l.name
    loop
        -- || puts each tag after the last: no phrase runs across two tags
        _tsv := _tsv || pg_catalog.setweight(photo_ai.zh_tsvector(_tag.words), _tag.weight::"char");
    end loop;
    return _tsv;
end
$func$;
comment on function photo_ai.description_tsvector(uuid) is
    'The search vector of a photo''s tags: names and synonyms, weight A from probability 0.5, '
    'B from 0.3, C from 0.15, D below.';

-------------------------------------------------------------------------------
-- write_description: store the description of a photo as it is now
create or replace function photo_ai.write_description(_asset_id uuid)
returns void
language sql volatile
set search_path to pg_catalog, pg_temp
as $func$
    -- the parts read once for both languages
    insert into photo_ai.asset_description as d (asset_id, description, description_en, tsv)
    select _asset_id
         , coalesce(photo_ai.description_sentence(p.taken_at, p.tags, p.people, p.text_line, false), '')
         , coalesce(photo_ai.description_sentence(p.taken_at, p.tags_en, p.people, p.text_line, true), '')
         , photo_ai.description_tsvector(_asset_id)
    from photo_ai.description_parts(_asset_id) p
    on conflict (asset_id) do update
        set description = excluded.description, description_en = excluded.description_en
          , tsv = excluded.tsv, updated_at = pg_catalog.now()
$func$;
comment on function photo_ai.write_description(uuid) is
    'Stores a photo''s description (both languages) and the search vector of its tags.';

-------------------------------------------------------------------------------
-- description_hits: the description arm of hybrid_search, best first: photos whose tags
-- match the query's words, in either language
create or replace function photo_ai.description_hits
(_include tsquery, _filter photo_ai.search_filter, _limit int)
returns table (asset_id uuid, rank int, score float8)
language sql stable parallel safe
set search_path to pg_catalog, pg_temp
as $func$
    select h.asset_id, (row_number() over (order by h.score desc, h.asset_id))::int, h.score
    from (
        select d.asset_id, pg_catalog.ts_rank('{0.1, 0.2, 0.4, 1.0}', d.tsv, _include)::float8 as score
        from photo_ai.asset_description d
        join photo_ai.source_asset a on a.id = d.asset_id
        where _include is not null and d.tsv @@ _include and a.deleted_at is null
          and photo_ai.filter_keeps(_filter, a.owner_id, a.taken_at)
          and ((_filter).excluded is null or not exists (
                  select 1 from photo_ai.ocr_result o
                  where o.asset_id = d.asset_id and o.tsv @@ (_filter).excluded))
          and ((_filter).asset_ids is null or d.asset_id in (select pg_catalog.unnest((_filter).asset_ids)))
        order by 2 desc, 1
        limit _limit
    ) h
$func$;
comment on function photo_ai.description_hits(tsquery, photo_ai.search_filter, int) is
    'The description arm of hybrid_search: photos whose tags (names in both languages, '
    'synonyms) match, ranked by ts_rank with the tags'' probability as weight; the same '
    'filters as the other arms.';
