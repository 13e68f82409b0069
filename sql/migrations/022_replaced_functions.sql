-- Functions of 0.2.0 that 0.3.0 replaces under another signature or drops: left alone,
-- they would linger as overloads. (Those naming the task enum went with it, in 021.)
drop function if exists photo_ai.settle_job(photo_ai.job, jsonb);
drop function if exists photo_ai.finish_job(photo_ai.job, text, text, text, interval);
drop function if exists photo_ai.process_jobs(photo_ai.job[]);
drop function if exists photo_ai.postpone_jobs(photo_ai.job[], text);
drop function if exists photo_ai.note_outage(text);
drop function if exists photo_ai.outcome_of_status(int);
drop function if exists photo_ai.retry_delay(int);
drop function if exists photo_ai.write_immich_ocr(uuid, jsonb, jsonb);
drop function if exists photo_ai.write_immich_faces(uuid, jsonb, jsonb);
drop function if exists photo_ai.zhparser_installed();
-- One trigger function per table now serves INSERT, UPDATE and DELETE; the triggers that
-- used the old ones go with them and are made again (sql/triggers/, apply_mode).
drop function if exists photo_ai.queue_inserted_assets() cascade;
drop function if exists photo_ai.requeue_changed_assets() cascade;
drop function if exists photo_ai.forget_deleted_assets() cascade;
drop function if exists photo_ai.immich_assets_inserted() cascade;
drop function if exists photo_ai.immich_assets_updated() cascade;
