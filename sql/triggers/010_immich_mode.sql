-------------------------------------------------------------------------------
-- Immich mode, applied at the end of every install and upgrade: the view and the
-- triggers follow the mode setting (sql/functions/050), so an upgrade leaves an Immich
-- database in Immich mode, and a fresh CREATE EXTENSION where Immich's tables exist
-- ('auto', the default) attaches to Immich at once.
select photo_ai.apply_mode();
