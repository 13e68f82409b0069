-------------------------------------------------------------------------------
-- The worker: CALL photo_ai.run_worker() claims a batch, then settles it photo by photo,
-- committing after each photo and renewing the lease of the rest, so that a long batch is
-- never taken over while its worker lives, and a worker killed mid-batch loses at most
-- the photo in hand.

-------------------------------------------------------------------------------
-- is_current: whether a claimed job is still this claim's to settle
create or replace function photo_ai.is_current(_job photo_ai.job)
returns boolean
language sql stable
set search_path to pg_catalog, pg_temp
as $func$
    select exists (
        select 1 from photo_ai.job j
        where j.id = _job.id and j.generation = _job.generation and j.attempts = _job.attempts
          and j.worker_id = _job.worker_id and j.state = 'running')
$func$;
comment on function photo_ai.is_current(photo_ai.job) is
    'True while a claimed job is still running for the claim that holds it: not queued again, '
    'taken over or deleted with its photo.';

-------------------------------------------------------------------------------
-- answer_result: an image task's result in a sidecar answer, with the analysed image's
-- size (face boxes are pixels of it)
create or replace function photo_ai.answer_result(_answer jsonb, _task text)
returns jsonb
language sql immutable
set search_path to pg_catalog, pg_temp
as $func$
    select (_answer->'body'->'results'->_task)
           || pg_catalog.jsonb_build_object('image', _answer->'body'->'image')
$func$;
comment on function photo_ai.answer_result(jsonb, text) is
    'An image task''s result in a sidecar answer, with the analysed image''s size.';

-------------------------------------------------------------------------------
-- settle_job: store the job's result (the sidecar's answer for an image task, computed
-- here for a derived one), queue what reads it, and finish the job as the policy says
create or replace function photo_ai.settle_job(_job photo_ai.job, _answer jsonb, _checksum bytea)
returns photo_ai.job_state
language plpgsql volatile security definer
set search_path to pg_catalog, pg_temp
as $func$
declare
    _outcome record;
    _is_image boolean := photo_ai.is_image_task(_job.task);
    _readers text[];
begin
    if not photo_ai.is_current(_job) then
        return null;  -- nothing is stored for work that is no longer this claim's
    end if;
    if _is_image then
        select * into _outcome from photo_ai.answer_outcome(_answer, _job.task);
    else
        select 'result' as kind, null::text as detail into _outcome;
    end if;
    if _outcome.kind = 'result' then
        begin
            perform photo_ai.store_result(_job.task, _job.asset_id,
                case when _is_image then photo_ai.answer_result(_answer, _job.task)
                     else photo_ai.compute_result(_job.task, _job.asset_id) end);
        exception when others then
            return photo_ai.finish_job(_job, 'write_failed', 'storing the result: ' || sqlerrm);
        end;
        perform photo_ai.clear_problems(_job.task);
        _readers := photo_ai.derived_tasks_reading(_job.task);
        if pg_catalog.cardinality(_readers) > 0 then
            perform photo_ai.enqueue(array[_job.asset_id], _readers);
        end if;
    end if;
    return photo_ai.finish_job(_job, _outcome.kind, _outcome.detail, _checksum);
end
$func$;
comment on function photo_ai.settle_job(photo_ai.job, jsonb, bytea) is
    'Stores a job''s result and queues the derived tasks that read it, or records why it '
    'failed, as the job policy says; NULL when the job is no longer its claim''s.';

-------------------------------------------------------------------------------
-- photo_answers: the sidecar's answer for each image task of a photo, {task: answer}. One
-- request asks for all of them; when the sidecar refuses that request as a whole (a task it
-- does not know: it is older than the database), each task is asked on its own, so only
-- the unknown one waits.
create or replace function photo_ai.photo_answers(_path text, _tasks text[])
returns jsonb
language plpgsql volatile security definer
set search_path to pg_catalog, pg_temp
as $func$
declare
    _answer jsonb;
begin
    if pg_catalog.cardinality(_tasks) = 0 then
        return '{}';
    end if;
    _answer := photo_ai.analyze_request(_path, _tasks);
    if pg_catalog.cardinality(_tasks) > 1 and _answer->'body'->'error'->>'kind' = 'bad_request' then
        return (select pg_catalog.jsonb_object_agg(t, photo_ai.analyze_request(_path, array[t]))
                from pg_catalog.unnest(_tasks) t);
    end if;
    return (select pg_catalog.jsonb_object_agg(t, _answer) from pg_catalog.unnest(_tasks) t);
end
$func$;
comment on function photo_ai.photo_answers(text, text[]) is
    'Asks the sidecar for a photo''s image tasks in one request (each task alone if it '
    'refuses the request as a whole); returns {task: answer}.';

-------------------------------------------------------------------------------
-- process_photo: the jobs of one photo in a claimed batch: one sidecar request for all its
-- image tasks, then each job settled under the locks that keep out a concurrent delete and
-- newer work
create or replace function photo_ai.process_photo(_batch photo_ai.job[], _asset_id uuid)
returns jsonb
language plpgsql volatile security definer
set search_path to pg_catalog, pg_temp
as $func$
declare
    _jobs photo_ai.job[] := array(select b from pg_catalog.unnest(_batch) b
                                  where b.asset_id = _asset_id order by b.id);
    _photo record;
    _answers jsonb := '{}';
    _job photo_ai.job;
    _ended text[] := '{}';  -- how each job ended
begin
    -- Results and their job's state commit together, so a commit lost in a server crash
    -- only means the photo is analysed again: no need to wait for the disk on each photo.
    perform pg_catalog.set_config('synchronous_commit', 'off', true);
    select a.path, a.checksum into _photo
    from photo_ai.source_asset a where a.id = _asset_id and a.deleted_at is null;
    if found then
        -- no lock is held while the sidecar works
        _answers := photo_ai.photo_answers(_photo.path, array(
            select b.task from pg_catalog.unnest(_jobs) b
            where photo_ai.is_image_task(b.task) order by b.task));
    end if;
    perform photo_ai.lock_asset(_asset_id);
    perform photo_ai.lock_jobs_of(array[_asset_id]);
    foreach _job in array _jobs loop
        _ended := _ended || coalesce(
            photo_ai.settle_job(_job, _answers->_job.task, _photo.checksum)::text, 'superseded');
    end loop;
    return (select pg_catalog.jsonb_object_agg(e.state, e.jobs)
            from (select state, count(*) as jobs from pg_catalog.unnest(_ended) state
                  group by state) e);
end
$func$;
comment on function photo_ai.process_photo(photo_ai.job[], uuid) is
    'Runs the jobs of one photo of a claimed batch: one sidecar request for its image tasks, '
    'derived tasks computed here, each job settled as the job policy says. Returns how many '
    'jobs ended in each state.';

-------------------------------------------------------------------------------
-- claim_batch / batch_photos: what run_worker works through
create or replace function photo_ai.claim_batch(_worker_id text, _limit int)
returns photo_ai.job[]
language sql volatile security definer
set search_path to pg_catalog, pg_temp
as $func$
    select photo_ai.keep_mode_applied();
    select photo_ai.requeue_expired_leases();
    select photo_ai.prepare_tasks();
    select array_agg(j order by j.priority desc, j.run_after, j.id)
    from photo_ai.claim_jobs(_worker_id, _limit) j;
$func$;
comment on function photo_ai.claim_batch(text, int) is
    'Attaches to Immich''s tables again if a restore re-created them, returns expired leases '
    'to the queue, prepares the tasks that need it, then claims up to '
    '_limit jobs (and the other due jobs of their photos) for a worker; NULL when nothing is due.';

create or replace function photo_ai.batch_photos(_batch photo_ai.job[])
returns uuid[]
language sql immutable
set search_path to pg_catalog, pg_temp
as $func$
    select array(select b.asset_id from pg_catalog.unnest(_batch) with ordinality b
                 group by b.asset_id order by min(b.ordinality))
$func$;
comment on function photo_ai.batch_photos(photo_ai.job[]) is
    'The photos of a claimed batch, in the order they were claimed.';

-------------------------------------------------------------------------------
-- probe_sidecar: while problems hold work, an idle worker asks the sidecar's /health
-- (cheap, at most every 2 s): an outage ends as soon as it answers, a missing model as
-- soon as it lists it
create or replace function photo_ai.probe_sidecar()
returns void
language plpgsql volatile security definer
set search_path to pg_catalog, pg_temp
as $func$
declare
    _health jsonb;
begin
    update photo_ai.problem p set probed_at = pg_catalog.now()
    where p.retry_at > pg_catalog.now()
      and coalesce(p.probed_at, p.since) < pg_catalog.now() - interval '2 seconds';
    if not found then
        return;
    end if;
    _health := photo_ai.sidecar_request('GET', '/health', _timeout_seconds => 2);
    if _health->>'status' <> '200' or _health->'body'->>'status' is distinct from 'ok' then
        return;
    end if;
    delete from photo_ai.problem p
    where (p.scope = 'sidecar' and p.kind in ('unreachable', 'overloaded', 'wrong_url'))
       or (p.kind = 'model_missing'
           and (_health->'body'->'models'->p.scope->>'available')::boolean)
       or (p.kind = 'model_unavailable'
           and (_health->'body'->'models'->p.scope->>'available')::boolean
           and not (_health->'body'->'models'->p.scope ? 'error'));
end
$func$;
comment on function photo_ai.probe_sidecar() is
    'Asks the sidecar''s /health while installation problems hold work (at most every 2 s) '
    'and ends those it shows fixed: an outage, a wrong base URL, a missing model.';

-------------------------------------------------------------------------------
-- worker_pause: false once the deadline has come; an idle worker first probes the
-- sidecar and sleeps up to 1 s
create or replace function photo_ai.worker_pause(_deadline timestamptz, _idle boolean)
returns boolean
language plpgsql volatile security definer
set search_path to pg_catalog, pg_temp
as $func$
declare
    _left float8 := extract(epoch from _deadline - pg_catalog.clock_timestamp());
begin
    if _left <= 0 then
        return false;
    end if;
    if _idle then
        perform photo_ai.probe_sidecar();
        perform pg_catalog.pg_sleep(least(1.0, _left));
    end if;
    return true;
end
$func$;
comment on function photo_ai.worker_pause(timestamptz, boolean) is
    'Probes the sidecar and sleeps up to a second when the worker found nothing to do; false '
    'once its time is up.';

-------------------------------------------------------------------------------
-- add_counts: {"done": 2} + {"done": 1, "failed": 1} = {"done": 3, "failed": 1}
create or replace function photo_ai.add_counts(_a jsonb, _b jsonb)
returns jsonb
language sql immutable
set search_path to pg_catalog, pg_temp
as $func$
    select coalesce(pg_catalog.jsonb_object_agg(k, total), '{}')
    from (select k, sum(v::int) as total
          from (select * from pg_catalog.jsonb_each_text(_a)
                union all select * from pg_catalog.jsonb_each_text(_b)) e(k, v)
          group by k
          having sum(v::int) <> 0) s
$func$;
comment on function photo_ai.add_counts(jsonb, jsonb) is 'Adds two {state: count} objects.';

-------------------------------------------------------------------------------
-- seconds_from_now: a small piece of run_worker, which cannot pin search_path
create or replace function photo_ai.seconds_from_now(_seconds int)
returns timestamptz
language sql volatile
set search_path to pg_catalog, pg_temp
as $func$
    select pg_catalog.clock_timestamp() + pg_catalog.make_interval(secs => _seconds)
$func$;
comment on function photo_ai.seconds_from_now(int) is 'The moment _seconds from now.';

-------------------------------------------------------------------------------
-- run_worker: claim, commit; per photo: renew the batch's lease, commit, ask the sidecar,
-- store, commit; until the time is up. A procedure with COMMIT cannot pin search_path, so
-- every name below is qualified and the work itself happens in the functions it calls.
create or replace procedure photo_ai.run_worker
( max_seconds int default 55
, batch_size int default 16
, until_idle boolean default false
, inout summary jsonb default null
)
language plpgsql
as $proc$
declare
    _deadline timestamptz := photo_ai.seconds_from_now(max_seconds);
    _worker_id text := photo_ai.worker_id();
    _batch photo_ai.job[];
    _photo uuid;
    _preparing boolean;
begin
    summary := '{}';
    loop
        _batch := photo_ai.claim_batch(_worker_id, batch_size);
        commit;
        if _batch is null then
            -- a task still being prepared (its vocabulary embedded, say) is work to come
            _preparing := photo_ai.tasks_preparing();
            exit when (until_idle and not _preparing)
                      or not photo_ai.worker_pause(_deadline, not _preparing);
            continue;
        end if;
        foreach _photo in array photo_ai.batch_photos(_batch) loop
            if not photo_ai.worker_pause(_deadline, false) then
                summary := photo_ai.add_counts(summary, pg_catalog.jsonb_build_object(
                    'released', photo_ai.release_jobs(_batch)));
                commit;
                exit;
            end if;
            -- this photo and the rest of the batch stay this worker's while it works
            perform photo_ai.renew_leases(_batch);
            commit;
            summary := photo_ai.add_counts(summary, photo_ai.process_photo(_batch, _photo));
            commit;
        end loop;
        exit when not photo_ai.worker_pause(_deadline, false);
    end loop;
    raise notice 'photo_ai worker %: %', _worker_id, summary;
end
$proc$;
comment on procedure photo_ai.run_worker(int, int, boolean, jsonb) is
    'Runs the photo_ai queue for max_seconds (default 55, for a per-minute pg_cron job): '
    'claims batch_size jobs, commits, then per photo renews the batch''s lease, asks the '
    'sidecar, stores the results and commits; repeats. until_idle => true returns as soon as '
    'nothing is due. Jobs still unstarted at the deadline are given back. Returns counts by '
    'outcome.';
