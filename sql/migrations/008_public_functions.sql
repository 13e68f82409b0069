-- The few functions users type without the schema name live in public. Plain CREATE (not
-- OR REPLACE) so that nothing already there is taken over; plpgsql so that the body is
-- checked when called, after the photo_ai functions exist.
create function public.ai_reprocess
( asset_id uuid
, tasks text[] default null
, immediate boolean default false
)
returns jsonb
language plpgsql volatile
set search_path to pg_catalog, pg_temp
as $func$
begin
    return photo_ai.ai_reprocess(asset_id, tasks, immediate);
end
$func$;
comment on function public.ai_reprocess(uuid, text[], boolean) is
    'photo_ai.ai_reprocess, reachable without the schema name.';
