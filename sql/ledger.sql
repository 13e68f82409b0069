-------------------------------------------------------------------------------
-- The migration ledger: every file under sql/migrations/ runs once and is recorded here.
create table if not exists photo_ai.migration
( name text not null primary key
, sha256 text not null
, applied_at timestamptz not null default pg_catalog.clock_timestamp()
);

-- Releases up to 0.2.0 kept their migrations under sql/tables/.
update photo_ai.migration set name = 'migrations/' || pg_catalog.substr(name, 8)
where name like 'tables/%';
