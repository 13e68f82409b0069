-- pg_dump keeps the rows of photo_ai's config tables, but where their identity sequences
-- stand only when the sequences are marked too. Without it a restored database (Immich's
-- in-app restore replays such a dump) gives the next job or face an id that is taken.
select pg_catalog.pg_extension_config_dump('photo_ai.job_id_seq', '');
select pg_catalog.pg_extension_config_dump('photo_ai.face_id_seq', '');
