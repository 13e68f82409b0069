-------------------------------------------------------------------------------
-- person: in a search. Names are looked up in photo_ai.person_asset, which stands
-- photo_ai's persons there in standalone mode and Immich's in Immich mode (set up with
-- photo_ai.source_asset, sql/functions/020 and 050), so search never knows the mode.

-------------------------------------------------------------------------------
-- photos_of_persons: the photos with a face of every named person (a name is matched
-- whole, ignoring case; several persons of one name count as that name). NULL when no
-- name is given: nothing to keep.
create or replace function photo_ai.photos_of_persons(_names text[], _owner_id uuid)
returns uuid[]
language plpgsql stable
set search_path to pg_catalog, pg_temp
as $func$
declare
    _wanted text[] := array(select distinct pg_catalog.lower(n) from pg_catalog.unnest(_names) n);
    _photos uuid[];
    _unknown text[];
begin
    if pg_catalog.cardinality(_wanted) = 0 then
        return null;
    end if;
    _photos := array(
        select pa.asset_id from photo_ai.person_asset pa
        where pg_catalog.lower(pa.name) = any(_wanted)
          and (_owner_id is null or pa.owner_id = _owner_id)
        group by pa.asset_id
        having count(distinct pg_catalog.lower(pa.name)) = pg_catalog.cardinality(_wanted));
    if pg_catalog.cardinality(_photos) = 0 then
        _unknown := array(select w from pg_catalog.unnest(_wanted) w
                          where not exists (select 1 from photo_ai.person_asset pa
                                            where pg_catalog.lower(pa.name) = w));
        if pg_catalog.cardinality(_unknown) > 0 then
            raise notice 'photo_ai: no person is named %', pg_catalog.array_to_string(_unknown, ', ');
        end if;
    end if;
    return _photos;
end
$func$;
comment on function photo_ai.photos_of_persons(text[], uuid) is
    'The photos (of an owner, or all) with a face of every named person; NULL when no name '
    'is given. A NOTICE names the names no person has.';

-------------------------------------------------------------------------------
-- filter_keeps: the owner and date range of a search's filter, for one photo
create or replace function photo_ai.filter_keeps
(_filter photo_ai.search_filter, _owner_id uuid, _taken_at timestamptz)
returns boolean
language sql immutable parallel safe
set search_path to pg_catalog, pg_temp
as $func$
    select ((_filter).owner_id is null or _owner_id = (_filter).owner_id)
       and ((_filter).taken_after is null or _taken_at >= (_filter).taken_after)
       and ((_filter).taken_before is null or _taken_at <= (_filter).taken_before)
$func$;
comment on function photo_ai.filter_keeps(photo_ai.search_filter, uuid, timestamptz) is
    'Whether a photo of this owner, taken then, is inside a search filter''s owner and dates.';

-------------------------------------------------------------------------------
-- photos_by_date: a search of person: terms alone lists their photos, newest first
create or replace function photo_ai.photos_by_date
(_asset_ids uuid[], _filter photo_ai.search_filter, _limit int, _rrf_k int)
returns setof photo_ai.search_hit
language sql stable
set search_path to pg_catalog, pg_temp
as $func$
    select p.id, 1.0::float8 / (_rrf_k + p.n), null::int, null::float8, null::int, null::float8, null::text
         , 'not asked'
    from (select a.id, row_number() over (order by a.taken_at desc nulls last, a.id) as n
          from photo_ai.source_asset a
          where a.id in (select pg_catalog.unnest(_asset_ids)) and a.deleted_at is null
            and photo_ai.filter_keeps(_filter, a.owner_id, a.taken_at)
            and ((_filter).excluded is null or not exists (
                    select 1 from photo_ai.ocr_result o
                    where o.asset_id = a.id and o.tsv @@ (_filter).excluded))) p
    order by p.n
    limit _limit
$func$;
comment on function photo_ai.photos_by_date(uuid[], photo_ai.search_filter, int, int) is
    'The given photos the filters keep, newest first, as search hits (score 1 / (rrf_k + '
    'place)): what a search of person: terms alone returns.';
