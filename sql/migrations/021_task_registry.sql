-- Tasks become data. The enum photo_ai.task gives way to the registry table of the same
-- name: a new task is a row, added and used in one transaction (an enum value cannot be),
-- and no CASE over task names is left to forget one. What named the enum goes first; the
-- idempotent files that follow create the new functions and views.
drop view if exists photo_ai.status;
drop view if exists photo_ai.failed_jobs;
alter table photo_ai.job alter column task type text using task::text;
drop table photo_ai.missing_model;
drop table photo_ai.sidecar_outage;
drop type photo_ai.task cascade;  -- and the 0.2.0 functions whose signatures name it

create table photo_ai.task
( name text not null primary key check (name ~ '^[a-z][a-z0-9_]*$')
-- the tasks whose results a derived task is computed from; empty for an image task, which
-- the sidecar computes from the image
, reads text[] not null default '{}'
-- derived tasks only: (asset_id uuid) returns jsonb, the result from what the task reads
, compute regprocedure
-- (asset_id uuid, result jsonb) returns void: stores the result where search reads it
, store regprocedure not null
-- the tables store writes, keyed by asset_id: a photo that goes takes its rows there along
-- (none for a task that writes only into another application's tables)
, result_tables regclass[] not null default '{}'
-- (asset_id uuid) returns jsonb, {task: what ai_reprocess shows of its stored result};
-- optional, and one function may describe several tasks
, describe regprocedure
, on_by_default boolean not null default true
-- only in this mode (photo_ai.setting('mode')); null in both
, mode text check (mode in ('standalone', 'immich'))
-- rows the extension owns: rewritten by every install and upgrade, left out of pg_dump
, built_in boolean not null default false
, description text not null
, check ((compute is null) = (reads = '{}'))
);
select pg_catalog.pg_extension_config_dump('photo_ai.task', 'where not built_in');

-- Why queued work is held: an installation problem, never an asset's. While a row is here
-- claims leave the jobs of its scope alone; the first answer that shows it fixed deletes it.
create table photo_ai.problem
( scope text not null primary key  -- 'sidecar' (every image task) or a task's name
, kind text not null               -- as photo_ai.job_policy names it: unauthorized, ...
, detail text not null             -- what is wrong and what fixes it
, since timestamptz not null default pg_catalog.now()
, retry_at timestamptz not null    -- the next real try; the wait grows with the age
, probed_at timestamptz            -- when an idle worker last asked the sidecar's /health
);

-- What a finished job's result was computed from, so that backfill() finds results older
-- than their photo even when a trigger missed the change.
alter table photo_ai.job add column source_checksum bytea;
-- The outcome that settled the job last, as photo_ai.job_policy names it (bad_image,
-- timeout, ...); it said which step failed before there was a policy to name outcomes.
alter table photo_ai.job rename column failed_step to last_outcome;
-- Results stored before this column existed are taken to be of the photo as it is now.
do $checksums$
begin
    if pg_catalog.to_regclass('photo_ai.source_asset') is not null then
        update photo_ai.job j set source_checksum = a.checksum
        from photo_ai.source_asset a
        where a.id = j.asset_id and j.state = 'done';
    end if;
end
$checksums$;
-- Face boxes are pixels of the analysed image; its size goes with them.
alter table photo_ai.face_scan add column image_width int, add column image_height int;

update photo_ai.setting_default
set value = 'null'
  , description = 'tasks queued for new or changed images, and derived tasks to turn on; '
                  'null: the registry''s defaults (photo_ai.task.on_by_default)'
where name = 'tasks';

comment on type photo_ai.job_state is
    'queued: waiting for a worker (run_after says from when; a row in photo_ai.problem may '
    'hold it). running: claimed by worker_id until lease_expires_at. done: its result is '
    'stored (source_checksum: of the photo it was computed from). failed: given up, '
    'last_error says why; retry_failed() queues it again.';
