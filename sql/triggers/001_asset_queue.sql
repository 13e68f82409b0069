-------------------------------------------------------------------------------
-- Standalone mode: photo_ai.asset's statement-level triggers (transition tables: one
-- INSERT of 10,000 assets queues its jobs in one statement). They stay in Immich mode too,
-- and then see nothing.
select photo_ai.attach_trigger('photo_ai', 'asset', 'queue_inserted_assets', 'insert',
    'standalone_assets_changed', 'photo_ai: queues the enabled image tasks of new assets.');
select photo_ai.attach_trigger('photo_ai', 'asset', 'requeue_changed_assets', 'update',
    'standalone_assets_changed',
    'photo_ai: queues assets whose content or path changed, or that left the trash; drops '
    'the work of trashed ones.');
select photo_ai.attach_trigger('photo_ai', 'asset', 'forget_deleted_assets', 'delete',
    'standalone_assets_changed', 'photo_ai: deletes the jobs and results of deleted assets.');
