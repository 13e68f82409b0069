-------------------------------------------------------------------------------
-- The trigger functions of Immich mode (attached by use_immich_assets, 050). Immich's own
-- jobs compute the image tasks (its OCR job writes asset_ocr, its smart search job
-- smart_search); these triggers record each as the task's finished job, so that
-- everything built on jobs (derived tasks, backfill, photo_ai.status) works as in
-- standalone mode, and queue the derived tasks that read it. They never fail Immich's
-- statement: a failure becomes a warning, and photo_ai.backfill() catches up.

-------------------------------------------------------------------------------
-- record_immich_results: Immich's job wrote a task's results for these assets: the
-- task's job is done (by 'immich', for the asset's current content), and what reads it is
-- queued
create or replace function photo_ai.record_immich_results(_task text, _asset_ids uuid[])
returns bigint
language plpgsql volatile security definer
set search_path to pg_catalog, pg_temp
as $func$
declare
    _readers text[] := photo_ai.derived_tasks_reading(_task);
begin
    perform photo_ai.lock_jobs_of(_asset_ids);
    insert into photo_ai.job as j (asset_id, task, state, worker_id, finished_at, source_checksum)
    select a.id, _task, 'done', 'immich', pg_catalog.now(), a.checksum
    from photo_ai.source_asset a
    where a.id = any(_asset_ids) and a.is_image
    on conflict (asset_id, task) do update
        set state = 'done', generation = j.generation + 1, attempts = 0, worker_id = 'immich'
          , finished_at = pg_catalog.now(), source_checksum = excluded.source_checksum
          , last_error = null, last_outcome = null, lease_expires_at = null;
    if pg_catalog.cardinality(_readers) = 0 then
        return 0;
    end if;
    return photo_ai.enqueue(_asset_ids, _readers);
end
$func$;
comment on function photo_ai.record_immich_results(text, uuid[]) is
    'Immich mode: records that Immich''s own job computed a task''s results for these '
    'assets (the job is done, worker immich) and queues the derived tasks that read them; '
    'returns how many jobs were queued.';

-------------------------------------------------------------------------------
-- immich_rows_written: Immich wrote (or removed) rows of a task's results, keyed by
-- "assetId"; tg_argv[0] names the task
create or replace function photo_ai.immich_rows_written()
returns trigger
language plpgsql security definer
set search_path to pg_catalog, pg_temp
as $func$
declare
    _ids uuid[];
begin
    if tg_op = 'DELETE' then
        -- Immich's OCR job deletes and inserts a photo's lines in one statement, whose
        -- INSERT trigger records it: here only the photos left with no row at all
        execute pg_catalog.format(
            'select array(select distinct o."assetId" from old_rows o where not exists ('
            'select 1 from %I.%I r where r."assetId" = o."assetId"))',
            tg_table_schema, tg_table_name)
        into _ids;
    else
        _ids := array(select distinct n."assetId" from new_rows n);
    end if;
    if pg_catalog.cardinality(_ids) > 0 then
        perform photo_ai.record_immich_results(tg_argv[0], _ids);
    end if;
    return null;
exception when others then
    raise warning 'photo_ai: could not follow Immich''s % of %.% (%); run photo_ai.backfill()',
        tg_op, tg_table_schema, tg_table_name, sqlerrm;
    return null;
end
$func$;
comment on function photo_ai.immich_rows_written() is
    'Trigger on Immich''s result tables (asset_ocr, smart_search): records the task (its '
    'argument) as done by Immich for the assets written and queues what reads it; never '
    'fails Immich''s statement.';

-------------------------------------------------------------------------------
-- immich_assets_deleted: a deleted asset leaves nothing of photo_ai behind. Trashing is no
-- deletion: Immich keeps its rows for a restore, and an external library's offline files
-- are trashed and come back; search leaves trashed assets out (source_asset.deleted_at).
create or replace function photo_ai.immich_assets_deleted()
returns trigger
language plpgsql security definer
set search_path to pg_catalog, pg_temp
as $func$
begin
    perform photo_ai.drop_asset_work(array(select o.id from old_rows o));
    return null;
exception when others then
    raise warning 'photo_ai: could not forget deleted assets (%); run photo_ai.backfill()', sqlerrm;
    return null;
end
$func$;
comment on function photo_ai.immich_assets_deleted() is
    'Trigger on Immich''s asset table: deletes the jobs and photo_ai results of deleted '
    'assets; never fails Immich''s statement.';

-------------------------------------------------------------------------------
-- record_missing_immich_results: what Immich's jobs wrote while photo_ai was not watching
-- (before it was attached, or while a restore had taken its triggers away), recorded as
-- if the triggers had seen it; backfill() then queues what reads it
create or replace function photo_ai.record_missing_immich_results()
returns bigint
language plpgsql volatile security definer
set search_path to pg_catalog, pg_temp
as $func$
declare
    _source record;
    _ids uuid[];
    _queued bigint := 0;
begin
    for _source in
        select distinct i.table_name, i.task from photo_ai.immich_triggers() i
        where i.task is not null order by 1
    loop
        execute pg_catalog.format($sql$
            select array(select distinct r."assetId" from public.%I r
                         where not exists (select 1 from photo_ai.job j
                                           where j.asset_id = r."assetId" and j.task = $1
                                             and j.state = 'done'))
            $sql$, _source.table_name)
        into _ids using _source.task;
        if pg_catalog.cardinality(_ids) > 0 then
            _queued := _queued + photo_ai.record_immich_results(_source.task, _ids);
        end if;
    end loop;
    return _queued;
end
$func$;
comment on function photo_ai.record_missing_immich_results() is
    'Immich mode: records the results Immich''s jobs wrote that photo_ai has not recorded '
    '(an existing library, a restore) and queues what reads them; returns how many jobs '
    'were queued.';
