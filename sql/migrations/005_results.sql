-- Results, one row per asset (faces: one per face). Written idempotently by the worker:
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
