-------------------------------------------------------------------------------
-- The job policy, in one place. answer_outcome names what a sidecar answer means for one
-- job (its kind); job_policy decides what each kind does to a job; finish_job applies it.
-- An installation problem (no sidecar, a wrong key or URL, a missing model) is never the
-- photo's fault: its jobs go back to the queue with their try given back, and a row in
-- photo_ai.problem holds them (and says why in photo_ai.status) until it is fixed.

-------------------------------------------------------------------------------
-- answer_outcome: the kind of outcome a sidecar answer is for one task, and why
create or replace function photo_ai.answer_outcome(_answer jsonb, _task text, out kind text, out detail text)
language plpgsql stable
set search_path to pg_catalog, pg_temp
as $func$
declare
    _status int := (_answer->>'status')::int;
    _error jsonb := coalesce(_answer->'body'->'errors'->_task, _answer->'body'->'error');
    _said text := _error->>'kind';  -- the sidecar's own name for its error, if it is ours
    _url text := coalesce(_answer->>'url', 'the sidecar');
begin
    if _answer is null then
        kind := 'bad_image';
        detail := 'the photo is gone or in the trash';
    elsif _status in (0, -1) then
        kind := case _status when -1 then 'bad_image' else _answer->>'kind' end;
        detail := _answer->>'error';
    elsif _status between 200 and 299 and _answer->'body'->'results' ? _task then
        kind := 'result';
    else
        kind := case
            when _said in ('bad_image', 'forbidden_path', 'not_found', 'too_many_pixels',
                           'file_too_large') then 'bad_image'
            when _status = 401 then 'unauthorized'
            when _said in ('model_missing', 'model_unavailable') then _said
            when _said = 'bad_request' then 'refused_request'
            when _status in (429, 503) then 'overloaded'
            when _said = 'not_json' or (_said is null and _status between 400 and 499)
                then 'wrong_url'
            else 'server_error' end;
        detail := case kind
            when 'unauthorized' then pg_catalog.format(
                'the sidecar at %s refused the API key (HTTP 401): give photo_ai the key it '
                'expects, SELECT photo_ai.configure(api_key => ''...'')', _url)
            when 'wrong_url' then pg_catalog.format(
                '%s answered HTTP %s, not as the photo_ai sidecar answers: sidecar_url must be '
                'the sidecar''s base URL, e.g. http://host:3003 (photo_ai.configure(sidecar_url => ...))',
                _url, _status)
            when 'refused_request' then pg_catalog.format(
                'the sidecar refused the %s request (%s): is it older than this database''s '
                'photo_ai %s? Upgrade it', _task, _error->>'detail', photo_ai.version())
            else pg_catalog.format('sidecar %s: %s', coalesce(_said, 'HTTP ' || _status),
                coalesce(_error->>'detail', 'no result for ' || _task)) end;
    end if;
end
$func$;
comment on function photo_ai.answer_outcome(jsonb, text) is
    'What a sidecar answer (photo_ai.sidecar_request) means for one task''s job: result, '
    'bad_image, timeout, server_error, unreachable, unauthorized, wrong_url, overloaded, '
    'model_missing, model_unavailable or refused_request, with a readable detail.';

-------------------------------------------------------------------------------
-- job_policy: what an outcome does to a job. Pure, so tests/pipeline/test_job_policy.py
-- can hold it to a table of kinds and attempts.
--   done     the result is stored
--   fail     the photo itself is bad: trying again cannot help
--   retry    transient: again after retry_base_seconds doubled per attempt (at most
--            retry_max_seconds); failed once max_attempts tries are used
--   requeue  its worker died: again at once, failed once max_attempts tries are used (a
--            photo that kills its worker every time runs out of tries)
--   hold     an installation problem of the sidecar or of the task: the try is given back,
--            and photo_ai.problem holds the work until it is fixed
--   release  the worker gave the job back unstarted
create or replace function photo_ai.job_policy
( _kind text
, _attempts int
, _max_attempts int
, _retry_base_seconds float8
, _retry_max_seconds float8
, out next_state photo_ai.job_state
, out delay interval
, out uses_try boolean
, out holds text            -- 'sidecar' or 'task': the scope of the problem to record
)
language plpgsql immutable
set search_path to pg_catalog, pg_temp
as $func$
declare
    _class text;
begin
    select c.class, c.scope into _class, holds
    from (values
        ('result', 'done', null), ('bad_image', 'fail', null),
        ('timeout', 'retry', null), ('server_error', 'retry', null),
        ('write_failed', 'retry', null), ('lease_expired', 'requeue', null),
        ('unreachable', 'hold', 'sidecar'), ('unauthorized', 'hold', 'sidecar'),
        ('wrong_url', 'hold', 'sidecar'), ('overloaded', 'hold', 'sidecar'),
        ('model_missing', 'hold', 'task'), ('model_unavailable', 'hold', 'task'),
        ('refused_request', 'hold', 'task'), ('released', 'release', null)
    ) c(kind, class, scope)
    where c.kind = _kind;
    if _class is null then
        raise exception 'photo_ai: unknown job outcome %', _kind;
    end if;
    next_state := case
        when _class = 'done' then 'done'
        when _class = 'fail' or (_class in ('retry', 'requeue') and _attempts >= _max_attempts)
            then 'failed'
        else 'queued' end;
    delay := case when _class = 'retry' and next_state = 'queued'
                  then pg_catalog.make_interval(secs => least(
                      _retry_base_seconds * 2 ^ greatest(_attempts - 1, 0), _retry_max_seconds))
                  else interval '0' end;
    uses_try := _class not in ('hold', 'release');
end
$func$;
comment on function photo_ai.job_policy(text, int, int, float8, float8) is
    'The job policy: for an outcome kind and the tries used, the next state, the wait before '
    'the next try, whether the try counts, and which problem (sidecar or task) holds the work.';

-------------------------------------------------------------------------------
-- finish_job: settle a claimed job as the policy says; NULL when it is no longer ours
-- (queued again, taken over after its lease, or deleted with its photo)
create or replace function photo_ai.finish_job
( _job photo_ai.job
, _kind text
, _detail text default null
, _source_checksum bytea default null
)
returns photo_ai.job_state
language plpgsql volatile security definer
set search_path to pg_catalog, pg_temp
as $func$
declare
    _policy record;
begin
    select p.* into _policy
    from (select pg_catalog.jsonb_object_agg(s.name, s.value) as v from photo_ai.settings s
          where s.name in ('max_attempts', 'retry_base_seconds', 'retry_max_seconds')) setting
    cross join lateral photo_ai.job_policy(_kind, _job.attempts,
        (setting.v->>'max_attempts')::int, (setting.v->>'retry_base_seconds')::float8,
        (setting.v->>'retry_max_seconds')::float8) p;
    update photo_ai.job
    set state = _policy.next_state
      , attempts = attempts - (not _policy.uses_try)::int
      , last_error = case when _policy.next_state <> 'done' then _detail end
      , last_outcome = _kind
      -- a wait counts from the clock, not from the transaction's start (the sidecar may
      -- have taken a while); no wait is the transaction's now, so it is due at once
      , run_after = case when _policy.next_state <> 'queued' then run_after
                         when _policy.delay > interval '0'
                         then pg_catalog.clock_timestamp() + _policy.delay
                         else pg_catalog.now() end
      , finished_at = case when _policy.next_state in ('done', 'failed') then pg_catalog.now() end
      , source_checksum = case when _policy.next_state = 'done' then _source_checksum end
      , lease_expires_at = null, worker_id = null
    where id = _job.id and generation = _job.generation and attempts = _job.attempts
      and worker_id = _job.worker_id and state = 'running';
    if not found then
        return null;
    end if;
    if _policy.holds is not null then
        perform photo_ai.hold_work(case _policy.holds when 'sidecar' then 'sidecar' else _job.task end,
                                   _kind, _detail);
    end if;
    return _policy.next_state;
end
$func$;
comment on function photo_ai.finish_job(photo_ai.job, text, text, bytea) is
    'Settles a claimed job as photo_ai.job_policy says for the outcome kind; NULL when the job '
    'is no longer this claim''s (queued again, taken over, or deleted with its photo).';

-------------------------------------------------------------------------------
-- hold_work / clear_problems / held_tasks: installation problems and the work they hold
create or replace function photo_ai.hold_work(_scope text, _kind text, _detail text)
returns void
language sql volatile security definer
set search_path to pg_catalog, pg_temp
as $func$
    -- the wait grows with the problem's age (2 s, then a quarter of it, at most a minute);
    -- an idle worker's probe (photo_ai.probe_sidecar) ends it sooner
    insert into photo_ai.problem as p (scope, kind, detail, retry_at)
    values (_scope, _kind, _detail, pg_catalog.clock_timestamp() + interval '2 seconds')
    on conflict (scope) do update
    set kind = excluded.kind, detail = excluded.detail
      , retry_at = pg_catalog.clock_timestamp() + pg_catalog.make_interval(secs => least(60,
            greatest(2, extract(epoch from pg_catalog.clock_timestamp() - p.since) / 4)))
$func$;
comment on function photo_ai.hold_work(text, text, text) is
    'Records an installation problem (scope: sidecar, or a task) that holds queued work, with '
    'a readable reason; the wait before the next real try grows with its age, up to a minute.';

create or replace function photo_ai.clear_problems(_task text)
returns void
language plpgsql volatile security definer
set search_path to pg_catalog, pg_temp
as $func$
declare
    _scopes text[] := case when photo_ai.is_image_task(_task) then array['sidecar', _task]
                           else array[_task] end;
begin
    -- checked first: a success writes (and locks) nothing while nothing is wrong
    if exists (select 1 from photo_ai.problem p where p.scope = any(_scopes)) then
        delete from photo_ai.problem p where p.scope = any(_scopes);
    end if;
end
$func$;
comment on function photo_ai.clear_problems(text) is
    'A stored result proves its task (and, for an image task, the sidecar) works: the problems '
    'that held them go, and their work is claimable at once.';

create or replace function photo_ai.held_tasks()
returns text[]
language sql stable
set search_path to pg_catalog, pg_temp
as $func$
    select array(
        select t.name from photo_ai.task t
        join photo_ai.problem p on p.scope = t.name or (p.scope = 'sidecar' and t.reads = '{}')
        -- a task that must be prepared waits until its preparation succeeds
        where p.retry_at > pg_catalog.now() or (p.scope = t.name and t.prepare is not null))
$func$;
comment on function photo_ai.held_tasks() is
    'The tasks whose queued jobs an installation problem holds right now, and those whose '
    'preparation has not succeeded.';
