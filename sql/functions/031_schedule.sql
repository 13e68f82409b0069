-------------------------------------------------------------------------------
-- require_pg_cron: a clear error where pg_cron is not installed in this database
create or replace function photo_ai.require_pg_cron()
returns void
language plpgsql stable
set search_path to pg_catalog, pg_temp
as $func$
begin
    if not exists (select 1 from pg_catalog.pg_extension where extname = 'pg_cron') then
        raise exception 'photo_ai: pg_cron is not installed in database %', pg_catalog.current_database()
            using hint = 'CREATE EXTENSION pg_cron (this database must be cron.database_name), '
                         'or call CALL photo_ai.run_worker() from any scheduler.';
    end if;
end
$func$;
comment on function photo_ai.require_pg_cron() is
    'Raises a readable error when pg_cron is missing from this database.';

-------------------------------------------------------------------------------
-- worker_cron_command: what each pg_cron job runs. Once photo_ai is dropped, the job
-- removes its own schedule instead of failing every minute.
create or replace function photo_ai.worker_cron_command(_batch_size int)
returns text
language sql immutable strict
set search_path to pg_catalog, pg_temp
as $func$
    select pg_catalog.format($command$DO $photo_ai_worker$
DECLARE
    _summary jsonb;
BEGIN
    IF pg_catalog.to_regprocedure('photo_ai.run_worker(integer,integer,boolean,jsonb)') IS NULL THEN
        PERFORM cron.unschedule(jobid) FROM cron.job WHERE jobname LIKE 'photo\_ai\_worker\_%%';
    ELSE
        CALL photo_ai.run_worker(55, %s, false, _summary);
    END IF;
END
$photo_ai_worker$
$command$, _batch_size)
$func$;
comment on function photo_ai.worker_cron_command(int) is
    'The command of a scheduled worker: CALL photo_ai.run_worker(55, batch_size), or, once '
    'photo_ai is gone, the removal of the photo_ai_worker_* schedules.';

-------------------------------------------------------------------------------
-- schedule_worker: a pg_cron job that keeps a worker running (bookworm's pg_cron 1.4
-- has no seconds schedules, so each minute starts a worker that runs about 55 s). SECURITY
-- DEFINER: photo_ai_admin schedules the extension's own worker, nothing else.
create or replace function photo_ai.schedule_worker(workers int default 1, batch_size int default 16)
returns setof bigint
language plpgsql volatile security definer
set search_path to pg_catalog, pg_temp
as $func$
declare
    _n int;
    _job_id bigint;
begin
    if workers < 1 or batch_size < 1 then
        raise exception 'photo_ai: workers and batch_size must be at least 1';
    end if;
    perform photo_ai.require_pg_cron();
    perform photo_ai.unschedule_worker();
    for _n in 1 .. workers loop
        _job_id := photo_ai.cron_schedule(pg_catalog.format('photo_ai_worker_%s', _n),
                                          '* * * * *', photo_ai.worker_cron_command(batch_size));
        return next _job_id;
    end loop;
end
$func$;
comment on function photo_ai.schedule_worker(int, int) is
    'Installs pg_cron jobs (one per worker) that run CALL photo_ai.run_worker(55) every '
    'minute; returns the cron job ids. Replaces an earlier schedule; a schedule left behind '
    'by DROP EXTENSION removes itself at its next run.';

-------------------------------------------------------------------------------
-- cron_schedule / unschedule_worker: pg_cron is optional, so it is only reached through
-- dynamic SQL
create or replace function photo_ai.cron_schedule(_name text, _schedule text, _command text)
returns bigint
language plpgsql volatile
set search_path to pg_catalog, pg_temp
as $func$
declare
    _id bigint;
begin
    execute format('select cron.schedule(%L, %L, %L)', _name, _schedule, _command) into _id;
    return _id;
end
$func$;
comment on function photo_ai.cron_schedule(text, text, text) is
    'Calls cron.schedule without a compile-time dependency on pg_cron.';

create or replace function photo_ai.unschedule_worker()
returns int
language plpgsql volatile security definer
set search_path to pg_catalog, pg_temp
as $func$
declare
    _count int;
begin
    perform photo_ai.require_pg_cron();
    execute 'select count(cron.unschedule(jobid)) from cron.job where jobname like ''photo_ai_worker_%'''
        into _count;
    return _count;
end
$func$;
comment on function photo_ai.unschedule_worker() is
    'Removes the pg_cron jobs that schedule_worker() installed; returns how many.';
