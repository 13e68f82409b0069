-- An immich-all-in-one database after upstream Immich has run its migrations on it: Immich's
-- v2.2 tables (immich_v2_schema.sql, loaded first), what later Immich adds to the tables the
-- conversion writes, and what the fork (eric-gitta-moore/immich, a fork of v1.134) left.

-- Immich since v2.4/v3: asset width/height (1763785815996-AddAssetWidthHeight), OCR lines
-- hidden by edits ("isVisible"), and the OCR sync's updateId and delete audit (AssetOcrSync)
alter table "asset" add column "width" integer;
alter table "asset" add column "height" integer;
alter table "asset_ocr" add column "isVisible" boolean not null default true;
create or replace function asset_ocr_delete_audit()
  returns trigger
  language plpgsql
  as $$
    begin
      insert into asset_ocr_audit ("assetId")
      select "assetId"
      from old;
      return null;
    end
  $$;
create table "asset_ocr_audit" (
  "id" uuid not null default immich_uuid_v7(),
  "assetId" uuid not null,
  "deletedAt" timestamp with time zone not null default clock_timestamp(),
  constraint "asset_ocr_audit_pkey" primary key ("id")
);
create index "asset_ocr_audit_assetId_idx" on "asset_ocr_audit" ("assetId");
create index "asset_ocr_audit_deletedAt_idx" on "asset_ocr_audit" ("deletedAt");
alter table "asset_ocr" add "updateId" uuid not null default immich_uuid_v7();
create index "asset_ocr_updateId_idx" on "asset_ocr" ("updateId");
create or replace trigger "asset_ocr_delete_audit"
  after delete on "asset_ocr"
  referencing old table as "old"
  for each statement
  when (pg_trigger_depth() = 0)
  execute function asset_ocr_delete_audit();

-- Immich's migration ledger (Kysely's), the fork's row among upstream's
create table "kysely_migrations" ("name" varchar(255) not null primary key,
                                  "timestamp" varchar(255) not null);
insert into "kysely_migrations" ("name", "timestamp") values
  ('1744910873969-InitialMigration', '2025-05-01T00:00:00.000Z'),
  ('1746367790313-CreateOCRInfo', '2025-05-05T00:00:00.000Z'),
  ('1758705789125-CreateOCRSearchTable', '2025-10-01T00:00:00.000Z');

-- The fork's migration 1746367790313-CreateOCRInfo: the database's default text search
-- configuration, and ocr_info with its full-text index. Its `chinese` is zhparser's; this
-- machine has no zhparser, so here it is a copy of `simple` under the same name.
create text search configuration chinese (copy = simple);
do $$
begin
  execute format('alter database %I set default_text_search_config = %L',
                 current_database(), 'chinese');
end
$$;
create table ocr_info
(
    "assetId" uuid not null
        constraint ocr_info_pk
            primary key
        constraint ocr_info_assets_id_fk
            references asset
            on delete cascade,
    text      text not null,
    "ocrJson" jsonb
);
create index ocr_info_idx_vec_text
    on ocr_info using gin (to_tsvector('"chinese"'::regconfig, text));
