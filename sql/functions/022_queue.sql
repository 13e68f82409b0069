-------------------------------------------------------------------------------
-- The queue: one photo_ai.job row per (asset, task), reused when the asset is queued again.
-- Lock order, kept by everything that writes job rows or results, so that workers, triggers
-- and ai_reprocess never deadlock: first the asset row (the user's own statement, or
-- lock_asset), then the asset's job rows in id order (lock_jobs_of).

-------------------------------------------------------------------------------
-- worker_id: how a worker is named in photo_ai.job.worker_id
create or replace function photo_ai.worker_id()
returns text
language sql stable
set search_path to pg_catalog, pg_temp
as $func$
    select 'backend ' || pg_catalog.pg_backend_pid()
$func$;
comment on function photo_ai.worker_id() is
    'How a worker is named in photo_ai.job.worker_id: its backend pid.';

-------------------------------------------------------------------------------
-- lock_jobs_of: lock the job rows of assets in id order
create or replace function photo_ai.lock_jobs_of(_asset_ids uuid[])
returns void
language sql volatile
set search_path to pg_catalog, pg_temp
as $func$
    select from photo_ai.job j where j.asset_id = any(_asset_ids) order by j.id for update
$func$;
comment on function photo_ai.lock_jobs_of(uuid[]) is
    'Locks the job rows of the given assets in id order, the order every writer keeps.';

-------------------------------------------------------------------------------
-- enqueue: queue (or queue again) tasks for assets; returns how many jobs were queued
create or replace function photo_ai.enqueue
( _asset_ids uuid[]
, _tasks text[] default null
, _priority smallint default 0
)
returns bigint
language plpgsql volatile security definer
set search_path to pg_catalog, pg_temp
as $func$
declare
    _queued bigint;
begin
    perform photo_ai.lock_jobs_of(_asset_ids);
    insert into photo_ai.job as j (asset_id, task, priority)
    select a.id, t.task, _priority
    from photo_ai.source_asset a
    cross join pg_catalog.unnest(coalesce(_tasks, photo_ai.image_tasks())) as t(task)
    where a.id = any(_asset_ids) and a.is_image and a.deleted_at is null
    on conflict (asset_id, task) do update
        set state = 'queued', priority = excluded.priority, attempts = 0
          , generation = j.generation + 1, run_after = pg_catalog.now()
          , lease_expires_at = null, worker_id = null, last_error = null, last_outcome = null
          , enqueued_at = pg_catalog.now(), started_at = null, finished_at = null
          , source_checksum = null;
    get diagnostics _queued = row_count;
    if _queued > 0 then
        -- a constant payload, so a bulk insert collapses into one notification
        perform pg_catalog.pg_notify('photo_ai_jobs', '');
    end if;
    return _queued;
end
$func$;
comment on function photo_ai.enqueue(uuid[], text[], smallint) is
    'Queues tasks (default: the enabled image tasks) for image assets that are not deleted; '
    'a job already queued, running, done or failed for the same asset and task starts afresh.';

-------------------------------------------------------------------------------
-- drop_asset_work: forget jobs and results of assets that are gone or trashed
create or replace function photo_ai.drop_asset_work(_asset_ids uuid[])
returns void
language plpgsql volatile security definer
set search_path to pg_catalog, pg_temp
as $func$
begin
    perform photo_ai.lock_jobs_of(_asset_ids);
    delete from photo_ai.job where asset_id = any(_asset_ids);
    perform photo_ai.forget_results(_asset_ids);
end
$func$;
comment on function photo_ai.drop_asset_work(uuid[]) is
    'Deletes the jobs and every task''s results of the given assets (deleted or moved to '
    'the trash).';

-------------------------------------------------------------------------------
-- claim_jobs: take due jobs with a lease, skipping what others hold and what an
-- installation problem holds; the other due jobs of the same photos come along, so one
-- photo is sent to the sidecar once for all its tasks
create or replace function photo_ai.claim_jobs(_worker_id text, _limit int)
returns setof photo_ai.job
language plpgsql volatile security definer
set search_path to pg_catalog, pg_temp
as $func$
declare
    _held text[] := photo_ai.held_tasks();
begin
    return query
    with due as (
        select j.id, j.asset_id from photo_ai.job j
        where j.state = 'queued' and j.run_after <= pg_catalog.now()
          and not j.task = any(_held)
        order by j.priority desc, j.run_after, j.id
        limit _limit
        for update skip locked
    ), siblings as (
        select j.id from photo_ai.job j
        where j.asset_id in (select d.asset_id from due d) and j.id not in (select d.id from due d)
          and j.state = 'queued' and j.run_after <= pg_catalog.now()
          and not j.task = any(_held)
        for update skip locked
    )
    update photo_ai.job j
    set state = 'running', attempts = j.attempts + 1, worker_id = _worker_id
      , started_at = pg_catalog.now()
      , lease_expires_at = pg_catalog.clock_timestamp() + photo_ai.lease()
    where j.id in (select d.id from due d union all select s.id from siblings s)
    returning j.*;
end
$func$;
comment on function photo_ai.claim_jobs(text, int) is
    'Claims up to _limit due jobs (plus the other due jobs of the same photos) for a worker, '
    'FOR UPDATE SKIP LOCKED, with a lease (lease_seconds); an attempt is counted at the claim. '
    'Jobs an installation problem holds (photo_ai.problem) are left alone.';

create or replace function photo_ai.lease()
returns interval
language sql stable
set search_path to pg_catalog, pg_temp
as $func$
    select pg_catalog.make_interval(secs => photo_ai.setting('lease_seconds')::text::float8)
$func$;
comment on function photo_ai.lease() is 'How long a claim (or its last renewal) holds a job.';

-------------------------------------------------------------------------------
-- renew_leases: a worker still on its batch says so before each photo. Only once a quarter
-- of the lease has passed: a photo may take three quarters of lease_seconds, and a batch of
-- quick photos writes (and flushes) nothing for it.
create or replace function photo_ai.renew_leases(_batch photo_ai.job[])
returns void
language plpgsql volatile security definer
set search_path to pg_catalog, pg_temp
as $func$
declare
    _lease interval := photo_ai.lease();
begin
    -- SKIP LOCKED: a job someone is deleting or queuing again needs no renewal
    update photo_ai.job j set lease_expires_at = pg_catalog.clock_timestamp() + _lease
    where j.id in (select r.id from photo_ai.job r
                   join pg_catalog.unnest(_batch) b on b.id = r.id
                   where r.state = 'running' and r.worker_id = b.worker_id
                     and r.attempts = b.attempts and r.generation = b.generation
                     and r.lease_expires_at < pg_catalog.clock_timestamp() + 0.75 * _lease
                   for update of r skip locked);
end
$func$;
comment on function photo_ai.renew_leases(photo_ai.job[]) is
    'Extends the lease of a batch''s jobs its worker still holds, once a quarter of it has '
    'passed, so that a long batch is never taken over while its worker is alive.';

-------------------------------------------------------------------------------
-- finish_jobs: settle several claimed jobs alike; returns how many were still the claim's
create or replace function photo_ai.finish_jobs(_jobs photo_ai.job[], _kind text, _detail text)
returns bigint
language sql volatile security definer
set search_path to pg_catalog, pg_temp
as $func$
    select count(photo_ai.finish_job(j, _kind, _detail)) from pg_catalog.unnest(_jobs) j
$func$;
comment on function photo_ai.finish_jobs(photo_ai.job[], text, text) is
    'Settles claimed jobs with one outcome kind (photo_ai.finish_job); returns how many were '
    'still the claim''s to settle.';

-------------------------------------------------------------------------------
-- running_jobs: running jobs, locked in id order: those a worker holds, or (no worker
-- named) those whose lease ran out, their worker gone
create or replace function photo_ai.running_jobs(_worker_id text)
returns photo_ai.job[]
language sql volatile
set search_path to pg_catalog, pg_temp
as $func$
    select array(
        select j from photo_ai.job j
        where j.state = 'running'
          and (j.worker_id = _worker_id
               or (_worker_id is null and j.lease_expires_at < pg_catalog.now()))
        order by j.id
        for update skip locked)
$func$;
comment on function photo_ai.running_jobs(text) is
    'The running jobs a worker holds (or, given NULL, those whose lease ran out), locked.';

-------------------------------------------------------------------------------
-- requeue_expired_leases: jobs whose worker vanished become claimable again (or fail, out
-- of tries: the claim counted one)
create or replace function photo_ai.requeue_expired_leases()
returns bigint
language sql volatile security definer
set search_path to pg_catalog, pg_temp
as $func$
    select photo_ai.finish_jobs(photo_ai.running_jobs(null), 'lease_expired',
                                'lease expired: its worker stopped before finishing')
$func$;
comment on function photo_ai.requeue_expired_leases() is
    'Settles jobs whose lease ran out (their worker died) as the job policy says for '
    'lease_expired: queued again, or failed when they have used all their tries.';

-------------------------------------------------------------------------------
-- release_jobs: a worker out of time gives back what it claimed and did not start
create or replace function photo_ai.release_jobs(_batch photo_ai.job[])
returns bigint
language sql volatile security definer
set search_path to pg_catalog, pg_temp
as $func$
    select photo_ai.finish_jobs(_batch, 'released', 'given back unstarted')
$func$;
comment on function photo_ai.release_jobs(photo_ai.job[]) is
    'Returns a batch''s jobs its worker still holds to the queue, their tries given back.';

-------------------------------------------------------------------------------
-- release_held_jobs: a worker whose statement was cancelled (a service stopping) gives back
-- what its backend still holds, instead of leaving it to the lease
create or replace function photo_ai.release_held_jobs()
returns bigint
language sql volatile security definer
set search_path to pg_catalog, pg_temp
as $func$
    select photo_ai.release_jobs(photo_ai.running_jobs(photo_ai.worker_id()))
$func$;
comment on function photo_ai.release_held_jobs() is
    'Returns to the queue, tries given back, the jobs this backend''s worker claimed and did '
    'not finish (run it after cancelling CALL photo_ai.run_worker on the same connection).';
