-------------------------------------------------------------------------------
-- What the search page (photo_ai_web, `photo-ai serve`) shows beyond what hybrid_search,
-- similar_assets and search_by_image return: the photos themselves (path, date, owner,
-- checksum for the thumbnail cache), one photo's recognised text and faces with their
-- boxes, the library's owners, and the sidecar's health. The page searches as
-- photo_ai_reader, who cannot read photo_ai's tables: these functions are its window,
-- and they read assets only through photo_ai.source_asset, so Immich mode is served too.
-- What a search page calls is plpgsql, which keeps a statement's plan for the session: a SQL
-- function that is not inlined (SECURITY DEFINER never is) is planned again on every call,
-- which costs a search page more than the lookup itself (measured: bench/search_page.py).

-------------------------------------------------------------------------------
-- asset_cards: what a grid shows of each photo, in the order the ids are given
create or replace function photo_ai.asset_cards(asset_ids uuid[])
returns table
( asset_id uuid
, path text
, taken_at timestamptz
, owner_id uuid
, checksum text
, deleted_at timestamptz
)
language plpgsql stable security definer
set search_path to pg_catalog, pg_temp
as $func$
begin
    return query
    select a.id, a.path, a.taken_at, a.owner_id, pg_catalog.encode(a.checksum, 'hex'), a.deleted_at
    from pg_catalog.unnest(asset_ids) with ordinality u(id, n)
    join photo_ai.source_asset a on a.id = u.id
    order by u.n;
end
$func$;
comment on function photo_ai.asset_cards(uuid[]) is
    'The photos with these ids, in the order given (unknown ids left out): path, date taken, '
    'owner, checksum (hex) and when it went to the trash. What the search page shows of a '
    'hit and keys its thumbnail cache by.';

-------------------------------------------------------------------------------
-- recent_assets: the library newest first, for a search page with no query yet. The ids
-- only: asset_cards gives their cards, as it does for every other list the page shows.
create or replace function photo_ai.recent_assets
( max_results int default 60
, skip int default 0
, owner_id uuid default null
, taken_after timestamptz default null
, taken_before timestamptz default null
)
returns uuid[]
language sql stable security definer
set search_path to pg_catalog, pg_temp
as $func$
    -- sql, not plpgsql: a plpgsql function may not name a parameter and a column alike
    select array(
        select a.id
        from photo_ai.source_asset a
        where a.is_image and a.deleted_at is null
          and (recent_assets.owner_id is null or a.owner_id = recent_assets.owner_id)
          and (recent_assets.taken_after is null or a.taken_at >= recent_assets.taken_after)
          and (recent_assets.taken_before is null or a.taken_at <= recent_assets.taken_before)
        order by a.taken_at desc nulls last, a.id
        limit greatest(max_results, 0) offset greatest(skip, 0))
$func$;
comment on function photo_ai.recent_assets(int, int, uuid, timestamptz, timestamptz) is
    'The ids of the library''s photos (not trashed), newest first, max_results from position '
    'skip; filtered by owner and date taken (inclusive) like hybrid_search. '
    'photo_ai.asset_cards(ids) gives what a grid shows of them.';

-------------------------------------------------------------------------------
-- asset_detail: one photo and everything photo_ai knows of it, for its page
create or replace function photo_ai.asset_detail(asset_id uuid)
returns jsonb
language plpgsql stable security definer
set search_path to pg_catalog, pg_temp
as $func$
begin
    return (
        select pg_catalog.jsonb_build_object(
            'asset_id', a.id,
            'path', a.path,
            'taken_at', a.taken_at,
            'owner_id', a.owner_id,
            'checksum', pg_catalog.encode(a.checksum, 'hex'),
            'is_image', a.is_image,
            'deleted_at', a.deleted_at,
            'jobs', coalesce((
                select pg_catalog.jsonb_object_agg(j.task, pg_catalog.jsonb_build_object(
                           'state', j.state, 'attempts', j.attempts, 'last_error', j.last_error,
                           'finished_at', j.finished_at))
                from photo_ai.job j where j.asset_id = a.id), '{}'),
            'ocr', (
                select pg_catalog.jsonb_build_object('model', o.model, 'text', o.text,
                           'lines', o.lines, 'analysed_at', o.created_at)
                from photo_ai.ocr_result o where o.asset_id = a.id),
            'faces', (
                select pg_catalog.jsonb_build_object('model', s.model, 'analysed_at', s.scanned_at,
                           'faces', coalesce((
                               select pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(
                                          'face_id', f.id, 'box', f.box, 'score', f.score)
                                          order by f.box[1], f.box[2])
                               from photo_ai.face f where f.asset_id = a.id), '[]'))
                from photo_ai.face_scan s where s.asset_id = a.id),
            'clip', (
                select pg_catalog.jsonb_build_object('model', c.model)
                from photo_ai.image_embedding c where c.asset_id = a.id),
            'tags', (
                select pg_catalog.jsonb_agg(pg_catalog.to_jsonb(t))
                from photo_ai.asset_tags(a.id) t),
            'description', photo_ai.description(a.id),
            'description_en', photo_ai.description(a.id, 'en'))
        from photo_ai.source_asset a
        where a.id = asset_detail.asset_id);
end
$func$;
comment on function photo_ai.asset_detail(uuid) is
    'One photo as jsonb: path, date taken, owner, checksum, trash; its jobs per task (state, '
    'attempts, last error); its OCR text with every line and box; its faces with their boxes '
    '(pixels of the upright image); whether it has a CLIP embedding; its tags (names in both '
    'languages, probability) and description in both languages. NULL for an unknown id.';

-------------------------------------------------------------------------------
-- popular_tags: the tags on most photos, for the search page's tag filters
create or replace function photo_ai.popular_tags(owner_id uuid default null, max_results int default 24)
returns table (name text, name_en text, photos bigint)
language sql stable security definer
set search_path to pg_catalog, pg_temp
as $func$
    select l.name, l.name_en, count(*)
    from photo_ai.asset_tag t
    join photo_ai.label l on l.name = t.label
    join photo_ai.source_asset a on a.id = t.asset_id
    where a.deleted_at is null and (popular_tags.owner_id is null or a.owner_id = popular_tags.owner_id)
    group by l.name, l.name_en
    order by 3 desc, 1
    limit greatest(max_results, 0)
$func$;
comment on function photo_ai.popular_tags(uuid, int) is
    'The labels most photos (of an owner, or all) are tagged with, and how many: the search '
    'page''s tag filters.';

-------------------------------------------------------------------------------
-- asset_owners: who owns photos in the library, for the search page's owner filter.
-- Immich mode names them from Immich's users; standalone owners have no names.
create or replace function photo_ai.asset_owners()
returns table (owner_id uuid, name text, photos bigint)
language plpgsql stable security definer
set search_path to pg_catalog, pg_temp
as $func$
begin
    if photo_ai.immich_mode() and pg_catalog.to_regclass('public."user"') is not null then
        -- plpgsql's execute: the table exists only in Immich mode
        return query execute $sql$
            select a.owner_id, nullif(u.name, '')::text, count(*)
            from photo_ai.source_asset a
            left join public."user" u on u.id operator(pg_catalog.=) a.owner_id
            where a.is_image and a.deleted_at is null
            group by a.owner_id, u.name
            order by count(*) desc, a.owner_id
        $sql$;
    else
        return query
        select a.owner_id, null::text, count(*)
        from photo_ai.source_asset a
        where a.is_image and a.deleted_at is null
        group by a.owner_id
        order by count(*) desc, a.owner_id;
    end if;
end
$func$;
comment on function photo_ai.asset_owners() is
    'The owners of the library''s photos (not trashed) with how many each has, most first; '
    'NULL owner: photos without one. In Immich mode each owner''s name from Immich''s users.';

-------------------------------------------------------------------------------
-- sidecar_health: the sidecar's own account of itself (GET /health), or why it gave none.
-- It waits as long as a search waits for the sidecar (search_timeout_seconds): a backend
-- keeps its connection to the sidecar, and searches on the same backend expect that wait.
create or replace function photo_ai.sidecar_health()
returns jsonb
language plpgsql volatile security definer
set search_path to pg_catalog, pg_temp
as $func$
declare
    _answer jsonb := photo_ai.sidecar_request('GET', '/health',
        _timeout_seconds => photo_ai.setting('search_timeout_seconds')::text::float8);
begin
    if (_answer->>'status')::int = 200 then
        return pg_catalog.jsonb_build_object('reachable', true, 'url', _answer->'url',
            'version', _answer->'body'->'version', 'models', _answer->'body'->'models');
    end if;
    return pg_catalog.jsonb_build_object('reachable', false, 'url', _answer->'url',
        'error', coalesce(_answer->>'error', photo_ai.sidecar_problem(_answer)));
end
$func$;
comment on function photo_ai.sidecar_health() is
    'Asks the sidecar for its health (search_timeout_seconds at most): reachable, its URL, '
    'version and models '
    '(available, where each is looked for, what is missing); or reachable false and why.';
