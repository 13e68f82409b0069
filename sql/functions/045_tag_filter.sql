-------------------------------------------------------------------------------
-- tag: in a search, and the photos a search's filter terms keep.

-------------------------------------------------------------------------------
-- photos_with_tags: the photos tagged with every named label (a label is named by its
-- Chinese or English name or a synonym, ignoring case). NULL when no label is given.
create or replace function photo_ai.photos_with_tags(_names text[], _owner_id uuid)
returns uuid[]
language plpgsql stable
set search_path to pg_catalog, pg_temp
as $func$
declare
    _wanted text[] := array(select distinct pg_catalog.lower(n) from pg_catalog.unnest(_names) n);
    _labels record;
begin
    if pg_catalog.cardinality(_wanted) = 0 then
        return null;
    end if;
    select array_agg(m.name) as names, array_agg(m.w) filter (where m.name is null) as unknown
      into _labels
    from (select w, (select v.name from photo_ai.vocabulary v
                     where w in (pg_catalog.lower(v.name), pg_catalog.lower(v.name_en))
                        or w = any(select pg_catalog.lower(s) from pg_catalog.unnest(v.synonyms) s)
                     order by w <> pg_catalog.lower(v.name), w <> pg_catalog.lower(v.name_en), v.name
                     limit 1) as name
          from pg_catalog.unnest(_wanted) w) m;
    if pg_catalog.cardinality(_labels.unknown) > 0 then
        raise notice 'photo_ai: no label is called %', pg_catalog.array_to_string(_labels.unknown, ', ');
        return '{}';
    end if;
    return array(
        select t.asset_id from photo_ai.asset_tag t
        where t.label = any(_labels.names)
          and (_owner_id is null or exists (select 1 from photo_ai.source_asset a
                                            where a.id = t.asset_id and a.owner_id = _owner_id))
        group by t.asset_id
        having count(distinct t.label) = pg_catalog.cardinality(_labels.names));
end
$func$;
comment on function photo_ai.photos_with_tags(text[], uuid) is
    'The photos (of an owner, or all) tagged with every named label (Chinese or English name '
    'or synonym); NULL when no label is given. A NOTICE names the names no label has.';

-------------------------------------------------------------------------------
-- photos_kept: what the person: and tag: terms of a search keep (NULL: no such term)
create or replace function photo_ai.photos_kept(_persons text[], _tags text[], _owner_id uuid)
returns uuid[]
language sql stable
set search_path to pg_catalog, pg_temp
as $func$
    select case when p.ids is null then t.ids
                when t.ids is null then p.ids
                else array(select pg_catalog.unnest(p.ids) intersect select pg_catalog.unnest(t.ids)) end
    from (select photo_ai.photos_of_persons(_persons, _owner_id) as ids) p
       , (select photo_ai.photos_with_tags(_tags, _owner_id) as ids) t
$func$;
comment on function photo_ai.photos_kept(text[], text[], uuid) is
    'The photos a search''s filter terms keep: those of every person: and every tag: named '
    '(NULL when the query has neither).';
