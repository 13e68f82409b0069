-- Immich v2.2's schema for the tables photo_ai's Immich mode reads and writes, as Immich's
-- own migrations leave them (immich-app/immich, server/src/schema/migrations/):
--
--   1744910873969-InitialMigration       the tables, functions, triggers, constraints, indexes
--   1745902563899-AddAssetVisibilityColumn  asset.visibility replaces isVisible/isArchived
--   1746636476623-DropExtraIndexes       two single-column asset_faces indexes dropped
--   1746844028242-AddLockedVisibilityEnum   'locked' visibility
--   1748858302889-UpsertOcrAssetJobStatus   asset_job_status."ocrAt"
--   1752267649968-StandardizeNames       assets -> asset, asset_faces -> asset_face, exif ->
--                                        asset_exif, ...; constraints, indexes and triggers
--                                        renamed <table>_<columns>_pkey/fkey/idx
--   1753104909784-AssetFaceUpdateIdAndAuditTable  asset_face."updatedAt"/"updateId", audit
--   1755984055382-SidecarInAssetFile     asset."sidecarPath" moved into asset_file
--   1758705774125-CreateAssetOCRTable    asset_ocr
--   1758705789125-CreateOCRSearchTable   ocr_search (trigram index on f_unaccent(text))
--
-- Column names, types, defaults, NOT NULLs, keys, foreign keys (with their ON DELETE / ON
-- UPDATE), unique constraints, indexes and the triggers of these tables are Immich's. The
-- tables only referenced by foreign keys ("user", library, stack) keep the columns of the
-- initial migration, and asset_exif is there for a later migration's UPDATE
-- (tests/immich/immich_later_migrations.sql).
--
-- Not reproduced: Immich's image uses VectorChord, which this machine does not have.
-- pgvector's vector type is the type of the embedding columns either way; the two vector
-- indexes are built the way Immich builds them when the vector extension is pgvector
-- (vectorIndexQuery's 'vector' case: hnsw, ef_construction 300, m 16) instead of
-- VectorChord's vchordrq, and Immich's "SET LOCAL vchordrq.probes" before a vector search is
-- left out. cube/earthdistance (geodata only) are left out too.

create extension if not exists "uuid-ossp";
create extension if not exists unaccent;
create extension if not exists pg_trgm;
create extension if not exists vector;

create or replace function immich_uuid_v7(p_timestamp timestamp with time zone default clock_timestamp())
  returns uuid
  volatile language sql
  as $$
    select encode(
      set_bit(
        set_bit(
          overlay(uuid_send(gen_random_uuid())
                  placing substring(int8send(floor(extract(epoch from p_timestamp) * 1000)::bigint) from 3)
                  from 1 for 6
          ),
          52, 1
        ),
        53, 1
      ),
      'hex')::uuid;
  $$;

create or replace function updated_at()
  returns trigger
  language plpgsql
  as $$
    declare
        clock_timestamp timestamp := clock_timestamp();
    begin
        new."updatedAt" = clock_timestamp;
        new."updateId" = immich_uuid_v7(clock_timestamp);
        return new;
    end;
  $$;

create or replace function f_unaccent(text)
  returns text
  parallel safe strict immutable language sql
  return unaccent('unaccent', $1);

create or replace function asset_delete_audit()
  returns trigger
  language plpgsql
  as $$
    begin
      insert into asset_audit ("assetId", "ownerId")
      select "id", "ownerId"
      from old;
      return null;
    end
  $$;

create or replace function asset_face_audit()
  returns trigger
  language plpgsql
  as $$
    begin
      insert into asset_face_audit ("assetFaceId", "assetId")
      select "id", "assetId"
      from old;
      return null;
    end
  $$;

create type "assets_status_enum" as enum ('active','trashed','deleted');
create type "sourcetype" as enum ('machine-learning','exif','manual');
create type "asset_visibility_enum" as enum ('archive','timeline','hidden','locked');

-- referenced by foreign keys only: the initial migration's columns
create table "user" ("id" uuid not null default uuid_generate_v4(), "email" character varying not null, "password" character varying not null default '', "createdAt" timestamp with time zone not null default now(), "profileImagePath" character varying not null default '', "isAdmin" boolean not null default false, "shouldChangePassword" boolean not null default true, "deletedAt" timestamp with time zone, "oauthId" character varying not null default '', "updatedAt" timestamp with time zone not null default now(), "storageLabel" character varying, "name" character varying not null default '', "quotaSizeInBytes" bigint, "quotaUsageInBytes" bigint not null default 0, "status" character varying not null default 'active', "profileChangedAt" timestamp with time zone not null default now(), "updateId" uuid not null default immich_uuid_v7());
alter table "user" add constraint "user_pkey" primary key ("id");
alter table "user" add constraint "user_email_uq" unique ("email");
alter table "user" add constraint "user_storageLabel_uq" unique ("storageLabel");

create table "library" ("id" uuid not null default uuid_generate_v4(), "name" character varying not null, "ownerId" uuid not null, "importPaths" text[] not null, "exclusionPatterns" text[] not null, "createdAt" timestamp with time zone not null default now(), "updatedAt" timestamp with time zone not null default now(), "deletedAt" timestamp with time zone, "refreshedAt" timestamp with time zone, "updateId" uuid not null default immich_uuid_v7());
alter table "library" add constraint "library_pkey" primary key ("id");
alter table "library" add constraint "library_ownerId_fkey" foreign key ("ownerId") references "user" ("id") on update cascade on delete cascade;

create table "stack" ("id" uuid not null default uuid_generate_v4(), "primaryAssetId" uuid not null, "ownerId" uuid not null);
alter table "stack" add constraint "stack_pkey" primary key ("id");

-- asset
create table "asset" ("id" uuid not null default uuid_generate_v4(), "deviceAssetId" character varying not null, "ownerId" uuid not null, "deviceId" character varying not null, "type" character varying not null, "originalPath" character varying not null, "fileCreatedAt" timestamp with time zone not null, "fileModifiedAt" timestamp with time zone not null, "isFavorite" boolean not null default false, "duration" character varying, "encodedVideoPath" character varying default '', "checksum" bytea not null, "livePhotoVideoId" uuid, "updatedAt" timestamp with time zone not null default now(), "createdAt" timestamp with time zone not null default now(), "originalFileName" character varying not null, "thumbhash" bytea, "isOffline" boolean not null default false, "libraryId" uuid, "isExternal" boolean not null default false, "deletedAt" timestamp with time zone, "localDateTime" timestamp with time zone not null, "stackId" uuid, "duplicateId" uuid, "status" assets_status_enum not null default 'active', "updateId" uuid not null default immich_uuid_v7(), "visibility" asset_visibility_enum not null default 'timeline');
alter table "asset" add constraint "asset_pkey" primary key ("id");
alter table "asset" add constraint "asset_ownerId_fkey" foreign key ("ownerId") references "user" ("id") on update cascade on delete cascade;
alter table "asset" add constraint "asset_livePhotoVideoId_fkey" foreign key ("livePhotoVideoId") references "asset" ("id") on update cascade on delete set null;
alter table "asset" add constraint "asset_libraryId_fkey" foreign key ("libraryId") references "library" ("id") on update cascade on delete cascade;
alter table "asset" add constraint "asset_stackId_fkey" foreign key ("stackId") references "stack" ("id") on update cascade on delete set null;
alter table "stack" add constraint "stack_primaryAssetId_fkey" foreign key ("primaryAssetId") references "asset" ("id") on update no action on delete no action;
alter table "stack" add constraint "stack_ownerId_fkey" foreign key ("ownerId") references "user" ("id") on update cascade on delete cascade;
alter table "stack" add constraint "stack_primaryAssetId_uq" unique ("primaryAssetId");
create index "asset_originalFilename_trigram_idx" on "asset" using gin (f_unaccent("originalFileName") gin_trgm_ops);
create index "asset_id_stackId_idx" on "asset" ("id", "stackId");
create index "asset_originalPath_libraryId_idx" on "asset" ("originalPath", "libraryId");
create index "asset_localDateTime_month_idx" on "asset" ((date_trunc('MONTH'::text, ("localDateTime" at time zone 'UTC'::text)) at time zone 'UTC'::text));
create index "asset_localDateTime_idx" on "asset" ((("localDateTime" at time zone 'UTC')::date));
create unique index "asset_ownerId_libraryId_checksum_idx" on "asset" ("ownerId", "libraryId", "checksum") where ("libraryId" is not null);
create unique index "UQ_assets_owner_checksum" on "asset" ("ownerId", "checksum") where ("libraryId" is null);
create index "asset_ownerId_idx" on "asset" ("ownerId");
create index "asset_fileCreatedAt_idx" on "asset" ("fileCreatedAt");
create index "asset_checksum_idx" on "asset" ("checksum");
create index "asset_livePhotoVideoId_idx" on "asset" ("livePhotoVideoId");
create index "asset_originalFileName_idx" on "asset" ("originalFileName");
create index "asset_libraryId_idx" on "asset" ("libraryId");
create index "asset_stackId_idx" on "asset" ("stackId");
create index "asset_duplicateId_idx" on "asset" ("duplicateId");
create index "asset_updateId_idx" on "asset" ("updateId");

create table "asset_audit" ("id" uuid not null default immich_uuid_v7(), "assetId" uuid not null, "ownerId" uuid not null, "deletedAt" timestamp with time zone not null default clock_timestamp());
alter table "asset_audit" add constraint "asset_audit_pkey" primary key ("id");
create index "asset_audit_assetId_idx" on "asset_audit" ("assetId");
create index "asset_audit_ownerId_idx" on "asset_audit" ("ownerId");
create index "asset_audit_deletedAt_idx" on "asset_audit" ("deletedAt");

create or replace trigger "asset_delete_audit"
  after delete on "asset"
  referencing old table as "old"
  for each statement
  when (pg_trigger_depth() = 0)
  execute function asset_delete_audit();
create or replace trigger "asset_updatedAt"
  before update on "asset"
  for each row
  execute function updated_at();

-- asset_exif (for immich_later_migrations.sql)
create table "asset_exif" ("assetId" uuid not null, "make" character varying, "model" character varying, "exifImageWidth" integer, "exifImageHeight" integer, "fileSizeInByte" bigint, "orientation" character varying, "dateTimeOriginal" timestamp with time zone, "modifyDate" timestamp with time zone, "lensModel" character varying, "fNumber" double precision, "focalLength" double precision, "iso" integer, "latitude" double precision, "longitude" double precision, "city" character varying, "state" character varying, "country" character varying, "description" text not null default '', "fps" double precision, "exposureTime" character varying, "livePhotoCID" character varying, "timeZone" character varying, "projectionType" character varying, "profileDescription" character varying, "colorspace" character varying, "bitsPerSample" integer, "autoStackId" character varying, "rating" integer, "updatedAt" timestamp with time zone not null default clock_timestamp(), "updateId" uuid not null default immich_uuid_v7());
alter table "asset_exif" add constraint "asset_exif_pkey" primary key ("assetId");
alter table "asset_exif" add constraint "asset_exif_assetId_fkey" foreign key ("assetId") references "asset" ("id") on update no action on delete cascade;
create or replace trigger "asset_exif_updatedAt"
  before update on "asset_exif"
  for each row
  execute function updated_at();

-- asset_file
create table "asset_file" ("id" uuid not null default uuid_generate_v4(), "assetId" uuid not null, "createdAt" timestamp with time zone not null default now(), "updatedAt" timestamp with time zone not null default now(), "type" character varying not null, "path" character varying not null, "updateId" uuid not null default immich_uuid_v7());
alter table "asset_file" add constraint "asset_file_pkey" primary key ("id");
alter table "asset_file" add constraint "asset_file_assetId_fkey" foreign key ("assetId") references "asset" ("id") on update cascade on delete cascade;
alter table "asset_file" add constraint "asset_file_assetId_type_uq" unique ("assetId", "type");
create index "asset_file_assetId_idx" on "asset_file" ("assetId");
create index "asset_file_updateId_idx" on "asset_file" ("updateId");
create or replace trigger "asset_file_updatedAt"
  before update on "asset_file"
  for each row
  execute function updated_at();

-- asset_job_status
create table "asset_job_status" ("assetId" uuid not null, "facesRecognizedAt" timestamp with time zone, "metadataExtractedAt" timestamp with time zone, "duplicatesDetectedAt" timestamp with time zone, "previewAt" timestamp with time zone, "thumbnailAt" timestamp with time zone);
alter table "asset_job_status" add constraint "asset_job_status_pkey" primary key ("assetId");
alter table "asset_job_status" add constraint "asset_job_status_assetId_fkey" foreign key ("assetId") references "asset" ("id") on update cascade on delete cascade;
alter table "asset_job_status" add "ocrAt" timestamp with time zone;

-- person and asset_face (each references the other)
create table "person" ("id" uuid not null default uuid_generate_v4(), "createdAt" timestamp with time zone not null default now(), "updatedAt" timestamp with time zone not null default now(), "ownerId" uuid not null, "name" character varying not null default '', "thumbnailPath" character varying not null default '', "isHidden" boolean not null default false, "birthDate" date, "faceAssetId" uuid, "isFavorite" boolean not null default false, "color" character varying, "updateId" uuid not null default immich_uuid_v7());
create table "asset_face" ("assetId" uuid not null, "personId" uuid, "imageWidth" integer not null default 0, "imageHeight" integer not null default 0, "boundingBoxX1" integer not null default 0, "boundingBoxY1" integer not null default 0, "boundingBoxX2" integer not null default 0, "boundingBoxY2" integer not null default 0, "id" uuid not null default uuid_generate_v4(), "sourceType" sourcetype not null default 'machine-learning', "deletedAt" timestamp with time zone);
alter table "person" add constraint "person_pkey" primary key ("id");
alter table "asset_face" add constraint "asset_face_pkey" primary key ("id");
alter table "person" add constraint "person_ownerId_fkey" foreign key ("ownerId") references "user" ("id") on update cascade on delete cascade;
alter table "person" add constraint "person_faceAssetId_fkey" foreign key ("faceAssetId") references "asset_face" ("id") on update no action on delete set null;
alter table "person" add constraint "person_birthDate_chk" check ("birthDate" <= current_date);
alter table "asset_face" add constraint "asset_face_assetId_fkey" foreign key ("assetId") references "asset" ("id") on update cascade on delete cascade;
alter table "asset_face" add constraint "asset_face_personId_fkey" foreign key ("personId") references "person" ("id") on update cascade on delete set null;
create index "person_ownerId_idx" on "person" ("ownerId");
create index "person_faceAssetId_idx" on "person" ("faceAssetId");
create index "person_updateId_idx" on "person" ("updateId");
create index "asset_face_personId_assetId_idx" on "asset_face" ("personId", "assetId");
create index "asset_face_assetId_personId_idx" on "asset_face" ("assetId", "personId");
create or replace trigger "person_updatedAt"
  before update on "person"
  for each row
  execute function updated_at();

create table "asset_face_audit" (
  "id" uuid not null default immich_uuid_v7(),
  "assetFaceId" uuid not null,
  "assetId" uuid not null,
  "deletedAt" timestamp with time zone not null default clock_timestamp(),
  constraint "asset_face_audit_pkey" primary key ("id")
);
create index "asset_face_audit_assetFaceId_idx" on "asset_face_audit" ("assetFaceId");
create index "asset_face_audit_assetId_idx" on "asset_face_audit" ("assetId");
create index "asset_face_audit_deletedAt_idx" on "asset_face_audit" ("deletedAt");
alter table "asset_face" add "updatedAt" timestamp with time zone not null default now();
alter table "asset_face" add "updateId" uuid not null default immich_uuid_v7();
create or replace trigger "asset_face_audit"
  after delete on "asset_face"
  referencing old table as "old"
  for each statement
  when (pg_trigger_depth() = 0)
  execute function asset_face_audit();
create or replace trigger "asset_face_updatedAt"
  before update on "asset_face"
  for each row
  execute function updated_at();

-- face_search and smart_search (pgvector: see the note at the top)
create table "face_search" ("faceId" uuid not null, "embedding" vector(512) not null);
alter table "face_search" add constraint "face_search_pkey" primary key ("faceId");
alter table "face_search" add constraint "face_search_faceId_fkey" foreign key ("faceId") references "asset_face" ("id") on update no action on delete cascade;
create index if not exists face_index on face_search
  using hnsw (embedding vector_cosine_ops)
  with (ef_construction = 300, m = 16);

create table "smart_search" ("assetId" uuid not null, "embedding" vector(512) not null);
alter table "smart_search" alter column "embedding" set storage external;
alter table "smart_search" add constraint "smart_search_pkey" primary key ("assetId");
alter table "smart_search" add constraint "smart_search_assetId_fkey" foreign key ("assetId") references "asset" ("id") on update no action on delete cascade;
create index if not exists clip_index on smart_search
  using hnsw (embedding vector_cosine_ops)
  with (ef_construction = 300, m = 16);

-- asset_ocr and ocr_search
create table "asset_ocr" ("id" uuid not null default uuid_generate_v4(), "assetId" uuid not null, "x1" real not null, "y1" real not null, "x2" real not null, "y2" real not null, "x3" real not null, "y3" real not null, "x4" real not null, "y4" real not null, "boxScore" real not null, "textScore" real not null, "text" text not null);
alter table "asset_ocr" add constraint "asset_ocr_pkey" primary key ("id");
alter table "asset_ocr" add constraint "asset_ocr_assetId_fkey" foreign key ("assetId") references "asset" ("id") on update cascade on delete cascade;
create index "asset_ocr_assetId_idx" on "asset_ocr" ("assetId");

create table "ocr_search" ("assetId" uuid not null, "text" text not null);
alter table "ocr_search" add constraint "ocr_search_pkey" primary key ("assetId");
alter table "ocr_search" add constraint "ocr_search_assetId_fkey" foreign key ("assetId") references "asset" ("id") on update cascade on delete cascade;
create index "idx_ocr_search_text" on "ocr_search" using gin (f_unaccent("text") gin_trgm_ops);

-- system_metadata (Immich's saved configuration lives under key 'system-config')
create table "system_metadata" ("key" character varying not null, "value" jsonb not null);
alter table "system_metadata" add constraint "system_metadata_pkey" primary key ("key");
