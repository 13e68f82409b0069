-- The search functions users type without the schema name (see 008_public_functions.sql).
create function public.hybrid_search
( query text
, max_results int default 50
, owner_id uuid default null
, taken_after timestamptz default null
, taken_before timestamptz default null
, text_weight float8 default 1.0
, semantic_weight float8 default 1.0
, rrf_k int default 60
, min_similarity float8 default null
)
returns setof photo_ai.search_hit
language plpgsql volatile
set search_path to pg_catalog, pg_temp
as $func$
begin
    return query select * from photo_ai.hybrid_search(query, max_results, owner_id, taken_after,
        taken_before, text_weight, semantic_weight, rrf_k, min_similarity);
end
$func$;
comment on function public.hybrid_search(text, int, uuid, timestamptz, timestamptz, float8, float8, int, float8) is
    'photo_ai.hybrid_search, reachable without the schema name.';

create function public.similar_assets(asset_id uuid, max_results int default 20)
returns setof photo_ai.similar_asset
language plpgsql volatile
set search_path to pg_catalog, pg_temp
as $func$
begin
    return query select * from photo_ai.similar_assets(asset_id, max_results);
end
$func$;
comment on function public.similar_assets(uuid, int) is
    'photo_ai.similar_assets, reachable without the schema name.';

create function public.search_by_image(image bytea, max_results int default 20)
returns setof photo_ai.similar_asset
language plpgsql volatile
set search_path to pg_catalog, pg_temp
as $func$
begin
    return query select * from photo_ai.search_by_image(image, max_results);
end
$func$;
comment on function public.search_by_image(bytea, int) is
    'photo_ai.search_by_image, reachable without the schema name.';
