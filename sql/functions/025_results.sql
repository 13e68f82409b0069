-------------------------------------------------------------------------------
-- The image tasks' results: how each is stored, and what ai_reprocess shows of them (the
-- functions the registry rows of ocr, clip and faces name; a photo's rows go with it
-- through their result_tables).
-- Stores are upserts keyed by asset (faces: replaced), so running a job twice writes the
-- same rows; result tables have no triggers, so writing never queues anything by itself.

-------------------------------------------------------------------------------
-- ocr: the text, its lines (boxes, scores) and its search vector
create or replace function photo_ai.write_ocr(_asset_id uuid, _result jsonb)
returns void
language sql volatile security definer
set search_path to pg_catalog, pg_temp
as $func$
    insert into photo_ai.ocr_result as r (asset_id, model, text, lines, tsv)
    select _asset_id, _result->>'model', t.text, t.lines, photo_ai.ocr_tsvector(t.text, t.lines)
    from (select coalesce(_result->>'text', '') as text, coalesce(_result->'lines', '[]') as lines) t
    on conflict (asset_id) do update
        set model = excluded.model, text = excluded.text, lines = excluded.lines
          , tsv = excluded.tsv, created_at = pg_catalog.now()
$func$;
comment on function photo_ai.write_ocr(uuid, jsonb) is
    'Stores the sidecar''s OCR result for an asset, replacing an earlier one; its search '
    'vector weighs every line by its prominence (ocr_tsvector).';

-------------------------------------------------------------------------------
-- clip: the image embedding
create or replace function photo_ai.write_clip(_asset_id uuid, _result jsonb)
returns void
language sql volatile security definer
set search_path to pg_catalog, pg_temp
as $func$
    insert into photo_ai.clip_embedding as c (asset_id, model, embedding)
    values (_asset_id, _result->>'model', (_result->'embedding')::text::public.vector)
    on conflict (asset_id) do update
        set model = excluded.model, embedding = excluded.embedding, created_at = pg_catalog.now()
$func$;
comment on function photo_ai.write_clip(uuid, jsonb) is
    'Stores the sidecar''s CLIP image embedding for an asset, replacing an earlier one.';

-------------------------------------------------------------------------------
-- faces: one scan row per analysed photo (also with no face, so "scanned" is never
-- guessed), with the analysed image's size (face boxes are its pixels), and its faces
create or replace function photo_ai.write_faces(_asset_id uuid, _result jsonb)
returns void
language sql volatile security definer
set search_path to pg_catalog, pg_temp
as $func$
    delete from photo_ai.face_scan where asset_id = _asset_id;
    insert into photo_ai.face_scan (asset_id, model, face_count, image_width, image_height)
    values (_asset_id, _result->>'model', pg_catalog.jsonb_array_length(_result->'faces'),
            (_result #>> '{image,width}')::int, (_result #>> '{image,height}')::int);
    insert into photo_ai.face (asset_id, box, score, landmarks, embedding)
    select _asset_id
         , array(select pg_catalog.jsonb_array_elements_text(f->'box'))::real[]
         , (f->>'score')::real
         , array(select pg_catalog.jsonb_array_elements_text(p)
                 from pg_catalog.jsonb_array_elements(f->'landmarks') p)::real[]
         , (f->'embedding')::text::public.vector
    from pg_catalog.jsonb_array_elements(_result->'faces') f;
$func$;
comment on function photo_ai.write_faces(uuid, jsonb) is
    'Stores the faces the sidecar found in an asset (box, score, 5 landmarks, embedding) and '
    'the analysed image''s size, replacing earlier ones.';

-------------------------------------------------------------------------------
-- describe_image_results: what an asset's ocr, clip and faces results hold, in brief
create or replace function photo_ai.describe_image_results(_asset_id uuid)
returns jsonb
language sql stable security definer
set search_path to pg_catalog, pg_temp
as $func$
    select pg_catalog.jsonb_build_object(
        'ocr', (select pg_catalog.jsonb_build_object('model', o.model, 'text', o.text,
                           'lines', pg_catalog.jsonb_array_length(o.lines))
                from photo_ai.ocr_result o where o.asset_id = _asset_id),
        'clip', (select pg_catalog.jsonb_build_object('model', c.model,
                            'dim', public.vector_dims(c.embedding))
                 from photo_ai.clip_embedding c where c.asset_id = _asset_id),
        'faces', (select pg_catalog.jsonb_build_object('model', f.model, 'count', f.face_count)
                  from photo_ai.face_scan f where f.asset_id = _asset_id))
$func$;
comment on function photo_ai.describe_image_results(uuid) is
    'An asset''s OCR (model, text, number of lines), CLIP (model, dimension) and faces '
    '(model, how many) results, as ai_reprocess shows them.';
