-------------------------------------------------------------------------------
-- source_asset: the one narrow view of assets the pipeline reads. Standalone mode
-- stands photo_ai.asset behind it; Immich mode stands Immich's asset table there
-- (photo_ai.use_immich_assets, sql/functions/050). This file runs on every install and
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
end
$func$;
comment on function photo_ai.use_standalone_assets() is
    'Stands photo_ai.asset behind the view photo_ai.source_asset (standalone mode).';

select photo_ai.use_standalone_assets()
where photo_ai.setting('mode') is distinct from '"immich"'::jsonb;
