-------------------------------------------------------------------------------
-- Immich mode. photo_ai reads Immich's assets through photo_ai.source_asset, is told of
-- new, changed and deleted assets by statement-level triggers on Immich's asset and
-- asset_file tables, and writes its results where Immich reads them (051). Immich's own
-- columns, constraints and indexes are never altered: Immich's migrations keep running.
-- Everything that names an Immich table is plpgsql (checked when called, not when
-- created), so that this file installs just as well where Immich is absent.

-------------------------------------------------------------------------------
-- immich_missing_tables: the Immich v2 tables Immich mode needs that this database lacks
create or replace function photo_ai.immich_missing_tables()
returns text[]
language sql stable
set search_path to pg_catalog, pg_temp
as $func$
    select array(
        select t from pg_catalog.unnest(array[
            'asset', 'asset_file', 'asset_job_status', 'smart_search', 'asset_face',
            'face_search', 'person', 'asset_ocr', 'ocr_search']) t
        where pg_catalog.to_regclass(pg_catalog.format('public.%I', t)) is null)
$func$;
comment on function photo_ai.immich_missing_tables() is
    'The tables of Immich v2 that Immich mode needs and this database lacks (none: Immich '
    'is here).';

-------------------------------------------------------------------------------
-- immich_mode: whether photo_ai runs on Immich's tables (the mode setting, as applied)
create or replace function photo_ai.immich_mode()
returns boolean
language sql stable
set search_path to pg_catalog, pg_temp
as $func$
    select photo_ai.asset_source() = 'immich'
$func$;
comment on function photo_ai.immich_mode() is
    'True when photo_ai reads Immich''s assets and writes its results into Immich''s tables.';

-------------------------------------------------------------------------------
-- immich_config: Immich's system configuration as its admin saved it ('{}': defaults)
create or replace function photo_ai.immich_config()
returns jsonb
language plpgsql stable
set search_path to pg_catalog, pg_temp
as $func$
declare
    _config jsonb;
begin
    if pg_catalog.to_regclass('public.system_metadata') is null then
        return '{}';
    end if;
    select m.value into _config from public.system_metadata m where m.key = 'system-config';
    return coalesce(_config, '{}');
end
$func$;
comment on function photo_ai.immich_config() is
    'Immich''s saved system configuration (system_metadata ''system-config''); only what the '
    'admin changed is there, the rest is Immich''s default.';

-------------------------------------------------------------------------------
-- immich_feature_enabled: whether Immich's admin has a machine-learning feature (clip,
-- facialRecognition, ocr: the keys of Immich's configuration) switched on
create or replace function photo_ai.immich_feature_enabled(_feature text)
returns boolean
language sql stable
set search_path to pg_catalog, pg_temp
as $func$
    select coalesce((c #>> '{machineLearning,enabled}')::boolean, true)
       and coalesce((c #>> array['machineLearning', _feature, 'enabled'])::boolean, true)
    from (select photo_ai.immich_config() as c) config
$func$;
comment on function photo_ai.immich_feature_enabled(text) is
    'Whether Immich''s configuration (immich_config) has machine learning and one of its '
    'features (clip, facialRecognition, ocr) enabled; Immich''s default is yes.';

-------------------------------------------------------------------------------
-- immich_search_tokens: Immich's tokenizeForSearch (server/src/utils/database.ts), the
-- form of ocr_search.text and of the text Immich's OCR search compares with it. Control
-- characters and spaces separate; a run of CJK characters (Han, Hangul syllables, kana)
-- becomes its overlapping bigrams, or itself when it is one character; any other run is
-- kept as it is (case and accents too: Immich's query applies f_unaccent to both sides).
create or replace function photo_ai.immich_search_tokens(_text text)
returns text[]
language sql immutable strict parallel safe
set search_path to pg_catalog, pg_temp
as $func$
    select coalesce(pg_catalog.array_agg(t.token order by m.n, t.k), '{}')
    from pg_catalog.regexp_matches(_text,
        '([\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af]+)'
        '|([^\u0001-\u0020\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af]+)', 'g')
        with ordinality m(g, n)
    cross join lateral (
        select m.g[2], 0 where m.g[2] is not null
        union all
        select case when pg_catalog.length(m.g[1]) = 1 then m.g[1]
                    else pg_catalog.substr(m.g[1], k.k, 2) end, k.k
        from pg_catalog.generate_series(1, greatest(pg_catalog.length(m.g[1]) - 1, 1)) k(k)
        where m.g[1] is not null
    ) t(token, k)
$func$;
comment on function photo_ai.immich_search_tokens(text) is
    'Immich''s tokenizeForSearch: words split at spaces and control characters, CJK runs '
    'as overlapping bigrams. ocr_search.text holds these tokens joined by spaces.';

-------------------------------------------------------------------------------
-- use_immich_assets: Immich's assets behind photo_ai.source_asset, and the triggers that
-- queue them. The path is the preview Immich made (a JPEG of a size made for machine
-- learning, and something PIL reads also when the original is RAW), else the original;
-- a video is analysed once it has a preview frame, as Immich does.
create or replace function photo_ai.use_immich_assets()
returns void
language plpgsql volatile
set search_path to pg_catalog, pg_temp
as $func$
declare
    _missing text[] := photo_ai.immich_missing_tables();
begin
    if pg_catalog.cardinality(_missing) > 0 then
        raise exception 'photo_ai: Immich mode needs Immich''s tables, missing: %',
            pg_catalog.array_to_string(_missing, ', ')
            using hint = 'Start Immich (v2.2 or later) once so that it creates them, or stay '
                         'standalone: SELECT photo_ai.detach_immich();';
    end if;
    -- Column names only, no Immich column in an expression index or constraint: Immich's
    -- migrations may add columns to these tables freely. The edited-preview flag of newer
    -- Immich versions is read through to_jsonb, so no version is required to have it.
    execute $view$
        create or replace view photo_ai.source_asset as
        select a.id
             , coalesce(p.path, a."originalPath")::text as path
             , a.checksum
             , a.type = 'IMAGE' or (a.type = 'VIDEO' and p.path is not null) as is_image
             , a."ownerId" as owner_id
             , a."fileCreatedAt" as taken_at
             , a."deletedAt" as deleted_at
        from public.asset a
        left join lateral (
            select f.path
            from public.asset_file f
            where f."assetId" = a.id and f.type = 'preview'
            order by coalesce((pg_catalog.to_jsonb(f) ->> 'isEdited')::boolean, false)
            limit 1
        ) p on true
    $view$;
    comment on view photo_ai.source_asset is
        'The assets photo_ai analyses (Immich mode: Immich''s asset table, through the preview '
        'Immich made when there is one): id, path, checksum, is_image, owner, date taken, '
        'deleted_at.';
    -- Immich's persons are Immich's: read here, never written
    execute $view$
        create or replace view photo_ai.person_asset as
        select p.id as person_id, p.name::text as name, p."ownerId" as owner_id, f."assetId" as asset_id
        from public.person p
        join public.asset_face f on f."personId" = p.id
        where f."deletedAt" is null
    $view$;
    comment on view photo_ai.person_asset is
        'Which persons are in which photos (Immich mode: Immich''s person and asset_face): '
        'person_id, name, owner_id, asset_id; what person: searches.';

    perform photo_ai.attach_trigger('public', 'asset', 'photo_ai_queue_inserted', 'insert',
        'immich_assets_changed',
        'photo_ai: queues OCR, CLIP and faces for new assets (they wait for their preview).');
    perform photo_ai.attach_trigger('public', 'asset', 'photo_ai_requeue_changed', 'update',
        'immich_assets_changed',
        'photo_ai: analyses changed or restored assets again; drops the work of trashed ones.');
    perform photo_ai.attach_trigger('public', 'asset', 'photo_ai_forget_deleted', 'delete',
        'immich_assets_changed', 'photo_ai: deletes the jobs and photo_ai results of deleted assets.');
    perform photo_ai.attach_trigger('public', 'asset_file', 'photo_ai_preview_made', 'insert',
        'immich_previews_written',
        'photo_ai: starts the work that waited for a new preview; queues videos that now have one.');
    perform photo_ai.attach_trigger('public', 'asset_file', 'photo_ai_preview_remade', 'update',
        'immich_previews_written', 'photo_ai: starts the work that waited for a preview Immich made again.');
end
$func$;
comment on function photo_ai.use_immich_assets() is
    'Stands Immich''s asset table behind photo_ai.source_asset and its persons behind '
    'photo_ai.person_asset, and attaches photo_ai''s statement-level triggers to Immich''s '
    'asset and asset_file tables.';

-------------------------------------------------------------------------------
-- drop_immich_triggers: photo_ai's triggers off Immich's tables (they may be gone already)
create or replace function photo_ai.drop_immich_triggers()
returns void
language plpgsql volatile
set search_path to pg_catalog, pg_temp
as $func$
declare
    _trigger record;
begin
    for _trigger in
        select t.tgname, c.relname from pg_catalog.pg_trigger t
        join pg_catalog.pg_class c on c.oid = t.tgrelid
        where c.relnamespace = 'public'::regnamespace and c.relname in ('asset', 'asset_file')
          and t.tgname like 'photo\_ai\_%'
    loop
        execute pg_catalog.format('drop trigger %I on public.%I', _trigger.tgname, _trigger.relname);
    end loop;
end
$func$;
comment on function photo_ai.drop_immich_triggers() is
    'Removes photo_ai''s triggers from Immich''s asset and asset_file tables.';

-------------------------------------------------------------------------------
-- apply_mode: make the view and the triggers match the mode setting. Run at the end of
-- every install and upgrade (sql/triggers/010), and by attach_immich / detach_immich.
-- 'auto' becomes 'immich' the first time Immich's tables are found, and stays so.
create or replace function photo_ai.apply_mode()
returns text
language plpgsql volatile
set search_path to pg_catalog, pg_temp
as $func$
declare
    _mode text := photo_ai.setting('mode') #>> '{}';
begin
    if _mode = 'auto' and pg_catalog.cardinality(photo_ai.immich_missing_tables()) = 0 then
        perform photo_ai.set_setting('mode', '"immich"');
        _mode := 'immich';
    end if;
    if _mode = 'immich' then
        perform photo_ai.use_immich_assets();
        return 'immich';
    end if;
    perform photo_ai.drop_immich_triggers();
    perform photo_ai.use_standalone_assets();
    return 'standalone';
end
$func$;
comment on function photo_ai.apply_mode() is
    'Makes photo_ai.source_asset and the triggers match the mode setting (auto becomes '
    'immich once Immich''s tables exist); returns the mode in force.';

-------------------------------------------------------------------------------
-- attach_immich / detach_immich: what an admin types to switch
create or replace function photo_ai.attach_immich(join_persons boolean default null)
returns jsonb
language plpgsql volatile
set search_path to pg_catalog, pg_temp
as $func$
begin
    if pg_catalog.cardinality(photo_ai.immich_missing_tables()) > 0 then
        perform photo_ai.use_immich_assets();  -- raises, naming what is missing
    end if;
    perform photo_ai.set_setting('mode', '"immich"');
    perform photo_ai.set_if_given('immich_join_persons', pg_catalog.to_jsonb(join_persons));
    perform photo_ai.apply_mode();
    return pg_catalog.jsonb_build_object(
        'mode', 'immich',
        'assets', (select pg_catalog.count(*) from photo_ai.source_asset a
                   where a.is_image and a.deleted_at is null),
        'without_jobs', (select pg_catalog.count(*) from photo_ai.source_asset a
                         where a.is_image and a.deleted_at is null
                           and not exists (select 1 from photo_ai.job j where j.asset_id = a.id)),
        'join_persons', photo_ai.setting('immich_join_persons'),
        'next', 'SELECT photo_ai.backfill(); queues the assets without jobs');
end
$func$;
comment on function photo_ai.attach_immich(boolean) is
    'Puts photo_ai in Immich mode: reads Immich''s assets (their previews), attaches its '
    'triggers to Immich''s asset and asset_file tables, writes results where Immich reads '
    'them. join_persons => false leaves every new face to Immich''s recognition job. Run '
    'photo_ai.backfill() next for the existing library. Superuser only.';

create or replace function photo_ai.detach_immich()
returns jsonb
language plpgsql volatile
set search_path to pg_catalog, pg_temp
as $func$
begin
    perform photo_ai.set_setting('mode', '"standalone"');
    perform photo_ai.apply_mode();
    return pg_catalog.jsonb_build_object('mode', 'standalone');
end
$func$;
comment on function photo_ai.detach_immich() is
    'Puts photo_ai back on its own asset table: removes its triggers from Immich''s tables. '
    'What was written into Immich''s tables stays (it is Immich''s data now). Superuser only.';
