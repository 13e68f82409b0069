-- Enables photo_ai in Immich's database (run by photo-ai-enable with psql; safe to run again).
-- psql variables: sidecar_url, api_key.
\set ON_ERROR_STOP on
set client_min_messages = warning;

-- Chinese word segmentation: zhparser, created before photo_ai, which chooses zhparser for
-- its own text index when the extension is there; and text search configurations on its
-- parser, each keeping some of SCWS's parts of speech as they are (n nouns, v verbs,
-- a adjectives, i idioms, e interjections, l set phrases, j abbreviations, m numerals,
-- t times, x unknown words: English, codes):
--   photo_ai_zh  for to_tsvector('photo_ai_zh', ...) in your own SQL;
--   chinese      the one immich-all-in-one made its database's default, with its mappings,
--                so that users' own SQL written for it keeps working after the move
--                (docs/from-immich-all-in-one.md). photo_ai's ranking uses neither.
create extension if not exists zhparser;
do $zh$
declare
    _config record;
begin
    for _config in
        select * from (values
            ('photo_ai_zh', 'n, v, a, i, e, l, j, m, t, x',
             'Chinese (zhparser/SCWS) words as they are, for to_tsvector(''photo_ai_zh'', ...)'),
            ('chinese', 'n, v, a, i, e, l, m, x',
             'Chinese (zhparser/SCWS) words, as immich-all-in-one configured it; '
             'photo_ai''s ranking does not use it')
        ) c(name, token_types, description)
        where not exists (select from pg_catalog.pg_ts_config
                          where cfgname = c.name and cfgnamespace = 'public'::regnamespace)
    loop
        -- token_types: a fixed list of zhparser's token type names from the list above
        execute pg_catalog.format('create text search configuration public.%I '
                                  '(parser = public.zhparser)', _config.name);
        execute pg_catalog.format('alter text search configuration public.%I '
                                  'add mapping for %s with pg_catalog.simple',
                                  _config.name, _config.token_types);
        execute pg_catalog.format('comment on text search configuration public.%I is %L',
                                  _config.name, _config.description);
    end loop;
end
$zh$;

-- pg_cron runs the worker; it lives in this database (cron.database_name)
create extension if not exists pg_cron;

-- photo_ai on Immich's tables: Immich (v2.4 or later) creates them at its first start
select pg_catalog.to_regclass('public.ocr_search') is not null as immich_ready \gset
\if :immich_ready
create extension if not exists photo_ai cascade;
select photo_ai.attach_immich();
select photo_ai.configure(sidecar_url => :'sidecar_url', api_key => :'api_key');
select photo_ai.schedule_worker();
select photo_ai.backfill() as jobs_queued;
select cron.unschedule(jobid) from cron.job where jobname = 'photo_ai_install';
\else
-- a new installation: a pg_cron job installs photo_ai once Immich has made its tables,
-- then removes itself
select cron.schedule('photo_ai_install', '* * * * *', pg_catalog.format($job$
do $do$
begin
    if pg_catalog.to_regclass('public.ocr_search') is null then
        return;  -- Immich has not finished its first start yet
    end if;
    create extension if not exists photo_ai cascade;
    perform photo_ai.attach_immich();
    perform photo_ai.configure(sidecar_url => %L, api_key => %L);
    perform photo_ai.schedule_worker();
    perform photo_ai.backfill();
    perform cron.unschedule('photo_ai_install');
end
$do$
$job$, :'sidecar_url', :'api_key'));
\endif
