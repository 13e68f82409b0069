-------------------------------------------------------------------------------
-- The trigger functions of Immich mode (attached by use_immich_assets, 050). Immich's
-- own order is upload, metadata, thumbnails, then machine learning on the preview; photo_ai
-- queues at the upload and lets the jobs wait for the preview (immich_preview_wait_seconds
-- at most), so that it analyses the same picture as Immich. Like the standalone triggers,
-- these never fail Immich's statement: a failure becomes a warning, and
-- photo_ai.backfill() queues whatever was missed.

-------------------------------------------------------------------------------
-- immich_preview_wait: how long queued work waits for a preview
create or replace function photo_ai.immich_preview_wait()
returns interval
language sql stable
set search_path to pg_catalog, pg_temp
as $func$
    select pg_catalog.make_interval(
        secs => (photo_ai.setting('immich_preview_wait_seconds'))::text::float8)
$func$;
comment on function photo_ai.immich_preview_wait() is
    'How long the queued work of an asset waits for Immich''s preview of it.';

-------------------------------------------------------------------------------
-- wait_for_preview / preview_ready: hold queued jobs until a preview exists, release them
create or replace function photo_ai.wait_for_preview(_asset_ids uuid[])
returns void
language sql volatile security definer
set search_path to pg_catalog, pg_temp
as $func$
    update photo_ai.job j
    set run_after = greatest(j.run_after, pg_catalog.now() + photo_ai.immich_preview_wait())
    where j.asset_id = any(_asset_ids) and j.state = 'queued'
$func$;
comment on function photo_ai.wait_for_preview(uuid[]) is
    'Holds the queued jobs of assets until Immich has made their preview (at most '
    'immich_preview_wait_seconds).';

create or replace function photo_ai.preview_ready(_asset_ids uuid[])
returns void
language sql volatile security definer
set search_path to pg_catalog, pg_temp
as $func$
    update photo_ai.job j
    set run_after = pg_catalog.now()
    where j.asset_id = any(_asset_ids) and j.state = 'queued' and j.run_after > pg_catalog.now()
$func$;
comment on function photo_ai.preview_ready(uuid[]) is
    'Lets the queued jobs that waited for these assets'' previews run now.';

-------------------------------------------------------------------------------
-- Immich's asset table: new assets are queued to wait for their preview; trashed ones lose
-- their work (Immich keeps its own rows for a restore), restored ones are analysed again
-- now; new content (a library rescan found the file changed) once Immich has made the new
-- preview. A move ("originalPath" alone, e.g. the storage template) is no new content: the
-- view resolves paths when the job runs, and only a job that failed is tried again.
create or replace function photo_ai.immich_assets_changed()
returns trigger
language plpgsql security definer
set search_path to pg_catalog, pg_temp
as $func$
declare
    _ids uuid[];
    _moved record;
begin
    if tg_op = 'INSERT' then
        _ids := array(select n.id from new_rows n);
        perform photo_ai.enqueue(_ids);
        perform photo_ai.wait_for_preview(_ids);
        return null;
    elsif tg_op = 'DELETE' then
        perform photo_ai.drop_asset_work(array(select o.id from old_rows o));
        return null;
    end if;
    perform photo_ai.drop_asset_work(array(
        select n.id from new_rows n join old_rows o on o.id = n.id
        where n."deletedAt" is not null and o."deletedAt" is null));
    perform photo_ai.enqueue(array(
        select n.id from new_rows n join old_rows o on o.id = n.id
        where n."deletedAt" is null and o."deletedAt" is not null));
    _ids := array(
        select n.id from new_rows n join old_rows o on o.id = n.id
        where n."deletedAt" is null and o."deletedAt" is null
          and (n.checksum is distinct from o.checksum or n.type is distinct from o.type));
    perform photo_ai.enqueue(_ids);
    perform photo_ai.wait_for_preview(_ids);
    for _moved in
        select j.asset_id, pg_catalog.array_agg(j.task) as tasks
        from new_rows n
        join old_rows o on o.id = n.id
        join photo_ai.job j on j.asset_id = n.id
        where n."originalPath" is distinct from o."originalPath" and n."deletedAt" is null
          and j.state = 'failed'
        group by j.asset_id
    loop
        perform photo_ai.enqueue(array[_moved.asset_id], _moved.tasks);
    end loop;
    return null;
exception when others then
    raise warning 'photo_ai: could not follow an % of assets (%); run photo_ai.backfill()',
        tg_op, sqlerrm;
    return null;
end
$func$;
comment on function photo_ai.immich_assets_changed() is
    'Trigger on Immich''s asset table: queues new assets (to run once Immich has made their '
    'preview), restored ones and ones whose content changed; drops the work of trashed and '
    'deleted ones; retries failed jobs of moved files; never fails Immich''s statement.';

-------------------------------------------------------------------------------
-- Immich's asset_file table (previews, thumbnails, encoded videos, sidecars)
create or replace function photo_ai.immich_previews_written()
returns trigger
language plpgsql security definer
set search_path to pg_catalog, pg_temp
as $func$
declare
    _ids uuid[] := array(select f."assetId" from new_rows f where f.type = 'preview');
begin
    if pg_catalog.cardinality(_ids) > 0 then
        perform photo_ai.preview_ready(_ids);
        if tg_op = 'INSERT' then
            -- a video becomes analysable once it has a preview frame
            perform photo_ai.queue_missing_jobs(_ids);
        end if;
    end if;
    return null;
exception when others then
    raise warning 'photo_ai: could not start the work waiting for previews (%)', sqlerrm;
    return null;
end
$func$;
comment on function photo_ai.immich_previews_written() is
    'Trigger on Immich''s asset_file table: a preview made (or made again) lets the work '
    'waiting for it run; a first preview also queues a video''s tasks. Never fails Immich''s '
    'statement.';
