-------------------------------------------------------------------------------
-- status: the queue at a glance, per task and state, with the model's availability
create or replace view photo_ai.status as
select t.task
     , s.state
     , coalesce(c.jobs, 0) as jobs
     , c.oldest_queued_age
     , coalesce(c.finished_last_hour, 0) as finished_last_hour
     , m.task is null as model_available
     , m.detail as model_detail
     , o.last_error as sidecar_error
from pg_catalog.unnest(pg_catalog.enum_range(null::photo_ai.task)) t(task)
cross join pg_catalog.unnest(pg_catalog.enum_range(null::photo_ai.job_state)) s(state)
left join lateral (
    select count(*) as jobs
         , pg_catalog.now() - min(j.enqueued_at) filter (where j.state = 'queued') as oldest_queued_age
         , count(*) filter (where j.finished_at > pg_catalog.now() - interval '1 hour')
               as finished_last_hour
    from photo_ai.job j where j.task = t.task and j.state = s.state
) c on true
left join photo_ai.missing_model m on m.task = t.task
left join photo_ai.sidecar_outage o on true
order by t.task, s.state;
comment on view photo_ai.status is
    'Jobs per task and state: how many, the age of the oldest queued, how many reached this '
    'state (done or failed) in the last hour; whether the sidecar has the task''s model (and where it looked if not); '
    'the last error reaching the sidecar while it is unreachable.';

-------------------------------------------------------------------------------
-- failed_jobs: what gave up, and why
create or replace view photo_ai.failed_jobs as
select j.asset_id, j.task, j.attempts, j.last_error, j.failed_step, a.path, j.finished_at as failed_at
from photo_ai.job j
left join photo_ai.source_asset a on a.id = j.asset_id
where j.state = 'failed'
order by j.finished_at desc;
comment on view photo_ai.failed_jobs is
    'Jobs that failed for good: asset, task, attempts, the error and the step that failed. '
    'photo_ai.retry_failed() queues them again.';

-------------------------------------------------------------------------------
-- retry_failed: queue failed jobs again with fresh attempts
create or replace function photo_ai.retry_failed(task text default null)
returns bigint
language plpgsql volatile security definer
set search_path to pg_catalog, pg_temp
as $func$
declare
    _count bigint := 0;
    _task photo_ai.task := retry_failed.task::photo_ai.task;
    _group record;
begin
    for _group in
        select j.task, array_agg(j.asset_id) as assets from photo_ai.job j
        where j.state = 'failed' and (_task is null or j.task = _task)
        group by j.task
    loop
        _count := _count + photo_ai.enqueue(_group.assets, array[_group.task]);
    end loop;
    return _count;
end
$func$;
comment on function photo_ai.retry_failed(text) is
    'Queues failed jobs again (all, or one task''s) with their attempts reset; returns how many.';

-------------------------------------------------------------------------------
-- queue_missing_jobs: jobs for the enabled tasks these assets have none for
create or replace function photo_ai.queue_missing_jobs(_asset_ids uuid[])
returns bigint
language plpgsql volatile security definer
set search_path to pg_catalog, pg_temp
as $func$
declare
    _count bigint;
begin
    insert into photo_ai.job (asset_id, task)
    select a.id, t.task
    from photo_ai.source_asset a
    cross join pg_catalog.unnest(photo_ai.enabled_tasks()) t(task)
    where (_asset_ids is null or a.id = any(_asset_ids)) and a.is_image and a.deleted_at is null
    on conflict do nothing;
    get diagnostics _count = row_count;
    if _count > 0 then
        perform pg_catalog.pg_notify('photo_ai_jobs', '');
    end if;
    return _count;
end
$func$;
comment on function photo_ai.queue_missing_jobs(uuid[]) is
    'Queues the enabled tasks of the given assets (NULL: all) that have no job yet: a '
    'library that existed before photo_ai, work a failed trigger missed, a video whose '
    'preview frame just appeared. Returns how many jobs were queued.';

-------------------------------------------------------------------------------
-- backfill: queue every image that lacks a job for an enabled task
create or replace function photo_ai.backfill()
returns bigint
language sql volatile security definer
set search_path to pg_catalog, pg_temp
as $func$
    select photo_ai.queue_missing_jobs(null)
$func$;
comment on function photo_ai.backfill() is
    'Queues every image asset that has no job yet for an enabled task (an existing library, '
    'or work a failed trigger missed); returns how many jobs were queued.';

-------------------------------------------------------------------------------
-- asset_results: what photo_ai knows about one asset, as ai_reprocess returns it
create or replace function photo_ai.asset_results(_asset_id uuid)
returns jsonb
language sql stable security definer
set search_path to pg_catalog, pg_temp
as $func$
    select pg_catalog.jsonb_build_object(
        'asset_id', _asset_id,
        'jobs', (select pg_catalog.jsonb_object_agg(j.task, pg_catalog.jsonb_build_object(
                    'state', j.state, 'attempts', j.attempts, 'last_error', j.last_error))
                 from photo_ai.job j where j.asset_id = _asset_id),
        'ocr', (select pg_catalog.jsonb_build_object('model', o.model, 'text', o.text,
                    'lines', pg_catalog.jsonb_array_length(o.lines))
                from photo_ai.ocr_result o where o.asset_id = _asset_id),
        'clip', (select pg_catalog.jsonb_build_object('model', c.model,
                    'dim', public.vector_dims(c.embedding))
                 from photo_ai.clip_embedding c where c.asset_id = _asset_id),
        'faces', (select pg_catalog.jsonb_build_object('model', s.model, 'count', s.face_count)
                  from photo_ai.face_scan s where s.asset_id = _asset_id))
$func$;
comment on function photo_ai.asset_results(uuid) is
    'One asset''s jobs and results (OCR text, CLIP model and dimension, face count) as jsonb.';

-------------------------------------------------------------------------------
-- ai_reprocess: regenerate an asset's results, queued ahead of the backlog or now
create or replace function photo_ai.ai_reprocess
( asset_id uuid
, tasks text[] default null
, immediate boolean default false
)
returns jsonb
language plpgsql volatile security definer
set search_path to pg_catalog, pg_temp
as $func$
declare
    _id uuid := ai_reprocess.asset_id;
    _tasks photo_ai.task[] := coalesce(ai_reprocess.tasks::photo_ai.task[], photo_ai.enabled_tasks());
    _jobs photo_ai.job[];
begin
    if not exists (select 1 from photo_ai.source_asset a where a.id = _id) then
        raise exception 'photo_ai: no asset with id %', _id using errcode = 'no_data_found';
    end if;
    if exists (select 1 from photo_ai.source_asset a where a.id = _id and a.deleted_at is not null) then
        raise exception 'photo_ai: asset % is in the trash', _id;
    end if;
    -- reprocessing jumps the queue: priority 10 against the backlog's 0
    perform photo_ai.enqueue(array[_id], _tasks, 10::smallint);
    if immediate then
        with mine as (
            update photo_ai.job j
            set state = 'running', attempts = j.attempts + 1, started_at = pg_catalog.now()
              , worker_id = 'ai_reprocess ' || pg_catalog.pg_backend_pid()
              , lease_expires_at = pg_catalog.now()
                    + pg_catalog.make_interval(secs => photo_ai.setting('lease_seconds')::text::int)
            where j.asset_id = _id and j.task = any(_tasks) and j.state = 'queued'
            returning j.*)
        select array_agg(m) into _jobs from mine m;
        perform photo_ai.process_jobs(_jobs);
    end if;
    return photo_ai.asset_results(_id);
end
$func$;
comment on function photo_ai.ai_reprocess(uuid, text[], boolean) is
    'Regenerates an asset''s results (all enabled tasks, or the given ones): queued ahead of '
    'the backlog, or with immediate => true run now; returns the asset''s jobs and results.';
