-- photo_ai 0.2.0: built from sql/ by scripts/build_extension.py; edit the sources there.
\echo Use "CREATE EXTENSION photo_ai CASCADE" to load this file. \quit

-- Everything below names its objects with their schema; nothing resolves through a
-- schema that a user could write to.
set local search_path = pg_catalog, pg_temp;

-------------------------------------------------------------------------------
-- The functions name pgvector's type and operators as public.vector and
-- OPERATOR(public.<=>) because their search_path is pinned to pg_catalog.
do $require_vector_in_public$
declare
    _schema name;
begin
    select n.nspname into _schema
    from pg_catalog.pg_extension e
    join pg_catalog.pg_namespace n on n.oid = e.extnamespace
    where e.extname = 'vector';
    if _schema is distinct from 'public' then
        raise exception 'photo_ai needs the vector extension in schema public, found it in %', _schema
            using hint = 'DROP EXTENSION vector; CREATE EXTENSION vector SCHEMA public;';
    end if;
end
$require_vector_in_public$;


-------------------------------------------------------------------------------
-- A fresh install creates the schema, so that it belongs to the extension and no
-- object in it can predate us. Upgrade scripts leave this out.
create schema photo_ai;

-------------------------------------------------------------------------------
-- The migration ledger: every file under sql/tables/ runs once and is recorded here.
create table if not exists photo_ai.migration
( name text not null primary key
, sha256 text not null
, applied_at timestamptz not null default pg_catalog.clock_timestamp()
);

-------------------------------------------------------------------------------
-- migration tables/001_roles.sql
do $migration$
declare
    _done text;
begin
    select sha256 into _done from photo_ai.migration where name = 'tables/001_roles.sql';
    if found then
        if _done is distinct from '1e10d893cefd9cb7fb00982a946fcb0171c0ed2da1c2c7e403e6c5c588bbe771' then
            raise warning 'photo_ai: migration tables/001_roles.sql changed after it was applied; not re-run';
        end if;
        return;
    end if;
    execute $migration_body$-- Roles are cluster-wide, so they may exist already (another database, an earlier install).
do $roles$
begin
    if not exists (select 1 from pg_catalog.pg_roles where rolname = 'photo_ai_reader') then
        create role photo_ai_reader nologin;
    end if;
    if not exists (select 1 from pg_catalog.pg_roles where rolname = 'photo_ai_admin') then
        create role photo_ai_admin nologin;
    end if;
end
$roles$;
grant photo_ai_reader to photo_ai_admin;
grant usage on schema photo_ai to photo_ai_reader;
$migration_body$;
    insert into photo_ai.migration (name, sha256) values ('tables/001_roles.sql', '1e10d893cefd9cb7fb00982a946fcb0171c0ed2da1c2c7e403e6c5c588bbe771');
end
$migration$;

-------------------------------------------------------------------------------
-- migration tables/002_settings.sql
do $migration$
declare
    _done text;
begin
    select sha256 into _done from photo_ai.migration where name = 'tables/002_settings.sql';
    if found then
        if _done is distinct from '7f3df66239013004d776f140af18bd7acf07857b260176a9648c027b170f055f' then
            raise warning 'photo_ai: migration tables/002_settings.sql changed after it was applied; not re-run';
        end if;
        return;
    end if;
    execute $migration_body$-- Defaults belong to the extension and are rewritten by upgrades; what an admin sets
-- lives apart in setting_override, which pg_dump keeps.
create table photo_ai.setting_default
( name text not null primary key
, value jsonb not null
, description text not null
);

create table photo_ai.setting_override
( name text not null primary key references photo_ai.setting_default (name) on delete cascade
, value jsonb not null
, updated_at timestamptz not null default pg_catalog.now()
);
select pg_catalog.pg_extension_config_dump('photo_ai.setting_override', '');

insert into photo_ai.setting_default (name, value, description) values
  ('sidecar_urls', '["http://127.0.0.1:3003"]', 'inference sidecar base URLs, used in rotation')
, ('api_key', 'null', 'sent to the sidecar as the x-api-key header');
$migration_body$;
    insert into photo_ai.migration (name, sha256) values ('tables/002_settings.sql', '7f3df66239013004d776f140af18bd7acf07857b260176a9648c027b170f055f');
end
$migration$;

-------------------------------------------------------------------------------
-- migration tables/003_asset.sql
do $migration$
declare
    _done text;
begin
    select sha256 into _done from photo_ai.migration where name = 'tables/003_asset.sql';
    if found then
        if _done is distinct from '3d99d7fa227653abdf8cfb91bcf55895dc4e8fe0a22df4f0741eae0fca46e07e' then
            raise warning 'photo_ai: migration tables/003_asset.sql changed after it was applied; not re-run';
        end if;
        return;
    end if;
    execute $migration_body$-- Standalone mode's assets. Immich mode reads Immich's own asset table instead; the
-- rest of photo_ai sees either through the view photo_ai.source_asset.
create table photo_ai.asset
( id uuid not null primary key default pg_catalog.gen_random_uuid()
, original_path text not null
, checksum bytea
, type text not null default 'IMAGE' check (type in ('IMAGE', 'VIDEO'))
, owner_id uuid
, taken_at timestamptz
, created_at timestamptz not null default pg_catalog.now()
, updated_at timestamptz not null default pg_catalog.now()
, deleted_at timestamptz
);
create index on photo_ai.asset (owner_id);
create index on photo_ai.asset (taken_at);
select pg_catalog.pg_extension_config_dump('photo_ai.asset', '');
$migration_body$;
    insert into photo_ai.migration (name, sha256) values ('tables/003_asset.sql', '3d99d7fa227653abdf8cfb91bcf55895dc4e8fe0a22df4f0741eae0fca46e07e');
end
$migration$;

-------------------------------------------------------------------------------
-- migration tables/004_job.sql
do $migration$
declare
    _done text;
begin
    select sha256 into _done from photo_ai.migration where name = 'tables/004_job.sql';
    if found then
        if _done is distinct from '3cf28490f4119cb19de4651cf3c29c9f90627679c7356bc3d8494285c5c82b96' then
            raise warning 'photo_ai: migration tables/004_job.sql changed after it was applied; not re-run';
        end if;
        return;
    end if;
    execute $migration_body$-- The work queue: one row per (asset, task), reused when the asset is queued again,
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
$migration_body$;
    insert into photo_ai.migration (name, sha256) values ('tables/004_job.sql', '3cf28490f4119cb19de4651cf3c29c9f90627679c7356bc3d8494285c5c82b96');
end
$migration$;

-------------------------------------------------------------------------------
-- migration tables/005_results.sql
do $migration$
declare
    _done text;
begin
    select sha256 into _done from photo_ai.migration where name = 'tables/005_results.sql';
    if found then
        if _done is distinct from 'cf3da374aede3d4962a224cbe7b351162bd1ef353ff323891f7ab93efece2422' then
            raise warning 'photo_ai: migration tables/005_results.sql changed after it was applied; not re-run';
        end if;
        return;
    end if;
    execute $migration_body$-- Results, one row per asset (faces: one per face). Written idempotently by the worker:
-- a re-run replaces what an earlier run wrote.
create table photo_ai.ocr_result
( asset_id uuid not null primary key
, model text not null
, text text not null
, lines jsonb not null
, tsv tsvector not null
, created_at timestamptz not null default pg_catalog.now()
);
create index ocr_result_tsv_idx on photo_ai.ocr_result using gin (tsv);
select pg_catalog.pg_extension_config_dump('photo_ai.ocr_result', '');

create table photo_ai.clip_embedding
( asset_id uuid not null primary key
, model text not null
, embedding public.vector(512) not null
, created_at timestamptz not null default pg_catalog.now()
);
select pg_catalog.pg_extension_config_dump('photo_ai.clip_embedding', '');

-- One row per scanned asset, also when it has no faces, so "scanned" is never guessed.
create table photo_ai.face_scan
( asset_id uuid not null primary key
, model text not null
, face_count int not null
, scanned_at timestamptz not null default pg_catalog.now()
);
select pg_catalog.pg_extension_config_dump('photo_ai.face_scan', '');

create table photo_ai.face
( id bigint not null generated always as identity primary key
, asset_id uuid not null references photo_ai.face_scan (asset_id) on delete cascade
, box real[] not null check (pg_catalog.cardinality(box) = 4)
, score real not null
, landmarks real[] not null
, embedding public.vector(512) not null
);
create index on photo_ai.face (asset_id);
select pg_catalog.pg_extension_config_dump('photo_ai.face', '');
$migration_body$;
    insert into photo_ai.migration (name, sha256) values ('tables/005_results.sql', 'cf3da374aede3d4962a224cbe7b351162bd1ef353ff323891f7ab93efece2422');
end
$migration$;

-------------------------------------------------------------------------------
-- migration tables/006_pipeline_settings.sql
do $migration$
declare
    _done text;
begin
    select sha256 into _done from photo_ai.migration where name = 'tables/006_pipeline_settings.sql';
    if found then
        if _done is distinct from '19240f2f232335a466f8a31f9d4d7c0378924c62e8d9acd9e858cfc17a9411ec' then
            raise warning 'photo_ai: migration tables/006_pipeline_settings.sql changed after it was applied; not re-run';
        end if;
        return;
    end if;
    execute $migration_body$insert into photo_ai.setting_default (name, value, description) values
  ('tasks', '["ocr", "clip", "faces"]', 'tasks queued for every new or changed image')
, ('max_attempts', '5', 'tries before a job is marked failed')
, ('retry_base_seconds', '10', 'first retry delay; doubles with every attempt')
, ('retry_max_seconds', '3600', 'longest retry delay')
, ('lease_seconds', '300', 'how long a claimed job stays with its worker before others may take it')
, ('request_timeout_seconds', '120', 'how long the worker waits for one sidecar answer')
, ('send_image_bytes', 'false', 'send image bytes to the sidecar instead of a path under its roots')
, ('face_min_score', '0.7', 'faces detected with a lower score are dropped');
$migration_body$;
    insert into photo_ai.migration (name, sha256) values ('tables/006_pipeline_settings.sql', '19240f2f232335a466f8a31f9d4d7c0378924c62e8d9acd9e858cfc17a9411ec');
end
$migration$;

-------------------------------------------------------------------------------
-- migration tables/007_configure_pipeline.sql
do $migration$
declare
    _done text;
begin
    select sha256 into _done from photo_ai.migration where name = 'tables/007_configure_pipeline.sql';
    if found then
        if _done is distinct from '8dc7339f32c5460148b12265d1e049c38bd30b42eae179a701e62f5c71089913' then
            raise warning 'photo_ai: migration tables/007_configure_pipeline.sql changed after it was applied; not re-run';
        end if;
        return;
    end if;
    execute $migration_body$-- configure() gained the pipeline's settings; the old signature would linger as an overload.
drop function if exists photo_ai.configure(text, text);
$migration_body$;
    insert into photo_ai.migration (name, sha256) values ('tables/007_configure_pipeline.sql', '8dc7339f32c5460148b12265d1e049c38bd30b42eae179a701e62f5c71089913');
end
$migration$;

-------------------------------------------------------------------------------
-- migration tables/008_public_functions.sql
do $migration$
declare
    _done text;
begin
    select sha256 into _done from photo_ai.migration where name = 'tables/008_public_functions.sql';
    if found then
        if _done is distinct from '06768cbf6f3f990b58f4b7d1c71ad7c7a383dc6816594ced4eb57e4eddf38de6' then
            raise warning 'photo_ai: migration tables/008_public_functions.sql changed after it was applied; not re-run';
        end if;
        return;
    end if;
    execute $migration_body$-- The few functions users type without the schema name live in public. Plain CREATE (not
-- OR REPLACE) so that nothing already there is taken over; plpgsql so that the body is
-- checked when called, after the photo_ai functions exist.
create function public.ai_reprocess
( asset_id uuid
, tasks text[] default null
, immediate boolean default false
)
returns jsonb
language plpgsql volatile
set search_path to pg_catalog, pg_temp
as $func$
begin
    return photo_ai.ai_reprocess(asset_id, tasks, immediate);
end
$func$;
comment on function public.ai_reprocess(uuid, text[], boolean) is
    'photo_ai.ai_reprocess, reachable without the schema name.';
$migration_body$;
    insert into photo_ai.migration (name, sha256) values ('tables/008_public_functions.sql', '06768cbf6f3f990b58f4b7d1c71ad7c7a383dc6816594ced4eb57e4eddf38de6');
end
$migration$;

-------------------------------------------------------------------------------
-- migration tables/009_text_parser.sql
do $migration$
declare
    _done text;
begin
    select sha256 into _done from photo_ai.migration where name = 'tables/009_text_parser.sql';
    if found then
        if _done is distinct from 'e9666f625221606456a8687e23014e395303167876e75af91a06f40631071cab' then
            raise warning 'photo_ai: migration tables/009_text_parser.sql changed after it was applied; not re-run';
        end if;
        return;
    end if;
    execute $migration_body$-- The word segmenter of the text index, chosen once here: zhparser where that extension is
-- installed (the Docker image), jieba otherwise. photo_ai.rebuild_text_index() switches.
insert into photo_ai.setting_default (name, value, description)
select 'text_parser'
     , pg_catalog.to_jsonb(case when exists (select 1 from pg_catalog.pg_extension
                                             where extname = 'zhparser')
                                then 'zhparser' else 'jieba' end)
     , 'word segmenter of the OCR text index: zhparser or jieba (set by rebuild_text_index)';
$migration_body$;
    insert into photo_ai.migration (name, sha256) values ('tables/009_text_parser.sql', 'e9666f625221606456a8687e23014e395303167876e75af91a06f40631071cab');
end
$migration$;

-------------------------------------------------------------------------------
-- migration tables/010_sidecar_bytes.sql
do $migration$
declare
    _done text;
begin
    select sha256 into _done from photo_ai.migration where name = 'tables/010_sidecar_bytes.sql';
    if found then
        if _done is distinct from '9153d5081794dcb5c7faa6fc9880412aacc259e73221aa69b218c5ec6f66b7e6' then
            raise warning 'photo_ai: migration tables/010_sidecar_bytes.sql changed after it was applied; not re-run';
        end if;
        return;
    end if;
    execute $migration_body$-- sidecar_request() gained _bytes (search by an uploaded photo) and _timeout_seconds
-- (searches wait less than the worker); the old signature would linger as an overload.
drop function if exists photo_ai.sidecar_request(text, text, jsonb, text, jsonb);
$migration_body$;
    insert into photo_ai.migration (name, sha256) values ('tables/010_sidecar_bytes.sql', '9153d5081794dcb5c7faa6fc9880412aacc259e73221aa69b218c5ec6f66b7e6');
end
$migration$;

-------------------------------------------------------------------------------
-- migration tables/011_search.sql
do $migration$
declare
    _done text;
begin
    select sha256 into _done from photo_ai.migration where name = 'tables/011_search.sql';
    if found then
        if _done is distinct from 'd0ebf0d2e94e7d5b4134d22e18f5d65316eb37ae70103d88f1282dee4d362d63' then
            raise warning 'photo_ai: migration tables/011_search.sql changed after it was applied; not re-run';
        end if;
        return;
    end if;
    execute $migration_body$-- Search: its settings, the cache of query embeddings, and the shapes of its results.
insert into photo_ai.setting_default (name, value, description) values
  ('query_cache_size', '10000', 'query embeddings kept for hybrid_search; the least recently used go first')
, ('search_timeout_seconds', '10', 'how long a search waits for the sidecar to embed its query')
, ('hnsw_ef_search', '400', 'HNSW candidate list of vector search (more: better recall, slower)');

-- Query text -> CLIP text embedding, so a repeated search needs no sidecar round trip.
-- Keyed by model: embeddings of different models are not comparable.
create table photo_ai.query_embedding
( model text not null
, query text not null
, embedding public.vector(512) not null
, used_at timestamptz not null default pg_catalog.now()
, primary key (model, query)
);
create index query_embedding_used_at_idx on photo_ai.query_embedding (used_at);

create type photo_ai.search_hit as
( asset_id uuid
, score float8            -- fused: sum over arms of weight / (rrf_k + rank)
, text_rank int           -- 1 = best OCR text match; NULL: not found by text
, text_score float8       -- ts_rank of the OCR text, weighted by line prominence
, semantic_rank int       -- 1 = nearest CLIP embedding; NULL: not among the nearest
, semantic_score float8   -- cosine similarity of the photo to the query
, snippet text            -- the OCR line that matched, the match in «»
, semantic_arm text       -- 'on', 'not asked' (ocr:), or 'off: <why>'
);

create type photo_ai.similar_asset as
( asset_id uuid
, similarity float8       -- cosine similarity of the CLIP embeddings
);
$migration_body$;
    insert into photo_ai.migration (name, sha256) values ('tables/011_search.sql', 'd0ebf0d2e94e7d5b4134d22e18f5d65316eb37ae70103d88f1282dee4d362d63');
end
$migration$;

-------------------------------------------------------------------------------
-- migration tables/012_vector_index.sql
do $migration$
declare
    _done text;
begin
    select sha256 into _done from photo_ai.migration where name = 'tables/012_vector_index.sql';
    if found then
        if _done is distinct from 'a61c9aede313cc47d66972cfbc71ca0b16f1d02a5e85f67ffb7a40b5657138aa' then
            raise warning 'photo_ai: migration tables/012_vector_index.sql changed after it was applied; not re-run';
        end if;
        return;
    end if;
    execute $migration_body$-- HNSW over the CLIP embeddings, cosine distance (<=>). m = 24, ef_construction = 128:
-- measured on 100,000 clustered 512-d embeddings with text queries across CLIP's modality
-- gap (bench/search_speed.py's data), recall@10 at ef_search 400 is 0.995, against 0.975
-- for m = 16 / ef_construction = 128 and 0.955 for pgvector's defaults (16 / 64), at the
-- same query time; the build takes 1.3 times as long as 16 / 128, 2.3 times the defaults.
-- ARCHITECTURE.md, search, has the table.
create index clip_embedding_hnsw_idx on photo_ai.clip_embedding
    using hnsw (embedding public.vector_cosine_ops) with (m = 24, ef_construction = 128);
$migration_body$;
    insert into photo_ai.migration (name, sha256) values ('tables/012_vector_index.sql', 'a61c9aede313cc47d66972cfbc71ca0b16f1d02a5e85f67ffb7a40b5657138aa');
end
$migration$;

-------------------------------------------------------------------------------
-- migration tables/013_public_search_functions.sql
do $migration$
declare
    _done text;
begin
    select sha256 into _done from photo_ai.migration where name = 'tables/013_public_search_functions.sql';
    if found then
        if _done is distinct from '6c27e1e48bab4f99a5cc56690f46e206da9c3432578f434558c4e6b9e506691a' then
            raise warning 'photo_ai: migration tables/013_public_search_functions.sql changed after it was applied; not re-run';
        end if;
        return;
    end if;
    execute $migration_body$-- The search functions users type without the schema name (see 008_public_functions.sql).
create function public.hybrid_search
( query text
, max_results int default 50
, owner_id uuid default null
, taken_after timestamptz default null
, taken_before timestamptz default null
, text_weight float8 default 1.0
, semantic_weight float8 default 1.0
, rrf_k int default 60
, min_similarity float8 default null
)
returns setof photo_ai.search_hit
language plpgsql volatile
set search_path to pg_catalog, pg_temp
as $func$
begin
    return query select * from photo_ai.hybrid_search(query, max_results, owner_id, taken_after,
        taken_before, text_weight, semantic_weight, rrf_k, min_similarity);
end
$func$;
comment on function public.hybrid_search(text, int, uuid, timestamptz, timestamptz, float8, float8, int, float8) is
    'photo_ai.hybrid_search, reachable without the schema name.';

create function public.similar_assets(asset_id uuid, max_results int default 20)
returns setof photo_ai.similar_asset
language plpgsql volatile
set search_path to pg_catalog, pg_temp
as $func$
begin
    return query select * from photo_ai.similar_assets(asset_id, max_results);
end
$func$;
comment on function public.similar_assets(uuid, int) is
    'photo_ai.similar_assets, reachable without the schema name.';

create function public.search_by_image(image bytea, max_results int default 20)
returns setof photo_ai.similar_asset
language plpgsql volatile
set search_path to pg_catalog, pg_temp
as $func$
begin
    return query select * from photo_ai.search_by_image(image, max_results);
end
$func$;
comment on function public.search_by_image(bytea, int) is
    'photo_ai.search_by_image, reachable without the schema name.';
$migration_body$;
    insert into photo_ai.migration (name, sha256) values ('tables/013_public_search_functions.sql', '6c27e1e48bab4f99a5cc56690f46e206da9c3432578f434558c4e6b9e506691a');
end
$migration$;

-------------------------------------------------------------------------------
-- migration tables/020_immich_mode.sql
do $migration$
declare
    _done text;
begin
    select sha256 into _done from photo_ai.migration where name = 'tables/020_immich_mode.sql';
    if found then
        if _done is distinct from '7b5cd37506e4e51a515a7fa1a74eda40128473788b1906751a97cf6930e0adcf' then
            raise warning 'photo_ai: migration tables/020_immich_mode.sql changed after it was applied; not re-run';
        end if;
        return;
    end if;
    execute $migration_body$-- Immich mode: where assets come from and how results reach Immich's own tables.
-- The mode is a setting, so that an upgrade (whose idempotent files re-create the views
-- and triggers) keeps a database in the mode it was put in; sql/triggers/010 applies it.
insert into photo_ai.setting_default (name, value, description) values
  ('mode', '"auto"',
   'where assets come from: standalone (photo_ai.asset), immich (Immich''s asset table, '
   'results also written where Immich reads them) or auto (immich when Immich''s tables '
   'exist at install or upgrade); photo_ai.attach_immich() and detach_immich() switch')
, ('immich_preview_wait_seconds', '600',
   'Immich mode: how long the work of a new or changed asset waits for the preview Immich '
   'makes of it (the preview is analysed, not the original) before the original is used')
, ('immich_join_persons', 'true',
   'Immich mode: a new face joins the person of the nearest face of the same owner within '
   'Immich''s facial recognition max distance; false leaves every new face to Immich''s '
   'own recognition job');
$migration_body$;
    insert into photo_ai.migration (name, sha256) values ('tables/020_immich_mode.sql', '7b5cd37506e4e51a515a7fa1a74eda40128473788b1906751a97cf6930e0adcf');
end
$migration$;

-------------------------------------------------------------------------------
-- functions/001_version.sql
-------------------------------------------------------------------------------
-- version: the installed extension's version
create or replace function photo_ai.version()
returns text
language sql stable
set search_path to pg_catalog, pg_temp
as $func$
    select e.extversion::text from pg_catalog.pg_extension e where e.extname = 'photo_ai'
$func$;
comment on function photo_ai.version() is 'The installed version of the photo_ai extension.';

-------------------------------------------------------------------------------
-- functions/002_settings.sql
-------------------------------------------------------------------------------
-- settings: every setting with its effective value; api_key is never shown
create or replace view photo_ai.settings as
select d.name
     , case when d.name = 'api_key' and coalesce(o.value, d.value) <> 'null'::jsonb
            then '"********"'::jsonb
            else coalesce(o.value, d.value) end as value
     , o.name is null as is_default
     , d.description
     , o.updated_at
from photo_ai.setting_default d
left join photo_ai.setting_override o on o.name = d.name;
comment on view photo_ai.settings is
    'Effective photo_ai settings (defaults merged with what configure() set); the API key is masked.';

-------------------------------------------------------------------------------
-- setting: one effective value, for the extension's own functions
create or replace function photo_ai.setting(_name text)
returns jsonb
language sql stable security definer
set search_path to pg_catalog, pg_temp
as $func$
    select coalesce(o.value, d.value)
    from photo_ai.setting_default d
    left join photo_ai.setting_override o on o.name = d.name
    where d.name = _name
$func$;
comment on function photo_ai.setting(text) is
    'The effective value of one setting (unmasked); for photo_ai''s own functions.';

-------------------------------------------------------------------------------
-- set_setting: store one override, after checking the name exists
create or replace function photo_ai.set_setting(_name text, _value jsonb)
returns void
language plpgsql volatile
set search_path to pg_catalog, pg_temp
as $func$
begin
    if not exists (select 1 from photo_ai.setting_default where name = _name) then
        raise exception 'photo_ai: unknown setting %', _name;
    end if;
    insert into photo_ai.setting_override as o (name, value) values (_name, _value)
    on conflict (name) do update set value = excluded.value, updated_at = pg_catalog.now();
end
$func$;
comment on function photo_ai.set_setting(text, jsonb) is
    'Stores one setting override; configure() is the interface meant for people.';

-------------------------------------------------------------------------------
-- parse_sidecar_urls: 'http://a:3003, http://b:3003' -> ["http://a:3003", "http://b:3003"]
create or replace function photo_ai.parse_sidecar_urls(_urls text)
returns jsonb
language plpgsql immutable strict
set search_path to pg_catalog, pg_temp
as $func$
declare
    _list text[];
begin
    _list := array(
        select pg_catalog.rtrim(u, '/')
        from pg_catalog.regexp_split_to_table(pg_catalog.btrim(_urls), '[\s,]+') u
        where u <> '');
    if pg_catalog.cardinality(_list) = 0 then
        raise exception 'photo_ai: sidecar_url is empty';
    end if;
    if exists (select 1 from pg_catalog.unnest(_list) u where u !~ '^https?://[^/\s]+') then
        raise exception 'photo_ai: sidecar_url must be http(s)://host:port, got %', _urls;
    end if;
    return pg_catalog.to_jsonb(_list);
end
$func$;
comment on function photo_ai.parse_sidecar_urls(text) is
    'Splits a comma- or space-separated list of sidecar base URLs and checks each.';

-------------------------------------------------------------------------------
-- set_if_given: configure()'s one step, so a NULL argument leaves a setting alone
create or replace function photo_ai.set_if_given(_name text, _value jsonb)
returns void
language plpgsql volatile
set search_path to pg_catalog, pg_temp
as $func$
begin
    if _value is not null then
        perform photo_ai.set_setting(_name, _value);
    end if;
end
$func$;
comment on function photo_ai.set_if_given(text, jsonb) is
    'Stores a setting when a value is given; configure() calls it once per argument.';

-------------------------------------------------------------------------------
-- configure: change settings; a NULL argument leaves that setting as it is
create or replace function photo_ai.configure
( sidecar_url text default null
, api_key text default null
, tasks text[] default null
, max_attempts int default null
, lease_seconds int default null
, request_timeout_seconds int default null
, send_image_bytes boolean default null
, face_min_score real default null
, hnsw_ef_search int default null
, query_cache_size int default null
, search_timeout_seconds int default null
)
returns jsonb
language plpgsql volatile security definer
set search_path to pg_catalog, pg_temp
as $func$
begin
    if max_attempts < 1 or lease_seconds < 1 or request_timeout_seconds < 1
       or search_timeout_seconds < 1 or query_cache_size < 0
       or face_min_score not between 0 and 1 or hnsw_ef_search not between 1 and 1000 then
        raise exception 'photo_ai: max_attempts, lease_seconds and the timeouts must be at '
            'least 1, query_cache_size at least 0, face_min_score between 0 and 1, '
            'hnsw_ef_search between 1 and 1000';
    end if;
    perform photo_ai.set_if_given('sidecar_urls', photo_ai.parse_sidecar_urls(sidecar_url));
    -- an empty string clears the key
    perform photo_ai.set_if_given('api_key', case when api_key = '' then 'null'::jsonb
                                                  else pg_catalog.to_jsonb(api_key) end);
    -- the cast to photo_ai.task[] rejects an unknown task name
    perform photo_ai.set_if_given('tasks', pg_catalog.to_jsonb(tasks::photo_ai.task[]));
    perform photo_ai.set_if_given('max_attempts', pg_catalog.to_jsonb(max_attempts));
    perform photo_ai.set_if_given('lease_seconds', pg_catalog.to_jsonb(lease_seconds));
    perform photo_ai.set_if_given('request_timeout_seconds',
                                  pg_catalog.to_jsonb(request_timeout_seconds));
    perform photo_ai.set_if_given('send_image_bytes', pg_catalog.to_jsonb(send_image_bytes));
    perform photo_ai.set_if_given('face_min_score', pg_catalog.to_jsonb(face_min_score));
    perform photo_ai.set_if_given('hnsw_ef_search', pg_catalog.to_jsonb(hnsw_ef_search));
    perform photo_ai.set_if_given('query_cache_size', pg_catalog.to_jsonb(query_cache_size));
    perform photo_ai.set_if_given('search_timeout_seconds',
                                  pg_catalog.to_jsonb(search_timeout_seconds));
    return (select pg_catalog.jsonb_object_agg(s.name, s.value) from photo_ai.settings s);
end
$func$;
comment on function photo_ai.configure
    (text, text, text[], int, int, int, boolean, real, int, int, int) is
    'Changes photo_ai settings and returns them all (API key masked). A NULL argument leaves '
    'that setting unchanged; api_key => '''' clears the key; sidecar_url may list several '
    'URLs, used in rotation. The view photo_ai.settings says what each setting does.';

-------------------------------------------------------------------------------
-- functions/010_zh_tokens.sql
-------------------------------------------------------------------------------
-- zh_tokens: Chinese word segmentation with jieba, in the server's own Python
create or replace function photo_ai.zh_tokens(_text text)
returns text[]
language plpython3u immutable strict parallel safe security definer
set search_path to pg_catalog, pg_temp
as $python$
    tokenizer = GD.get("photo_ai.jieba")
    if tokenizer is None:
        import logging
        import jieba
        jieba.setLogLevel(logging.WARNING)
        tokenizer = jieba.Tokenizer()
        tokenizer.initialize()
        GD["photo_ai.jieba"] = tokenizer
    # Search mode also yields the words inside a compound (增值税 -> 增值, 增值税).
    return [w for w in (t.strip() for t in tokenizer.cut_for_search(_text)) if w]
$python$;
comment on function photo_ai.zh_tokens(text) is
    'Splits Chinese (and mixed) text into words with jieba''s search mode: compounds and the '
    'words inside them.';

-------------------------------------------------------------------------------
-- char_lexemes: the character-level tokenizer behind every text search. Text is
-- NFKC-normalised and case-folded, then cut into runs:
--   * a run of CJK characters (spaces inside it are OCR noise and are skipped) is indexed
--     as every character and every pair of neighbours: 海淀区 -> 海 淀 区 海淀 淀区;
--   * a run of letters and digits is one word: Invoice -> invoice; 128.50 -> 128, 50.
-- A pair sits at its first character's position, so a query is the exact phrase of its
-- pairs (one character: itself), and it matches exactly the texts that contain it, known
-- to a dictionary or not. Lines lie one position further apart, so no phrase spans two.
-- Index (_as_query false): a tsvector literal. Query: a tsquery literal, NULL when the text
-- has no letters. Lexemes hold only letters and digits: the literals need no escaping.
create or replace function photo_ai.char_lexemes(_text text, _as_query boolean)
returns text
language plpython3u immutable strict parallel safe security definer
set search_path to pg_catalog, pg_temp
as $python$
    tokenizer = GD.get("photo_ai.char_tokenizer")
    if tokenizer is None:
        import re
        import unicodedata

        cjk = ("\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff"
               "\U00020000-\U0003134f")
        run = re.compile(rf"([{cjk}](?:\s*[{cjk}])*)|([^\W_{cjk}]+)")
        space = re.compile(r"\s+")

        def runs(text):
            """(position, is_cjk, characters) per run, positions counted from 1."""
            position = 1
            for line in unicodedata.normalize("NFKC", text).casefold().splitlines():
                for match in run.finditer(line):
                    if match.group(2):
                        yield position, False, match.group(2)
                        position += 1
                    else:
                        chars = space.sub("", match.group(1))
                        yield position, True, chars
                        position += len(chars)
                position += 1

        def index_lexemes(position, is_cjk, chars):
            if not is_cjk:
                return [(position, chars)]
            singles = [(position + i, c) for i, c in enumerate(chars)]
            pairs = [(position + i, chars[i:i + 2]) for i in range(len(chars) - 1)]
            return singles + pairs

        def query_lexemes(position, is_cjk, chars):
            if not is_cjk or len(chars) == 1:
                return [(position, chars)]
            return [(position + i, chars[i:i + 2]) for i in range(len(chars) - 1)]

        tokenizer = GD["photo_ai.char_tokenizer"] = (runs, index_lexemes, query_lexemes)
    runs, index_lexemes, query_lexemes = tokenizer

    if not _as_query:
        positions = {}
        for found in runs(_text):
            for position, lexeme in index_lexemes(*found):
                # tsvector positions stop at 16383
                positions.setdefault(lexeme, []).append(str(min(position, 16383)))
        return " ".join(f"'{lexeme}':{','.join(p)}" for lexeme, p in positions.items())

    phrase = [lexeme for found in runs(_text) for lexeme in query_lexemes(*found)]
    if not phrase:
        return None
    parts = [f"'{phrase[0][1]}'"]
    for (before, _), (position, lexeme) in zip(phrase, phrase[1:]):
        parts.append(f"<{position - before}> '{lexeme}'")
    return " ".join(parts)
$python$;
comment on function photo_ai.char_lexemes(text, boolean) is
    'The character-level tokenizer: CJK runs as single characters and overlapping pairs, '
    'letter and digit runs as words, NFKC and case-folded. Returns a tsvector literal, or '
    'with _as_query the exact phrase as a tsquery literal (NULL without letters).';

-------------------------------------------------------------------------------
-- functions/011_zh_text.sql
-------------------------------------------------------------------------------
-- Chinese full text. A text is indexed twice over, in one tsvector:
--   characters  char_lexemes(): every CJK character and neighbouring pair, every word of
--               letters or digits. Queries match on these: an exact phrase, so a word the
--               dictionary lacks (OCR'd shop names, new words) and a single character are
--               found, and nothing that does not contain the query is.
--   words       the word segmenter's words, zhparser where that extension is installed,
--               jieba otherwise (the setting text_parser, switched by rebuild_text_index).
--               A query's words are OR-ed with its phrase: they find nothing the phrase
--               does not, but a text where the query is a whole word ranks higher.
-- zh_tsvector() and zh_tsquery() are the pair the rest of photo_ai uses.

-------------------------------------------------------------------------------
-- text_parser: the word segmenter in use, 'zhparser' or 'jieba'
create or replace function photo_ai.text_parser()
returns text
language sql stable
set search_path to pg_catalog, pg_temp
as $func$
    select photo_ai.setting('text_parser') #>> '{}'
$func$;
comment on function photo_ai.text_parser() is
    'The word segmenter of the text index: zhparser or jieba (see rebuild_text_index).';

-------------------------------------------------------------------------------
-- is_cjk_text: only CJK characters (and spaces), the texts word segmenters are for
create or replace function photo_ai.is_cjk_text(_text text)
returns boolean
language sql immutable strict parallel safe
set search_path to pg_catalog, pg_temp
as $func$
    select _text ~ '^[\s\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff]*$'
       and _text ~ '\S'
$func$;
comment on function photo_ai.is_cjk_text(text) is
    'True when a text holds only CJK characters and spaces (at least one character).';

-------------------------------------------------------------------------------
-- jieba: search mode at index time, so a compound and the dictionary words inside it are
-- each a lexeme (增值税专用发票 -> 增值 增值税 专用 发票 专用发票). Only words of two or
-- more CJK characters are kept: the character lexemes hold everything else.
create or replace function photo_ai.jieba_tsvector(_text text)
returns tsvector
language sql immutable strict parallel safe
set search_path to pg_catalog, pg_temp
as $func$
    select pg_catalog.to_tsvector('pg_catalog.simple', pg_catalog.array_to_string(array(
        select w from pg_catalog.unnest(photo_ai.zh_tokens(pg_catalog.lower(_text))) w
        where pg_catalog.char_length(w) > 1 and photo_ai.is_cjk_text(w)), ' '))
$func$;
comment on function photo_ai.jieba_tsvector(text) is
    'The words jieba finds in a text (search mode: compounds and the words inside them), '
    'two CJK characters or more.';

-- The query side needs no segmentation: since search mode indexes every dictionary word
-- whole, a CJK query that is a word is found as one lexeme. (Segmenting it would load
-- jieba's dictionary, about a second, in every new connection that searches, and a
-- phrase of its words rarely matches: search mode interleaves the words inside them.)
create or replace function photo_ai.jieba_tsquery(_text text)
returns tsquery
language sql immutable strict parallel safe
set search_path to pg_catalog, pg_temp
as $func$
    select pg_catalog.phraseto_tsquery('pg_catalog.simple',
                                       pg_catalog.regexp_replace(_text, '\s+', '', 'g'))
$func$;
comment on function photo_ai.jieba_tsquery(text) is
    'A CJK query as one word, the lexeme jieba''s search mode indexes when it is one.';

-------------------------------------------------------------------------------
-- zhparser (SCWS). Measured: with default settings two-character words inside a
-- compound are missed (北京 in 北京市). Indexing with multi_short on recovers them; at
-- query time it must be off, or one word turns into a phrase of pieces and stops matching
-- (multi_zmain and multi_zall break two-character queries). The settings are ordinary
-- GUCs, so each function sets them for its own duration only.
create or replace function photo_ai.zhparser_tsvector(_text text)
returns tsvector
language plpgsql stable strict
set search_path to pg_catalog, pg_temp
set zhparser.multi_short to on
set zhparser.multi_duality to off
set zhparser.multi_zmain to off
set zhparser.multi_zall to off
as $func$
begin
    -- the configuration exists only where zhparser does: looked up when called
    return pg_catalog.to_tsvector('photo_ai.zhparser_words'::text::regconfig, _text);
end
$func$;
comment on function photo_ai.zhparser_tsvector(text) is
    'The words zhparser finds in a text, with short words inside compounds (multi_short on).';

create or replace function photo_ai.zhparser_tsquery(_text text)
returns tsquery
language plpgsql stable strict
set search_path to pg_catalog, pg_temp
set zhparser.multi_short to off
set zhparser.multi_duality to off
set zhparser.multi_zmain to off
set zhparser.multi_zall to off
as $func$
begin
    return pg_catalog.phraseto_tsquery('photo_ai.zhparser_words'::text::regconfig, _text);
end
$func$;
comment on function photo_ai.zhparser_tsquery(text) is
    'A query as the phrase of the words zhparser finds in it, every compound setting off.';

-------------------------------------------------------------------------------
-- zh_tsvector: the index of a text, characters and words
create or replace function photo_ai.zh_tsvector(_text text)
returns tsvector
language plpgsql stable strict parallel safe security definer
set search_path to pg_catalog, pg_temp
as $func$
begin
    return photo_ai.char_lexemes(_text, false)::tsvector
        || case photo_ai.text_parser()
               when 'zhparser' then photo_ai.zhparser_tsvector(_text)
               else photo_ai.jieba_tsvector(_text) end;
end
$func$;
comment on function photo_ai.zh_tsvector(text) is
    'Text search vector for Chinese, English and numbers mixed: every CJK character and '
    'neighbouring pair, letter and digit words (NFKC, case-folded), and the words of the '
    'text_parser (zhparser or jieba).';

-------------------------------------------------------------------------------
-- phrase_tsquery: one phrase (a term, or a quoted run of terms) as it must occur
create or replace function photo_ai.phrase_tsquery(_phrase text)
returns tsquery
language plpgsql stable strict parallel safe
set search_path to pg_catalog, pg_temp
as $func$
declare
    _chars tsquery := photo_ai.char_lexemes(_phrase, true)::tsquery;
    _words tsquery;
begin
    if _chars is null or not photo_ai.is_cjk_text(_phrase) then
        return _chars;
    end if;
    _words := case photo_ai.text_parser()
                  when 'zhparser' then photo_ai.zhparser_tsquery(_phrase)
                  else photo_ai.jieba_tsquery(_phrase) end;
    if pg_catalog.numnode(_words) > 0 and _words <> _chars then
        return _chars || _words;
    end if;
    return _chars;
end
$func$;
comment on function photo_ai.phrase_tsquery(text) is
    'The tsquery of one phrase: its exact character phrase, OR its words'' phrase for CJK '
    'text (which ranks whole-word matches higher). NULL when it has no letters.';

-------------------------------------------------------------------------------
-- zh_tsquery: every whitespace-separated term of a text, each an exact phrase
create or replace function photo_ai.zh_tsquery(_text text)
returns tsquery
language plpgsql stable strict parallel safe security definer
set search_path to pg_catalog, pg_temp
as $func$
declare
    _query tsquery;
    _term tsquery;
begin
    for _term in
        select photo_ai.phrase_tsquery(t)
        from pg_catalog.regexp_split_to_table(_text, '\s+') t
    loop
        if _term is not null then
            _query := case when _query is null then _term else _query && _term end;
        end if;
    end loop;
    return _query;
end
$func$;
comment on function photo_ai.zh_tsquery(text) is
    'The text search query of plain text: every whitespace-separated term must occur, each '
    'as it is written (Chinese, English and numbers mixed). Operators and quotes are plain '
    'text. NULL when the text has no letters or digits.';

-------------------------------------------------------------------------------
-- functions/012_text_index.sql
-------------------------------------------------------------------------------
-- The OCR text index: each line weighted by how prominent it is in the photo, so a word
-- printed large as a title outranks the same word in small print.

-------------------------------------------------------------------------------
-- ocr_line_height: a line's height in pixels, the mean of its left and right edges (the
-- box's corners run top-left, top-right, bottom-right, bottom-left), so a rotated line
-- measures its letters, not its bounding rectangle
create or replace function photo_ai.ocr_line_height(_box jsonb)
returns float8
language sql immutable strict parallel safe
set search_path to pg_catalog, pg_temp
as $func$
    select (pg_catalog.sqrt(((_box->0->>0)::float8 - (_box->3->>0)::float8) ^ 2
                          + ((_box->0->>1)::float8 - (_box->3->>1)::float8) ^ 2)
          + pg_catalog.sqrt(((_box->1->>0)::float8 - (_box->2->>0)::float8) ^ 2
                          + ((_box->1->>1)::float8 - (_box->2->>1)::float8) ^ 2)) / 2
$func$;
comment on function photo_ai.ocr_line_height(jsonb) is
    'The height of an OCR line from its four corners (mean of the left and right edges).';

-------------------------------------------------------------------------------
-- ocr_line_weight: A for the photo's largest text (titles, sign lettering), then B, C,
-- D as it gets smaller; a doubtful reading drops one step
create or replace function photo_ai.ocr_line_weight(_height float8, _tallest float8, _score float8)
returns "char"
language sql immutable parallel safe
set search_path to pg_catalog, pg_temp
as $func$
    select (array['A', 'B', 'C', 'D'])[least(4,
        case when _tallest is null or _tallest <= 0 or _height is null then 4
             when _height >= 0.75 * _tallest then 1
             when _height >= 0.5 * _tallest then 2
             when _height >= 0.3 * _tallest then 3
             else 4 end
        + (coalesce(_score, 1) < 0.8)::int)]::"char"
$func$;
comment on function photo_ai.ocr_line_weight(float8, float8, float8) is
    'The text search weight of an OCR line: A at 3/4 of the tallest line''s height or more, '
    'B from 1/2, C from 0.3, D below; one step lower when recognised with a score under 0.8.';

-------------------------------------------------------------------------------
-- ocr_tsvector: an OCR result's search vector, line by line with its weight (a line
-- with no box keeps weight D, the weight of plain text)
create or replace function photo_ai.ocr_tsvector(_text text, _lines jsonb)
returns tsvector
language plpgsql stable parallel safe security definer
set search_path to pg_catalog, pg_temp
as $func$
declare
    _tsv tsvector := '';
    _line record;
begin
    if coalesce(pg_catalog.jsonb_array_length(_lines), 0) = 0 then
        return pg_catalog.setweight(photo_ai.zh_tsvector(coalesce(_text, '')), 'D');
    end if;
    for _line in
        with measured as (
            select l->>'text' as text, (l->>'score')::float8 as score
                 , photo_ai.ocr_line_height(l->'box') as height
            from pg_catalog.jsonb_array_elements(_lines) with ordinality as e(l, n)
            order by e.n)
        select m.text, photo_ai.ocr_line_weight(m.height, max(m.height) over (), m.score) as weight
        from measured m
    loop
        -- || puts each line after the last: no phrase runs across two lines
        _tsv := _tsv || pg_catalog.setweight(photo_ai.zh_tsvector(coalesce(_line.text, '')),
                                             _line.weight);
    end loop;
    return _tsv;
end
$func$;
comment on function photo_ai.ocr_tsvector(text, jsonb) is
    'The search vector of an OCR result: every line''s zh_tsvector, weighted A to D by its '
    'height against the photo''s tallest line and by its recognition score.';

-------------------------------------------------------------------------------
-- zhparser_installed / create_zhparser_config: zhparser is optional, so it is only ever
-- reached through the catalog and dynamic SQL
create or replace function photo_ai.zhparser_installed()
returns boolean
language sql stable
set search_path to pg_catalog, pg_temp
as $func$
    select exists (select 1 from pg_catalog.pg_extension where extname = 'zhparser')
$func$;
comment on function photo_ai.zhparser_installed() is
    'Whether the zhparser extension is installed in this database.';

create or replace function photo_ai.create_zhparser_config()
returns void
language plpgsql volatile
set search_path to pg_catalog, pg_temp
as $func$
declare
    _parser oid;
    _parser_name text;
begin
    if exists (select 1 from pg_catalog.pg_ts_config c
               where c.cfgname = 'zhparser_words' and c.cfgnamespace = 'photo_ai'::regnamespace) then
        return;
    end if;
    select p.oid, pg_catalog.format('%I.%I', n.nspname, p.prsname) into _parser, _parser_name
    from pg_catalog.pg_ts_parser p
    join pg_catalog.pg_namespace n on n.oid = p.prsnamespace
    join pg_catalog.pg_depend d on d.classid = 'pg_catalog.pg_ts_parser'::regclass and d.objid = p.oid
    join pg_catalog.pg_extension e on e.oid = d.refobjid and e.extname = 'zhparser'
    where d.deptype = 'e';
    if _parser is null then
        raise exception 'photo_ai: the zhparser extension is not installed in this database'
            using hint = 'CREATE EXTENSION zhparser, or keep jieba: photo_ai.rebuild_text_index(''jieba'')';
    end if;
    execute pg_catalog.format('create text search configuration photo_ai.zhparser_words (parser = %s)',
                              _parser_name);
    -- every token type but punctuation (w), as is: the character lexemes do the rest
    execute pg_catalog.format(
        'alter text search configuration photo_ai.zhparser_words add mapping for %s with pg_catalog.simple',
        (select pg_catalog.string_agg(pg_catalog.quote_ident(t.alias), ', ')
         from pg_catalog.ts_token_type(_parser) t where t.alias <> 'w'));
    -- created outside the extension script (zhparser came later): make it ours, so that
    -- DROP EXTENSION photo_ai takes it along
    if not exists (select 1 from pg_catalog.pg_depend d
                   where d.classid = 'pg_catalog.pg_ts_config'::regclass and d.deptype = 'e'
                     and d.objid = 'photo_ai.zhparser_words'::text::regconfig) then
        execute 'alter extension photo_ai add text search configuration photo_ai.zhparser_words';
    end if;
end
$func$;
comment on function photo_ai.create_zhparser_config() is
    'Creates the text search configuration photo_ai.zhparser_words on zhparser''s parser '
    '(every token type but punctuation, unchanged); a clear error where zhparser is missing.';

-------------------------------------------------------------------------------
-- rebuild_text_index: choose the word segmenter and re-index every OCR text with it
create or replace function photo_ai.rebuild_text_index(parser text default null)
returns bigint
language plpgsql volatile security definer
set search_path to pg_catalog, pg_temp
as $func$
declare
    _parser text := coalesce(rebuild_text_index.parser,
                             case when photo_ai.zhparser_installed() then 'zhparser' else 'jieba' end);
    _count bigint;
begin
    if _parser not in ('zhparser', 'jieba') then
        raise exception 'photo_ai: parser must be zhparser or jieba, got %', _parser;
    end if;
    if _parser = 'zhparser' then
        perform photo_ai.create_zhparser_config();
    end if;
    perform photo_ai.set_setting('text_parser', pg_catalog.to_jsonb(_parser));
    update photo_ai.ocr_result r set tsv = photo_ai.ocr_tsvector(r.text, r.lines);
    get diagnostics _count = row_count;
    raise notice 'photo_ai: % OCR texts indexed with %', _count, _parser;
    return _count;
end
$func$;
comment on function photo_ai.rebuild_text_index(text) is
    'Sets the word segmenter of the text index (zhparser or jieba; by default zhparser where '
    'that extension is installed) and re-computes the search vector of every OCR text. '
    'Returns how many were re-indexed.';

-- An install or upgrade that finds text_parser = zhparser (chosen when zhparser was there)
-- makes sure its configuration exists.
do $zhparser_config$
begin
    if photo_ai.text_parser() = 'zhparser' then
        perform photo_ai.create_zhparser_config();
    end if;
end
$zhparser_config$;

-------------------------------------------------------------------------------
-- functions/020_source_asset.sql
-------------------------------------------------------------------------------
-- source_asset: the one narrow view of assets the pipeline reads. Standalone mode
-- stands photo_ai.asset behind it; Immich mode stands Immich's asset table there
-- (photo_ai.use_immich_assets, sql/functions/050). This file runs on every install and
-- upgrade, so it defines the standalone view only when the database is not in Immich
-- mode: an upgrade must not put an Immich database back on photo_ai.asset.
create or replace function photo_ai.use_standalone_assets()
returns void
language plpgsql volatile
set search_path to pg_catalog, pg_temp
as $func$
begin
    -- DDL through execute: the view is defined here once, for install, upgrade and
    -- photo_ai.detach_immich() alike
    execute $view$
        create or replace view photo_ai.source_asset as
        select a.id
             , a.original_path as path
             , a.checksum
             , a.type = 'IMAGE' as is_image
             , a.owner_id
             , coalesce(a.taken_at, a.created_at) as taken_at
             , a.deleted_at
        from photo_ai.asset a
    $view$;
    comment on view photo_ai.source_asset is
        'The assets photo_ai analyses: id, path, checksum, is_image, owner, date taken, deleted_at.';
end
$func$;
comment on function photo_ai.use_standalone_assets() is
    'Stands photo_ai.asset behind the view photo_ai.source_asset (standalone mode).';

select photo_ai.use_standalone_assets()
where photo_ai.setting('mode') is distinct from '"immich"'::jsonb;

-------------------------------------------------------------------------------
-- functions/021_queue.sql
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

-------------------------------------------------------------------------------
-- functions/022_sidecar_client.sql
-------------------------------------------------------------------------------
-- sidecar_request: one HTTP exchange with the inference sidecar, from the server's Python.
-- Connections are kept alive in GD per backend; several sidecar URLs are used in turn and
-- the next is tried when one cannot be reached. Never raises for network trouble: returns
--   {"status": 200, "body": {...}, "url": "..."}                        an answer
--   {"status": 0, "kind": "unreachable" | "timeout", "error": "..."}    no answer
--   {"status": -1, "kind": "unreadable_file", "error": "..."}           (bytes mode) the file
create or replace function photo_ai.sidecar_request
( _method text
, _path text
, _json jsonb default null
, _file text default null
, _fields jsonb default null
, _bytes bytea default null
, _timeout_seconds float8 default null
)
returns jsonb
language plpython3u volatile security definer
set search_path to pg_catalog, pg_temp
as $python$
    import http.client
    import json
    import socket
    import urllib.parse
    import uuid

    state = GD.setdefault("photo_ai.http", {"connections": {}, "turn": 0})
    if "setting" not in state:
        state["setting"] = plpy.prepare("select photo_ai.setting($1)::text as v", ["text"])

    def setting(name):
        return json.loads(plpy.execute(state["setting"], [name])[0]["v"])

    def multipart(fields, filename, data):
        boundary = uuid.uuid4().hex
        parts = []
        for name, value in fields.items():
            parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'
                         f'{value}\r\n'.encode())
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="image"; '
                     f'filename="{filename}"\r\nContent-Type: application/octet-stream\r\n\r\n'.encode())
        parts += [data, f'\r\n--{boundary}--\r\n'.encode()]
        return b"".join(parts), f"multipart/form-data; boundary={boundary}"

    def connection(url, timeout, fresh):
        conns = state["connections"]
        if fresh and url in conns:
            conns.pop(url).close()
        if url not in conns:
            parts = urllib.parse.urlsplit(url)
            cls = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
            conns[url] = cls(parts.hostname, parts.port, timeout=timeout)
        conns[url].timeout = timeout
        return conns[url]

    headers = {"Accept": "application/json"}
    api_key = setting("api_key")
    if api_key:
        headers["x-api-key"] = api_key
    body = None
    if _bytes is not None:
        body, headers["Content-Type"] = multipart(json.loads(_fields or "{}"), "upload", _bytes)
    elif _file is not None:
        try:
            with open(_file, "rb") as f:
                data = f.read()
        except OSError as e:
            return json.dumps({"status": -1, "kind": "unreadable_file",
                               "error": f"cannot read {_file}: {e.strerror}"})
        body, headers["Content-Type"] = multipart(json.loads(_fields or "{}"), _file.rsplit("/", 1)[-1], data)
    elif _json is not None:
        body, headers["Content-Type"] = _json.encode(), "application/json"

    urls = setting("sidecar_urls")
    state["turn"] = (state["turn"] + 1) % len(urls)
    timeout = float(_timeout_seconds or setting("request_timeout_seconds"))
    errors = []
    for url in urls[state["turn"]:] + urls[:state["turn"]]:
        # a kept-alive connection the sidecar has closed gets one retry on a new connection
        for fresh in (False, True):
            conn = connection(url, timeout, fresh)
            try:
                conn.request(_method, urllib.parse.urlsplit(url).path + _path, body=body, headers=headers)
                response = conn.getresponse()
                raw = response.read()
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError) as e:
                if not fresh:
                    continue
                errors.append(f"{url}: {e}")
            except (socket.timeout, TimeoutError):
                state["connections"].pop(url).close()
                return json.dumps({"status": 0, "kind": "timeout", "url": url,
                                   "error": f"{url} gave no answer within {timeout:g} s"})
            except (OSError, http.client.HTTPException) as e:
                state["connections"].pop(url).close()
                errors.append(f"{url}: {e}")
            else:
                try:
                    parsed = json.loads(raw)
                except ValueError:
                    parsed = {"error": {"kind": "not_json", "detail": raw[:500].decode(errors="replace")}}
                return json.dumps({"status": response.status, "body": parsed, "url": url})
            break
    return json.dumps({"status": 0, "kind": "unreachable",
                       "error": "no sidecar answered: " + "; ".join(errors)})
$python$;
comment on function photo_ai.sidecar_request(text, text, jsonb, text, jsonb, bytea, float8) is
    'One HTTP request to the inference sidecar (keep-alive, URLs in rotation, the API key '
    'sent as x-api-key). _json is sent as JSON; _file, when given, is read by the server and '
    'uploaded as multipart field "image" with _fields beside it, and so is _bytes. '
    '_timeout_seconds overrides request_timeout_seconds. Network trouble is returned, not '
    'raised.';

-------------------------------------------------------------------------------
-- functions/023_results.sql
-------------------------------------------------------------------------------
-- write_ocr: replace an asset's OCR text, lines and search vector
create or replace function photo_ai.write_ocr(_asset_id uuid, _result jsonb)
returns void
language sql volatile security definer
set search_path to pg_catalog, pg_temp
as $func$
    insert into photo_ai.ocr_result as r (asset_id, model, text, lines, tsv)
    select _asset_id, _result->>'model', t.text, t.lines, photo_ai.ocr_tsvector(t.text, t.lines)
    from (select coalesce(_result->>'text', '') as text, coalesce(_result->'lines', '[]') as lines) t
    on conflict (asset_id) do update
        set model = excluded.model, text = excluded.text, lines = excluded.lines
          , tsv = excluded.tsv, created_at = pg_catalog.now()
$func$;
comment on function photo_ai.write_ocr(uuid, jsonb) is
    'Stores the sidecar''s OCR result for an asset, replacing an earlier one; its search '
    'vector weighs every line by its prominence (ocr_tsvector).';

-------------------------------------------------------------------------------
-- write_clip: replace an asset's image embedding
create or replace function photo_ai.write_clip(_asset_id uuid, _result jsonb)
returns void
language sql volatile security definer
set search_path to pg_catalog, pg_temp
as $func$
    insert into photo_ai.clip_embedding as c (asset_id, model, embedding)
    values (_asset_id, _result->>'model', (_result->'embedding')::text::public.vector)
    on conflict (asset_id) do update
        set model = excluded.model, embedding = excluded.embedding, created_at = pg_catalog.now()
$func$;
comment on function photo_ai.write_clip(uuid, jsonb) is
    'Stores the sidecar''s CLIP image embedding for an asset, replacing an earlier one.';

-------------------------------------------------------------------------------
-- write_faces: replace an asset's faces (the scan row is kept also when none were found)
create or replace function photo_ai.write_faces(_asset_id uuid, _result jsonb)
returns void
language sql volatile security definer
set search_path to pg_catalog, pg_temp
as $func$
    delete from photo_ai.face_scan where asset_id = _asset_id;
    insert into photo_ai.face_scan (asset_id, model, face_count)
    values (_asset_id, _result->>'model', pg_catalog.jsonb_array_length(_result->'faces'));
    insert into photo_ai.face (asset_id, box, score, landmarks, embedding)
    select _asset_id
         , array(select pg_catalog.jsonb_array_elements_text(f->'box'))::real[]
         , (f->>'score')::real
         , array(select pg_catalog.jsonb_array_elements_text(p)
                 from pg_catalog.jsonb_array_elements(f->'landmarks') p)::real[]
         , (f->'embedding')::text::public.vector
    from pg_catalog.jsonb_array_elements(_result->'faces') f;
$func$;
comment on function photo_ai.write_faces(uuid, jsonb) is
    'Stores the faces the sidecar found in an asset (box, score, 5 landmarks, embedding), '
    'replacing earlier ones.';

-------------------------------------------------------------------------------
-- write_result: the one place a task's result is stored
create or replace function photo_ai.write_result(_task photo_ai.task, _asset_id uuid, _result jsonb)
returns void
language plpgsql volatile security definer
set search_path to pg_catalog, pg_temp
as $func$
begin
    case _task
        when 'ocr' then perform photo_ai.write_ocr(_asset_id, _result);
        when 'clip' then perform photo_ai.write_clip(_asset_id, _result);
        when 'faces' then perform photo_ai.write_faces(_asset_id, _result);
    end case;
    perform photo_ai.write_immich_result(_task, _asset_id, _result);  -- Immich mode (051)
end
$func$;
comment on function photo_ai.write_result(photo_ai.task, uuid, jsonb) is
    'Stores one task''s result for an asset where search reads it.';

-------------------------------------------------------------------------------
-- functions/024_worker.sql
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

-------------------------------------------------------------------------------
-- functions/030_admin.sql
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

-------------------------------------------------------------------------------
-- functions/031_schedule.sql
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
-- schedule_worker: a pg_cron job that keeps a worker running (bookworm's pg_cron 1.4
-- has no seconds schedules, so each minute starts a worker that runs about 55 s)
create or replace function photo_ai.schedule_worker(workers int default 1, batch_size int default 16)
returns setof bigint
language plpgsql volatile
set search_path to pg_catalog, pg_temp
as $func$
declare
    _n int;
    _job_id bigint;
begin
    perform photo_ai.require_pg_cron();
    perform photo_ai.unschedule_worker();
    for _n in 1 .. workers loop
        _job_id := photo_ai.cron_schedule(
            format('photo_ai_worker_%s', _n), '* * * * *',
            format('CALL photo_ai.run_worker(max_seconds => 55, batch_size => %s)', batch_size));
        return next _job_id;
    end loop;
end
$func$;
comment on function photo_ai.schedule_worker(int, int) is
    'Installs pg_cron jobs (one per worker) that run CALL photo_ai.run_worker(55) every '
    'minute; returns the cron job ids. Replaces an earlier schedule.';

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
language plpgsql volatile
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

-------------------------------------------------------------------------------
-- functions/040_search_query.sql
-------------------------------------------------------------------------------
-- What a search query says. Syntax: an optional prefix ocr: (text only) or clip: (meaning
-- only); then terms separated by spaces, all of which must occur; "a quoted phrase" must
-- occur as written; -term or -"phrase" excludes photos whose text has it. Anything else
-- (operators, lone quotes, SQL) is plain text: only letters and digits reach a tsquery.

-------------------------------------------------------------------------------
-- search_terms: the terms of a query, and which ones are excluded (-term)
create or replace function photo_ai.search_terms(_query text)
returns table (term text, excluded boolean)
language sql immutable strict parallel safe
set search_path to pg_catalog, pg_temp
as $func$
    -- a "quoted phrase" (the closing quote may be missing) or a run of other characters,
    -- each with an optional leading minus; a minus inside a word (e-mail) is part of it
    select coalesce(m[2], m[4]), coalesce(m[1], m[3]) = '-'
    from pg_catalog.regexp_matches(_query, '(-?)"([^"]*)"?|(-?)([^\s"]+)', 'g') m
$func$;
comment on function photo_ai.search_terms(text) is
    'Splits a search query into terms ("quoted phrases" kept whole) and says which are '
    'excluded with a leading minus.';

-------------------------------------------------------------------------------
-- parse_search: prefix, text queries and the text to embed, in one record
create or replace function photo_ai.parse_search
( _query text
, out mode text                -- 'both', 'ocr' or 'clip'
, out include_query tsquery    -- what the OCR text must match (NULL: nothing to match)
, out exclude_query tsquery    -- what it must not (NULL: no exclusion)
, out semantic_text text       -- the query for CLIP: the wanted terms, without syntax
, out needles text[]           -- the wanted terms as typed, for the snippet
)
language plpgsql stable parallel safe
set search_path to pg_catalog, pg_temp
as $func$
declare
    -- a query longer than this is cut: no photo's text is matched by more
    _text text := pg_catalog.left(coalesce(_query, ''), 500);
    _prefix text[] := pg_catalog.regexp_match(_text, '^\s*(ocr|clip)\s*:(.*)$', 'i');
    _term record;
    _phrase tsquery;
begin
    mode := coalesce(pg_catalog.lower(_prefix[1]), 'both');
    needles := '{}';
    for _term in select * from photo_ai.search_terms(coalesce(_prefix[2], _text)) loop
        _phrase := photo_ai.phrase_tsquery(_term.term);
        continue when _phrase is null;  -- no letters or digits: nothing to look for
        if _term.excluded then
            exclude_query := case when exclude_query is null then _phrase
                                  else exclude_query || _phrase end;
        else
            include_query := case when include_query is null then _phrase
                                  else include_query && _phrase end;
            semantic_text := pg_catalog.concat_ws(' ', semantic_text, _term.term);
            needles := needles || _term.term;
        end if;
    end loop;
end
$func$;
comment on function photo_ai.parse_search(text) is
    'Reads a search query: its prefix (ocr:, clip:), the tsquery its OCR text must match and '
    'the one it must not, the text to embed for CLIP, the terms to show in a snippet.';

-------------------------------------------------------------------------------
-- ocr_snippet: the first OCR line holding a wanted term, the term marked «»; else the
-- text's first line. A phrase the OCR split differently is shown by its first line.
create or replace function photo_ai.ocr_snippet(_text text, _needles text[])
returns text
language sql immutable parallel safe
set search_path to pg_catalog, pg_temp
as $func$
    select pg_catalog.left(coalesce(
        (select pg_catalog.substr(l.line, 1, f.at - 1) || '«' || pg_catalog.substr(l.line, f.at, f.len)
                || '»' || pg_catalog.substr(l.line, f.at + f.len)
         from pg_catalog.regexp_split_to_table(_text, '\n') with ordinality l(line, n)
         cross join pg_catalog.unnest(_needles) w(needle)
         cross join lateral (select pg_catalog.strpos(pg_catalog.lower(l.line), pg_catalog.lower(w.needle)) as at
                                  , pg_catalog.char_length(w.needle) as len) f
         where f.at > 0
         order by l.n, f.at
         limit 1),
        pg_catalog.split_part(_text, e'\n', 1)), 200)
$func$;
comment on function photo_ai.ocr_snippet(text, text[]) is
    'The OCR line that holds one of the wanted terms, the term marked «»; otherwise the first '
    'line. At most 200 characters.';

-------------------------------------------------------------------------------
-- functions/041_query_embedding.sql
-------------------------------------------------------------------------------
-- Query embeddings: CLIP text embeddings come from the sidecar and are kept in
-- photo_ai.query_embedding, so a repeated search costs no round trip. A search must never
-- fail for want of them: every function here reports a problem instead of raising.

-------------------------------------------------------------------------------
-- sidecar_problem: one line saying why a sidecar answer holds no result
create or replace function photo_ai.sidecar_problem(_answer jsonb)
returns text
language sql immutable parallel safe
set search_path to pg_catalog, pg_temp
as $func$
    select case
        when _error->>'kind' = 'model_missing' then 'the CLIP model is missing: ' || (_error->>'detail')
        when _status = 0 then 'the sidecar did not answer: ' || (_answer->>'error')
        when _status = 401 then 'the sidecar refused the API key (photo_ai.configure(api_key => ...))'
        else pg_catalog.format('the sidecar answered %s: %s', _status,
                               coalesce(_error->>'detail', _error->>'kind', _answer->>'error', 'no detail'))
    end
    from (select (_answer->>'status')::int as _status
               , coalesce(_answer->'body'->'errors'->'clip', _answer->'body'->'error') as _error) a
$func$;
comment on function photo_ai.sidecar_problem(jsonb) is
    'A readable reason why a sidecar answer has no CLIP result (model missing, no answer, '
    'API key refused, other errors).';

-------------------------------------------------------------------------------
-- photos_clip_model: the model the photos were embedded with; queries must use the same
create or replace function photo_ai.photos_clip_model()
returns text
language sql stable
set search_path to pg_catalog, pg_temp
as $func$
    select c.model from photo_ai.clip_embedding c limit 1
$func$;
comment on function photo_ai.photos_clip_model() is
    'The CLIP model of the stored photo embeddings (NULL when there are none).';

-------------------------------------------------------------------------------
-- can_write: false in a read-only transaction (a hot standby), where the cache is only read
create or replace function photo_ai.can_write()
returns boolean
language sql stable
set search_path to pg_catalog, pg_temp
as $func$
    select pg_catalog.current_setting('transaction_read_only') = 'off'
$func$;
comment on function photo_ai.can_write() is 'Whether this transaction may write.';

-------------------------------------------------------------------------------
-- remember_query_embedding: cache one embedding and keep the cache within its size
create or replace function photo_ai.remember_query_embedding(_model text, _query text, _embedding public.vector)
returns void
language plpgsql volatile
set search_path to pg_catalog, pg_temp
as $func$
declare
    _size int := photo_ai.setting('query_cache_size')::text::int;
begin
    if not photo_ai.can_write() then
        return;
    end if;
    insert into photo_ai.query_embedding as q (model, query, embedding) values (_model, _query, _embedding)
    on conflict (model, query) do update set embedding = excluded.embedding, used_at = pg_catalog.now();
    -- prune in steps of a tenth, so that a full cache is not pruned on every miss
    if (select count(*) from photo_ai.query_embedding) > _size * 1.1 then
        delete from photo_ai.query_embedding q
        where q.used_at < (select o.used_at from photo_ai.query_embedding o
                           order by o.used_at desc offset _size - 1 limit 1);
    end if;
end
$func$;
comment on function photo_ai.remember_query_embedding(text, text, public.vector) is
    'Caches a query embedding; past query_cache_size (and a tenth) the least recently used '
    'go. Does nothing in a read-only transaction.';

-------------------------------------------------------------------------------
-- query_embedding_of: the CLIP embedding of a query text, from the cache or the sidecar;
-- NULL with the reason when there is none
create or replace function photo_ai.query_embedding_of
( _query text
, out embedding public.vector
, out problem text
)
language plpgsql volatile
set search_path to pg_catalog, pg_temp
as $func$
declare
    _model text := photo_ai.photos_clip_model();
    _cached record;
    _answer jsonb;
begin
    if _model is null then
        problem := 'no photo has a CLIP embedding yet';
        return;
    end if;
    select q.embedding, q.used_at into _cached
    from photo_ai.query_embedding q where q.model = _model and q.query = _query;
    if found then
        embedding := _cached.embedding;
        -- recency for the pruning; a coarse clock spares a write on most searches
        if _cached.used_at < pg_catalog.now() - interval '10 minutes' and photo_ai.can_write() then
            update photo_ai.query_embedding q set used_at = pg_catalog.now()
            where q.model = _model and q.query = _query;
        end if;
        return;
    end if;
    _answer := photo_ai.sidecar_request('POST', '/v1/clip/text',
        _json => pg_catalog.jsonb_build_object('texts', pg_catalog.jsonb_build_array(_query)),
        _timeout_seconds => photo_ai.setting('search_timeout_seconds')::text::float8);
    if (_answer->>'status')::int <> 200 then
        problem := photo_ai.sidecar_problem(_answer);
    elsif _answer->'body'->>'model' is distinct from _model then
        problem := pg_catalog.format('the photos were embedded with %s but the sidecar now uses %s; '
                                     'reprocess them (photo_ai.ai_reprocess) to search by meaning',
                                     _model, _answer->'body'->>'model');
    else
        embedding := (_answer->'body'->'embeddings'->0)::text::public.vector;
        perform photo_ai.remember_query_embedding(_model, _query, embedding);
    end if;
end
$func$;
comment on function photo_ai.query_embedding_of(text) is
    'The CLIP text embedding of a query (cached in photo_ai.query_embedding, else asked of the '
    'sidecar within search_timeout_seconds), or NULL and the reason: no photo embedded yet, '
    'CLIP model missing, sidecar unreachable, another model than the photos''.';

-------------------------------------------------------------------------------
-- functions/042_hybrid_search.sql
-------------------------------------------------------------------------------
-- hybrid_search and its two arms. Each arm ranks on its own; reciprocal rank fusion adds
-- weight / (k + rank) over the arms an asset was found by, so agreement between the arms
-- counts for more than a high score in one, and no score needs to be calibrated against
-- the other (ts_rank and cosine similarity have nothing in common).

-------------------------------------------------------------------------------
-- text_hits: the OCR arm, best first. Every match is ranked (that is the cost of a common
-- word), but the asset filters are checked best first and only until enough pass: a
-- common word does not look up thousands of assets.
create or replace function photo_ai.text_hits
( _include tsquery
, _exclude tsquery
, _owner_id uuid
, _taken_after timestamptz
, _taken_before timestamptz
, _limit int
)
returns table (asset_id uuid, rank int, score float8)
language sql stable parallel safe
set search_path to pg_catalog, pg_temp
as $func$
    select h.asset_id, (row_number() over (order by h.score desc, h.asset_id))::int, h.score
    from (
        select m.asset_id, m.score
        from (
            -- weights D, C, B, A: a title counts ten times small print. No length
            -- normalization: how much else a photo says does not make its title smaller
            -- (measured: nDCG@10 drops with normalization 1 or 2, docs/_search_section.md)
            select o.asset_id, pg_catalog.ts_rank('{0.1, 0.2, 0.4, 1.0}', o.tsv, _include)::float8 as score
            from photo_ai.ocr_result o
            where _include is not null
              and o.tsv @@ _include and (_exclude is null or not o.tsv @@ _exclude)
            order by 2 desc, 1
        ) m
        where exists (
            select 1 from photo_ai.source_asset a
            where a.id = m.asset_id and a.deleted_at is null
              and (_owner_id is null or a.owner_id = _owner_id)
              and (_taken_after is null or a.taken_at >= _taken_after)
              and (_taken_before is null or a.taken_at <= _taken_before))
        order by m.score desc, m.asset_id
        limit _limit
    ) h
$func$;
comment on function photo_ai.text_hits(tsquery, tsquery, uuid, timestamptz, timestamptz, int) is
    'The OCR text arm of hybrid_search: assets whose text matches, ranked by ts_rank with '
    'line prominence weights; filters by owner, date taken and the trash.';

-------------------------------------------------------------------------------
-- nearest_embeddings: the embeddings nearest to a vector among the assets the filters
-- keep, by cosine distance. Through the HNSW index (_exact false), pgvector's iterative
-- scan goes on while the filters reject neighbours (up to hnsw.max_scan_tuples), and
-- relaxed_order may return rows slightly out of order: the caller sorts. _exact computes
-- every distance: cosine_distance() is <=>, but as a function no index serves it. The
-- one statement is run with either ORDER BY, and planned for the filters actually given.
create or replace function photo_ai.nearest_embeddings
( _embedding public.vector
, _exclude tsquery
, _owner_id uuid
, _taken_after timestamptz
, _taken_before timestamptz
, _limit int
, _exact boolean
)
returns table (asset_id uuid, distance float8)
language plpgsql stable
set search_path to pg_catalog, pg_temp
as $func$
begin
    return query execute pg_catalog.format($sql$
        select c.asset_id, c.embedding operator(public.<=>) $1
        from photo_ai.clip_embedding c
        join photo_ai.source_asset a on a.id = c.asset_id
        where a.deleted_at is null
          and ($3 is null or a.owner_id = $3)
          and ($4 is null or a.taken_at >= $4)
          and ($5 is null or a.taken_at <= $5)
          and ($2 is null or not exists (
                  select 1 from photo_ai.ocr_result o
                  where o.asset_id = c.asset_id and o.tsv @@ $2))
        order by %s
        limit $6 $sql$,
        case when _exact then 'public.cosine_distance(c.embedding, $1)'
             else 'c.embedding operator(public.<=>) $1' end)
    using _embedding, _exclude, _owner_id, _taken_after, _taken_before, _limit;
end
$func$;
comment on function photo_ai.nearest_embeddings(public.vector, tsquery, uuid, timestamptz, timestamptz, int, boolean) is
    'The assets whose CLIP embeddings are nearest to a vector (cosine), filtered by owner, '
    'date taken, the trash and excluded text; through the HNSW index, or exactly.';

-------------------------------------------------------------------------------
-- semantic_hits: the CLIP arm, nearest first. The HNSW index answers; when the filters
-- keep so few photos that the index scan gives up before finding enough, the photos
-- they keep are few, and an exact search over them is cheap and complete.
create or replace function photo_ai.semantic_hits
( _embedding public.vector
, _exclude tsquery
, _owner_id uuid
, _taken_after timestamptz
, _taken_before timestamptz
, _limit int
)
returns table (asset_id uuid, rank int, similarity float8)
language plpgsql stable
set search_path to pg_catalog, pg_temp
set hnsw.iterative_scan to relaxed_order
set hnsw.ef_search to 400
as $func$
declare
    _nearest jsonb;
begin
    if _embedding is null then
        return;  -- no query vector, no neighbours (and no scan ordered by nothing)
    end if;
    -- the candidate list must hold the results asked for (pgvector allows up to 1000)
    perform pg_catalog.set_config('hnsw.ef_search', least(1000, greatest(_limit,
        photo_ai.setting('hnsw_ef_search')::text::int))::text, true);
    _nearest := (select pg_catalog.jsonb_agg(n) from photo_ai.nearest_embeddings(
        _embedding, _exclude, _owner_id, _taken_after, _taken_before, _limit, false) n);
    if coalesce(pg_catalog.jsonb_array_length(_nearest), 0) < _limit then
        _nearest := (select pg_catalog.jsonb_agg(n) from photo_ai.nearest_embeddings(
            _embedding, _exclude, _owner_id, _taken_after, _taken_before, _limit, true) n);
    end if;
    return query
    select n.asset_id, (row_number() over (order by n.distance, n.asset_id))::int, 1 - n.distance
    from pg_catalog.jsonb_to_recordset(coalesce(_nearest, '[]')) as n(asset_id uuid, distance float8)
    order by n.distance, n.asset_id;
end
$func$;
comment on function photo_ai.semantic_hits(public.vector, tsquery, uuid, timestamptz, timestamptz, int) is
    'The CLIP arm of hybrid_search (and of similar_assets, search_by_image): the nearest '
    'embeddings by cosine distance through the HNSW index (iterative scan, so filters do not '
    'starve it; an exact search when they keep too few photos for the index to find), with '
    'filters by owner, date taken, the trash and excluded text.';

-------------------------------------------------------------------------------
-- hybrid_search: OCR text and CLIP meaning, fused
create or replace function photo_ai.hybrid_search
( query text
, max_results int default 50
, owner_id uuid default null
, taken_after timestamptz default null
, taken_before timestamptz default null
, text_weight float8 default 1.0
, semantic_weight float8 default 1.0
, rrf_k int default 60
, min_similarity float8 default null
)
returns setof photo_ai.search_hit
language plpgsql volatile security definer
set search_path to pg_catalog, pg_temp
as $func$
declare
    _q record := photo_ai.parse_search(query);
    -- fusion needs depth in each arm; a single arm needs only what is shown
    _depth int := case when _q.mode = 'both' then least(greatest(2 * max_results, 100), 1000)
                       else max_results end;
    _embedding public.vector;
    _arm text := 'not asked';
begin
    if rrf_k is null or rrf_k < 1 or text_weight < 0 or semantic_weight < 0 then
        raise exception 'photo_ai: rrf_k must be at least 1 and the weights not negative';
    end if;
    if coalesce(max_results, 0) < 1 then
        return;
    end if;
    if _q.mode <> 'ocr' and _q.semantic_text is not null then
        select e.embedding, coalesce('off: ' || e.problem, 'on') into _embedding, _arm
        from photo_ai.query_embedding_of(_q.semantic_text) e;
        if _embedding is null then
            raise notice 'photo_ai: the semantic arm of this search is off: %', pg_catalog.substr(_arm, 6);
        end if;
    end if;
    return query
    with text_arm as (
        select * from photo_ai.text_hits(_q.include_query, _q.exclude_query, owner_id,
                                         taken_after, taken_before, _depth)
        where _q.mode <> 'clip' and _q.include_query is not null
    ), semantic_arm as (
        select * from photo_ai.semantic_hits(_embedding, _q.exclude_query, owner_id,
                                             taken_after, taken_before, _depth) s
        where _embedding is not null and s.similarity >= coalesce(min_similarity, '-infinity')
    ), fused as (
        select coalesce(t.asset_id, s.asset_id) as asset_id
             , coalesce(text_weight / (rrf_k + t.rank), 0)
               + coalesce(semantic_weight / (rrf_k + s.rank), 0) as score
             , t.rank as text_rank, t.score as text_score
             , s.rank as semantic_rank, s.similarity as semantic_score
        from text_arm t
        full join semantic_arm s on s.asset_id = t.asset_id
        order by 2 desc, t.rank, s.rank, 1
        limit max_results
    )
    select f.asset_id, f.score, f.text_rank, f.text_score, f.semantic_rank, f.semantic_score
         , case when f.text_rank is not null then photo_ai.ocr_snippet(o.text, _q.needles) end
         , _arm
    from fused f
    left join photo_ai.ocr_result o on o.asset_id = f.asset_id
    order by f.score desc, f.text_rank, f.semantic_rank, f.asset_id;
end
$func$;
comment on function photo_ai.hybrid_search(text, int, uuid, timestamptz, timestamptz, float8, float8, int, float8) is
    'Searches photos by their OCR text and by meaning (CLIP), fused by reciprocal rank: '
    'score = text_weight / (rrf_k + text_rank) + semantic_weight / (rrf_k + semantic_rank). '
    'Prefix ocr: searches text only, clip: meaning only. All terms must occur; "a phrase" as '
    'written; -term excludes. Filters: owner_id, taken_after, taken_before (inclusive); '
    'trashed photos never. min_similarity drops weaker semantic hits. When CLIP cannot be '
    'asked (model missing, sidecar down) the text arm still answers, a NOTICE says why and '
    'the column semantic_arm reads off: <why>.';

-------------------------------------------------------------------------------
-- functions/043_similar.sql
-------------------------------------------------------------------------------
-- Photos like a photo: one already in the library (similar_assets) or an uploaded one
-- (search_by_image), by the cosine similarity of their CLIP embeddings.

-------------------------------------------------------------------------------
-- similar_assets: the photos nearest to one of the library's, itself left out; only the
-- same owner's photos when it has an owner (another user's library is not for showing)
create or replace function photo_ai.similar_assets(asset_id uuid, max_results int default 20)
returns setof photo_ai.similar_asset
language plpgsql volatile security definer
set search_path to pg_catalog, pg_temp
as $func$
declare
    _id uuid := similar_assets.asset_id;
    _asset record;
    _embedding public.vector;
begin
    select a.owner_id, a.deleted_at into _asset from photo_ai.source_asset a where a.id = _id;
    if not found then
        raise exception 'photo_ai: no asset with id %', _id using errcode = 'no_data_found';
    end if;
    if _asset.deleted_at is not null then
        raise exception 'photo_ai: asset % is in the trash', _id using errcode = 'no_data_found';
    end if;
    select c.embedding into _embedding from photo_ai.clip_embedding c where c.asset_id = _id;
    if _embedding is null then
        raise exception 'photo_ai: asset % has no CLIP embedding yet', _id
            using errcode = 'no_data_found',
                  hint = 'Its clip job must run first: see SELECT * FROM photo_ai.status.';
    end if;
    return query
    select h.asset_id, h.similarity
    from photo_ai.semantic_hits(_embedding, null, _asset.owner_id, null, null, max_results + 1) h
    where h.asset_id <> _id
    order by h.rank
    limit max_results;
end
$func$;
comment on function photo_ai.similar_assets(uuid, int) is
    'The photos most like a given one by CLIP embedding (cosine similarity), itself excluded; '
    'limited to its owner''s photos when it has an owner. Errors clearly when the asset does '
    'not exist, is in the trash or has no embedding yet.';

-------------------------------------------------------------------------------
-- image_embedding: the CLIP embedding the sidecar computes for uploaded image bytes
create or replace function photo_ai.image_embedding(_image bytea)
returns public.vector
language plpgsql volatile
set search_path to pg_catalog, pg_temp
as $func$
declare
    _model text := photo_ai.photos_clip_model();
    _answer jsonb;
begin
    _answer := photo_ai.sidecar_request('POST', '/v1/analyze',
        _fields => '{"tasks": "clip"}', _bytes => _image,
        _timeout_seconds => photo_ai.setting('search_timeout_seconds')::text::float8);
    if (_answer->>'status')::int <> 200 then
        raise exception 'photo_ai: search by image failed: %', photo_ai.sidecar_problem(_answer);
    end if;
    if _answer->'body'->'results'->'clip'->>'model' is distinct from _model then
        raise exception 'photo_ai: the photos were embedded with % but the sidecar uses %',
            _model, _answer->'body'->'results'->'clip'->>'model'
            using hint = 'Reprocess the photos (photo_ai.ai_reprocess) or wait for their clip jobs.';
    end if;
    return (_answer->'body'->'results'->'clip'->'embedding')::text::public.vector;
end
$func$;
comment on function photo_ai.image_embedding(bytea) is
    'The CLIP embedding of an uploaded image, computed by the sidecar; a clear error when the '
    'image is unreadable, the model missing or not the model of the stored photos.';

-------------------------------------------------------------------------------
-- search_by_image: the library's photos nearest to an uploaded one
create or replace function photo_ai.search_by_image(image bytea, max_results int default 20)
returns setof photo_ai.similar_asset
language plpgsql volatile security definer
set search_path to pg_catalog, pg_temp
as $func$
begin
    return query
    select h.asset_id, h.similarity
    from photo_ai.semantic_hits(photo_ai.image_embedding(image), null, null, null, null, max_results) h
    order by h.rank;
end
$func$;
comment on function photo_ai.search_by_image(bytea, int) is
    'The photos most like an uploaded image (its bytes: JPEG, PNG, HEIC, ...) by CLIP '
    'embedding, cosine similarity. The sidecar embeds the image; its errors (unreadable '
    'image, CLIP model missing) are raised as they are.';

-------------------------------------------------------------------------------
-- functions/050_immich_mode.sql
-------------------------------------------------------------------------------
-- Immich mode. photo_ai reads Immich's assets through photo_ai.source_asset, is told of
-- new, changed and deleted assets by statement-level triggers on Immich's asset and
-- asset_file tables, and writes its results where Immich reads them (051). Immich's own
-- columns, constraints and indexes are never altered: Immich's migrations keep running.
-- Everything that names an Immich table is plpgsql (checked when called, not when
-- created), so that this file installs just as well where Immich is absent.

-------------------------------------------------------------------------------
-- immich_missing_tables: the Immich v2 tables Immich mode needs that this database lacks
create or replace function photo_ai.immich_missing_tables()
returns text[]
language sql stable
set search_path to pg_catalog, pg_temp
as $func$
    select array(
        select t from pg_catalog.unnest(array[
            'asset', 'asset_file', 'asset_job_status', 'smart_search', 'asset_face',
            'face_search', 'person', 'asset_ocr', 'ocr_search']) t
        where pg_catalog.to_regclass(pg_catalog.format('public.%I', t)) is null)
$func$;
comment on function photo_ai.immich_missing_tables() is
    'The tables of Immich v2 that Immich mode needs and this database lacks (none: Immich '
    'is here).';

-------------------------------------------------------------------------------
-- immich_mode: whether photo_ai runs on Immich's tables (the mode setting, as applied)
create or replace function photo_ai.immich_mode()
returns boolean
language sql stable
set search_path to pg_catalog, pg_temp
as $func$
    select photo_ai.setting('mode') = '"immich"'::jsonb
$func$;
comment on function photo_ai.immich_mode() is
    'True when photo_ai reads Immich''s assets and writes its results into Immich''s tables.';

-------------------------------------------------------------------------------
-- immich_config: Immich's system configuration as its admin saved it ('{}': defaults)
create or replace function photo_ai.immich_config()
returns jsonb
language plpgsql stable
set search_path to pg_catalog, pg_temp
as $func$
declare
    _config jsonb;
begin
    if pg_catalog.to_regclass('public.system_metadata') is null then
        return '{}';
    end if;
    select m.value into _config from public.system_metadata m where m.key = 'system-config';
    return coalesce(_config, '{}');
end
$func$;
comment on function photo_ai.immich_config() is
    'Immich''s saved system configuration (system_metadata ''system-config''); only what the '
    'admin changed is there, the rest is Immich''s default.';

-------------------------------------------------------------------------------
-- immich_task_enabled: whether Immich's admin has the feature of a task switched on;
-- photo_ai writes into Immich's tables only what Immich itself would write
create or replace function photo_ai.immich_task_enabled(_task photo_ai.task, _config jsonb)
returns boolean
language sql immutable
set search_path to pg_catalog, pg_temp
as $func$
    select coalesce((_config #>> '{machineLearning,enabled}')::boolean, true)
       and coalesce((_config #>> array['machineLearning',
                        case _task when 'clip' then 'clip'
                                   when 'faces' then 'facialRecognition'
                                   when 'ocr' then 'ocr' end,
                        'enabled'])::boolean, true)
$func$;
comment on function photo_ai.immich_task_enabled(photo_ai.task, jsonb) is
    'Whether Immich''s configuration (immich_config) has machine learning and the task''s '
    'feature (smart search, facial recognition, OCR) enabled; Immich''s default is yes.';

-------------------------------------------------------------------------------
-- immich_search_tokens: Immich's tokenizeForSearch (server/src/utils/database.ts), the
-- form of ocr_search.text and of the text Immich's OCR search compares with it. Control
-- characters and spaces separate; a run of CJK characters (Han, Hangul syllables, kana)
-- becomes its overlapping bigrams, or itself when it is one character; any other run is
-- kept as it is (case and accents too: Immich's query applies f_unaccent to both sides).
create or replace function photo_ai.immich_search_tokens(_text text)
returns text[]
language sql immutable strict parallel safe
set search_path to pg_catalog, pg_temp
as $func$
    select coalesce(pg_catalog.array_agg(t.token order by m.n, t.k), '{}')
    from pg_catalog.regexp_matches(_text,
        '([\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af]+)'
        '|([^\u0001-\u0020\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af]+)', 'g')
        with ordinality m(g, n)
    cross join lateral (
        select m.g[2], 0 where m.g[2] is not null
        union all
        select case when pg_catalog.length(m.g[1]) = 1 then m.g[1]
                    else pg_catalog.substr(m.g[1], k.k, 2) end, k.k
        from pg_catalog.generate_series(1, greatest(pg_catalog.length(m.g[1]) - 1, 1)) k(k)
        where m.g[1] is not null
    ) t(token, k)
$func$;
comment on function photo_ai.immich_search_tokens(text) is
    'Immich''s tokenizeForSearch: words split at spaces and control characters, CJK runs '
    'as overlapping bigrams. ocr_search.text holds these tokens joined by spaces.';

-------------------------------------------------------------------------------
-- use_immich_assets: Immich's assets behind photo_ai.source_asset, and the triggers that
-- queue them. The path is the preview Immich made (a JPEG of a size made for machine
-- learning, and something PIL reads also when the original is RAW), else the original;
-- a video is analysed once it has a preview frame, as Immich does.
create or replace function photo_ai.use_immich_assets()
returns void
language plpgsql volatile
set search_path to pg_catalog, pg_temp
as $func$
declare
    _missing text[] := photo_ai.immich_missing_tables();
begin
    if pg_catalog.cardinality(_missing) > 0 then
        raise exception 'photo_ai: Immich mode needs Immich''s tables, missing: %',
            pg_catalog.array_to_string(_missing, ', ')
            using hint = 'Start Immich (v2.2 or later) once so that it creates them, or stay '
                         'standalone: SELECT photo_ai.detach_immich();';
    end if;
    -- Column names only, no Immich column in an expression index or constraint: Immich's
    -- migrations may add columns to these tables freely. The edited-preview flag of newer
    -- Immich versions is read through to_jsonb, so no version is required to have it.
    execute $view$
        create or replace view photo_ai.source_asset as
        select a.id
             , coalesce(p.path, a."originalPath")::text as path
             , a.checksum
             , a.type = 'IMAGE' or (a.type = 'VIDEO' and p.path is not null) as is_image
             , a."ownerId" as owner_id
             , a."fileCreatedAt" as taken_at
             , a."deletedAt" as deleted_at
        from public.asset a
        left join lateral (
            select f.path
            from public.asset_file f
            where f."assetId" = a.id and f.type = 'preview'
            order by coalesce((pg_catalog.to_jsonb(f) ->> 'isEdited')::boolean, false)
            limit 1
        ) p on true
    $view$;
    comment on view photo_ai.source_asset is
        'The assets photo_ai analyses (Immich mode: Immich''s asset table, through the preview '
        'Immich made when there is one): id, path, checksum, is_image, owner, date taken, '
        'deleted_at.';

    drop trigger if exists photo_ai_queue_inserted on public.asset;
    create trigger photo_ai_queue_inserted after insert on public.asset
        referencing new table as inserted_assets
        for each statement execute function photo_ai.immich_assets_inserted();
    comment on trigger photo_ai_queue_inserted on public.asset is
        'photo_ai: queues OCR, CLIP and faces for new assets (they wait for their preview).';

    drop trigger if exists photo_ai_requeue_changed on public.asset;
    create trigger photo_ai_requeue_changed after update on public.asset
        referencing old table as old_assets new table as new_assets
        for each statement execute function photo_ai.immich_assets_updated();
    comment on trigger photo_ai_requeue_changed on public.asset is
        'photo_ai: analyses changed or restored assets again; drops the work of trashed ones.';

    drop trigger if exists photo_ai_forget_deleted on public.asset;
    create trigger photo_ai_forget_deleted after delete on public.asset
        referencing old table as deleted_assets
        for each statement execute function photo_ai.forget_deleted_assets();
    comment on trigger photo_ai_forget_deleted on public.asset is
        'photo_ai: deletes the jobs and photo_ai results of deleted assets.';

    drop trigger if exists photo_ai_preview_made on public.asset_file;
    create trigger photo_ai_preview_made after insert on public.asset_file
        referencing new table as new_files
        for each statement execute function photo_ai.immich_previews_written();
    comment on trigger photo_ai_preview_made on public.asset_file is
        'photo_ai: starts the work that waited for a new preview; queues videos that now have one.';

    drop trigger if exists photo_ai_preview_remade on public.asset_file;
    create trigger photo_ai_preview_remade after update on public.asset_file
        referencing old table as old_files new table as new_files
        for each statement execute function photo_ai.immich_previews_written();
    comment on trigger photo_ai_preview_remade on public.asset_file is
        'photo_ai: starts the work that waited for a preview Immich made again.';
end
$func$;
comment on function photo_ai.use_immich_assets() is
    'Stands Immich''s asset table behind photo_ai.source_asset and attaches photo_ai''s '
    'statement-level triggers to Immich''s asset and asset_file tables.';

-------------------------------------------------------------------------------
-- drop_immich_triggers: photo_ai's triggers off Immich's tables (they may be gone already)
create or replace function photo_ai.drop_immich_triggers()
returns void
language plpgsql volatile
set search_path to pg_catalog, pg_temp
as $func$
begin
    if pg_catalog.to_regclass('public.asset') is not null then
        drop trigger if exists photo_ai_queue_inserted on public.asset;
        drop trigger if exists photo_ai_requeue_changed on public.asset;
        drop trigger if exists photo_ai_forget_deleted on public.asset;
    end if;
    if pg_catalog.to_regclass('public.asset_file') is not null then
        drop trigger if exists photo_ai_preview_made on public.asset_file;
        drop trigger if exists photo_ai_preview_remade on public.asset_file;
    end if;
end
$func$;
comment on function photo_ai.drop_immich_triggers() is
    'Removes photo_ai''s triggers from Immich''s asset and asset_file tables.';

-------------------------------------------------------------------------------
-- apply_mode: make the view and the triggers match the mode setting. Run at the end of
-- every install and upgrade (sql/triggers/010), and by attach_immich / detach_immich.
-- 'auto' becomes 'immich' the first time Immich's tables are found, and stays so.
create or replace function photo_ai.apply_mode()
returns text
language plpgsql volatile
set search_path to pg_catalog, pg_temp
as $func$
declare
    _mode text := photo_ai.setting('mode') #>> '{}';
begin
    if _mode = 'auto' and pg_catalog.cardinality(photo_ai.immich_missing_tables()) = 0 then
        perform photo_ai.set_setting('mode', '"immich"');
        _mode := 'immich';
    end if;
    if _mode = 'immich' then
        perform photo_ai.use_immich_assets();
        return 'immich';
    end if;
    perform photo_ai.drop_immich_triggers();
    perform photo_ai.use_standalone_assets();
    return 'standalone';
end
$func$;
comment on function photo_ai.apply_mode() is
    'Makes photo_ai.source_asset and the triggers match the mode setting (auto becomes '
    'immich once Immich''s tables exist); returns the mode in force.';

-------------------------------------------------------------------------------
-- attach_immich / detach_immich: what an admin types to switch
create or replace function photo_ai.attach_immich(join_persons boolean default null)
returns jsonb
language plpgsql volatile
set search_path to pg_catalog, pg_temp
as $func$
begin
    if pg_catalog.cardinality(photo_ai.immich_missing_tables()) > 0 then
        perform photo_ai.use_immich_assets();  -- raises, naming what is missing
    end if;
    perform photo_ai.set_setting('mode', '"immich"');
    perform photo_ai.set_if_given('immich_join_persons', pg_catalog.to_jsonb(join_persons));
    perform photo_ai.apply_mode();
    return pg_catalog.jsonb_build_object(
        'mode', 'immich',
        'assets', (select pg_catalog.count(*) from photo_ai.source_asset a
                   where a.is_image and a.deleted_at is null),
        'without_jobs', (select pg_catalog.count(*) from photo_ai.source_asset a
                         where a.is_image and a.deleted_at is null
                           and not exists (select 1 from photo_ai.job j where j.asset_id = a.id)),
        'join_persons', photo_ai.setting('immich_join_persons'),
        'next', 'SELECT photo_ai.backfill(); queues the assets without jobs');
end
$func$;
comment on function photo_ai.attach_immich(boolean) is
    'Puts photo_ai in Immich mode: reads Immich''s assets (their previews), attaches its '
    'triggers to Immich''s asset and asset_file tables, writes results where Immich reads '
    'them. join_persons => false leaves every new face to Immich''s recognition job. Run '
    'photo_ai.backfill() next for the existing library. Superuser only.';

create or replace function photo_ai.detach_immich()
returns jsonb
language plpgsql volatile
set search_path to pg_catalog, pg_temp
as $func$
begin
    perform photo_ai.set_setting('mode', '"standalone"');
    perform photo_ai.apply_mode();
    return pg_catalog.jsonb_build_object('mode', 'standalone');
end
$func$;
comment on function photo_ai.detach_immich() is
    'Puts photo_ai back on its own asset table: removes its triggers from Immich''s tables. '
    'What was written into Immich''s tables stays (it is Immich''s data now). Superuser only.';

-------------------------------------------------------------------------------
-- functions/051_immich_results.sql
-------------------------------------------------------------------------------
-- Immich mode's results, written where Immich reads them, the way Immich's own jobs write
-- them (server/src/services/smart-info.service.ts, person.service.ts, ocr.service.ts of
-- Immich v2). photo_ai.write_result calls write_immich_result after storing photo_ai's own
-- copy; both happen in one subtransaction, so they succeed or fail together.
--
-- Immich's trigger functions (updated_at, the audit triggers) name their tables and
-- functions without a schema, so the statements that change Immich's tables run with
-- Immich's search path (pg_catalog, public, pg_temp), set locally and set back at once.
-- Everything in them is qualified, operators included.

-------------------------------------------------------------------------------
-- box_iou: intersection over union of two [x1, y1, x2, y2] boxes
create or replace function photo_ai.box_iou(_a float8[], _b float8[])
returns float8
language sql immutable strict parallel safe
set search_path to pg_catalog, pg_temp
as $func$
    select case when u > 0 then i / u else 0 end
    from (select greatest(0, least(_a[3], _b[3]) - greatest(_a[1], _b[1]))
               * greatest(0, least(_a[4], _b[4]) - greatest(_a[2], _b[2])) as i
               , (_a[3] - _a[1]) * (_a[4] - _a[2]) + (_b[3] - _b[1]) * (_b[4] - _b[2]) as s) x
    cross join lateral (select x.s - x.i as u) y
$func$;
comment on function photo_ai.box_iou(float8[], float8[]) is
    'Intersection over union of two boxes given as [x1, y1, x2, y2].';

-------------------------------------------------------------------------------
-- immich_search_path: the search path around the statements that change Immich's tables
create or replace function photo_ai.immich_search_path()
returns text
language sql immutable
set search_path to pg_catalog, pg_temp
as $func$
    select 'pg_catalog, public, pg_temp'
$func$;
comment on function photo_ai.immich_search_path() is
    'The search path Immich''s own trigger functions need (they name objects without a '
    'schema); set locally only around photo_ai''s statements on Immich''s tables.';

-------------------------------------------------------------------------------
-- write_immich_clip: smart_search.embedding, as Immich's smart search job stores it
create or replace function photo_ai.write_immich_clip(_asset_id uuid, _result jsonb)
returns void
language plpgsql volatile security definer
set search_path to pg_catalog, pg_temp
as $func$
declare
    _embedding public.vector := (_result->'embedding')::text::public.vector;
    _dims int;
begin
    select a.atttypmod into _dims
    from pg_catalog.pg_attribute a
    where a.attrelid = 'public.smart_search'::regclass and a.attname = 'embedding';
    if _dims > 0 and _dims <> public.vector_dims(_embedding) then
        raise exception 'photo_ai: Immich''s smart_search holds % dimensions, the sidecar''s '
            'CLIP model (%) gives %', _dims, _result->>'model', public.vector_dims(_embedding)
            using hint = 'Choose a 512-dimension CLIP model in Immich''s machine learning '
                         'settings (for example the default ViT-B-32__openai): the sidecar '
                         'answers every CLIP request with its own model.';
    end if;
    perform pg_catalog.set_config('search_path', photo_ai.immich_search_path(), true);
    insert into public.smart_search ("assetId", embedding) values (_asset_id, _embedding)
    on conflict ("assetId") do update set embedding = excluded.embedding;
    -- a new embedding: Immich's duplicate detection (its "missing" run) looks at it again
    update public.asset_job_status set "duplicatesDetectedAt" = null
    where "assetId" operator(pg_catalog.=) _asset_id;
    perform pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
end
$func$;
comment on function photo_ai.write_immich_clip(uuid, jsonb) is
    'Immich mode: stores an image embedding in Immich''s smart_search (what its smart search '
    'ranks by) and marks the asset for Immich''s duplicate detection.';

-------------------------------------------------------------------------------
-- write_immich_ocr: asset_ocr rows and ocr_search.text, as Immich's OCR job writes them;
-- the lines are the ones Immich would keep with its configured scores
create or replace function photo_ai.write_immich_ocr(_asset_id uuid, _result jsonb, _config jsonb)
returns void
language plpgsql volatile security definer
set search_path to pg_catalog, pg_temp
as $func$
declare
    _min_box float8 := coalesce((_config #>> '{machineLearning,ocr,minDetectionScore}')::float8, 0.5);
    _min_text float8 := coalesce((_config #>> '{machineLearning,ocr,minRecognitionScore}')::float8, 0.8);
    _rows jsonb;
    _search text;
    _has_text boolean;
begin
    -- immich_ml keeps a box scoring at least minDetectionScore, a text scoring above
    -- minRecognitionScore
    select coalesce(pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(
               'x1', l #> '{box_normalized,0,0}', 'y1', l #> '{box_normalized,0,1}',
               'x2', l #> '{box_normalized,1,0}', 'y2', l #> '{box_normalized,1,1}',
               'x3', l #> '{box_normalized,2,0}', 'y3', l #> '{box_normalized,2,1}',
               'x4', l #> '{box_normalized,3,0}', 'y4', l #> '{box_normalized,3,1}',
               'boxScore', coalesce(l->'box_score', l->'score'), 'textScore', l->'score',
               'text', l->>'text') order by n), '[]')
    into _rows
    from pg_catalog.jsonb_array_elements(coalesce(_result->'lines', '[]')) with ordinality e(l, n)
    where coalesce((l->>'box_score')::float8, (l->>'score')::float8) >= _min_box
      and (l->>'score')::float8 > _min_text;
    -- every kept line's tokens, in order, joined by spaces (OcrService.parseOcrResults)
    select coalesce(pg_catalog.string_agg(t.token, ' ' order by e.n, t.k), '')
    into _search
    from pg_catalog.jsonb_array_elements(_rows) with ordinality e(l, n)
    cross join lateral pg_catalog.unnest(photo_ai.immich_search_tokens(e.l->>'text'))
        with ordinality t(token, k);
    _has_text := pg_catalog.jsonb_array_length(_rows) > 0;

    perform pg_catalog.set_config('search_path', photo_ai.immich_search_path(), true);
    delete from public.asset_ocr where "assetId" operator(pg_catalog.=) _asset_id;
    if _has_text then
        insert into public.asset_ocr
            ("assetId", x1, y1, x2, y2, x3, y3, x4, y4, "boxScore", "textScore", text)
        select _asset_id, r.x1, r.y1, r.x2, r.y2, r.x3, r.y3, r.x4, r.y4
             , r."boxScore", r."textScore", r.text
        from pg_catalog.jsonb_to_recordset(_rows) as r
            (x1 real, y1 real, x2 real, y2 real, x3 real, y3 real, x4 real, y4 real,
             "boxScore" real, "textScore" real, text text);
        insert into public.ocr_search ("assetId", text) values (_asset_id, _search)
        on conflict ("assetId") do update set text = excluded.text;
    else
        delete from public.ocr_search where "assetId" operator(pg_catalog.=) _asset_id;
    end if;
    insert into public.asset_job_status ("assetId", "ocrAt") values (_asset_id, pg_catalog.now())
    on conflict ("assetId") do update set "ocrAt" = excluded."ocrAt";
    perform pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
end
$func$;
comment on function photo_ai.write_immich_ocr(uuid, jsonb, jsonb) is
    'Immich mode: replaces an asset''s rows in Immich''s asset_ocr (normalised 4-point boxes, '
    'box and text scores) and its ocr_search text (Immich''s search tokens), keeping the '
    'lines Immich''s configured scores keep; sets asset_job_status.ocrAt.';

-------------------------------------------------------------------------------
-- immich_nearest_person: the person of the nearest face of the same owner, as Immich's
-- facial recognition finds it (SearchRepository.searchFaces with hasPerson), or null when
-- that face is further than max distance (cosine distance)
create or replace function photo_ai.immich_nearest_person
( _owner_id uuid
, _embedding public.vector
, _max_distance float8
, _exclude uuid[]
)
returns uuid
language plpgsql stable security definer
set search_path to pg_catalog, pg_temp
as $func$
declare
    _best record;
begin
    select f."personId" as person_id, s.embedding operator(public.<=>) _embedding as distance
    into _best
    from public.face_search s
    join public.asset_face f on f.id = s."faceId"
    join public.asset a on a.id = f."assetId"
    where a."ownerId" = _owner_id and a."deletedAt" is null
      and f."personId" is not null and not (f.id = any(_exclude))
    order by s.embedding operator(public.<=>) _embedding
    limit 1;
    if _best.distance <= _max_distance then
        return _best.person_id;
    end if;
    return null;
end
$func$;
comment on function photo_ai.immich_nearest_person(uuid, public.vector, float8, uuid[]) is
    'The person of the same owner''s face nearest to an embedding, if within max distance.';

-------------------------------------------------------------------------------
-- write_immich_faces: asset_face + face_search, as Immich's face detection job writes them.
-- A detection overlapping an earlier machine-learning face of the asset (IoU > 0.5) keeps
-- that face (its id and person) and gets the new embedding; earlier machine-learning faces
-- nothing overlaps go; the rest are new faces. A new face joins the person of the nearest
-- face of the same owner within Immich's max distance (immich_join_persons); the others
-- keep personId null for Immich's own facial recognition job, which clusters them and
-- makes new persons (with thumbnails only Immich can make). Manual and EXIF faces stay.
create or replace function photo_ai.write_immich_faces(_asset_id uuid, _result jsonb, _config jsonb)
returns void
language plpgsql volatile security definer
set search_path to pg_catalog, pg_temp
as $func$
declare
    _width int := coalesce((_result #>> '{image,width}')::int, 0);
    _height int := coalesce((_result #>> '{image,height}')::int, 0);
    _max_distance float8 :=
        coalesce((_config #>> '{machineLearning,facialRecognition,maxDistance}')::float8, 0.5);
    _join boolean := photo_ai.setting('immich_join_persons')::text::boolean;
    _owner_id uuid;
    _face jsonb;
    _box float8[];
    _match record;
    _kept uuid[] := '{}';
    _removed uuid[];
    _added jsonb := '[]';
    _embeddings jsonb := '[]';
    _new jsonb;
    _id uuid;
begin
    select a."ownerId" into _owner_id from public.asset a where a.id = _asset_id;
    if _owner_id is null then
        return;  -- deleted meanwhile
    end if;
    for _face in select f from pg_catalog.jsonb_array_elements(coalesce(_result->'faces', '[]')) f loop
        _box := array[pg_catalog.round((_face #>> '{box,0}')::numeric),
                      pg_catalog.round((_face #>> '{box,1}')::numeric),
                      pg_catalog.round((_face #>> '{box,2}')::numeric),
                      pg_catalog.round((_face #>> '{box,3}')::numeric)]::float8[];
        -- the earlier face this detection is, in that face's image frame
        select f.id, f."sourceType"::text = 'machine-learning' as is_ml into _match
        from public.asset_face f
        cross join lateral (select
            coalesce(nullif(f."imageWidth", 0), _width)::float8
                / greatest(_width, 1) as sx,
            coalesce(nullif(f."imageHeight", 0), _height)::float8
                / greatest(_height, 1) as sy) s
        where f."assetId" = _asset_id
          and photo_ai.box_iou(
                array[f."boundingBoxX1", f."boundingBoxY1", f."boundingBoxX2", f."boundingBoxY2"]::float8[],
                array[_box[1] * s.sx, _box[2] * s.sy, _box[3] * s.sx, _box[4] * s.sy]) > 0.5
        order by photo_ai.box_iou(
                array[f."boundingBoxX1", f."boundingBoxY1", f."boundingBoxX2", f."boundingBoxY2"]::float8[],
                array[_box[1] * s.sx, _box[2] * s.sy, _box[3] * s.sx, _box[4] * s.sy]) desc
        limit 1;
        if found then
            -- Immich updates an unclaimed machine-learning match, and drops a detection
            -- that overlaps a manual face or a face already claimed
            if _match.is_ml and not (_match.id = any(_kept)) then
                _kept := _kept || _match.id;
                _embeddings := _embeddings || pg_catalog.jsonb_build_object(
                    'faceId', _match.id, 'embedding', _face->'embedding');
            end if;
            continue;
        end if;
        _id := pg_catalog.gen_random_uuid();
        _added := _added || pg_catalog.jsonb_build_object(
            'id', _id, 'imageWidth', _width, 'imageHeight', _height,
            'boundingBoxX1', _box[1], 'boundingBoxY1', _box[2],
            'boundingBoxX2', _box[3], 'boundingBoxY2', _box[4],
            'embedding', _face->'embedding');
        _embeddings := _embeddings || pg_catalog.jsonb_build_object(
            'faceId', _id, 'embedding', _face->'embedding');
    end loop;
    _removed := array(
        select f.id from public.asset_face f
        where f."assetId" = _asset_id and f."sourceType"::text = 'machine-learning'
          and not (f.id = any(_kept)));
    if _join then
        select coalesce(pg_catalog.jsonb_agg(n || pg_catalog.jsonb_build_object('personId',
                   photo_ai.immich_nearest_person(_owner_id, (n->'embedding')::text::public.vector,
                                                  _max_distance, _removed))), '[]')
        into _new
        from pg_catalog.jsonb_array_elements(_added) n;
        _added := _new;
    end if;

    perform pg_catalog.set_config('search_path', photo_ai.immich_search_path(), true);
    delete from public.asset_face where id operator(pg_catalog.=) any (_removed);
    insert into public.asset_face
        (id, "assetId", "personId", "imageWidth", "imageHeight",
         "boundingBoxX1", "boundingBoxY1", "boundingBoxX2", "boundingBoxY2")
    select r.id, _asset_id, r."personId", r."imageWidth", r."imageHeight"
         , r."boundingBoxX1", r."boundingBoxY1", r."boundingBoxX2", r."boundingBoxY2"
    from pg_catalog.jsonb_to_recordset(_added) as r
        (id uuid, "personId" uuid, "imageWidth" int, "imageHeight" int,
         "boundingBoxX1" int, "boundingBoxY1" int, "boundingBoxX2" int, "boundingBoxY2" int);
    insert into public.face_search ("faceId", embedding)
    select r."faceId", r.embedding::pg_catalog.text::public.vector
    from pg_catalog.jsonb_to_recordset(_embeddings) as r ("faceId" uuid, embedding jsonb)
    on conflict ("faceId") do update set embedding = excluded.embedding;
    insert into public.asset_job_status ("assetId", "facesRecognizedAt")
    values (_asset_id, pg_catalog.now())
    on conflict ("assetId") do update set "facesRecognizedAt" = excluded."facesRecognizedAt";
    perform pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
end
$func$;
comment on function photo_ai.write_immich_faces(uuid, jsonb, jsonb) is
    'Immich mode: writes an asset''s detected faces into Immich''s asset_face and face_search '
    '(pixel boxes in the analysed image, its size), keeping the id and person of faces found '
    'again, joining new faces to the nearest person within Immich''s max distance (or '
    'leaving them to Immich''s recognition job); sets asset_job_status.facesRecognizedAt.';

-------------------------------------------------------------------------------
-- write_immich_result: the hook in photo_ai.write_result (023)
create or replace function photo_ai.write_immich_result(_task photo_ai.task, _asset_id uuid, _result jsonb)
returns void
language plpgsql volatile security definer
set search_path to pg_catalog, pg_temp
as $func$
declare
    _config jsonb;
begin
    if not photo_ai.immich_mode() then
        return;
    end if;
    _config := photo_ai.immich_config();
    if not photo_ai.immich_task_enabled(_task, _config) then
        return;  -- Immich's admin has this feature off: Immich gets nothing it did not ask for
    end if;
    case _task
        when 'ocr' then perform photo_ai.write_immich_ocr(_asset_id, _result, _config);
        when 'clip' then perform photo_ai.write_immich_clip(_asset_id, _result);
        when 'faces' then perform photo_ai.write_immich_faces(_asset_id, _result, _config);
    end case;
end
$func$;
comment on function photo_ai.write_immich_result(photo_ai.task, uuid, jsonb) is
    'In Immich mode, also stores a task''s result where Immich reads it (smart_search, '
    'asset_ocr/ocr_search, asset_face/face_search, asset_job_status); nothing otherwise.';

-------------------------------------------------------------------------------
-- functions/052_immich_triggers.sql
-------------------------------------------------------------------------------
-- The trigger functions of Immich mode (attached by use_immich_assets, 050). Immich's
-- own order is upload, metadata, thumbnails, then machine learning on the preview; photo_ai
-- queues at the upload and lets the jobs wait for the preview (immich_preview_wait_seconds
-- at most), so that it analyses the same picture as Immich. Like the standalone triggers,
-- these never fail Immich's statement: a failure becomes a warning, and
-- photo_ai.backfill() queues whatever was missed.

-------------------------------------------------------------------------------
-- immich_preview_wait: how long queued work waits for a preview
create or replace function photo_ai.immich_preview_wait()
returns interval
language sql stable
set search_path to pg_catalog, pg_temp
as $func$
    select pg_catalog.make_interval(
        secs => (photo_ai.setting('immich_preview_wait_seconds'))::text::float8)
$func$;
comment on function photo_ai.immich_preview_wait() is
    'How long the queued work of an asset waits for Immich''s preview of it.';

-------------------------------------------------------------------------------
-- wait_for_preview / preview_ready: hold queued jobs until a preview exists, release them
create or replace function photo_ai.wait_for_preview(_asset_ids uuid[])
returns void
language sql volatile security definer
set search_path to pg_catalog, pg_temp
as $func$
    update photo_ai.job j
    set run_after = greatest(j.run_after, pg_catalog.now() + photo_ai.immich_preview_wait())
    where j.asset_id = any(_asset_ids) and j.state = 'queued'
$func$;
comment on function photo_ai.wait_for_preview(uuid[]) is
    'Holds the queued jobs of assets until Immich has made their preview (at most '
    'immich_preview_wait_seconds).';

create or replace function photo_ai.preview_ready(_asset_ids uuid[])
returns void
language sql volatile security definer
set search_path to pg_catalog, pg_temp
as $func$
    update photo_ai.job j
    set run_after = pg_catalog.now()
    where j.asset_id = any(_asset_ids) and j.state = 'queued' and j.run_after > pg_catalog.now()
$func$;
comment on function photo_ai.preview_ready(uuid[]) is
    'Lets the queued jobs that waited for these assets'' previews run now.';

-------------------------------------------------------------------------------
-- Immich's asset table
create or replace function photo_ai.immich_assets_inserted()
returns trigger
language plpgsql security definer
set search_path to pg_catalog, pg_temp
as $func$
declare
    _ids uuid[] := array(select i.id from inserted_assets i);
begin
    perform photo_ai.enqueue(_ids);
    perform photo_ai.wait_for_preview(_ids);
    return null;
exception when others then
    raise warning 'photo_ai: could not queue new assets (%); run photo_ai.backfill()', sqlerrm;
    return null;
end
$func$;
comment on function photo_ai.immich_assets_inserted() is
    'Trigger on Immich''s asset table: queues the enabled tasks for new assets, to run once '
    'Immich has made their preview; never fails the insert.';

create or replace function photo_ai.immich_assets_updated()
returns trigger
language plpgsql security definer
set search_path to pg_catalog, pg_temp
as $func$
declare
    _new_content uuid[];
    _moved record;
begin
    -- trashed: the work goes (Immich keeps its own rows for a restore)
    perform photo_ai.drop_asset_work(array(
        select n.id from new_assets n join old_assets o on o.id = n.id
        where n."deletedAt" is not null and o."deletedAt" is null));
    -- restored: analysed again now (its preview is there)
    perform photo_ai.enqueue(array(
        select n.id from new_assets n join old_assets o on o.id = n.id
        where n."deletedAt" is null and o."deletedAt" is not null));
    -- new content (a library rescan found the file changed): analysed again once Immich
    -- has made the new preview. A move ("originalPath" alone, e.g. the storage template)
    -- is no new content, and the view resolves paths when the job runs.
    _new_content := array(
        select n.id from new_assets n join old_assets o on o.id = n.id
        where n."deletedAt" is null and o."deletedAt" is null
          and (n.checksum is distinct from o.checksum or n.type is distinct from o.type));
    perform photo_ai.enqueue(_new_content);
    perform photo_ai.wait_for_preview(_new_content);
    -- a job that failed for a file that has moved since gets another try
    for _moved in
        select j.asset_id, pg_catalog.array_agg(j.task) as tasks
        from new_assets n
        join old_assets o on o.id = n.id
        join photo_ai.job j on j.asset_id = n.id
        where n."originalPath" is distinct from o."originalPath" and n."deletedAt" is null
          and j.state = 'failed'
        group by j.asset_id
    loop
        perform photo_ai.enqueue(array[_moved.asset_id], _moved.tasks);
    end loop;
    return null;
exception when others then
    raise warning 'photo_ai: could not queue changed assets (%); run photo_ai.backfill()', sqlerrm;
    return null;
end
$func$;
comment on function photo_ai.immich_assets_updated() is
    'Trigger on Immich''s asset table: drops the work of trashed assets, queues restored ones '
    'and ones whose content changed, retries failed jobs of moved files; never fails the '
    'update.';

-------------------------------------------------------------------------------
-- Immich's asset_file table (previews, thumbnails, encoded videos, sidecars)
create or replace function photo_ai.immich_previews_written()
returns trigger
language plpgsql security definer
set search_path to pg_catalog, pg_temp
as $func$
declare
    _ids uuid[] := array(select f."assetId" from new_files f where f.type = 'preview');
begin
    if pg_catalog.cardinality(_ids) > 0 then
        perform photo_ai.preview_ready(_ids);
        if tg_op = 'INSERT' then
            -- a video becomes analysable once it has a preview frame
            perform photo_ai.queue_missing_jobs(_ids);
        end if;
    end if;
    return null;
exception when others then
    raise warning 'photo_ai: could not start the work waiting for previews (%)', sqlerrm;
    return null;
end
$func$;
comment on function photo_ai.immich_previews_written() is
    'Trigger on Immich''s asset_file table: a preview made (or made again) lets the work '
    'waiting for it run; a first preview also queues a video''s tasks. Never fails Immich''s '
    'statement.';

-------------------------------------------------------------------------------
-- triggers/001_asset_queue.sql
-------------------------------------------------------------------------------
-- Statement-level triggers with transition tables: one INSERT of 10,000 assets queues
-- its jobs in one statement. A failure here never fails the user's statement: it
-- becomes a warning, and photo_ai.backfill() queues whatever was missed.

-------------------------------------------------------------------------------
-- queue_inserted_assets: new images get a job per enabled task
create or replace function photo_ai.queue_inserted_assets()
returns trigger
language plpgsql security definer
set search_path to pg_catalog, pg_temp
as $func$
begin
    perform photo_ai.enqueue(array(select id from inserted_assets));
    return null;
exception when others then
    raise warning 'photo_ai: could not queue new assets (%); run photo_ai.backfill()', sqlerrm;
    return null;
end
$func$;
comment on function photo_ai.queue_inserted_assets() is
    'Trigger: queues the enabled tasks for inserted assets; never fails the insert.';

-------------------------------------------------------------------------------
-- requeue_changed_assets: new content is analysed again; trashed assets lose their work;
-- restored ones are queued again
create or replace function photo_ai.requeue_changed_assets()
returns trigger
language plpgsql security definer
set search_path to pg_catalog, pg_temp
as $func$
begin
    perform photo_ai.drop_asset_work(array(
        select n.id from new_assets n join old_assets o on o.id = n.id
        where n.deleted_at is not null and o.deleted_at is null));
    perform photo_ai.enqueue(array(
        select n.id from new_assets n join old_assets o on o.id = n.id
        where n.deleted_at is null
          and (n.checksum is distinct from o.checksum
               or n.original_path is distinct from o.original_path
               or n.type is distinct from o.type
               or o.deleted_at is not null)));
    return null;
exception when others then
    raise warning 'photo_ai: could not queue changed assets (%); run photo_ai.backfill()', sqlerrm;
    return null;
end
$func$;
comment on function photo_ai.requeue_changed_assets() is
    'Trigger: queues assets whose content or path changed (or that left the trash) and '
    'drops the work of trashed ones; never fails the update.';

-------------------------------------------------------------------------------
-- forget_deleted_assets: deleted assets take their jobs and results with them
create or replace function photo_ai.forget_deleted_assets()
returns trigger
language plpgsql security definer
set search_path to pg_catalog, pg_temp
as $func$
begin
    perform photo_ai.drop_asset_work(array(select id from deleted_assets));
    return null;
exception when others then
    raise warning 'photo_ai: could not drop the work of deleted assets (%)', sqlerrm;
    return null;
end
$func$;
comment on function photo_ai.forget_deleted_assets() is
    'Trigger on photo_ai.asset and, in Immich mode, Immich''s asset table: deletes the jobs '
    'and photo_ai results of deleted assets; never fails the delete.';

drop trigger if exists queue_inserted_assets on photo_ai.asset;
create trigger queue_inserted_assets after insert on photo_ai.asset
    referencing new table as inserted_assets
    for each statement execute function photo_ai.queue_inserted_assets();

drop trigger if exists requeue_changed_assets on photo_ai.asset;
create trigger requeue_changed_assets after update on photo_ai.asset
    referencing old table as old_assets new table as new_assets
    for each statement execute function photo_ai.requeue_changed_assets();

drop trigger if exists forget_deleted_assets on photo_ai.asset;
create trigger forget_deleted_assets after delete on photo_ai.asset
    referencing old table as deleted_assets
    for each statement execute function photo_ai.forget_deleted_assets();

-------------------------------------------------------------------------------
-- triggers/010_immich_mode.sql
-------------------------------------------------------------------------------
-- Immich mode, applied at the end of every install and upgrade: the view and the
-- triggers follow the mode setting (sql/functions/050), so an upgrade leaves an Immich
-- database in Immich mode, and a fresh CREATE EXTENSION where Immich's tables exist
-- ('auto', the default) attaches to Immich at once.
select photo_ai.apply_mode();

-------------------------------------------------------------------------------
-- privileges.sql
-------------------------------------------------------------------------------
-- Privileges, in one place. Readers search and watch the queue; admins also configure,
-- reprocess, schedule and run workers. Functions not named here are internal: they run
-- only inside the SECURITY DEFINER functions granted below.
revoke all on all routines in schema photo_ai from public;
revoke all on function public.ai_reprocess(uuid, text[], boolean) from public;
revoke all on function public.hybrid_search(text, int, uuid, timestamptz, timestamptz, float8, float8, int, float8)
    from public;
revoke all on function public.similar_assets(uuid, int) from public;
revoke all on function public.search_by_image(bytea, int) from public;

grant execute on function photo_ai.version() to photo_ai_reader;
grant execute on function photo_ai.zh_tokens(text) to photo_ai_reader;
grant execute on function photo_ai.zh_tsvector(text) to photo_ai_reader;
grant execute on function photo_ai.zh_tsquery(text) to photo_ai_reader;
grant execute on function photo_ai.hybrid_search(text, int, uuid, timestamptz, timestamptz, float8, float8, int, float8)
    to photo_ai_reader;
grant execute on function public.hybrid_search(text, int, uuid, timestamptz, timestamptz, float8, float8, int, float8)
    to photo_ai_reader;
grant execute on function photo_ai.similar_assets(uuid, int) to photo_ai_reader;
grant execute on function public.similar_assets(uuid, int) to photo_ai_reader;
grant execute on function photo_ai.search_by_image(bytea, int) to photo_ai_reader;
grant execute on function public.search_by_image(bytea, int) to photo_ai_reader;
grant usage on type photo_ai.search_hit, photo_ai.similar_asset to photo_ai_reader;
grant select on photo_ai.status, photo_ai.failed_jobs to photo_ai_reader;

grant execute on function photo_ai.configure
    (text, text, text[], int, int, int, boolean, real, int, int, int)
    to photo_ai_admin;
grant select on photo_ai.settings to photo_ai_admin;
grant execute on function photo_ai.ai_reprocess(uuid, text[], boolean) to photo_ai_admin;
grant execute on function public.ai_reprocess(uuid, text[], boolean) to photo_ai_admin;
grant execute on function photo_ai.retry_failed(text) to photo_ai_admin;
grant execute on function photo_ai.backfill() to photo_ai_admin;
grant execute on function photo_ai.schedule_worker(int, int) to photo_ai_admin;
grant execute on function photo_ai.unschedule_worker() to photo_ai_admin;
grant execute on function photo_ai.rebuild_text_index(text) to photo_ai_admin;
-- run_worker commits between batches, so it cannot be SECURITY DEFINER; what it calls is.
grant execute on procedure photo_ai.run_worker(int, int, boolean, jsonb) to photo_ai_admin;
grant execute on function photo_ai.claim_batch(text, int) to photo_ai_admin;
grant execute on function photo_ai.process_jobs(photo_ai.job[]) to photo_ai_admin;
grant execute on function photo_ai.worker_pause(timestamptz, boolean) to photo_ai_admin;
grant execute on function photo_ai.add_counts(jsonb, jsonb) to photo_ai_admin;
grant execute on function photo_ai.seconds_from_now(int) to photo_ai_admin;
grant execute on function photo_ai.worker_id() to photo_ai_admin;
grant usage on type photo_ai.job to photo_ai_admin;
