-------------------------------------------------------------------------------
-- The built-in tasks: rows the extension owns, written again by every install and upgrade
-- (so an upgrade can change them) and left out of pg_dump. A derived task comes after the
-- tasks it reads. Tasks a person registers (built_in false) are theirs and are kept.
insert into photo_ai.task as t
    (name, reads, compute, store, result_tables, describe, on_by_default, mode, built_in, description
    , prepare)
values
  ('ocr', '{}', null, 'photo_ai.write_ocr(uuid,jsonb)', '{photo_ai.ocr_result}',
   'photo_ai.describe_image_results(uuid)', true, null, true,
   'the text printed in a photo (RapidOCR): the text arm of hybrid_search, ocr:', null)
, ('clip', '{}', null, 'photo_ai.write_clip(uuid,jsonb)', '{photo_ai.clip_embedding}',
   'photo_ai.describe_image_results(uuid)', true, null, true,
   'the photo''s Chinese-CLIP embedding: the semantic arm, clip:, similar photos', null)
, ('faces', '{}', null, 'photo_ai.write_faces(uuid,jsonb)', '{photo_ai.face_scan}',
   'photo_ai.describe_image_results(uuid)', true, null, true,
   'the faces in a photo (InsightFace): boxes, landmarks, embeddings', null)
, ('people', '{faces}', 'photo_ai.ungrouped_faces(uuid)', 'photo_ai.group_faces(uuid,jsonb)',
   '{}', 'photo_ai.describe_people(uuid)', true, 'standalone', true,
   'faces grouped into persons as they arrive (standalone mode; Immich groups its own)', null)
, ('tags', '{clip}', 'photo_ai.tags_of(uuid)', 'photo_ai.write_tags(uuid,jsonb)',
   '{photo_ai.asset_tag,photo_ai.asset_description,photo_ai.tag_basis}', 'photo_ai.describe_tags(uuid)', true, null, true,
   'labels of the vocabulary the CLIP embedding matches (zero-shot), and the photo''s '
   'description: tag:, the description arm of hybrid_search', 'photo_ai.embed_labels()')
, ('ocr_from_immich', '{ocr}', 'photo_ai.immich_ocr_lines(uuid)', 'photo_ai.write_ocr(uuid,jsonb)',
   '{photo_ai.ocr_result}', null, true, 'immich', true,
   'Immich mode: the Chinese text index of the text Immich''s OCR job stored (asset_ocr), '
   'each line weighted by its letters'' size: the text arm of hybrid_search, ocr:', null)
on conflict (name) do update
set reads = excluded.reads, compute = excluded.compute, store = excluded.store
  , result_tables = excluded.result_tables, describe = excluded.describe
  , on_by_default = excluded.on_by_default, mode = excluded.mode, built_in = true
  , description = excluded.description, prepare = excluded.prepare;
