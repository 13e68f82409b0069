-- Standalone mode's assets. Immich mode reads Immich's own asset table instead; the
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
