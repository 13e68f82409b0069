-------------------------------------------------------------------------------
-- write_ocr: replace an asset's OCR text, lines and search vector
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
-- write_clip: replace an asset's image embedding
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
-- write_faces: replace an asset's faces (the scan row is kept also when none were found)
create or replace function photo_ai.write_faces(_asset_id uuid, _result jsonb)
returns void
language sql volatile security definer
set search_path to pg_catalog, pg_temp
as $func$
    delete from photo_ai.face_scan where asset_id = _asset_id;
    insert into photo_ai.face_scan (asset_id, model, face_count)
    values (_asset_id, _result->>'model', pg_catalog.jsonb_array_length(_result->'faces'));
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
    'Stores the faces the sidecar found in an asset (box, score, 5 landmarks, embedding), '
    'replacing earlier ones.';

-------------------------------------------------------------------------------
-- write_result: the one place a task's result is stored
create or replace function photo_ai.write_result(_task photo_ai.task, _asset_id uuid, _result jsonb)
returns void
language plpgsql volatile security definer
set search_path to pg_catalog, pg_temp
as $func$
begin
    case _task
        when 'ocr' then perform photo_ai.write_ocr(_asset_id, _result);
        when 'clip' then perform photo_ai.write_clip(_asset_id, _result);
        when 'faces' then perform photo_ai.write_faces(_asset_id, _result);
    end case;
    perform photo_ai.write_immich_result(_task, _asset_id, _result);  -- Immich mode (051)
end
$func$;
comment on function photo_ai.write_result(photo_ai.task, uuid, jsonb) is
    'Stores one task''s result for an asset where search reads it.';
