-------------------------------------------------------------------------------
-- source_asset: the one narrow view of assets the pipeline reads. Standalone mode
-- stands photo_ai.asset behind it; Immich mode stands Immich's asset table there.
create or replace view photo_ai.source_asset as
select a.id
     , a.original_path as path
     , a.checksum
     , a.type = 'IMAGE' as is_image
     , a.owner_id
     , coalesce(a.taken_at, a.created_at) as taken_at
     , a.deleted_at
from photo_ai.asset a;
comment on view photo_ai.source_asset is
    'The assets photo_ai analyses: id, path, checksum, is_image, owner, date taken, deleted_at.';
