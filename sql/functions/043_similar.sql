-------------------------------------------------------------------------------
-- Photos like a photo: one already in the library (similar_assets) or an uploaded one
-- (search_by_image), by the cosine similarity of their CLIP embeddings.

-------------------------------------------------------------------------------
-- similar_assets: the photos nearest to one of the library's, itself left out; only the
-- same owner's photos when it has an owner (another user's library is not for showing)
create or replace function photo_ai.similar_assets(asset_id uuid, max_results int default 20)
returns setof photo_ai.similar_asset
language plpgsql volatile security definer
set search_path to pg_catalog, pg_temp
as $func$
declare
    _id uuid := similar_assets.asset_id;
    _asset record;
    _embedding public.vector;
begin
    select a.owner_id, a.deleted_at into _asset from photo_ai.source_asset a where a.id = _id;
    if not found then
        raise exception 'photo_ai: no asset with id %', _id using errcode = 'no_data_found';
    end if;
    if _asset.deleted_at is not null then
        raise exception 'photo_ai: asset % is in the trash', _id using errcode = 'no_data_found';
    end if;
    select c.embedding into _embedding from photo_ai.image_embedding c where c.asset_id = _id;
    if _embedding is null then
        raise exception 'photo_ai: asset % has no CLIP embedding yet', _id
            using errcode = 'no_data_found',
                  hint = 'Its clip job must run first: see SELECT * FROM photo_ai.status.';
    end if;
    if coalesce(max_results, 0) < 1 then
        return;  -- as hybrid_search: no rows asked for, none given
    end if;
    return query
    select h.asset_id, h.similarity
    -- one more, as the photo itself is among them (least(): max_results may be int's largest)
    from photo_ai.semantic_hits(_embedding,
        row(_asset.owner_id, null, null, null, null)::photo_ai.search_filter,
        least(max_results, 2147483646) + 1) h
    where h.asset_id <> _id
    order by h.rank
    limit max_results;
end
$func$;
comment on function photo_ai.similar_assets(uuid, int) is
    'The photos most like a given one by CLIP embedding (cosine similarity), itself excluded; '
    'limited to its owner''s photos when it has an owner. Errors clearly when the asset does '
    'not exist, is in the trash or has no embedding yet. max_results under 1 returns nothing.';

-------------------------------------------------------------------------------
-- image_embedding: the CLIP embedding the sidecar computes for uploaded image bytes
create or replace function photo_ai.image_embedding(_image bytea)
returns public.vector
language plpgsql volatile
set search_path to pg_catalog, pg_temp
as $func$
declare
    _model text := photo_ai.photos_clip_model();
    _answer jsonb;
begin
    _answer := photo_ai.sidecar_request('POST', '/v1/analyze',
        _fields => '{"tasks": "clip"}', _bytes => _image,
        _timeout_seconds => photo_ai.setting('search_timeout_seconds')::text::float8);
    if (_answer->>'status')::int <> 200 then
        raise exception 'photo_ai: search by image failed: %', photo_ai.sidecar_problem(_answer);
    end if;
    if _answer->'body'->'results'->'clip'->>'model' is distinct from _model then
        raise exception 'photo_ai: the photos were embedded with % but the sidecar uses %',
            _model, _answer->'body'->'results'->'clip'->>'model'
            using hint = 'Reprocess the photos (photo_ai.ai_reprocess) or wait for their clip jobs.';
    end if;
    return (_answer->'body'->'results'->'clip'->'embedding')::text::public.vector;
end
$func$;
comment on function photo_ai.image_embedding(bytea) is
    'The CLIP embedding of an uploaded image, computed by the sidecar; a clear error when the '
    'image is unreadable, the model missing or not the model of the stored photos.';

-------------------------------------------------------------------------------
-- search_by_image: the library's photos nearest to an uploaded one
create or replace function photo_ai.search_by_image(image bytea, max_results int default 20)
returns setof photo_ai.similar_asset
language plpgsql volatile security definer
set search_path to pg_catalog, pg_temp
as $func$
begin
    if coalesce(max_results, 0) < 1 then
        return;  -- as hybrid_search: no rows asked for, none given (and the sidecar not asked)
    end if;
    return query
    select h.asset_id, h.similarity
    from photo_ai.semantic_hits(photo_ai.image_embedding(image), null, max_results) h
    order by h.rank;
end
$func$;
comment on function photo_ai.search_by_image(bytea, int) is
    'The photos most like an uploaded image (its bytes: JPEG, PNG, HEIC, ...) by CLIP '
    'embedding, cosine similarity. The sidecar embeds the image; its errors (unreadable '
    'image, CLIP model missing) are raised as they are. max_results under 1 returns nothing.';
