-------------------------------------------------------------------------------
-- Immich mode's results. In the normal flow Immich's own jobs write Immich's tables and
-- photo_ai only reads them: the derived task ocr_from_immich turns Immich's asset_ocr rows
-- into photo_ai's Chinese text index. photo_ai writes Immich's rows only when asked:
-- ai_reprocess (reprocess_in_immich) writes OCR and CLIP rows the way Immich's OCR and
-- smart search jobs do (server/src/services/ocr.service.ts, smart-info.service.ts), with
-- Immich's own defaults (updateId, isVisible) and its audit triggers doing the rest.
--
-- Immich's trigger functions (updated_at, the audit triggers) name their tables and
-- functions without a schema, so the statements that change Immich's tables run with
-- Immich's search path (pg_catalog, public, pg_temp), set locally and set back at once.
-- Everything in them is qualified, operators included.

-------------------------------------------------------------------------------
-- immich_search_path: the search path around the statements that change Immich's tables
create or replace function photo_ai.immich_search_path()
returns text
language sql immutable
set search_path to pg_catalog, pg_temp
as $func$
    select 'pg_catalog, public, pg_temp'
$func$;
comment on function photo_ai.immich_search_path() is
    'The search path Immich''s own trigger functions need (they name objects without a '
    'schema); set locally only around photo_ai''s statements on Immich''s tables.';

-------------------------------------------------------------------------------
-- write_immich_clip: smart_search.embedding, as Immich's smart search job stores it
create or replace function photo_ai.write_immich_clip(_asset_id uuid, _result jsonb)
returns void
language plpgsql volatile security definer
set search_path to pg_catalog, pg_temp
as $func$
declare
    _embedding public.vector := (_result->'embedding')::text::public.vector;
    _dims int;
begin
    if _embedding is null or not photo_ai.immich_feature_enabled('clip') then
        return;
    end if;
    select a.atttypmod into _dims
    from pg_catalog.pg_attribute a
    where a.attrelid = 'public.smart_search'::regclass and a.attname = 'embedding';
    if _dims > 0 and _dims <> public.vector_dims(_embedding) then
        raise exception 'photo_ai: Immich''s smart_search holds % dimensions, the sidecar''s '
            'CLIP model (%) gives %', _dims, _result->>'model', public.vector_dims(_embedding)
            using hint = 'Choose a 512-dimension CLIP model in Immich''s machine learning '
                         'settings (for example the default ViT-B-32__openai): the sidecar '
                         'answers every CLIP request with its own model.';
    end if;
    perform pg_catalog.set_config('search_path', photo_ai.immich_search_path(), true);
    insert into public.smart_search ("assetId", embedding) values (_asset_id, _embedding)
    on conflict ("assetId") do update set embedding = excluded.embedding;
    -- a new embedding: Immich's duplicate detection (its "missing" run) looks at it again
    update public.asset_job_status set "duplicatesDetectedAt" = null
    where "assetId" operator(pg_catalog.=) _asset_id;
    perform pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
end
$func$;
comment on function photo_ai.write_immich_clip(uuid, jsonb) is
    'Immich mode: stores an image embedding in Immich''s smart_search (what its smart search '
    'ranks by) and marks the asset for Immich''s duplicate detection.';

-------------------------------------------------------------------------------
-- write_immich_ocr: asset_ocr rows and ocr_search.text, as Immich's OCR job writes them;
-- the lines are the ones Immich would keep with its configured scores
create or replace function photo_ai.write_immich_ocr(_asset_id uuid, _result jsonb)
returns void
language plpgsql volatile security definer
set search_path to pg_catalog, pg_temp
as $func$
declare
    _config jsonb := photo_ai.immich_config();
    _min_box float8 := coalesce((_config #>> '{machineLearning,ocr,minDetectionScore}')::float8, 0.5);
    _min_text float8 := coalesce((_config #>> '{machineLearning,ocr,minRecognitionScore}')::float8, 0.8);
    _rows jsonb;
    _search text;
    _has_text boolean;
begin
    if _result is null or not photo_ai.immich_feature_enabled('ocr') then
        return;
    end if;
    -- immich_ml keeps a box scoring at least minDetectionScore, a text scoring above
    -- minRecognitionScore
    select coalesce(pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(
               'x1', l #> '{box_normalized,0,0}', 'y1', l #> '{box_normalized,0,1}',
               'x2', l #> '{box_normalized,1,0}', 'y2', l #> '{box_normalized,1,1}',
               'x3', l #> '{box_normalized,2,0}', 'y3', l #> '{box_normalized,2,1}',
               'x4', l #> '{box_normalized,3,0}', 'y4', l #> '{box_normalized,3,1}',
               'boxScore', coalesce(l->'box_score', l->'score'), 'textScore', l->'score',
               'text', l->>'text') order by n), '[]')
    into _rows
    from pg_catalog.jsonb_array_elements(coalesce(_result->'lines', '[]')) with ordinality e(l, n)
    where coalesce((l->>'box_score')::float8, (l->>'score')::float8) >= _min_box
      and (l->>'score')::float8 > _min_text;
    -- every kept line's tokens, in order, joined by spaces (OcrService.parseOcrResults)
    select coalesce(pg_catalog.string_agg(t.token, ' ' order by e.n, t.k), '')
    into _search
    from pg_catalog.jsonb_array_elements(_rows) with ordinality e(l, n)
    cross join lateral pg_catalog.unnest(photo_ai.immich_search_tokens(e.l->>'text'))
        with ordinality t(token, k);
    _has_text := pg_catalog.jsonb_array_length(_rows) > 0;

    perform pg_catalog.set_config('search_path', photo_ai.immich_search_path(), true);
    delete from public.asset_ocr where "assetId" operator(pg_catalog.=) _asset_id;
    if _has_text then
        insert into public.asset_ocr
            ("assetId", x1, y1, x2, y2, x3, y3, x4, y4, "boxScore", "textScore", text)
        select _asset_id, r.x1, r.y1, r.x2, r.y2, r.x3, r.y3, r.x4, r.y4
             , r."boxScore", r."textScore", r.text
        from pg_catalog.jsonb_to_recordset(_rows) as r
            (x1 real, y1 real, x2 real, y2 real, x3 real, y3 real, x4 real, y4 real,
             "boxScore" real, "textScore" real, text text);
        insert into public.ocr_search ("assetId", text) values (_asset_id, _search)
        on conflict ("assetId") do update set text = excluded.text;
    else
        delete from public.ocr_search where "assetId" operator(pg_catalog.=) _asset_id;
    end if;
    insert into public.asset_job_status ("assetId", "ocrAt") values (_asset_id, pg_catalog.now())
    on conflict ("assetId") do update set "ocrAt" = excluded."ocrAt";
    perform pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
end
$func$;
comment on function photo_ai.write_immich_ocr(uuid, jsonb) is
    'Immich mode: replaces an asset''s rows in Immich''s asset_ocr (normalised 4-point boxes, '
    'box and text scores) and its ocr_search text (Immich''s search tokens), keeping the '
    'lines Immich''s configured scores keep; sets asset_job_status.ocrAt.';

-------------------------------------------------------------------------------
-- immich_ocr_lines: an asset's OCR as Immich's OCR job stored it (the visible boxes of
-- asset_ocr), in the shape of the sidecar's OCR result, for photo_ai.write_ocr: the
-- compute function of ocr_from_immich. Immich's boxes are fractions of the image; a
-- line's weight compares letter sizes in pixels (a line's length per character against
-- its height), so the boxes are scaled by the asset's width and height.
create or replace function photo_ai.immich_ocr_lines(_asset_id uuid)
returns jsonb
language plpgsql stable security definer
set search_path to pg_catalog, pg_temp
as $func$
declare
    _width float8;
    _height float8;
    _result jsonb;
begin
    select coalesce((pg_catalog.to_jsonb(a) ->> 'width')::float8,
                    (pg_catalog.to_jsonb(e) ->> 'exifImageWidth')::float8, 1000),
           coalesce((pg_catalog.to_jsonb(a) ->> 'height')::float8,
                    (pg_catalog.to_jsonb(e) ->> 'exifImageHeight')::float8, 1000)
    into _width, _height
    from public.asset a
    left join public.asset_exif e on e."assetId" operator(pg_catalog.=) a.id
    where a.id operator(pg_catalog.=) _asset_id;
    select pg_catalog.jsonb_build_object(
               'model', coalesce(photo_ai.immich_config() #>> '{machineLearning,ocr,modelName}',
                                 'PP-OCRv5_mobile'),
               'text', coalesce(pg_catalog.string_agg(o.text, E'\n' order by o.y1, o.x1), ''),
               'lines', coalesce(pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(
                   'text', o.text, 'score', o."textScore", 'box_score', o."boxScore",
                   'box', pg_catalog.jsonb_build_array(
                       pg_catalog.jsonb_build_array(o.x1 * _width, o.y1 * _height),
                       pg_catalog.jsonb_build_array(o.x2 * _width, o.y2 * _height),
                       pg_catalog.jsonb_build_array(o.x3 * _width, o.y3 * _height),
                       pg_catalog.jsonb_build_array(o.x4 * _width, o.y4 * _height)))
                   order by o.y1, o.x1), '[]'))
    into _result
    from public.asset_ocr o
    where o."assetId" operator(pg_catalog.=) _asset_id
      and coalesce((pg_catalog.to_jsonb(o) ->> 'isVisible')::boolean, true);
    return _result;
end
$func$;
comment on function photo_ai.immich_ocr_lines(uuid) is
    'Immich mode: the text Immich''s OCR job stored for an asset (visible asset_ocr rows, '
    'boxes in the asset''s pixels), as an OCR result for photo_ai.write_ocr.';

-------------------------------------------------------------------------------
-- immich_writers: the tasks ai_reprocess can compute for Immich, and the function that
-- writes each into Immich's tables. Faces are not among them: Immich's "Refresh faces"
-- keeps its persons, manual faces and recognition rules, which a second writer would not.
create or replace function photo_ai.immich_writers()
returns table (task text, writer regprocedure)
language sql stable
set search_path to pg_catalog, pg_temp
as $func$
    values ('ocr', 'photo_ai.write_immich_ocr(uuid,jsonb)'::regprocedure)
         , ('clip', 'photo_ai.write_immich_clip(uuid,jsonb)'::regprocedure)
$func$;
comment on function photo_ai.immich_writers() is
    'Immich mode: the tasks ai_reprocess writes into Immich''s tables (ocr, clip) and the '
    'function that writes each.';

-------------------------------------------------------------------------------
-- reprocess_in_immich: ai_reprocess in Immich mode, Immich's "re-run OCR / smart search"
-- for one photo. The sidecar is asked now (no lock held meanwhile), and only when every
-- task has its result are Immich's rows written, each as Immich's job writes them; their
-- triggers then queue photo_ai's derived tasks as for any write of Immich's.
create or replace function photo_ai.reprocess_in_immich(_asset_id uuid, _tasks text[])
returns void
language plpgsql volatile security definer
set search_path to pg_catalog, pg_temp
as $func$
declare
    _refused text[] := array(select t from pg_catalog.unnest(_tasks) t
                             where t not in (select w.task from photo_ai.immich_writers() w));
    _answers jsonb;
    _task text;
    _outcome record;
    _writer record;
begin
    if 'faces' = any(_refused) then
        raise exception 'photo_ai: in Immich mode, faces are Immich''s to detect'
            using hint = 'Open the photo in Immich and choose "Refresh faces" in its menu: '
                         'Immich keeps its persons, manual faces and recognition rules.';
    elsif pg_catalog.cardinality(_refused) > 0 then
        raise exception 'photo_ai: in Immich mode ai_reprocess writes ocr and clip, not %',
            pg_catalog.array_to_string(_refused, ', ');
    end if;
    _answers := photo_ai.photo_answers(
        (select a.path from photo_ai.source_asset a where a.id = _asset_id), _tasks);
    foreach _task in array _tasks loop
        select * into _outcome from photo_ai.answer_outcome(_answers->_task, _task);
        if _outcome.kind <> 'result' then
            raise exception 'photo_ai: no % result for asset % (%): %', _task, _asset_id,
                _outcome.kind, _outcome.detail
                using hint = 'SELECT * FROM photo_ai.status shows the state of the sidecar.';
        end if;
    end loop;
    perform photo_ai.lock_asset(_asset_id);
    for _writer in select w.task, w.writer from photo_ai.immich_writers() w
                   where w.task = any(_tasks) loop
        execute pg_catalog.format('select %s($1, $2)', photo_ai.function_name(_writer.writer))
        using _asset_id, photo_ai.answer_result(_answers->_writer.task, _writer.task);
    end loop;
end
$func$;
comment on function photo_ai.reprocess_in_immich(uuid, text[]) is
    'Immich mode, ai_reprocess: asks the sidecar for an asset''s OCR and CLIP now and writes '
    'them into Immich''s tables as Immich''s jobs do; raises with the reason when the sidecar '
    'gives no result, and refuses faces (Immich''s Refresh faces does that).';
