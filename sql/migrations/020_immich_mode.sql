-- Immich mode: where assets come from and how results reach Immich's own tables.
-- The mode is a setting, so that an upgrade (whose idempotent files re-create the views
-- and triggers) keeps a database in the mode it was put in; sql/triggers/010 applies it.
insert into photo_ai.setting_default (name, value, description) values
  ('mode', '"auto"',
   'where assets come from: standalone (photo_ai.asset), immich (Immich''s asset table, '
   'results also written where Immich reads them) or auto (immich when Immich''s tables '
   'exist at install or upgrade); photo_ai.attach_immich() and detach_immich() switch')
, ('immich_preview_wait_seconds', '600',
   'Immich mode: how long the work of a new or changed asset waits for the preview Immich '
   'makes of it (the preview is analysed, not the original) before the original is used')
, ('immich_join_persons', 'true',
   'Immich mode: a new face joins the person of the nearest face of the same owner within '
   'Immich''s facial recognition max distance; false leaves every new face to Immich''s '
   'own recognition job');
