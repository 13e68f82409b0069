-- Enables photo_ai in Immich's database (run by photo-ai-enable with psql; safe to run again).
-- psql variables: sidecar_url, api_key.
\set ON_ERROR_STOP on
set client_min_messages = warning;

-- Chinese word segmentation: zhparser, and a text search configuration on its parser that
-- keeps nouns, verbs, adjectives, idioms, interjections, set phrases, abbreviations,
-- numerals, times and unknown words (English, codes). Created before photo_ai, which
-- chooses zhparser for its own text index when the extension is there.
create extension if not exists zhparser;
select not exists (select 1 from pg_catalog.pg_ts_config
                   where cfgname = 'photo_ai_zh' and cfgnamespace = 'public'::regnamespace)
       as need_zh_config \gset
\if :need_zh_config
create text search configuration public.photo_ai_zh (parser = public.zhparser);
alter text search configuration public.photo_ai_zh
    add mapping for n, v, a, i, e, l, j, m, t, x with pg_catalog.simple;
comment on text search configuration public.photo_ai_zh is
    'Chinese (zhparser/SCWS) words as they are, for to_tsvector(''photo_ai_zh'', ...)';
\endif

-- pg_cron runs the worker; it lives in this database (cron.database_name)
create extension if not exists pg_cron;

-- photo_ai on Immich's tables: Immich (v2.2 or later) creates them at its first start
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
