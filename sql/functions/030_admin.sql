-------------------------------------------------------------------------------
-- What an admin sees and does: the status views, retrying, backfilling, reprocessing.

-------------------------------------------------------------------------------
-- status: the queue at a glance, per task and state, and what holds work back
create or replace view photo_ai.status as
select t.name as task
     , s.state
     , coalesce(c.jobs, 0) as jobs
     , c.oldest_queued_age
     , coalesce(c.finished_last_hour, 0) as finished_last_hour
     , m.scope is null as model_available
     , m.detail as model_detail
     , o.detail as sidecar_error
     , coalesce(own.detail, case when t.reads = '{}' then o.detail end) as problem
from photo_ai.task t
cross join pg_catalog.unnest(pg_catalog.enum_range(null::photo_ai.job_state)) s(state)
left join lateral (
    select count(*) as jobs
         , pg_catalog.now() - min(j.enqueued_at) filter (where j.state = 'queued') as oldest_queued_age
         , count(*) filter (where j.finished_at > pg_catalog.now() - interval '1 hour')
               as finished_last_hour
    from photo_ai.job j where j.task = t.name and j.state = s.state
) c on true
left join photo_ai.problem own on own.scope = t.name
left join photo_ai.problem m on m.scope = t.name and m.kind in ('model_missing', 'model_unavailable')
left join photo_ai.problem o on o.scope = 'sidecar'
where t.name = any(photo_ai.enabled_tasks()) or exists (select 1 from photo_ai.job j where j.task = t.name)
order by t.name, s.state;
comment on view photo_ai.status is
    'Jobs per task and state: how many, the age of the oldest queued, how many reached this '
    'state (done or failed) in the last hour; problem: why queued jobs of the task wait (the '
    'sidecar cannot be reached or refuses the key, a wrong sidecar_url, a missing model), '
    'with what fixes it. model_available/model_detail and sidecar_error split the same out.';

-------------------------------------------------------------------------------
-- asset_path: a function, not a join, so that the view below does not depend on
-- source_asset, which Immich mode re-creates over Immich's tables (and Immich's in-app
-- restore drops with them)
create or replace function photo_ai.asset_path(_asset_id uuid)
returns text
language sql stable security definer
set search_path to pg_catalog, pg_temp
as $func$
    select a.path from photo_ai.source_asset a where a.id = _asset_id
$func$;
comment on function photo_ai.asset_path(uuid) is
    'The path photo_ai reads an asset from (for photo_ai.failed_jobs, which readers see).';

-------------------------------------------------------------------------------
-- failed_jobs: what gave up, and why
create or replace view photo_ai.failed_jobs as
select j.asset_id, j.task, j.attempts, j.last_error, j.last_outcome
     , photo_ai.asset_path(j.asset_id) as path, j.finished_at as failed_at
from photo_ai.job j
where j.state = 'failed'
order by j.finished_at desc;
comment on view photo_ai.failed_jobs is
    'Jobs that failed for good: asset, task, attempts, the error and its kind (last_outcome: '
    'bad_image, timeout, server_error, ...). photo_ai.retry_failed() queues them again.';

-------------------------------------------------------------------------------
-- retry_failed: queue failed jobs again with fresh attempts
create or replace function photo_ai.retry_failed(task text default null)
returns bigint
language plpgsql volatile security definer
set search_path to pg_catalog, pg_temp
as $func$
declare
    _count bigint := 0;
    _group record;
begin
    for _group in
        select j.task, array_agg(j.asset_id) as assets from photo_ai.job j
        where j.state = 'failed' and (retry_failed.task is null or j.task = retry_failed.task)
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
-- queue_missing_jobs: the work these assets lack, per enabled task: no job yet (a derived
-- task: once everything it reads is done), or a result computed from older content
create or replace function photo_ai.queue_missing_jobs(_asset_ids uuid[])
returns bigint
language plpgsql volatile security definer
set search_path to pg_catalog, pg_temp
as $func$
declare
    _task record;
    _ids uuid[];
    _count bigint := 0;
begin
    for _task in
        select t.name, t.reads from photo_ai.task t
        where t.name = any(photo_ai.enabled_tasks())
          and (t.reads <> '{}' or t.name = any(photo_ai.image_tasks()))
        order by t.reads <> '{}', t.name
    loop
        _ids := array(
            select a.id from photo_ai.source_asset a
            left join photo_ai.job j on j.asset_id = a.id and j.task = _task.name
            where (_asset_ids is null or a.id = any(_asset_ids)) and a.is_image and a.deleted_at is null
              and ((j.id is null and not exists (
                        select 1 from pg_catalog.unnest(_task.reads) r
                        where not exists (select 1 from photo_ai.job i
                                          where i.asset_id = a.id and i.task = r and i.state = 'done')))
                   or (j.state = 'done' and j.source_checksum is distinct from a.checksum)));
        if pg_catalog.cardinality(_ids) > 0 then
            _count := _count + photo_ai.enqueue(_ids, array[_task.name]);
        end if;
    end loop;
    return _count;
end
$func$;
comment on function photo_ai.queue_missing_jobs(uuid[]) is
    'Queues what the given assets (NULL: all) lack: enabled tasks with no job yet (derived '
    'ones once their inputs are done) and results computed from older content than the '
    'photo''s checksum. Returns how many jobs were queued.';

-------------------------------------------------------------------------------
-- backfill: queue every image's missing and outdated work
create or replace function photo_ai.backfill()
returns bigint
language plpgsql volatile security definer
set search_path to pg_catalog, pg_temp
as $func$
begin
    return case when photo_ai.immich_mode() then photo_ai.record_missing_immich_results() else 0 end
         + photo_ai.queue_missing_jobs(null);
end
$func$;
comment on function photo_ai.backfill() is
    'Queues every image asset''s missing work (an existing library, work a failed trigger '
    'missed; in Immich mode, what Immich''s jobs wrote before photo_ai was there) and every '
    'result older than its photo''s content; returns how many jobs were queued.';

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
                 from photo_ai.job j where j.asset_id = _asset_id))
        || photo_ai.describe_results(_asset_id)
$func$;
comment on function photo_ai.asset_results(uuid) is
    'One asset''s jobs and what each task stored (as its describe function tells) as jsonb.';

-------------------------------------------------------------------------------
-- claim_photo_jobs: ai_reprocess's claim of one photo's queued jobs of some tasks
create or replace function photo_ai.claim_photo_jobs(_asset_id uuid, _tasks text[], _worker_id text)
returns photo_ai.job[]
language sql volatile security definer
set search_path to pg_catalog, pg_temp
as $func$
    with mine as (
        update photo_ai.job j
        set state = 'running', attempts = j.attempts + 1, started_at = pg_catalog.now()
          , worker_id = _worker_id, lease_expires_at = pg_catalog.now() + photo_ai.lease()
        where j.asset_id = _asset_id and j.task = any(_tasks) and j.state = 'queued'
          and j.run_after <= pg_catalog.now()
        returning j.*)
    select array_agg(m::photo_ai.job order by m.id) from mine m
$func$;
comment on function photo_ai.claim_photo_jobs(uuid, text[], text) is
    'Claims the queued jobs of one photo for the given tasks (ai_reprocess, immediate).';

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
    _tasks text[] := coalesce(ai_reprocess.tasks, case when photo_ai.immich_mode()
        then array(select w.task from photo_ai.immich_writers() w) else photo_ai.image_tasks() end);
    _unknown text[] := array(select t from pg_catalog.unnest(_tasks) t
                             where not exists (select 1 from photo_ai.task r where r.name = t));
    _image_tasks text[] := array(select t from pg_catalog.unnest(_tasks) t
                                 where photo_ai.is_image_task(t));
    _worker_id text := 'ai_reprocess ' || pg_catalog.pg_backend_pid();
    _jobs photo_ai.job[];
    _round int;
begin
    if pg_catalog.cardinality(_unknown) > 0 then
        raise exception 'photo_ai: unknown task %', pg_catalog.array_to_string(_unknown, ', ')
            using hint = 'SELECT name FROM photo_ai.task lists the tasks.';
    end if;
    if not exists (select 1 from photo_ai.source_asset a where a.id = _id) then
        raise exception 'photo_ai: no asset with id %', _id using errcode = 'no_data_found';
    end if;
    if exists (select 1 from photo_ai.source_asset a where a.id = _id and a.deleted_at is not null) then
        raise exception 'photo_ai: asset % is in the trash', _id;
    end if;
    if photo_ai.immich_mode() and pg_catalog.cardinality(_image_tasks) > 0 then
        -- Immich's tables are written now; their triggers queue photo_ai's derived tasks
        perform photo_ai.reprocess_in_immich(_id, _image_tasks);
        _tasks := array(select pg_catalog.unnest(_tasks) except select pg_catalog.unnest(_image_tasks));
    end if;
    -- the lock order of every writer (sql/functions/022_queue.sql): the photo, then its jobs
    perform photo_ai.lock_asset(_id);
    -- reprocessing jumps the queue: priority 10 against the backlog's 0
    perform photo_ai.enqueue(array[_id], _tasks, 10::smallint);
    if immediate then
        -- the image tasks, then the derived tasks their results queued, and theirs (a chain
        -- of ten at most)
        _jobs := photo_ai.claim_photo_jobs(_id, _tasks, _worker_id);
        for _round in 1 .. 10 loop
            if _jobs is not null then
                perform photo_ai.process_photo(_jobs, _id);
            end if;
            _jobs := photo_ai.claim_photo_jobs(_id, array(
                select t.name from photo_ai.task t where t.reads <> '{}'), _worker_id);
            exit when _jobs is null;
        end loop;
    end if;
    return photo_ai.asset_results(_id);
end
$func$;
comment on function photo_ai.ai_reprocess(uuid, text[], boolean) is
    'Regenerates an asset''s results (all enabled image tasks, or the given tasks): queued '
    'ahead of the backlog, or with immediate => true run now, with the derived tasks they '
    'feed; returns the asset''s jobs and results. In Immich mode it writes OCR and CLIP into '
    'Immich''s tables now, as Immich''s jobs would (immediate: and indexes them now).';
