-- The work queue: one row per (asset, task), reused when the asset is queued again,
-- so "at most one live job per (asset, task)" holds by construction and a finished
-- row doubles as the record that the task was done.
create type photo_ai.task as enum ('ocr', 'clip', 'faces');
create type photo_ai.job_state as enum ('queued', 'running', 'done', 'failed');

create table photo_ai.job
( id bigint not null generated always as identity primary key
, asset_id uuid not null
, task photo_ai.task not null
, state photo_ai.job_state not null default 'queued'
, priority smallint not null default 0
, attempts int not null default 0
-- bumped on every enqueue, so a worker holding an older claim cannot mark newer work done
, generation int not null default 1
, run_after timestamptz not null default pg_catalog.now()
, lease_expires_at timestamptz
, worker_id text
, last_error text
, failed_step text
, enqueued_at timestamptz not null default pg_catalog.now()
, started_at timestamptz
, finished_at timestamptz
, unique (asset_id, task)
);
create index job_claim_idx on photo_ai.job (priority desc, run_after, id) where state = 'queued';
create index job_lease_idx on photo_ai.job (lease_expires_at) where state = 'running';
create index job_finished_idx on photo_ai.job (finished_at) where state = 'done';
select pg_catalog.pg_extension_config_dump('photo_ai.job', '');

-- Models the sidecar said it lacks: a missing model is a state of the installation, so
-- its jobs wait instead of failing. The row goes when a job of that task succeeds.
create table photo_ai.missing_model
( task photo_ai.task not null primary key
, detail text not null
, checked_at timestamptz not null default pg_catalog.now()
);

-- Consecutive failures to reach any sidecar, for the outage backoff and the status view.
create table photo_ai.sidecar_outage
( singleton boolean not null primary key default true check (singleton)
, failures int not null
, last_error text not null
, since timestamptz not null default pg_catalog.now()
);
