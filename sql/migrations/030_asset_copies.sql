-- Files with the same bytes as an asset's file (a copy, a link inside the imported folder):
-- one photo, analysed and found once under the asset's original_path. `photo-ai import`
-- keeps this table in standalone mode; Immich keeps its own duplicates.
create table photo_ai.asset_copy
( path text not null primary key
, asset_id uuid not null references photo_ai.asset (id) on delete cascade
, found_at timestamptz not null default pg_catalog.now()
);
create index on photo_ai.asset_copy (asset_id);
comment on table photo_ai.asset_copy is
    'Other files whose content (SHA-1) equals an asset''s: the photo is one asset, analysed '
    'and found once; its copies are listed here. Kept by photo-ai import.';
select pg_catalog.pg_extension_config_dump('photo_ai.asset_copy', '');
