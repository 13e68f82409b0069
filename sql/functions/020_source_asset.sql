-------------------------------------------------------------------------------
-- source_asset: the one narrow view of assets the pipeline reads (and image_embedding,
-- person_asset: of their embeddings and persons). Standalone mode stands photo_ai's
-- tables behind them; Immich mode stands Immich's tables there
-- (photo_ai.use_immich_views, sql/functions/050). This file runs on every install and
-- upgrade, so it defines the standalone view only when the database is not in Immich
-- mode: an upgrade must not put an Immich database back on photo_ai.asset.
create or replace function photo_ai.use_standalone_assets()
returns void
language plpgsql volatile
set search_path to pg_catalog, pg_temp
as $func$
begin
    -- DDL through execute: the view is defined here once, for install, upgrade and
    -- photo_ai.detach_immich() alike
    execute $view$
        create or replace view photo_ai.source_asset as
        select a.id
             , a.original_path as path
             , a.checksum
             , a.type = 'IMAGE' as is_image
             , a.owner_id
             , coalesce(a.taken_at, a.created_at) as taken_at
             , a.deleted_at
        from photo_ai.asset a
    $view$;
    comment on view photo_ai.source_asset is
        'The assets photo_ai analyses: id, path, checksum, is_image, owner, date taken, deleted_at.';
    execute $view$
        create or replace view photo_ai.image_embedding as
        select c.asset_id, c.model, c.embedding
        from photo_ai.clip_embedding c
    $view$;
    comment on view photo_ai.image_embedding is
        'The photos'' CLIP embeddings (standalone mode: photo_ai.clip_embedding): asset_id, '
        'model, embedding.';
    execute $view$
        create or replace view photo_ai.person_asset as
        select p.id as person_id, p.name, p.owner_id, f.asset_id
        from photo_ai.person p
        join photo_ai.face f on f.person_id = p.id
    $view$;
    comment on view photo_ai.person_asset is
        'Which persons are in which photos (standalone mode: photo_ai''s persons): person_id, '
        'name, owner_id, asset_id; what person: searches.';
end
$func$;
comment on function photo_ai.use_standalone_assets() is
    'Stands photo_ai.asset behind the view photo_ai.source_asset, photo_ai.clip_embedding '
    'behind photo_ai.image_embedding and photo_ai''s persons behind photo_ai.person_asset '
    '(standalone mode).';

select photo_ai.use_standalone_assets()
where photo_ai.setting('mode') is distinct from '"immich"'::jsonb;

-------------------------------------------------------------------------------
-- asset_source: whose asset table stands behind source_asset, 'standalone' or 'immich'
create or replace function photo_ai.asset_source()
returns text
language sql stable
set search_path to pg_catalog, pg_temp
as $func$
    select case when photo_ai.setting('mode') = '"immich"'::jsonb then 'immich' else 'standalone' end
$func$;
comment on function photo_ai.asset_source() is
    'Which asset table photo_ai.source_asset reads: standalone (photo_ai.asset) or immich '
    '(Immich''s asset table).';

-------------------------------------------------------------------------------
-- lock_asset: holds a photo while results are written for it. A delete of the photo then
-- waits for the write and removes what it wrote, or has already happened and the write
-- sees the photo gone; nothing outlives it. FOR KEY SHARE lets ordinary updates go on.
create or replace function photo_ai.lock_asset(_asset_id uuid)
returns boolean
language plpgsql volatile
set search_path to pg_catalog, pg_temp
as $func$
declare
    _found boolean;
begin
    -- both modes name their table asset: photo_ai.asset, or Immich's public.asset
    execute pg_catalog.format('select true from %I.asset where id = $1 for key share',
        case photo_ai.asset_source() when 'immich' then 'public' else 'photo_ai' end)
    into _found using _asset_id;
    return coalesce(_found, false);
end
$func$;
comment on function photo_ai.lock_asset(uuid) is
    'Locks an asset''s row (FOR KEY SHARE) for the rest of the transaction; false when it is '
    'gone. The worker takes it before storing results, so a deleted photo keeps none.';

-------------------------------------------------------------------------------
-- attach_trigger: one statement-level trigger on an asset table, made afresh. Its
-- transition tables are always called new_rows and old_rows, so one trigger function per
-- table serves INSERT, UPDATE and DELETE alike.
create or replace function photo_ai.attach_trigger
( _schema text
, _table text
, _name text
, _event text          -- insert, update or delete
, _function text       -- a trigger function in schema photo_ai
, _comment text
, _argument text default null  -- what the function reads as tg_argv[0]
)
returns void
language plpgsql volatile
set search_path to pg_catalog, pg_temp
as $func$
declare
    _transitions text := case _event
        when 'insert' then 'new table as new_rows'
        when 'update' then 'old table as old_rows new table as new_rows'
        when 'delete' then 'old table as old_rows' end;
begin
    if _transitions is null then
        raise exception 'photo_ai: a trigger follows insert, update or delete, not %', _event;
    end if;
    execute pg_catalog.format('drop trigger if exists %I on %I.%I', _name, _schema, _table);
    execute pg_catalog.format(
        'create trigger %I after %s on %I.%I referencing %s for each statement '
        'execute function photo_ai.%I(%s)', _name, _event, _schema, _table, _transitions, _function,
        case when _argument is null then '' else pg_catalog.quote_literal(_argument) end);
    execute pg_catalog.format('comment on trigger %I on %I.%I is %L', _name, _schema, _table, _comment);
end
$func$;
comment on function photo_ai.attach_trigger(text, text, text, text, text, text, text) is
    'Creates (again) a statement-level AFTER trigger of photo_ai on a table, with transition '
    'tables new_rows and old_rows (and an argument for the function, if given).';

-------------------------------------------------------------------------------
-- standalone_assets_changed: new images are queued; new content is analysed again;
-- trashed or deleted assets lose their work; restored ones are queued again. A failure
-- never fails the user's statement: it becomes a warning, and backfill() repairs it.
create or replace function photo_ai.standalone_assets_changed()
returns trigger
language plpgsql security definer
set search_path to pg_catalog, pg_temp
as $func$
begin
    if tg_op = 'INSERT' then
        perform photo_ai.enqueue(array(select n.id from new_rows n));
    elsif tg_op = 'DELETE' then
        perform photo_ai.drop_asset_work(array(select o.id from old_rows o));
    else
        perform photo_ai.drop_asset_work(array(
            select n.id from new_rows n join old_rows o on o.id = n.id
            where n.deleted_at is not null and o.deleted_at is null));
        perform photo_ai.enqueue(array(
            select n.id from new_rows n join old_rows o on o.id = n.id
            where n.deleted_at is null
              and (n.checksum is distinct from o.checksum
                   or n.original_path is distinct from o.original_path
                   or n.type is distinct from o.type
                   or o.deleted_at is not null)));
    end if;
    return null;
exception when others then
    raise warning 'photo_ai: could not follow an % of assets (%); run photo_ai.backfill()',
        tg_op, sqlerrm;
    return null;
end
$func$;
comment on function photo_ai.standalone_assets_changed() is
    'Trigger on photo_ai.asset: queues new images, and changed or restored ones again; drops '
    'the work of trashed and deleted ones; never fails the user''s statement.';
