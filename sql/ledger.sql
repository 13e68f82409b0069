
-------------------------------------------------------------------------------
-- The migration ledger: every file under sql/tables/ runs once and is recorded here.
create table if not exists photo_ai.migration
( name text not null primary key
, sha256 text not null
, applied_at timestamptz not null default pg_catalog.clock_timestamp()
);
