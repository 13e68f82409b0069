
-------------------------------------------------------------------------------
-- A fresh install creates the schema, so that it belongs to the extension and no
-- object in it can predate us. Upgrade scripts leave this out.
create schema photo_ai;
