-------------------------------------------------------------------------------
-- Immich mode's results, written where Immich reads them, the way Immich's own jobs write
-- them (server/src/services/smart-info.service.ts, person.service.ts, ocr.service.ts of
-- Immich v2). They are derived tasks (immich_ocr, immich_clip, immich_faces; registered
-- in sql/data/) bound to Immich mode: each reads what photo_ai's own task stored (the
-- *_input functions) and writes it into Immich's tables, unless Immich's admin has that
-- feature switched off (Immich gets nothing it did not ask for).
--
-- Immich's trigger functions (updated_at, the audit triggers) name their tables and
-- functions without a schema, so the statements that change Immich's tables run with
-- Immich's search path (pg_catalog, public, pg_temp), set locally and set back at once.
-- Everything in them is qualified, operators included.

-------------------------------------------------------------------------------
-- box_iou: intersection over union of two [x1, y1, x2, y2] boxes
create or replace function photo_ai.box_iou(_a float8[], _b float8[])
returns float8
language sql immutable strict parallel safe
set search_path to pg_catalog, pg_temp
as $func$
    select case when u > 0 then i / u else 0 end
    from (select greatest(0, least(_a[3], _b[3]) - greatest(_a[1], _b[1]))
               * greatest(0, least(_a[4], _b[4]) - greatest(_a[2], _b[2])) as i
               , (_a[3] - _a[1]) * (_a[4] - _a[2]) + (_b[3] - _b[1]) * (_b[4] - _b[2]) as s) x
    cross join lateral (select x.s - x.i as u) y
$func$;
comment on function photo_ai.box_iou(float8[], float8[]) is
    'Intersection over union of two boxes given as [x1, y1, x2, y2].';

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
-- immich_nearest_person: the person of the nearest face of the same owner, as Immich's
-- facial recognition finds it (SearchRepository.searchFaces with hasPerson), or null when
-- that face is further than max distance (cosine distance)
create or replace function photo_ai.immich_nearest_person
( _owner_id uuid
, _embedding public.vector
, _max_distance float8
, _exclude uuid[]
)
returns uuid
language plpgsql stable security definer
set search_path to pg_catalog, pg_temp
as $func$
declare
    _best record;
begin
    select f."personId" as person_id, s.embedding operator(public.<=>) _embedding as distance
    into _best
    from public.face_search s
    join public.asset_face f on f.id = s."faceId"
    join public.asset a on a.id = f."assetId"
    where a."ownerId" = _owner_id and a."deletedAt" is null
      and f."personId" is not null and not (f.id = any(_exclude))
    order by s.embedding operator(public.<=>) _embedding
    limit 1;
    if _best.distance <= _max_distance then
        return _best.person_id;
    end if;
    return null;
end
$func$;
comment on function photo_ai.immich_nearest_person(uuid, public.vector, float8, uuid[]) is
    'The person of the same owner''s face nearest to an embedding, if within max distance.';

-------------------------------------------------------------------------------
-- write_immich_faces: asset_face + face_search, as Immich's face detection job writes them.
-- A detection overlapping an earlier machine-learning face of the asset (IoU > 0.5) keeps
-- that face (its id and person) and gets the new embedding; earlier machine-learning faces
-- nothing overlaps go; the rest are new faces. A new face joins the person of the nearest
-- face of the same owner within Immich's max distance (immich_join_persons); the others
-- keep personId null for Immich's own facial recognition job, which clusters them and
-- makes new persons (with thumbnails only Immich can make). Manual and EXIF faces stay.
create or replace function photo_ai.write_immich_faces(_asset_id uuid, _result jsonb)
returns void
language plpgsql volatile security definer
set search_path to pg_catalog, pg_temp
as $func$
declare
    _config jsonb := photo_ai.immich_config();
    _width int := coalesce((_result #>> '{image,width}')::int, 0);
    _height int := coalesce((_result #>> '{image,height}')::int, 0);
    _max_distance float8 :=
        coalesce((_config #>> '{machineLearning,facialRecognition,maxDistance}')::float8, 0.5);
    _join boolean := photo_ai.setting('immich_join_persons')::text::boolean;
    _owner_id uuid;
    _face jsonb;
    _box float8[];
    _match record;
    _kept uuid[] := '{}';
    _removed uuid[];
    _added jsonb := '[]';
    _embeddings jsonb := '[]';
    _new jsonb;
    _id uuid;
begin
    if _result is null or not photo_ai.immich_feature_enabled('facialRecognition') then
        return;
    end if;
    select a."ownerId" into _owner_id from public.asset a where a.id = _asset_id;
    if _owner_id is null then
        return;  -- deleted meanwhile
    end if;
    for _face in select f from pg_catalog.jsonb_array_elements(coalesce(_result->'faces', '[]')) f loop
        _box := array[pg_catalog.round((_face #>> '{box,0}')::numeric),
                      pg_catalog.round((_face #>> '{box,1}')::numeric),
                      pg_catalog.round((_face #>> '{box,2}')::numeric),
                      pg_catalog.round((_face #>> '{box,3}')::numeric)]::float8[];
        -- the earlier face this detection is, in that face's image frame
        select f.id, f."sourceType"::text = 'machine-learning' as is_ml into _match
        from public.asset_face f
        cross join lateral (select
            coalesce(nullif(f."imageWidth", 0), _width)::float8
                / greatest(_width, 1) as sx,
            coalesce(nullif(f."imageHeight", 0), _height)::float8
                / greatest(_height, 1) as sy) s
        where f."assetId" = _asset_id
          and photo_ai.box_iou(
                array[f."boundingBoxX1", f."boundingBoxY1", f."boundingBoxX2", f."boundingBoxY2"]::float8[],
                array[_box[1] * s.sx, _box[2] * s.sy, _box[3] * s.sx, _box[4] * s.sy]) > 0.5
        order by photo_ai.box_iou(
                array[f."boundingBoxX1", f."boundingBoxY1", f."boundingBoxX2", f."boundingBoxY2"]::float8[],
                array[_box[1] * s.sx, _box[2] * s.sy, _box[3] * s.sx, _box[4] * s.sy]) desc
        limit 1;
        if found then
            -- Immich updates an unclaimed machine-learning match, and drops a detection
            -- that overlaps a manual face or a face already claimed
            if _match.is_ml and not (_match.id = any(_kept)) then
                _kept := _kept || _match.id;
                _embeddings := _embeddings || pg_catalog.jsonb_build_object(
                    'faceId', _match.id, 'embedding', _face->'embedding');
            end if;
            continue;
        end if;
        _id := pg_catalog.gen_random_uuid();
        _added := _added || pg_catalog.jsonb_build_object(
            'id', _id, 'imageWidth', _width, 'imageHeight', _height,
            'boundingBoxX1', _box[1], 'boundingBoxY1', _box[2],
            'boundingBoxX2', _box[3], 'boundingBoxY2', _box[4],
            'embedding', _face->'embedding');
        _embeddings := _embeddings || pg_catalog.jsonb_build_object(
            'faceId', _id, 'embedding', _face->'embedding');
    end loop;
    _removed := array(
        select f.id from public.asset_face f
        where f."assetId" = _asset_id and f."sourceType"::text = 'machine-learning'
          and not (f.id = any(_kept)));
    if _join then
        select coalesce(pg_catalog.jsonb_agg(n || pg_catalog.jsonb_build_object('personId',
                   photo_ai.immich_nearest_person(_owner_id, (n->'embedding')::text::public.vector,
                                                  _max_distance, _removed))), '[]')
        into _new
        from pg_catalog.jsonb_array_elements(_added) n;
        _added := _new;
    end if;

    perform pg_catalog.set_config('search_path', photo_ai.immich_search_path(), true);
    delete from public.asset_face where id operator(pg_catalog.=) any (_removed);
    insert into public.asset_face
        (id, "assetId", "personId", "imageWidth", "imageHeight",
         "boundingBoxX1", "boundingBoxY1", "boundingBoxX2", "boundingBoxY2")
    select r.id, _asset_id, r."personId", r."imageWidth", r."imageHeight"
         , r."boundingBoxX1", r."boundingBoxY1", r."boundingBoxX2", r."boundingBoxY2"
    from pg_catalog.jsonb_to_recordset(_added) as r
        (id uuid, "personId" uuid, "imageWidth" int, "imageHeight" int,
         "boundingBoxX1" int, "boundingBoxY1" int, "boundingBoxX2" int, "boundingBoxY2" int);
    insert into public.face_search ("faceId", embedding)
    select r."faceId", r.embedding::pg_catalog.text::public.vector
    from pg_catalog.jsonb_to_recordset(_embeddings) as r ("faceId" uuid, embedding jsonb)
    on conflict ("faceId") do update set embedding = excluded.embedding;
    insert into public.asset_job_status ("assetId", "facesRecognizedAt")
    values (_asset_id, pg_catalog.now())
    on conflict ("assetId") do update set "facesRecognizedAt" = excluded."facesRecognizedAt";
    perform pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
end
$func$;
comment on function photo_ai.write_immich_faces(uuid, jsonb) is
    'Immich mode: writes an asset''s detected faces into Immich''s asset_face and face_search '
    '(pixel boxes in the analysed image, its size), keeping the id and person of faces found '
    'again, joining new faces to the nearest person within Immich''s max distance (or '
    'leaving them to Immich''s recognition job); sets asset_job_status.facesRecognizedAt.';

-------------------------------------------------------------------------------
-- immich_*_input: what the immich_* tasks compute from, photo_ai's own stored results in
-- the shapes the writers above take (the sidecar's)
create or replace function photo_ai.immich_ocr_input(_asset_id uuid)
returns jsonb
language sql stable security definer
set search_path to pg_catalog, pg_temp
as $func$
    select pg_catalog.jsonb_build_object('model', o.model, 'text', o.text, 'lines', o.lines)
    from photo_ai.ocr_result o where o.asset_id = _asset_id
$func$;
comment on function photo_ai.immich_ocr_input(uuid) is
    'Immich mode: an asset''s OCR result as photo_ai stored it, for write_immich_ocr.';

create or replace function photo_ai.immich_clip_input(_asset_id uuid)
returns jsonb
language sql stable security definer
set search_path to pg_catalog, pg_temp
as $func$
    select pg_catalog.jsonb_build_object('model', c.model,
                                         'embedding', pg_catalog.to_jsonb(c.embedding::real[]))
    from photo_ai.clip_embedding c where c.asset_id = _asset_id
$func$;
comment on function photo_ai.immich_clip_input(uuid) is
    'Immich mode: an asset''s CLIP embedding as photo_ai stored it, for write_immich_clip.';

create or replace function photo_ai.immich_faces_input(_asset_id uuid)
returns jsonb
language sql stable security definer
set search_path to pg_catalog, pg_temp
as $func$
    select pg_catalog.jsonb_build_object(
        'model', s.model,
        'image', pg_catalog.jsonb_build_object('width', s.image_width, 'height', s.image_height),
        'faces', coalesce((
            select pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(
                       'box', pg_catalog.to_jsonb(f.box), 'score', f.score,
                       'landmarks', pg_catalog.to_jsonb(f.landmarks),
                       'embedding', pg_catalog.to_jsonb(e.embedding::real[])) order by f.id)
            from photo_ai.face f join photo_ai.face_embedding e on e.face_id = f.id
            where f.asset_id = s.asset_id), '[]'))
    from photo_ai.face_scan s where s.asset_id = _asset_id
$func$;
comment on function photo_ai.immich_faces_input(uuid) is
    'Immich mode: an asset''s face scan as photo_ai stored it (the analysed image''s size, '
    'boxes and embeddings), for write_immich_faces.';
