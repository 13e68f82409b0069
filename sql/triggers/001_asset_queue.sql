-------------------------------------------------------------------------------
-- Statement-level triggers with transition tables: one INSERT of 10,000 assets queues
-- its jobs in one statement. A failure here never fails the user's statement: it
-- becomes a warning, and photo_ai.backfill() queues whatever was missed.

-------------------------------------------------------------------------------
-- queue_inserted_assets: new images get a job per enabled task
create or replace function photo_ai.queue_inserted_assets()
returns trigger
language plpgsql security definer
set search_path to pg_catalog, pg_temp
as $func$
begin
    perform photo_ai.enqueue(array(select id from inserted_assets));
    return null;
exception when others then
    raise warning 'photo_ai: could not queue new assets (%); run photo_ai.backfill()', sqlerrm;
    return null;
end
$func$;
comment on function photo_ai.queue_inserted_assets() is
    'Trigger: queues the enabled tasks for inserted assets; never fails the insert.';

-------------------------------------------------------------------------------
-- requeue_changed_assets: new content is analysed again; trashed assets lose their work;
-- restored ones are queued again
create or replace function photo_ai.requeue_changed_assets()
returns trigger
language plpgsql security definer
set search_path to pg_catalog, pg_temp
as $func$
begin
    perform photo_ai.drop_asset_work(array(
        select n.id from new_assets n join old_assets o on o.id = n.id
        where n.deleted_at is not null and o.deleted_at is null));
    perform photo_ai.enqueue(array(
        select n.id from new_assets n join old_assets o on o.id = n.id
        where n.deleted_at is null
          and (n.checksum is distinct from o.checksum
               or n.original_path is distinct from o.original_path
               or n.type is distinct from o.type
               or o.deleted_at is not null)));
    return null;
exception when others then
    raise warning 'photo_ai: could not queue changed assets (%); run photo_ai.backfill()', sqlerrm;
    return null;
end
$func$;
comment on function photo_ai.requeue_changed_assets() is
    'Trigger: queues assets whose content or path changed (or that left the trash) and '
    'drops the work of trashed ones; never fails the update.';

-------------------------------------------------------------------------------
-- forget_deleted_assets: deleted assets take their jobs and results with them
create or replace function photo_ai.forget_deleted_assets()
returns trigger
language plpgsql security definer
set search_path to pg_catalog, pg_temp
as $func$
begin
    perform photo_ai.drop_asset_work(array(select id from deleted_assets));
    return null;
exception when others then
    raise warning 'photo_ai: could not drop the work of deleted assets (%)', sqlerrm;
    return null;
end
$func$;
comment on function photo_ai.forget_deleted_assets() is
    'Trigger on photo_ai.asset and, in Immich mode, Immich''s asset table: deletes the jobs '
    'and photo_ai results of deleted assets; never fails the delete.';

drop trigger if exists queue_inserted_assets on photo_ai.asset;
create trigger queue_inserted_assets after insert on photo_ai.asset
    referencing new table as inserted_assets
    for each statement execute function photo_ai.queue_inserted_assets();

drop trigger if exists requeue_changed_assets on photo_ai.asset;
create trigger requeue_changed_assets after update on photo_ai.asset
    referencing old table as old_assets new table as new_assets
    for each statement execute function photo_ai.requeue_changed_assets();

drop trigger if exists forget_deleted_assets on photo_ai.asset;
create trigger forget_deleted_assets after delete on photo_ai.asset
    referencing old table as deleted_assets
    for each statement execute function photo_ai.forget_deleted_assets();
