-------------------------------------------------------------------------------
-- enabled_tasks: the tasks queued for new images
create or replace function photo_ai.enabled_tasks()
returns photo_ai.task[]
language sql stable
set search_path to pg_catalog, pg_temp
as $func$
    select array(select pg_catalog.jsonb_array_elements_text(photo_ai.setting('tasks')))::photo_ai.task[]
$func$;
comment on function photo_ai.enabled_tasks() is 'The tasks configured to run on every image.';

-------------------------------------------------------------------------------
-- enqueue: queue (or queue again) tasks for assets; returns how many jobs were queued
create or replace function photo_ai.enqueue
( _asset_ids uuid[]
, _tasks photo_ai.task[] default null
, _priority smallint default 0
)
returns bigint
language plpgsql volatile security definer
set search_path to pg_catalog, pg_temp
as $func$
declare
    _queued bigint;
begin
    insert into photo_ai.job as j (asset_id, task, priority)
    select a.id, t.task, _priority
    from photo_ai.source_asset a
    cross join pg_catalog.unnest(coalesce(_tasks, photo_ai.enabled_tasks())) as t(task)
    where a.id = any(_asset_ids) and a.is_image and a.deleted_at is null
    on conflict (asset_id, task) do update
        set state = 'queued', priority = excluded.priority, attempts = 0
          , generation = j.generation + 1, run_after = pg_catalog.now()
          , lease_expires_at = null, worker_id = null, last_error = null, failed_step = null
          , enqueued_at = pg_catalog.now(), started_at = null, finished_at = null;
    get diagnostics _queued = row_count;
    if _queued > 0 then
        -- a constant payload, so a bulk insert collapses into one notification
        perform pg_catalog.pg_notify('photo_ai_jobs', '');
    end if;
    return _queued;
end
$func$;
comment on function photo_ai.enqueue(uuid[], photo_ai.task[], smallint) is
    'Queues tasks (default: the enabled ones) for image assets that are not deleted; a job '
    'already queued, running, done or failed for the same asset and task starts afresh.';

-------------------------------------------------------------------------------
-- drop_asset_work: forget jobs and results of assets that are gone or trashed
create or replace function photo_ai.drop_asset_work(_asset_ids uuid[])
returns void
language plpgsql volatile security definer
set search_path to pg_catalog, pg_temp
as $func$
begin
    delete from photo_ai.job where asset_id = any(_asset_ids);
    delete from photo_ai.ocr_result where asset_id = any(_asset_ids);
    delete from photo_ai.clip_embedding where asset_id = any(_asset_ids);
    delete from photo_ai.face_scan where asset_id = any(_asset_ids);
end
$func$;
comment on function photo_ai.drop_asset_work(uuid[]) is
    'Deletes the jobs and results of the given assets (deleted or moved to the trash).';

-------------------------------------------------------------------------------
-- retry_delay: the retry policy, in one place
create or replace function photo_ai.retry_delay(_attempts int)
returns interval
language sql stable
set search_path to pg_catalog, pg_temp
as $func$
    select pg_catalog.make_interval(secs => least(
        (photo_ai.setting('retry_base_seconds'))::text::float8 * 2 ^ greatest(_attempts - 1, 0),
        (photo_ai.setting('retry_max_seconds'))::text::float8))
$func$;
comment on function photo_ai.retry_delay(int) is
    'How long a job waits before its next try: retry_base_seconds doubled per attempt, '
    'at most retry_max_seconds.';

-------------------------------------------------------------------------------
-- requeue_expired_leases: jobs whose worker vanished become claimable again
create or replace function photo_ai.requeue_expired_leases()
returns bigint
language plpgsql volatile security definer
set search_path to pg_catalog, pg_temp
as $func$
declare
    _count bigint;
begin
    with expired as (
        select id from photo_ai.job
        where state = 'running' and lease_expires_at < pg_catalog.now()
        for update skip locked
    )
    update photo_ai.job j
    set state = case when j.attempts >= photo_ai.setting('max_attempts')::text::int
                     then 'failed'::photo_ai.job_state else 'queued' end
      , last_error = 'lease expired: the worker ' || j.worker_id || ' stopped before finishing'
      , failed_step = 'worker'
      , finished_at = case when j.attempts >= photo_ai.setting('max_attempts')::text::int
                           then pg_catalog.now() end
      , lease_expires_at = null, worker_id = null
    from expired e where j.id = e.id;
    get diagnostics _count = row_count;
    return _count;
end
$func$;
comment on function photo_ai.requeue_expired_leases() is
    'Returns jobs whose lease ran out (their worker died) to the queue, or to failed when '
    'they have used all their attempts.';

-------------------------------------------------------------------------------
-- claim_jobs: take up to _limit due jobs, with a lease, skipping what others hold
create or replace function photo_ai.claim_jobs(_worker_id text, _limit int)
returns setof photo_ai.job
language plpgsql volatile security definer
set search_path to pg_catalog, pg_temp
as $func$
begin
    return query
    with due as (
        select j.id from photo_ai.job j
        where j.state = 'queued' and j.run_after <= pg_catalog.now()
          -- a task whose model the sidecar lacks waits: re-checked once a minute
          and not exists (
              select 1 from photo_ai.missing_model m
              where m.task = j.task and m.checked_at > pg_catalog.now() - interval '1 minute')
        order by j.priority desc, j.run_after, j.id
        limit _limit
        for update skip locked
    )
    update photo_ai.job j
    set state = 'running', attempts = j.attempts + 1, worker_id = _worker_id
      , started_at = pg_catalog.now()
      , lease_expires_at = pg_catalog.now()
            + pg_catalog.make_interval(secs => photo_ai.setting('lease_seconds')::text::int)
    from due where j.id = due.id
    returning j.*;
end
$func$;
comment on function photo_ai.claim_jobs(text, int) is
    'Claims due jobs for a worker with FOR UPDATE SKIP LOCKED and a lease (lease_seconds); '
    'an attempt is counted at the claim.';

-------------------------------------------------------------------------------
-- finish_job: record the outcome of one claimed job
--   'done'    the result is written
--   'retry'   a transient failure: try again after the backoff, or fail when out of tries
--   'failed'  a permanent failure (the image itself is bad): no more tries
--   'wait'    not the asset's fault (model missing, sidecar down): no attempt is used
create or replace function photo_ai.finish_job
( _job photo_ai.job
, _outcome text
, _error text default null
, _step text default null
, _wait interval default null
)
returns photo_ai.job_state
language plpgsql volatile security definer
set search_path to pg_catalog, pg_temp
as $func$
declare
    _out_of_tries boolean := _job.attempts >= photo_ai.setting('max_attempts')::text::int;
    _state photo_ai.job_state;
begin
    _state := case
        when _outcome = 'done' then 'done'
        when _outcome = 'failed' or (_outcome = 'retry' and _out_of_tries) then 'failed'
        when _outcome in ('retry', 'wait') then 'queued'
    end::photo_ai.job_state;
    if _state is null then
        raise exception 'photo_ai: unknown job outcome %', _outcome;
    end if;
    -- the generation check leaves alone a job that was queued again meanwhile
    update photo_ai.job
    set state = _state
      , attempts = attempts - (_outcome = 'wait')::int
      , last_error = _error, failed_step = _step
      , run_after = case _outcome
            when 'retry' then pg_catalog.now() + photo_ai.retry_delay(_job.attempts)
            when 'wait' then pg_catalog.now() + coalesce(_wait, interval '1 minute')
            else run_after end
      , finished_at = case when _state in ('done', 'failed') then pg_catalog.now() end
      , lease_expires_at = null, worker_id = null
    where id = _job.id and generation = _job.generation and state = 'running';
    if not found then
        return null;  -- queued again or taken over meanwhile: not ours to settle
    end if;
    return _state;
end
$func$;
comment on function photo_ai.finish_job(photo_ai.job, text, text, text, interval) is
    'Records the outcome of a claimed job: done, retry (with backoff), failed, or wait '
    '(no attempt used: model missing or sidecar unreachable).';
