-------------------------------------------------------------------------------
-- analyze_request: ask the sidecar for some tasks on one image, by path or by bytes
create or replace function photo_ai.analyze_request(_path text, _tasks photo_ai.task[])
returns jsonb
language plpgsql volatile security definer
set search_path to pg_catalog, pg_temp
as $func$
declare
    _options jsonb := pg_catalog.jsonb_build_object('faces',
        pg_catalog.jsonb_build_object('min_score', photo_ai.setting('face_min_score')));
begin
    if photo_ai.setting('send_image_bytes')::text::boolean then
        return photo_ai.sidecar_request('POST', '/v1/analyze', null, _path,
            pg_catalog.jsonb_build_object('tasks', pg_catalog.array_to_string(_tasks, ','),
                                          'options', _options::text));
    end if;
    return photo_ai.sidecar_request('POST', '/v1/analyze',
        pg_catalog.jsonb_build_object('path', _path, 'tasks', _tasks, 'options', _options));
end
$func$;
comment on function photo_ai.analyze_request(text, photo_ai.task[]) is
    'Asks the sidecar to analyse one image for the given tasks, sending its path (or, with '
    'send_image_bytes, its bytes).';

-------------------------------------------------------------------------------
-- outcome_of_status: which job outcome an HTTP status of the sidecar means
create or replace function photo_ai.outcome_of_status(_status int)
returns text
language sql immutable
set search_path to pg_catalog, pg_temp
as $func$
    select case
        -- the image itself is bad, unreadable or not allowed: trying again cannot help
        when _status in (-1, 400, 403, 404, 413, 415, 422) then 'failed'
        -- the installation is not ready (key, model, overload): wait without using tries
        when _status in (0, 401, 429, 503) then 'wait'
        else 'retry'
    end
$func$;
comment on function photo_ai.outcome_of_status(int) is
    'Maps a sidecar status to a job outcome: failed (bad image), wait (installation not '
    'ready) or retry (transient).';

-------------------------------------------------------------------------------
-- note_model: remember whether the sidecar has a task's model, for claims and status.
-- Workers share these rows, and one image's jobs may be split over two workers, so a
-- worker that would wait for another's lock skips instead: the other is recording the
-- same fact, and waiting could deadlock. Every finished job reports its model present,
-- so that path writes only when a missing model has appeared.
create or replace function photo_ai.note_model(_task photo_ai.task, _available boolean, _detail text)
returns void
language plpgsql volatile security definer
set search_path to pg_catalog, pg_temp
as $func$
begin
    if _available and not exists (select 1 from photo_ai.missing_model where task = _task) then
        return;
    end if;
    if not pg_catalog.pg_try_advisory_xact_lock(
            pg_catalog.hashtext('photo_ai.missing_model'), pg_catalog.hashtext(_task::text)) then
        return;
    end if;
    if _available then
        delete from photo_ai.missing_model where task = _task;
    else
        insert into photo_ai.missing_model (task, detail) values (_task, _detail)
        on conflict (task) do update set detail = excluded.detail, checked_at = pg_catalog.now();
    end if;
end
$func$;
comment on function photo_ai.note_model(photo_ai.task, boolean, text) is
    'Records that the sidecar lacks the model of a task (and where it looked), or that it '
    'has it again.';

-------------------------------------------------------------------------------
-- settle_job: turn the sidecar's answer about one image into the outcome of one job
create or replace function photo_ai.settle_job(_job photo_ai.job, _answer jsonb)
returns photo_ai.job_state
language plpgsql volatile security definer
set search_path to pg_catalog, pg_temp
as $func$
declare
    _task text := _job.task::text;
    _body jsonb := _answer->'body';
    _error jsonb := coalesce(_body->'errors'->_task, _body->'error');
    _status int := coalesce((_error->>'status')::int, (_answer->>'status')::int);
begin
    if _body->'results' ? _task then
        begin
            -- the analysed image's size goes along: face boxes are pixels of it
            perform photo_ai.write_result(_job.task, _job.asset_id,
                (_body->'results'->_task) || pg_catalog.jsonb_build_object('image', _body->'image'));
            perform photo_ai.note_model(_job.task, true, null);
            return photo_ai.finish_job(_job, 'done');
        exception when others then
            return photo_ai.finish_job(_job, 'retry', 'storing the result: ' || sqlerrm, 'write');
        end;
    end if;
    if _error->>'kind' = 'model_missing' then
        perform photo_ai.note_model(_job.task, false, _error->>'detail');
    end if;
    return photo_ai.finish_job(_job, photo_ai.outcome_of_status(_status),
        format('sidecar %s: %s', coalesce(_error->>'kind', _answer->>'kind', 'HTTP ' || _status),
               coalesce(_error->>'detail', _answer->>'error', _error::text, 'no result for ' || _task)),
        case when _answer->>'status' = '0' then 'request' else 'sidecar' end);
end
$func$;
comment on function photo_ai.settle_job(photo_ai.job, jsonb) is
    'Stores a job''s result from the sidecar''s answer, or records why it failed and '
    'whether it will be tried again.';

-------------------------------------------------------------------------------
-- note_outage: count consecutive failures to reach the sidecar; returns the wait before
-- the next try (doubling up to 5 minutes)
create or replace function photo_ai.note_outage(_error text)
returns interval
language sql volatile security definer
set search_path to pg_catalog, pg_temp
as $func$
    insert into photo_ai.sidecar_outage as o (failures, last_error) values (1, _error)
    on conflict (singleton) do update set failures = o.failures + 1, last_error = excluded.last_error
    returning pg_catalog.make_interval(secs => least(2 ^ o.failures, 300))
$func$;
comment on function photo_ai.note_outage(text) is
    'Records that no sidecar answered; returns how long jobs wait before the next try.';

-------------------------------------------------------------------------------
-- postpone_jobs: put back the jobs still running, to wait out a sidecar outage
create or replace function photo_ai.postpone_jobs(_jobs photo_ai.job[], _error text)
returns jsonb
language plpgsql volatile security definer
set search_path to pg_catalog, pg_temp
as $func$
declare
    _wait interval := photo_ai.note_outage(_error);
    _job photo_ai.job;
    _postponed int := 0;
begin
    foreach _job in array _jobs loop
        if photo_ai.finish_job(_job, 'wait', 'sidecar unreachable: ' || _error, 'request', _wait)
           is not null then
            _postponed := _postponed + 1;
        end if;
    end loop;
    return pg_catalog.jsonb_build_object('queued', _postponed);
end
$func$;
comment on function photo_ai.postpone_jobs(photo_ai.job[], text) is
    'Returns a batch''s unfinished jobs to the queue for the outage backoff, without using '
    'their tries.';

-------------------------------------------------------------------------------
-- process_jobs: run claimed jobs, one sidecar request per image; returns counts by outcome
create or replace function photo_ai.process_jobs(_jobs photo_ai.job[])
returns jsonb
language plpgsql volatile security definer
set search_path to pg_catalog, pg_temp
as $func$
declare
    _image record;
    _answer jsonb;
    _job photo_ai.job;
    _counts jsonb := '{}';
    _state text;
begin
    for _image in
        select j.asset_id, a.path, array_agg(j order by j.task) as jobs
        from pg_catalog.unnest(_jobs) j
        left join photo_ai.source_asset a on a.id = j.asset_id and a.deleted_at is null
        group by j.asset_id, a.path
    loop
        if _image.path is null then
            -- deleted (or trashed) after it was queued: its work goes with it
            perform photo_ai.drop_asset_work(array[_image.asset_id]);
            continue;
        end if;
        _answer := photo_ai.analyze_request(_image.path,
            array(select (j).task from pg_catalog.unnest(_image.jobs) j));
        if _answer->>'kind' = 'unreachable' then
            -- no sidecar answers: the whole rest of the batch waits, without using tries
            return photo_ai.add_counts(_counts, photo_ai.postpone_jobs(_jobs, _answer->>'error'));
        end if;
        delete from photo_ai.sidecar_outage;
        foreach _job in array _image.jobs loop
            _state := photo_ai.settle_job(_job, _answer);
            _counts := photo_ai.add_counts(_counts,
                pg_catalog.jsonb_build_object(coalesce(_state, 'superseded'), 1));
        end loop;
    end loop;
    return _counts;
end
$func$;
comment on function photo_ai.process_jobs(photo_ai.job[]) is
    'Runs claimed jobs: one sidecar request per image for all its tasks, then each job '
    'settled on its own. Returns how many jobs ended in each state.';

-------------------------------------------------------------------------------
-- claim_batch: requeue stalled work, then claim; NULL when nothing is due
create or replace function photo_ai.claim_batch(_worker_id text, _limit int)
returns photo_ai.job[]
language sql volatile security definer
set search_path to pg_catalog, pg_temp
as $func$
    select photo_ai.requeue_expired_leases();
    select array_agg(j) from photo_ai.claim_jobs(_worker_id, _limit) j;
$func$;
comment on function photo_ai.claim_batch(text, int) is
    'Returns expired leases to the queue, then claims up to _limit jobs for a worker.';

-------------------------------------------------------------------------------
-- worker_pause: false once the deadline has come; an idle worker first sleeps up to 1 s
create or replace function photo_ai.worker_pause(_deadline timestamptz, _idle boolean)
returns boolean
language plpgsql volatile
set search_path to pg_catalog, pg_temp
as $func$
declare
    _left float8 := extract(epoch from _deadline - pg_catalog.clock_timestamp());
begin
    if _left <= 0 then
        return false;
    end if;
    if _idle then
        perform pg_catalog.pg_sleep(least(1.0, _left));
    end if;
    return true;
end
$func$;
comment on function photo_ai.worker_pause(timestamptz, boolean) is
    'Sleeps up to a second when the worker found nothing to do; false once its time is up.';

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
          group by k) s
$func$;
comment on function photo_ai.add_counts(jsonb, jsonb) is 'Adds two {state: count} objects.';

-------------------------------------------------------------------------------
-- seconds_from_now / worker_id: small pieces of run_worker, which cannot pin search_path
create or replace function photo_ai.seconds_from_now(_seconds int)
returns timestamptz
language sql volatile
set search_path to pg_catalog, pg_temp
as $func$
    select pg_catalog.clock_timestamp() + pg_catalog.make_interval(secs => _seconds)
$func$;
comment on function photo_ai.seconds_from_now(int) is 'The moment _seconds from now.';

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
-- run_worker: claim, commit, call the sidecar, write, commit, until the time is up.
-- A procedure with COMMIT cannot pin search_path, so every name below is qualified and
-- the work itself happens in the functions it calls.
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
    _jobs photo_ai.job[];
begin
    summary := '{}';
    loop
        _jobs := photo_ai.claim_batch(_worker_id, batch_size);
        commit;
        if _jobs is null then
            exit when until_idle or not photo_ai.worker_pause(_deadline, true);
        else
            summary := photo_ai.add_counts(summary, photo_ai.process_jobs(_jobs));
            commit;
            exit when not photo_ai.worker_pause(_deadline, false);
        end if;
    end loop;
    raise notice 'photo_ai worker %: %', _worker_id, summary;
end
$proc$;
comment on procedure photo_ai.run_worker(int, int, boolean, jsonb) is
    'Runs the photo_ai queue for max_seconds (default 55, for a per-minute pg_cron job): '
    'claims batch_size jobs, commits, asks the sidecar, stores results, commits, repeats. '
    'until_idle => true returns as soon as nothing is due. Returns counts by outcome.';
