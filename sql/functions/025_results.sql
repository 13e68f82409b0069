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
-- guessed), with the analysed image's size (face boxes are its pixels), and its faces with
-- their embeddings. A face found again where one was before (boxes overlapping by half)
-- keeps its person: analysing a photo again must not undo what the grouping or a person
-- decided. The new faces come in before the old ones go, so no person is ever left empty
-- in between.
create or replace function photo_ai.write_faces(_asset_id uuid, _result jsonb)
returns void
language plpgsql volatile security definer
set search_path to pg_catalog, pg_temp
as $func$
declare
    _old bigint[] := array(select f.id from photo_ai.face f where f.asset_id = _asset_id);
    _found record;
    _face_id bigint;
begin
    insert into photo_ai.face_scan as s (asset_id, model, face_count, image_width, image_height)
    values (_asset_id, _result->>'model', pg_catalog.jsonb_array_length(_result->'faces'),
            (_result #>> '{image,width}')::int, (_result #>> '{image,height}')::int)
    on conflict (asset_id) do update
        set model = excluded.model, face_count = excluded.face_count
          , image_width = excluded.image_width, image_height = excluded.image_height
          , scanned_at = pg_catalog.now();
    for _found in
        select array(select pg_catalog.jsonb_array_elements_text(f->'box'))::real[] as box
             , (f->>'score')::real as score
             , array(select pg_catalog.jsonb_array_elements_text(p)
                     from pg_catalog.jsonb_array_elements(f->'landmarks') p)::real[] as landmarks
             , (f->'embedding')::text::public.vector as embedding
        from pg_catalog.jsonb_array_elements(_result->'faces') f
    loop
        insert into photo_ai.face (asset_id, box, score, landmarks)
        values (_asset_id, _found.box, _found.score, _found.landmarks)
        returning id into _face_id;
        insert into photo_ai.face_embedding (face_id, embedding) values (_face_id, _found.embedding);
        -- the person, once the embedding is there for the person's sum
        update photo_ai.face f set person_id = was.person_id, person_decided = was.person_decided
        from (select o.person_id, o.person_decided from photo_ai.face o
              where o.id = any(_old) and (o.person_id is not null or o.person_decided)
                and photo_ai.box_overlap(o.box, _found.box) >= 0.5
              order by photo_ai.box_overlap(o.box, _found.box) desc limit 1) was
        where f.id = _face_id;
    end loop;
    delete from photo_ai.face f where f.id = any(_old);
end
$func$;
comment on function photo_ai.write_faces(uuid, jsonb) is
    'Stores the faces the sidecar found in an asset (box, score, 5 landmarks; the embedding '
    'in photo_ai.face_embedding) and the analysed image''s size, replacing earlier ones; a '
    'face found where one was keeps its person.';

create or replace function photo_ai.box_overlap(_a real[], _b real[])
returns float8
language sql immutable strict parallel safe
set search_path to pg_catalog, pg_temp
as $func$
    -- intersection over union of two boxes [x1, y1, x2, y2]
    select case when i.area > 0 then i.area / (photo_ai.box_area(_a) + photo_ai.box_area(_b) - i.area) else 0 end
    from (select greatest(0, least(_a[3], _b[3]) - greatest(_a[1], _b[1]))::float8
               * greatest(0, least(_a[4], _b[4]) - greatest(_a[2], _b[2])) as area) i
$func$;
comment on function photo_ai.box_overlap(real[], real[]) is
    'How much two boxes [x1, y1, x2, y2] overlap: intersection over union, 0 to 1.';

create or replace function photo_ai.box_area(_box real[])
returns float8
language sql immutable strict parallel safe
set search_path to pg_catalog, pg_temp
as $func$
    select greatest(0, _box[3] - _box[1])::float8 * greatest(0, _box[4] - _box[2])
$func$;
comment on function photo_ai.box_area(real[]) is 'The area of a box [x1, y1, x2, y2].';

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
