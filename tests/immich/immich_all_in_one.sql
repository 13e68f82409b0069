-- An immich-all-in-one database after upstream Immich has run its migrations on it: Immich's
-- v3.1 tables (immich_v3_schema.sql, loaded first) and what the fork (eric-gitta-moore/immich,
-- a fork of v1.134) left.

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
