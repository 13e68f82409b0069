-------------------------------------------------------------------------------
-- Immich mode. Immich's own jobs (calling photo_ai's sidecar as their machine-learning
-- service) are the only writers of Immich's tables; photo_ai reads them. Immich's assets
-- stand behind photo_ai.source_asset, the embeddings of its smart_search behind
-- photo_ai.image_embedding, its persons behind photo_ai.person_asset; statement-level
-- triggers on asset, asset_ocr and smart_search tell photo_ai what Immich's jobs wrote
-- (052), and derived tasks index it. Immich's own columns, constraints and indexes are
-- never altered: Immich's migrations keep running. Everything that names an Immich table
-- is plpgsql or a view made on demand (checked when called, not when created), so that
-- this file installs just as well where Immich is absent.

-------------------------------------------------------------------------------
-- immich_missing_tables: the Immich tables Immich mode needs that this database lacks
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
    'The tables of Immich (v2.4 and later) that Immich mode needs and this database lacks '
    '(none: Immich is here).';

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
    'True when photo_ai reads Immich''s assets and indexes what Immich''s jobs write.';

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
-- immich_views: Immich's tables behind photo_ai's three views. The path is the preview
-- Immich made (what Immich's own jobs analyse, and something PIL reads when the original
-- is RAW), else the original; a video counts once it has a preview frame. Column names
-- only, no Immich column in an expression index or constraint: Immich's migrations may add
-- columns freely. The edited-preview flag and isVisible of newer Immich versions are read
-- through to_jsonb, so no version is required to have them.
create or replace function photo_ai.use_immich_views()
returns void
language plpgsql volatile
set search_path to pg_catalog, pg_temp
as $func$
begin
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
        'The assets photo_ai indexes (Immich mode: Immich''s asset table, through the preview '
        'Immich made when there is one): id, path, checksum, is_image, owner, date taken, '
        'deleted_at.';
    -- read where Immich keeps them: no copy, and Immich's own vector index answers
    execute pg_catalog.format($view$
        create or replace view photo_ai.image_embedding as
        select s."assetId" as asset_id, %L::text as model, s.embedding
        from public.smart_search s
    $view$, photo_ai.setting('immich_clip_model') #>> '{}');
    comment on view photo_ai.image_embedding is
        'The photos'' CLIP embeddings (Immich mode: Immich''s smart_search, read in place; '
        'model is the setting immich_clip_model): asset_id, model, embedding.';
    execute $view$
        create or replace view photo_ai.person_asset as
        select p.id as person_id, p.name::text as name, p."ownerId" as owner_id, f."assetId" as asset_id
        from public.person p
        join public.asset_face f on f."personId" = p.id
        where f."deletedAt" is null
          and coalesce((pg_catalog.to_jsonb(f) ->> 'isVisible')::boolean, true)
    $view$;
    comment on view photo_ai.person_asset is
        'Which persons are in which photos (Immich mode: Immich''s person and asset_face): '
        'person_id, name, owner_id, asset_id; what person: searches.';
end
$func$;
comment on function photo_ai.use_immich_views() is
    'Stands Immich''s tables behind photo_ai.source_asset (assets), photo_ai.image_embedding '
    '(smart_search) and photo_ai.person_asset (persons).';

-------------------------------------------------------------------------------
-- immich_triggers: photo_ai's triggers on Immich's tables, (table, trigger, event, task,
-- comment). Defined once here: use_immich_assets attaches them, immich_attached checks
-- them, drop_immich_triggers removes them.
create or replace function photo_ai.immich_triggers()
returns table (table_name text, trigger_name text, event text, task text, description text)
language sql immutable
set search_path to pg_catalog, pg_temp
as $func$
    values
      ('asset', 'photo_ai_forget_deleted', 'delete', null::text,
       'photo_ai: forgets the jobs and photo_ai results of deleted assets.')
    , ('asset_ocr', 'photo_ai_ocr_inserted', 'insert', 'ocr',
       'photo_ai: records the text Immich''s OCR job found and queues its Chinese index.')
    , ('asset_ocr', 'photo_ai_ocr_updated', 'update', 'ocr',
       'photo_ai: indexes the text of assets whose OCR rows Immich changed again.')
    , ('asset_ocr', 'photo_ai_ocr_deleted', 'delete', 'ocr',
       'photo_ai: indexes again the assets whose OCR rows Immich removed.')
    , ('smart_search', 'photo_ai_embedding_inserted', 'insert', 'clip',
       'photo_ai: records the embedding Immich''s smart search job stored and queues what '
       'reads it (tags).')
    , ('smart_search', 'photo_ai_embedding_updated', 'update', 'clip',
       'photo_ai: queues what reads the embeddings Immich''s smart search job replaced.')
$func$;
comment on function photo_ai.immich_triggers() is
    'The triggers Immich mode keeps on Immich''s tables: table, name, event, the task whose '
    'results Immich''s rows are, and the trigger''s comment.';

-------------------------------------------------------------------------------
-- use_immich_assets: the views and the triggers of Immich mode
create or replace function photo_ai.use_immich_assets()
returns void
language plpgsql volatile
set search_path to pg_catalog, pg_temp
as $func$
declare
    _missing text[] := photo_ai.immich_missing_tables();
    _trigger record;
begin
    if pg_catalog.cardinality(_missing) > 0 then
        raise exception 'photo_ai: Immich mode needs Immich''s tables, missing: %',
            pg_catalog.array_to_string(_missing, ', ')
            using hint = 'Start Immich (v2.4 or later) once so that it creates them, or stay '
                         'standalone: SELECT photo_ai.detach_immich();';
    end if;
    perform photo_ai.use_immich_views();
    perform photo_ai.drop_immich_triggers();
    for _trigger in select * from photo_ai.immich_triggers() loop
        perform photo_ai.attach_trigger('public', _trigger.table_name, _trigger.trigger_name,
            _trigger.event,
            case when _trigger.task is null then 'immich_assets_deleted' else 'immich_rows_written' end,
            _trigger.description, _trigger.task);
    end loop;
end
$func$;
comment on function photo_ai.use_immich_assets() is
    'Stands Immich''s tables behind photo_ai.source_asset, image_embedding and person_asset, '
    'and attaches photo_ai''s statement-level triggers to Immich''s asset, asset_ocr and '
    'smart_search tables.';

-------------------------------------------------------------------------------
-- drop_immich_triggers: photo_ai's triggers off Immich's tables (they may be gone already;
-- asset_file is there for the triggers of photo_ai 0.3.0's first design)
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
        where c.relnamespace = 'public'::regnamespace
          and c.relname in (select i.table_name from photo_ai.immich_triggers() i
                            union all select 'asset_file')
          and t.tgname like 'photo\_ai\_%'
    loop
        execute pg_catalog.format('drop trigger %I on public.%I', _trigger.tgname, _trigger.relname);
    end loop;
end
$func$;
comment on function photo_ai.drop_immich_triggers() is
    'Removes photo_ai''s triggers from Immich''s tables.';

-------------------------------------------------------------------------------
-- immich_attached: whether the views read Immich's tables and every trigger is in place.
-- An in-app restore of Immich (DROP SCHEMA public CASCADE, then its backup replayed) takes
-- both away, and may put photo_ai itself back from the backup, installed before Immich's
-- tables were.
create or replace function photo_ai.immich_attached()
returns boolean
language sql stable
set search_path to pg_catalog, pg_temp
as $func$
    select not exists (
               select 1
               from (values ('photo_ai.source_asset', 'public.asset'),
                            ('photo_ai.image_embedding', 'public.smart_search')) v(view_name, table_name)
               where not exists (select 1 from pg_catalog.pg_depend d
                                 join pg_catalog.pg_rewrite r on r.oid = d.objid
                                 where r.ev_class = pg_catalog.to_regclass(v.view_name)
                                   and d.refobjid = pg_catalog.to_regclass(v.table_name)))
       and not exists (
           select 1 from photo_ai.immich_triggers() i
           where not exists (select 1 from pg_catalog.pg_trigger t
                             where t.tgrelid = pg_catalog.to_regclass(
                                       pg_catalog.format('public.%I', i.table_name))
                               and t.tgname = i.trigger_name))
$func$;
comment on function photo_ai.immich_attached() is
    'True when photo_ai''s views read Immich''s tables and its triggers are on them.';

-------------------------------------------------------------------------------
-- keep_mode_applied: the worker's first step. In Immich mode with Immich's tables there
-- but photo_ai not attached to them (after Immich's in-app restore), attach again and
-- queue what the restore left unindexed; no one has to run attach_immich().
create or replace function photo_ai.keep_mode_applied()
returns boolean
language plpgsql volatile
set search_path to pg_catalog, pg_temp
as $func$
begin
    if photo_ai.asset_source() <> 'immich'
       or pg_catalog.cardinality(photo_ai.immich_missing_tables()) > 0
       or photo_ai.immich_attached() then
        return false;
    end if;
    perform photo_ai.apply_mode();
    perform photo_ai.backfill();
    raise notice 'photo_ai: attached to Immich''s tables again (they had been re-created)';
    return true;
end
$func$;
comment on function photo_ai.keep_mode_applied() is
    'In Immich mode, attaches photo_ai to Immich''s tables again when they were re-created '
    '(an in-app restore) and queues what is missing; true when it did.';

-------------------------------------------------------------------------------
-- apply_mode: make the views and the triggers match the mode setting. Run at the end of
-- every install and upgrade (sql/triggers/010), by attach_immich / detach_immich, and by
-- keep_mode_applied. 'auto' becomes 'immich' the first time Immich's tables are found.
create or replace function photo_ai.apply_mode()
returns text
language plpgsql volatile
set search_path to pg_catalog, pg_temp
as $func$
declare
    _mode text := photo_ai.setting('mode') #>> '{}';
    _immich_here boolean := pg_catalog.cardinality(photo_ai.immich_missing_tables()) = 0;
begin
    if _mode = 'auto' and _immich_here then
        perform photo_ai.set_setting('mode', '"immich"');
        _mode := 'immich';
    end if;
    if _mode = 'immich' and _immich_here then
        perform photo_ai.use_immich_assets();
        return 'immich';
    end if;
    perform photo_ai.drop_immich_triggers();
    perform photo_ai.use_standalone_assets();
    return case when _mode = 'immich' then 'immich (waiting for Immich''s tables)' else 'standalone' end;
end
$func$;
comment on function photo_ai.apply_mode() is
    'Makes photo_ai''s views and triggers match the mode setting (auto becomes immich once '
    'Immich''s tables exist; immich without them waits, on photo_ai''s own tables, until the '
    'worker finds them); returns the mode in force.';

-------------------------------------------------------------------------------
-- attach_immich / detach_immich: what an admin types to switch
create or replace function photo_ai.attach_immich(clip_model text default null)
returns jsonb
language plpgsql volatile
set search_path to pg_catalog, pg_temp
as $func$
begin
    if pg_catalog.cardinality(photo_ai.immich_missing_tables()) > 0 then
        perform photo_ai.use_immich_assets();  -- raises, naming what is missing
    end if;
    perform photo_ai.set_setting('mode', '"immich"');
    perform photo_ai.set_if_given('immich_clip_model', pg_catalog.to_jsonb(clip_model));
    perform photo_ai.apply_mode();
    return pg_catalog.jsonb_build_object(
        'mode', 'immich',
        'assets', (select pg_catalog.count(*) from photo_ai.source_asset a
                   where a.is_image and a.deleted_at is null),
        'clip_model', photo_ai.setting('immich_clip_model'),
        'next', 'SELECT photo_ai.backfill(); indexes what Immich''s jobs wrote before');
end
$func$;
comment on function photo_ai.attach_immich(text) is
    'Puts photo_ai in Immich mode: reads Immich''s assets, embeddings and persons, attaches '
    'its triggers to Immich''s asset, asset_ocr and smart_search tables. clip_model: the '
    'sidecar''s PHOTO_AI_CLIP_MODEL, when not ViT-B-16 (Immich''s embeddings are that '
    'model''s). Run photo_ai.backfill() next for the existing library. Superuser only.';

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
    'Puts photo_ai back on its own tables: removes its triggers from Immich''s tables. '
    'Immich''s rows were never photo_ai''s and stay as they are. Superuser only.';
