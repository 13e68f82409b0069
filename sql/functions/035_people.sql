-------------------------------------------------------------------------------
-- People: faces grouped into persons as they arrive. Standalone mode only (Immich groups
-- its own faces; photo_ai reads them there). The rule, its thresholds and why they sit
-- where they do: docs/people.md; bench/people.py measures it.
--
-- A new face joins the person whose mean it is nearest, when that mean is near enough and
-- clearly nearer than any other person's (siblings look alike: a face between two persons
-- waits rather than guesses). A face far from every mean may still join the one person
-- its nearest faces all belong to (a child's face changes over the years, and its nearest
-- faces follow it). A face no person takes founds a new person once enough ungrouped
-- faces sit close around it; until then it waits. Only ungrouped faces that no person
-- placed are ever touched: named persons and decided faces are facts.

-------------------------------------------------------------------------------
-- face_grouping: the rule's thresholds (cosine distances between face embeddings), tuned
-- with bench/people.py (docs/people.md says why each sits where it does)
create or replace function photo_ai.face_grouping
( out neighbours int          -- nearest faces looked at
, out person_distance real    -- a face joins a person whose mean is at most this far ...
, out person_margin real      -- ... and this much nearer than the next person's
, out chain_distance real     -- a face this near to grouped faces of one person joins it
, out found_distance real     -- ungrouped faces this near each other ...
, out min_faces int           -- ... and this many (itself among them) found a person
, out settle_distance real    -- recognize_faces' last pass: a lonely face joins a mean this near
)
language sql immutable parallel safe
set search_path to pg_catalog, pg_temp
as $func$
    select 16, 0.4::real, 0.1::real, 0.35::real, 0.45::real, 3, 0.6::real
$func$;
comment on function photo_ai.face_grouping() is
    'The thresholds of the face grouping: how many nearest faces it looks at; how near a '
    'person''s mean must be and how much nearer than the next; how near grouped faces of '
    'one person pull a face in; how near and how many ungrouped faces found a person; how '
    'near a mean takes a lonely face in recognize_faces'' last pass (docs/people.md).';

-------------------------------------------------------------------------------
-- empty_embedding_sum: the sum of no face, what a person starts from before its faces
-- are added (photo_ai.faces_moved)
create or replace function photo_ai.empty_embedding_sum()
returns public.vector
language sql immutable parallel safe
set search_path to pg_catalog, pg_temp
as $func$
    select pg_catalog.array_fill(0::real, array[512])::public.vector
$func$;
comment on function photo_ai.empty_embedding_sum() is
    'A 512-d vector of zeros: the embedding sum of a person with no face yet.';

-------------------------------------------------------------------------------
-- lock_people: one owner's grouping at a time. Every writer of persons takes it first
-- (the worker's people jobs, recognize_faces, the admin functions), so two writers never
-- found two persons for one new face, nor wait for each other's person rows.
create or replace function photo_ai.lock_people(_owner_id uuid)
returns void
language sql volatile
set search_path to pg_catalog, pg_temp
as $func$
    select pg_catalog.pg_advisory_xact_lock(
        pg_catalog.hashtextextended('photo_ai.people ' || coalesce(_owner_id::text, ''), 0))
$func$;
comment on function photo_ai.lock_people(uuid) is
    'Serializes the writers of one owner''s persons until the transaction ends.';

-------------------------------------------------------------------------------
-- nearest_faces: the faces of an owner nearest to an embedding (HNSW; the iterative scan
-- goes on while other owners' faces are skipped). Two statements, one per kind of owner:
-- each keeps its plan, and neither hides from the planner that the standalone library is
-- most of the faces.
create or replace function photo_ai.nearest_faces
(_embedding public.vector, _owner_id uuid, _except bigint, _limit int)
returns table (face_id bigint, person_id uuid, grouped boolean, distance float8)
language plpgsql stable
set search_path to pg_catalog, pg_temp
set hnsw.iterative_scan to relaxed_order
as $func$
begin
    perform pg_catalog.set_config('hnsw.ef_search', (2 * _limit)::text, true);
    if _owner_id is null then
        return query
        select g.id, g.person_id, g.person_id is not null or g.person_decided
             , e.embedding operator(public.<=>) _embedding
        from photo_ai.face_embedding e
        join photo_ai.face g on g.id = e.face_id
        join photo_ai.source_asset a on a.id = g.asset_id
        where e.face_id <> _except and a.owner_id is null
        order by e.embedding operator(public.<=>) _embedding
        limit _limit;
    else
        return query
        select g.id, g.person_id, g.person_id is not null or g.person_decided
             , e.embedding operator(public.<=>) _embedding
        from photo_ai.face_embedding e
        join photo_ai.face g on g.id = e.face_id
        join photo_ai.source_asset a on a.id = g.asset_id
        where e.face_id <> _except and a.owner_id = _owner_id
        order by e.embedding operator(public.<=>) _embedding
        limit _limit;
    end if;
end
$func$;
comment on function photo_ai.nearest_faces(public.vector, uuid, bigint, int) is
    'The faces of an owner (NULL: the standalone library) nearest to an embedding by cosine '
    'distance, but one, with their persons.';

-------------------------------------------------------------------------------
-- person_for_face: the person an ungrouped face joins, or NULL. Its nearest faces (_near,
-- from nearest_faces) name the candidates. Settling (recognize_faces' last pass) takes a
-- mean up to settle_distance away, but only for a lonely face: one with ungrouped faces
-- close around it may be the first of someone new (a sibling), who founds a person instead.
create or replace function photo_ai.person_for_face
(_embedding public.vector, _taken_at timestamptz, _near jsonb, _settling boolean)
returns uuid
language plpgsql stable
set search_path to pg_catalog, pg_temp
as $func$
declare
    _rule record := photo_ai.face_grouping();
    _persons uuid[];
    _distances float8[];
    _chain uuid[];
    _reach real := _rule.person_distance;
begin
    if _settling then
        _reach := _rule.settle_distance;
    end if;
    -- the persons of its nearest faces, nearest mean first (a birth date after the photo
    -- keeps a person out)
    select array_agg(c.id order by c.distance), array_agg(c.distance order by c.distance)
    into _persons, _distances
    from (select p.id, p.embedding_sum operator(public.<=>) _embedding as distance
          from photo_ai.person p
          where p.id in (select (n->>'person_id')::uuid from pg_catalog.jsonb_array_elements(_near) n)
            and (p.birth_date is null or _taken_at is null or _taken_at >= p.birth_date)) c;
    if _distances[1] <= _reach
       and (pg_catalog.cardinality(_distances) < 2 or _distances[2] - _distances[1] >= _rule.person_margin)
       and not (_settling and pg_catalog.cardinality(photo_ai.close_waiting_faces(_near)) > 0) then
        return _persons[1];
    end if;
    if _settling then
        return null;
    end if;
    -- else the one person of its near grouped faces, when they name one and only one
    _chain := array(select distinct (n->>'person_id')::uuid from pg_catalog.jsonb_array_elements(_near) n
                    where (n->>'distance')::float8 <= _rule.chain_distance and n->>'person_id' is not null);
    if pg_catalog.cardinality(_chain) = 1 and _chain[1] = any(coalesce(_persons, '{}')) then
        return _chain[1];
    end if;
    return null;
end
$func$;
comment on function photo_ai.person_for_face(public.vector, timestamptz, jsonb, boolean) is
    'The person an ungrouped face joins: the one whose mean is near and clearly nearest, or '
    'the only person of its near grouped faces; when settling, a lonely face takes a '
    'farther mean. NULL when none.';

create or replace function photo_ai.close_waiting_faces(_near jsonb)
returns bigint[]
language sql immutable
set search_path to pg_catalog, pg_temp
as $func$
    select array(select (n->>'face_id')::bigint from pg_catalog.jsonb_array_elements(_near) n
                 where (n->>'distance')::float8 <= (photo_ai.face_grouping()).found_distance
                   and not (n->>'grouped')::boolean
                 order by 1)
$func$;
comment on function photo_ai.close_waiting_faces(jsonb) is
    'Of a face''s nearest faces, the ungrouped ones close enough to found a person with it.';

-------------------------------------------------------------------------------
-- group_face: one ungrouped face joins a person, founds one with its close ungrouped
-- faces, or waits. Returns the person, or NULL.
create or replace function photo_ai.group_face(_face_id bigint, _settling boolean default false)
returns uuid
language plpgsql volatile
set search_path to pg_catalog, pg_temp
as $func$
declare
    _rule record := photo_ai.face_grouping();
    _face record;
    _near jsonb;
    _person uuid;
    _founders bigint[];
begin
    select e.embedding, a.owner_id, a.taken_at into _face
    from photo_ai.face f
    join photo_ai.face_embedding e on e.face_id = f.id
    join photo_ai.source_asset a on a.id = f.asset_id
    where f.id = _face_id;
    if not found then
        return null;
    end if;
    perform photo_ai.lock_people(_face.owner_id);
    -- a face being rewritten or deleted (locked) is left to whoever holds it
    perform 1 from photo_ai.face f
    where f.id = _face_id and f.person_id is null and not f.person_decided
    for no key update skip locked;
    if not found then
        return null;
    end if;
    _near := coalesce((select pg_catalog.jsonb_agg(n) from photo_ai.nearest_faces(
                           _face.embedding, _face.owner_id, _face_id, _rule.neighbours) n), '[]');
    _person := photo_ai.person_for_face(_face.embedding, _face.taken_at, _near, _settling);
    if _person is not null then
        update photo_ai.face set person_id = _person where id = _face_id;
        return _person;
    end if;
    _founders := _face_id || array(
        select f.id from photo_ai.face f
        where f.id = any(photo_ai.close_waiting_faces(_near))
          and f.person_id is null and not f.person_decided
        order by f.id
        for no key update skip locked);
    if pg_catalog.cardinality(_founders) < _rule.min_faces then
        return null;
    end if;
    insert into photo_ai.person (owner_id, embedding_sum)
    values (_face.owner_id, photo_ai.empty_embedding_sum())
    returning id into _person;
    update photo_ai.face set person_id = _person where id = any(_founders);
    return _person;
end
$func$;
comment on function photo_ai.group_face(bigint, boolean) is
    'Groups one ungrouped face: it joins a person by the rule (photo_ai.person_for_face), '
    'founds a new person with its close ungrouped faces, or waits. Returns its person.';

-------------------------------------------------------------------------------
-- recognize_faces: the grouping on demand over every ungrouped face (or those of some
-- photos, or of photos analysed since a moment): passes of the rule while one groups more
-- (a face that waited may join a person founded after it), then one settling pass for the
-- lonely faces left (a profile, a blurred face: far from its person's mean but near no one
-- else). Safe beside workers: every writer takes the owner's lock. The worker service
-- settles only what it analysed since it last did: strangers seen once wait for good, and
-- trying them all again after every photo would cost seconds each time.
create or replace function photo_ai.recognize_faces
(_asset_ids uuid[] default null, _analysed_since timestamptz default null)
returns jsonb
language plpgsql volatile security definer
set search_path to pg_catalog, pg_temp
as $func$
declare
    _before bigint := (select count(*) from photo_ai.person);
    _grouped int := 0;
    _pass_grouped int;
    _passes int := 0;
begin
    if photo_ai.asset_source() <> 'standalone' then
        raise exception 'photo_ai: in Immich mode Immich groups faces into people'
            using hint = 'Immich''s facial recognition job does it; photo_ai reads its persons.';
    end if;
    if _analysed_since is not null then
        _asset_ids := array(
            select s.asset_id from photo_ai.face_scan s
            where s.scanned_at >= _analysed_since
              and (_asset_ids is null or s.asset_id = any(_asset_ids)));
    end if;
    loop
        _pass_grouped := photo_ai.group_waiting_faces(_asset_ids, false);
        _grouped := _grouped + _pass_grouped;
        _passes := _passes + 1;
        exit when _pass_grouped = 0 or _passes = 3;
    end loop;
    _grouped := _grouped + photo_ai.group_waiting_faces(_asset_ids, true);
    return pg_catalog.jsonb_build_object('grouped', _grouped,
        'persons_founded', greatest(0, (select count(*) from photo_ai.person) - _before),
        'waiting', (select count(*) from photo_ai.face f where f.person_id is null and not f.person_decided));
end
$func$;
comment on function photo_ai.recognize_faces(uuid[], timestamptz) is
    'Groups the ungrouped faces (of the given photos, of photos analysed since the given '
    'moment, or all) into persons: passes of the rule of photo_ai.group_face while they '
    'group more, then a settling pass for lonely faces. Returns how many faces it grouped, '
    'how many persons were founded, how many faces wait. Safe to call at any time, also '
    'beside workers.';

create or replace function photo_ai.group_waiting_faces(_asset_ids uuid[], _settling boolean)
returns int
language sql volatile
set search_path to pg_catalog, pg_temp
as $func$
    select count(photo_ai.group_face(f.id, _settling))::int
    from (select f.id from photo_ai.face f
          where f.person_id is null and not f.person_decided
            and (_asset_ids is null or f.asset_id = any(_asset_ids))
          order by f.id) f
$func$;
comment on function photo_ai.group_waiting_faces(uuid[], boolean) is
    'One pass of the grouping over the ungrouped faces (of the given photos, or all), in '
    'the order they came; returns how many it grouped.';

-------------------------------------------------------------------------------
-- The people task: derived from faces. compute lists the photo's ungrouped faces; store
-- groups them. Persons are not rows of the photo: its faces go with it (faces'
-- result_tables), and the triggers on faces keep persons' sums and drop empty persons.
create or replace function photo_ai.ungrouped_faces(_asset_id uuid)
returns jsonb
language sql stable
set search_path to pg_catalog, pg_temp
as $func$
    select pg_catalog.jsonb_build_object('faces', coalesce(pg_catalog.jsonb_agg(f.id order by f.id), '[]'))
    from photo_ai.face f
    where f.asset_id = _asset_id and f.person_id is null and not f.person_decided
$func$;
comment on function photo_ai.ungrouped_faces(uuid) is
    'The people task''s compute: the photo''s faces waiting to be grouped, {"faces": [id]}.';

create or replace function photo_ai.group_faces(_asset_id uuid, _result jsonb)
returns void
language sql volatile
set search_path to pg_catalog, pg_temp
as $func$
    select photo_ai.group_face(f::text::bigint) from pg_catalog.jsonb_array_elements(_result->'faces') f
$func$;
comment on function photo_ai.group_faces(uuid, jsonb) is
    'The people task''s store: groups the photo''s waiting faces (photo_ai.group_face).';

create or replace function photo_ai.describe_people(_asset_id uuid)
returns jsonb
language sql stable
set search_path to pg_catalog, pg_temp
as $func$
    select pg_catalog.jsonb_build_object('people', pg_catalog.jsonb_build_object(
        'faces', count(*), 'grouped', count(f.person_id),
        'persons', coalesce(pg_catalog.jsonb_agg(distinct coalesce(nullif(p.name, ''), p.id::text))
                            filter (where p.id is not null), '[]')))
    from photo_ai.face f left join photo_ai.person p on p.id = f.person_id
    where f.asset_id = _asset_id
$func$;
comment on function photo_ai.describe_people(uuid) is
    'What ai_reprocess shows of the people task: the photo''s faces, how many are grouped, '
    'and their persons (name, else id).';

-------------------------------------------------------------------------------
-- faces_moved: the trigger that keeps persons' sums and counts as faces join and leave
-- them, drops persons left with no face, and gives a person whose cover face left a new
-- one. A face that moves or comes is added or subtracted with its embedding; deleted faces
-- took their embeddings along (a cascade, before this trigger runs), so the persons they
-- left are summed again from the faces they keep.
create or replace function photo_ai.faces_moved()
returns trigger
language plpgsql security definer
set search_path to pg_catalog, pg_temp
as $func$
declare
    _touched uuid[] := '{}';
begin
    if tg_op = 'DELETE' then
        _touched := array(select distinct o.person_id from old_rows o where o.person_id is not null);
        perform photo_ai.sum_persons_again(_touched);
    end if;
    if tg_op = 'UPDATE' then
        update photo_ai.person p
        set face_count = p.face_count - d.faces
          , embedding_sum = p.embedding_sum operator(public.-) d.total, updated_at = pg_catalog.now()
        from (select o.person_id, count(*)::int as faces, public.sum(e.embedding) as total
              from old_rows o join photo_ai.face_embedding e on e.face_id = o.id
              where o.person_id is not null group by 1 order by 1) d
        where p.id = d.person_id;
        _touched := array(select distinct o.person_id from old_rows o where o.person_id is not null);
    end if;
    if tg_op <> 'DELETE' then
        update photo_ai.person p
        set face_count = p.face_count + d.faces
          , embedding_sum = p.embedding_sum operator(public.+) d.total, updated_at = pg_catalog.now()
        from (select n.person_id, count(*)::int as faces, public.sum(e.embedding) as total
              from new_rows n join photo_ai.face_embedding e on e.face_id = n.id
              where n.person_id is not null group by 1 order by 1) d
        where p.id = d.person_id;
        _touched := _touched || array(select distinct n.person_id from new_rows n where n.person_id is not null);
    end if;
    if pg_catalog.cardinality(_touched) > 0 then
        perform photo_ai.tidy_persons(_touched);
    end if;
    return null;
end
$func$;
comment on function photo_ai.faces_moved() is
    'Trigger on photo_ai.face: keeps each person''s face count and embedding sum as faces '
    'come, go and move, and tidies the persons touched (photo_ai.tidy_persons).';

create or replace function photo_ai.sum_persons_again(_person_ids uuid[])
returns void
language sql volatile
set search_path to pg_catalog, pg_temp
as $func$
    update photo_ai.person p
    set face_count = d.faces
      , embedding_sum = coalesce(d.total, photo_ai.empty_embedding_sum())
      , updated_at = pg_catalog.now()
    from (select q.id, count(f.id)::int as faces, public.sum(e.embedding) as total
          from pg_catalog.unnest(_person_ids) q(id)
          left join photo_ai.face f on f.person_id = q.id
          left join photo_ai.face_embedding e on e.face_id = f.id
          group by q.id order by q.id) d
    where p.id = d.id
$func$;
comment on function photo_ai.sum_persons_again(uuid[]) is
    'Counts and sums the faces of the given persons afresh (after faces were deleted, with '
    'their embeddings).';

create or replace function photo_ai.tidy_persons(_person_ids uuid[])
returns void
language sql volatile
set search_path to pg_catalog, pg_temp
as $func$
    delete from photo_ai.person p where p.id = any(_person_ids) and p.face_count <= 0;
    update photo_ai.person p
    set cover_face_id = (select f.id from photo_ai.face f where f.person_id = p.id
                         order by f.score desc, f.id limit 1)
    where p.id = any(_person_ids)
      and not exists (select 1 from photo_ai.face f where f.id = p.cover_face_id and f.person_id = p.id);
$func$;
comment on function photo_ai.tidy_persons(uuid[]) is
    'Deletes the given persons that have no face left, and gives those whose cover face '
    'left them their clearest face as cover.';
