-- Immich mode, second design (issue 10): Immich's own jobs stay the only writers of
-- Immich's tables. photo_ai no longer analyses Immich's uploads or writes their results
-- into Immich's tables; it records what Immich's jobs wrote and indexes it (sql/functions/
-- 050-052). So the three writer tasks, the preview wait and the person joining go.
delete from photo_ai.task where name in ('immich_ocr', 'immich_clip', 'immich_faces');
-- image work the first design had queued on Immich's assets is Immich's jobs' now
delete from photo_ai.job j
where j.state <> 'done' and j.task in ('ocr', 'clip', 'faces')
  and exists (select 1 from photo_ai.setting_override o
              where o.name = 'mode' and o.value = '"immich"'::jsonb);
delete from photo_ai.setting_default
where name in ('immich_join_persons', 'immich_preview_wait_seconds');

insert into photo_ai.setting_default (name, value, description) values
  ('immich_clip_model', '"ViT-B-16"',
   'Immich mode: the CLIP model the sidecar answers Immich''s smart search with (its '
   'PHOTO_AI_CLIP_MODEL). Immich''s smart_search holds that model''s embeddings, so '
   'photo_ai''s query embeddings and tags must come from the same one.');

-- CASCADE: photo_ai's triggers on Immich's asset_file table go with their function
drop function if exists photo_ai.immich_previews_written() cascade;
drop function if exists photo_ai.immich_assets_changed() cascade;
drop function if exists photo_ai.wait_for_preview(uuid[]);
drop function if exists photo_ai.preview_ready(uuid[]);
drop function if exists photo_ai.immich_preview_wait();
drop function if exists photo_ai.write_immich_faces(uuid, jsonb);
drop function if exists photo_ai.immich_nearest_person(uuid, public.vector, float8, uuid[]);
drop function if exists photo_ai.box_iou(float8[], float8[]);
drop function if exists photo_ai.immich_ocr_input(uuid);
drop function if exists photo_ai.immich_clip_input(uuid);
drop function if exists photo_ai.immich_faces_input(uuid);
drop function if exists photo_ai.attach_immich(boolean);
drop function if exists photo_ai.attach_trigger(text, text, text, text, text, text);
