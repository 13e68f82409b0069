-- Immich v3.1's schema for the tables photo_ai's Immich mode reads, as Immich's own migrations
-- leave them. Read from immich-app/immich's history as mirrored by the fork asah/immich, at the
-- v3.1.0 release commit 8aa95c67470a02a8ddedf03c2e52963af33065ff ("chore: version v3.1.0",
-- server/package.json "3.1.0", 2026-07-27), server/src/schema/migrations/ (and, to cross-check
-- the end state, server/src/schema/{tables,functions,enums}.ts of the same commit). The release
-- that first shipped each migration is in brackets.
--
--   1744910873969-InitialMigration         extensions, functions, tables, keys, indexes,
--                                          triggers, the vector indexes (vectorIndexQuery)
--   1745244781846-AddUserAvatarColorColumn "user"."avatarColor"
--   1745902563899-AddAssetVisibilityColumn asset.visibility replaces isVisible/isArchived
--   1746636476623-DropExtraIndexes         asset_face's single-column indexes dropped
--   1746768490606-AddUserPincode           "user"."pinCode"
--   1746844028242-AddLockedVisibilityEnum  'locked' visibility
--   1751304834247-StackSyncChanges         stack createdAt/updatedAt/updateId, stack audit
--   1752152941084-PeopleAuditTable         person_audit and its trigger
--   1752267649968-StandardizeNames         assets -> asset, asset_faces -> asset_face, exif ->
--                                          asset_exif, ...: constraints, indexes, triggers
--                                          renamed <table>_<columns>_pkey/fkey/uq/idx
--   1753104909784-AssetFaceUpdateIdAndAuditTable  asset_face updatedAt/updateId, audit
--   1758705774125-CreateAssetOCRTable      asset_ocr                                  [v2.2.0]
--   1758705789125-CreateOCRSearchTable     ocr_search (trigram index on f_unaccent)   [v2.2.0]
--   1758705804128-UpsertOcrAssetJobStatus  asset_job_status."ocrAt"                   [v2.2.0]
--   1764483051488-OCRBigramsForCJK         ocr_search rebuilt with tokenizeForSearch  [v2.4.0]
--   1764698859174-SidecarInAssetFile       asset."sidecarPath" -> asset_file 'sidecar' [v2.4.0]
--   1764957138636-AddLockedPropertiesToAssetExif  asset_exif."lockedProperties"      [v2.4.0]
--   1768336661963-AddAssetWidthHeight      asset.width/height                          [v2.5.0]
--   1768336671610-CreateAssetEditTable     asset_edit                                  [v2.5.0]
--   1768336694315-CreateIsVisibleColumns   asset_ocr/asset_face."isVisible"            [v2.5.0]
--   1768587436457-AddEditCountToAsset, 1768757482271-SwitchToIsEdited  asset."isEdited"
--                                          and asset_edit's statement triggers         [v2.5.0]
--   1768828334807-AddIsEditedToAssetFile   asset_file unique (assetId, type, isEdited) [v2.5.0]
--   1768847456553-AddTagsToExif            asset_exif.tags                             [v2.5.0]
--   1769105700133-AddAssetEditSequence     asset_edit.sequence                         [v2.5.0]
--   1769441657564-AddIsProgressiveColumn   asset_file."isProgressive"                  [v2.5.0]
--   1769635093204-DropThumbnailJobStatusColumns  asset_job_status previewAt/thumbnailAt
--                                          dropped                                     [v2.6.0]
--   1771478781948-PeopleSearchIndex        two partial indexes (asset, asset_face)     [v2.6.0]
--   1771639515206-AddIsTransparentColumn   asset_file."isTransparent"                  [v2.6.0]
--   1771873813973-AssetEditSync            asset_edit updatedAt/updateId, audit        [v2.6.0]
--   1772121424533-AddAssetExifGistEarthcoord  gist index on ll_to_earth_public      [v2.6.0]
--   1772129818245-FixStupidWhiteSpace      asset_edit_delete() body                    [v2.6.0]
--   1773242919341-EncodedVideoAssetFiles   asset."encodedVideoPath" -> asset_file      [v2.6.0]
--   1774548649115-AddChecksumAlgorithm     asset."checksumAlgorithm" NOT NULL          [v2.7.0]
--   1775165531374-AddPersonNameTrigramIndex  idx_person_name_trigram                 [v2.7.0]
--   1776263790468-DropDeviceIdAndDeviceAssetId  asset."deviceId"/"deviceAssetId" gone [v3.0.0]
--   1777667825574-ChangeDurationToInteger  asset.duration integer (milliseconds)       [v3.0.0]
--   1780592071031-AssetOcrSync             asset_ocr."updateId", asset_ocr_audit and its
--                                          trigger                                     [v3.0.0]
--   1781089983296-CreateIntegrityReportTable  asset_createdAt_idx (the table itself
--                                          is not reproduced)                          [v3.0.0]
-- v3.1.0's own two migrations (1784647658615-AddOAuthBearerTokenToSession,
-- 1784836013770-MinFacePreferenceMigration) change no table here; v3.0.3's
-- 1782500000000-RestoreLivePhotoStillVisibility only updates rows.
--
-- Each table is created in the end state its migrations leave (columns in the order the
-- migrations add them), so names, types, defaults, NOT NULLs, keys, foreign keys (with their
-- ON DELETE / ON UPDATE), unique constraints, indexes and triggers are Immich's; function
-- bodies are the last ones the migrations install.
--
-- Not reproduced:
-- * Immich's image uses VectorChord, which this machine does not have. pgvector's vector
--   type is the type of the embedding columns either way; the two vector indexes are built
--   the way Immich builds them when the vector extension is pgvector (vectorIndexQuery's
--   'vector' case: hnsw, ef_construction 300, m 16) instead of VectorChord's vchordrq, and
--   Immich's "SET LOCAL vchordrq.probes" before a vector search is left out.
-- * 1746636476623-DropExtraIndexes's ALTER DATABASE ... SET search_path TO "$user", public,
--   vectors: a database setting, which CREATE DATABASE ... TEMPLATE does not copy.
-- * The tables photo_ai never reads (albums, memories, tags, sessions, partners, shared
--   links, asset_metadata, video/audio, plugins, workflows, integrity_report, geodata,
--   notifications, ...), Immich's migration bookkeeping (kysely_migrations,
--   migration_overrides) and the rows migrations only update or delete.

create extension if not exists "uuid-ossp";
create extension if not exists unaccent;
create extension if not exists cube;
create extension if not exists earthdistance;
create extension if not exists pg_trgm;
create extension if not exists vector cascade;

-- ---------------------------------------------------------------------------------------------
-- functions

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

create or replace function f_concat_ws(text, text[])
  returns text
  parallel safe immutable language sql
  as $$select array_to_string($2, $1)$$;

create or replace function f_unaccent(text)
  returns text
  parallel safe strict immutable language sql
  return unaccent('unaccent', $1);

create or replace function ll_to_earth_public(latitude double precision, longitude double precision)
  returns public.earth
  parallel safe strict immutable language sql
  as $$
    select public.cube(public.cube(public.cube(public.earth()*cos(radians(latitude))*cos(radians(longitude))),public.earth()*cos(radians(latitude))*sin(radians(longitude))),public.earth()*sin(radians(latitude)))::public.earth
  $$;

create or replace function user_delete_audit()
  returns trigger
  language plpgsql
  as $$
    begin
      insert into user_audit ("userId")
      select "id"
      from old;
      return null;
    end
  $$;

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

create or replace function stack_delete_audit()
  returns trigger
  language plpgsql
  as $$
    begin
      insert into stack_audit ("stackId", "userId")
      select "id", "ownerId"
      from old;
      return null;
    end
  $$;

create or replace function person_delete_audit()
  returns trigger
  language plpgsql
  as $$
    begin
      insert into person_audit ("personId", "ownerId")
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

create or replace function asset_edit_insert()
  returns trigger
  language plpgsql
  as $$
    begin
      update asset
      set "isEdited" = true
      from inserted_edit
      where asset.id = inserted_edit."assetId" and not asset."isEdited";
      return null;
    end
  $$;

create or replace function asset_edit_delete()
  returns trigger
  language plpgsql
  as $$
    begin
      update asset
      set "isEdited" = false
      from deleted_edit
      where asset.id = deleted_edit."assetId" and asset."isEdited"
        and not exists (select from asset_edit edit where edit."assetId" = asset.id);
      return null;
    end
  $$;

create or replace function asset_edit_audit()
  returns trigger
  language plpgsql
  as $$
    begin
      insert into asset_edit_audit ("editId", "assetId")
      select "id", "assetId"
      from old;
      return null;
    end
  $$;

create type "assets_status_enum" as enum ('active','trashed','deleted');
create type "sourcetype" as enum ('machine-learning','exif','manual');
create type "asset_visibility_enum" as enum ('archive','timeline','hidden','locked');
create type "asset_checksum_algorithm_enum" as enum ('sha1','sha1-path');

-- ---------------------------------------------------------------------------------------------
-- "user", library, stack and their audit tables

create table "user" ("id" uuid not null default uuid_generate_v4(), "email" character varying not null, "password" character varying not null default '', "createdAt" timestamp with time zone not null default now(), "profileImagePath" character varying not null default '', "isAdmin" boolean not null default false, "shouldChangePassword" boolean not null default true, "deletedAt" timestamp with time zone, "oauthId" character varying not null default '', "updatedAt" timestamp with time zone not null default now(), "storageLabel" character varying, "name" character varying not null default '', "quotaSizeInBytes" bigint, "quotaUsageInBytes" bigint not null default 0, "status" character varying not null default 'active', "profileChangedAt" timestamp with time zone not null default now(), "updateId" uuid not null default immich_uuid_v7(), "avatarColor" character varying, "pinCode" character varying);
alter table "user" add constraint "user_pkey" primary key ("id");
alter table "user" add constraint "user_email_uq" unique ("email");
alter table "user" add constraint "user_storageLabel_uq" unique ("storageLabel");
create index "user_updatedAt_id_idx" on "user" ("updatedAt", "id");
create index "user_updateId_idx" on "user" ("updateId");

create table "user_audit" ("userId" uuid not null, "deletedAt" timestamp with time zone not null default clock_timestamp(), "id" uuid not null default immich_uuid_v7());
alter table "user_audit" add constraint "user_audit_pkey" primary key ("id");
create index "user_audit_deletedAt_idx" on "user_audit" ("deletedAt");

create or replace trigger "user_delete_audit"
  after delete on "user"
  referencing old table as "old"
  for each statement
  when (pg_trigger_depth() = 0)
  execute function user_delete_audit();
create or replace trigger "user_updatedAt"
  before update on "user"
  for each row
  execute function updated_at();

create table "library" ("id" uuid not null default uuid_generate_v4(), "name" character varying not null, "ownerId" uuid not null, "importPaths" text[] not null, "exclusionPatterns" text[] not null, "createdAt" timestamp with time zone not null default now(), "updatedAt" timestamp with time zone not null default now(), "deletedAt" timestamp with time zone, "refreshedAt" timestamp with time zone, "updateId" uuid not null default immich_uuid_v7());
alter table "library" add constraint "library_pkey" primary key ("id");
alter table "library" add constraint "library_ownerId_fkey" foreign key ("ownerId") references "user" ("id") on update cascade on delete cascade;
create index "library_ownerId_idx" on "library" ("ownerId");
create index "library_updateId_idx" on "library" ("updateId");
create or replace trigger "library_updatedAt"
  before update on "library"
  for each row
  execute function updated_at();

create table "stack" ("id" uuid not null default uuid_generate_v4(), "primaryAssetId" uuid not null, "ownerId" uuid not null, "createdAt" timestamp with time zone not null default now(), "updatedAt" timestamp with time zone not null default now(), "updateId" uuid not null default immich_uuid_v7());
alter table "stack" add constraint "stack_pkey" primary key ("id");
alter table "stack" add constraint "stack_primaryAssetId_uq" unique ("primaryAssetId");
alter table "stack" add constraint "stack_ownerId_fkey" foreign key ("ownerId") references "user" ("id") on update cascade on delete cascade;
create index "stack_primaryAssetId_idx" on "stack" ("primaryAssetId");
create index "stack_ownerId_idx" on "stack" ("ownerId");

create table "stack_audit" ("id" uuid not null default immich_uuid_v7(), "stackId" uuid not null, "userId" uuid not null, "deletedAt" timestamp with time zone not null default clock_timestamp());
alter table "stack_audit" add constraint "stack_audit_pkey" primary key ("id");
create index "stack_audit_deletedAt_idx" on "stack_audit" ("deletedAt");

create or replace trigger "stack_delete_audit"
  after delete on "stack"
  referencing old table as "old"
  for each statement
  when (pg_trigger_depth() = 0)
  execute function stack_delete_audit();
create or replace trigger "stack_updatedAt"
  before update on "stack"
  for each row
  execute function updated_at();

-- ---------------------------------------------------------------------------------------------
-- asset (no "deviceAssetId"/"deviceId", "encodedVideoPath" or "sidecarPath" since v3.0/v2.6/
-- v2.4; duration in milliseconds; "checksumAlgorithm" 'sha1' for uploads, 'sha1-path' for
-- external libraries)

create table "asset" ("id" uuid not null default uuid_generate_v4(), "ownerId" uuid not null, "type" character varying not null, "originalPath" character varying not null, "fileCreatedAt" timestamp with time zone not null, "fileModifiedAt" timestamp with time zone not null, "isFavorite" boolean not null default false, "duration" integer, "checksum" bytea not null, "livePhotoVideoId" uuid, "updatedAt" timestamp with time zone not null default now(), "createdAt" timestamp with time zone not null default now(), "originalFileName" character varying not null, "thumbhash" bytea, "isOffline" boolean not null default false, "libraryId" uuid, "isExternal" boolean not null default false, "deletedAt" timestamp with time zone, "localDateTime" timestamp with time zone not null, "stackId" uuid, "duplicateId" uuid, "status" assets_status_enum not null default 'active', "updateId" uuid not null default immich_uuid_v7(), "visibility" asset_visibility_enum not null default 'timeline', "width" integer, "height" integer, "isEdited" boolean not null default false, "checksumAlgorithm" asset_checksum_algorithm_enum not null);
alter table "asset" add constraint "asset_pkey" primary key ("id");
alter table "asset" add constraint "asset_ownerId_fkey" foreign key ("ownerId") references "user" ("id") on update cascade on delete cascade;
alter table "asset" add constraint "asset_livePhotoVideoId_fkey" foreign key ("livePhotoVideoId") references "asset" ("id") on update cascade on delete set null;
alter table "asset" add constraint "asset_libraryId_fkey" foreign key ("libraryId") references "library" ("id") on update cascade on delete cascade;
alter table "asset" add constraint "asset_stackId_fkey" foreign key ("stackId") references "stack" ("id") on update cascade on delete set null;
alter table "stack" add constraint "stack_primaryAssetId_fkey" foreign key ("primaryAssetId") references "asset" ("id") on update no action on delete no action;
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
create index "asset_id_timeline_notDeleted_idx" on "asset" ("id") where visibility = 'timeline' and "deletedAt" is null;
create index "asset_createdAt_idx" on "asset" ("createdAt");

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

-- ---------------------------------------------------------------------------------------------
-- asset_exif

create table "asset_exif" ("assetId" uuid not null, "make" character varying, "model" character varying, "exifImageWidth" integer, "exifImageHeight" integer, "fileSizeInByte" bigint, "orientation" character varying, "dateTimeOriginal" timestamp with time zone, "modifyDate" timestamp with time zone, "lensModel" character varying, "fNumber" double precision, "focalLength" double precision, "iso" integer, "latitude" double precision, "longitude" double precision, "city" character varying, "state" character varying, "country" character varying, "description" text not null default '', "fps" double precision, "exposureTime" character varying, "livePhotoCID" character varying, "timeZone" character varying, "projectionType" character varying, "profileDescription" character varying, "colorspace" character varying, "bitsPerSample" integer, "autoStackId" character varying, "rating" integer, "updatedAt" timestamp with time zone not null default clock_timestamp(), "updateId" uuid not null default immich_uuid_v7(), "lockedProperties" character varying[], "tags" character varying[]);
alter table "asset_exif" add constraint "asset_exif_pkey" primary key ("assetId");
alter table "asset_exif" add constraint "asset_exif_assetId_fkey" foreign key ("assetId") references "asset" ("id") on update no action on delete cascade;
create index "asset_exif_city_idx" on "asset_exif" ("city");
create index "asset_exif_livePhotoCID_idx" on "asset_exif" ("livePhotoCID");
create index "asset_exif_autoStackId_idx" on "asset_exif" ("autoStackId");
create index "asset_exif_updateId_idx" on "asset_exif" ("updateId");
create index "IDX_asset_exif_gist_earthcoord" on "asset_exif" using gist (ll_to_earth_public(latitude, longitude));
create or replace trigger "asset_exif_updatedAt"
  before update on "asset_exif"
  for each row
  execute function updated_at();

-- ---------------------------------------------------------------------------------------------
-- asset_file (type: 'preview', 'thumbnail', 'fullsize', 'sidecar', 'encoded_video')

create table "asset_file" ("id" uuid not null default uuid_generate_v4(), "assetId" uuid not null, "createdAt" timestamp with time zone not null default now(), "updatedAt" timestamp with time zone not null default now(), "type" character varying not null, "path" character varying not null, "updateId" uuid not null default immich_uuid_v7(), "isEdited" boolean not null default false, "isProgressive" boolean not null default false, "isTransparent" boolean not null default false);
alter table "asset_file" add constraint "asset_file_pkey" primary key ("id");
alter table "asset_file" add constraint "asset_file_assetId_fkey" foreign key ("assetId") references "asset" ("id") on update cascade on delete cascade;
alter table "asset_file" add constraint "asset_file_assetId_type_isEdited_uq" unique ("assetId", "type", "isEdited");
create index "asset_file_assetId_idx" on "asset_file" ("assetId");
create index "asset_file_updateId_idx" on "asset_file" ("updateId");
create or replace trigger "asset_file_updatedAt"
  before update on "asset_file"
  for each row
  execute function updated_at();

-- ---------------------------------------------------------------------------------------------
-- asset_edit (photo editing: its statement triggers set asset."isEdited")

create table "asset_edit" ("id" uuid not null default uuid_generate_v4(), "assetId" uuid not null, "action" varchar not null, "parameters" jsonb not null, "sequence" integer not null, "updatedAt" timestamp with time zone not null default now(), "updateId" uuid not null default immich_uuid_v7());
alter table "asset_edit" add constraint "asset_edit_pkey" primary key ("id");
alter table "asset_edit" add constraint "asset_edit_assetId_fkey" foreign key ("assetId") references "asset" ("id") on update cascade on delete cascade;
alter table "asset_edit" add constraint "asset_edit_assetId_sequence_uq" unique ("assetId", "sequence");
create index "asset_edit_assetId_idx" on "asset_edit" ("assetId");
create index "asset_edit_updateId_idx" on "asset_edit" ("updateId");

create table "asset_edit_audit" ("id" uuid not null default immich_uuid_v7(), "editId" uuid not null, "assetId" uuid not null, "deletedAt" timestamp with time zone not null default clock_timestamp(), constraint "asset_edit_audit_pkey" primary key ("id"));
create index "asset_edit_audit_assetId_idx" on "asset_edit_audit" ("assetId");
create index "asset_edit_audit_deletedAt_idx" on "asset_edit_audit" ("deletedAt");

create or replace trigger "asset_edit_delete"
  after delete on "asset_edit"
  referencing old table as "deleted_edit"
  for each statement
  when (pg_trigger_depth() = 0)
  execute function asset_edit_delete();
create or replace trigger "asset_edit_insert"
  after insert on "asset_edit"
  referencing new table as "inserted_edit"
  for each statement
  execute function asset_edit_insert();
create or replace trigger "asset_edit_audit"
  after delete on "asset_edit"
  referencing old table as "old"
  for each statement
  when (pg_trigger_depth() = 0)
  execute function asset_edit_audit();
create or replace trigger "asset_edit_updatedAt"
  before update on "asset_edit"
  for each row
  execute function updated_at();

-- ---------------------------------------------------------------------------------------------
-- asset_job_status (no previewAt/thumbnailAt since v2.6)

create table "asset_job_status" ("assetId" uuid not null, "facesRecognizedAt" timestamp with time zone, "metadataExtractedAt" timestamp with time zone, "duplicatesDetectedAt" timestamp with time zone, "ocrAt" timestamp with time zone);
alter table "asset_job_status" add constraint "asset_job_status_pkey" primary key ("assetId");
alter table "asset_job_status" add constraint "asset_job_status_assetId_fkey" foreign key ("assetId") references "asset" ("id") on update cascade on delete cascade;

-- ---------------------------------------------------------------------------------------------
-- person and asset_face (each references the other), their audit tables

create table "person" ("id" uuid not null default uuid_generate_v4(), "createdAt" timestamp with time zone not null default now(), "updatedAt" timestamp with time zone not null default now(), "ownerId" uuid not null, "name" character varying not null default '', "thumbnailPath" character varying not null default '', "isHidden" boolean not null default false, "birthDate" date, "faceAssetId" uuid, "isFavorite" boolean not null default false, "color" character varying, "updateId" uuid not null default immich_uuid_v7());
create table "asset_face" ("assetId" uuid not null, "personId" uuid, "imageWidth" integer not null default 0, "imageHeight" integer not null default 0, "boundingBoxX1" integer not null default 0, "boundingBoxY1" integer not null default 0, "boundingBoxX2" integer not null default 0, "boundingBoxY2" integer not null default 0, "id" uuid not null default uuid_generate_v4(), "sourceType" sourcetype not null default 'machine-learning', "deletedAt" timestamp with time zone, "updatedAt" timestamp with time zone not null default now(), "updateId" uuid not null default immich_uuid_v7(), "isVisible" boolean not null default true);
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
create index "idx_person_name_trigram" on "person" using gin (f_unaccent("name") gin_trgm_ops);
create index "asset_face_personId_assetId_idx" on "asset_face" ("personId", "assetId");
create index "asset_face_assetId_personId_idx" on "asset_face" ("assetId", "personId");
create index "asset_face_personId_assetId_notDeleted_isVisible_idx" on "asset_face" ("personId", "assetId") where "deletedAt" is null and "isVisible" is true;

create table "person_audit" ("id" uuid not null default immich_uuid_v7(), "personId" uuid not null, "ownerId" uuid not null, "deletedAt" timestamp with time zone not null default clock_timestamp(), constraint "person_audit_pkey" primary key ("id"));
create index "person_audit_personId_idx" on "person_audit" ("personId");
create index "person_audit_ownerId_idx" on "person_audit" ("ownerId");
create index "person_audit_deletedAt_idx" on "person_audit" ("deletedAt");

create table "asset_face_audit" ("id" uuid not null default immich_uuid_v7(), "assetFaceId" uuid not null, "assetId" uuid not null, "deletedAt" timestamp with time zone not null default clock_timestamp(), constraint "asset_face_audit_pkey" primary key ("id"));
create index "asset_face_audit_assetFaceId_idx" on "asset_face_audit" ("assetFaceId");
create index "asset_face_audit_assetId_idx" on "asset_face_audit" ("assetId");
create index "asset_face_audit_deletedAt_idx" on "asset_face_audit" ("deletedAt");

create or replace trigger "person_updatedAt"
  before update on "person"
  for each row
  execute function updated_at();
create or replace trigger "person_delete_audit"
  after delete on "person"
  referencing old table as "old"
  for each statement
  when (pg_trigger_depth() = 0)
  execute function person_delete_audit();
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

-- ---------------------------------------------------------------------------------------------
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

-- ---------------------------------------------------------------------------------------------
-- asset_ocr (box corners normalised to 0..1; "updateId" and a delete audit since v3.0, no
-- updatedAt trigger) and ocr_search (one row per asset: tokenizeForSearch of its visible
-- lines, space-joined)

create table "asset_ocr" ("id" uuid not null default uuid_generate_v4(), "assetId" uuid not null, "x1" real not null, "y1" real not null, "x2" real not null, "y2" real not null, "x3" real not null, "y3" real not null, "x4" real not null, "y4" real not null, "boxScore" real not null, "textScore" real not null, "text" text not null, "isVisible" boolean not null default true, "updateId" uuid not null default immich_uuid_v7());
alter table "asset_ocr" add constraint "asset_ocr_pkey" primary key ("id");
alter table "asset_ocr" add constraint "asset_ocr_assetId_fkey" foreign key ("assetId") references "asset" ("id") on update cascade on delete cascade;
create index "asset_ocr_assetId_idx" on "asset_ocr" ("assetId");
create index "asset_ocr_updateId_idx" on "asset_ocr" ("updateId");

create table "asset_ocr_audit" ("id" uuid not null default immich_uuid_v7(), "assetId" uuid not null, "deletedAt" timestamp with time zone not null default clock_timestamp(), constraint "asset_ocr_audit_pkey" primary key ("id"));
create index "asset_ocr_audit_assetId_idx" on "asset_ocr_audit" ("assetId");
create index "asset_ocr_audit_deletedAt_idx" on "asset_ocr_audit" ("deletedAt");

create or replace trigger "asset_ocr_delete_audit"
  after delete on "asset_ocr"
  referencing old table as "old"
  for each statement
  when (pg_trigger_depth() = 0)
  execute function asset_ocr_delete_audit();

create table "ocr_search" ("assetId" uuid not null, "text" text not null);
alter table "ocr_search" add constraint "ocr_search_pkey" primary key ("assetId");
alter table "ocr_search" add constraint "ocr_search_assetId_fkey" foreign key ("assetId") references "asset" ("id") on update cascade on delete cascade;
create index "idx_ocr_search_text" on "ocr_search" using gin (f_unaccent("text") gin_trgm_ops);

-- ---------------------------------------------------------------------------------------------
-- system_metadata (Immich's saved configuration lives under key 'system-config') and
-- version_history (the server adds a row with its version when it starts on a new one)

create table "system_metadata" ("key" character varying not null, "value" jsonb not null);
alter table "system_metadata" add constraint "system_metadata_pkey" primary key ("key");

create table "version_history" ("id" uuid not null default uuid_generate_v4(), "createdAt" timestamp with time zone not null default now(), "version" character varying not null);
alter table "version_history" add constraint "version_history_pkey" primary key ("id");
