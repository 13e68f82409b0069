-------------------------------------------------------------------------------
-- What a person does with people: name, merge, move a face, hide, give a birth date (admin);
-- list persons, a person's photos, "who is this?" (reader). What a person decides is a fact
-- the grouping never undoes: it only ever groups faces that wait (sql/functions/035).

-------------------------------------------------------------------------------
-- person_row: a person, locked for its owner's grouping, or a readable error
create or replace function photo_ai.person_row(_person_id uuid)
returns photo_ai.person
language plpgsql volatile
set search_path to pg_catalog, pg_temp
as $func$
declare
    _person photo_ai.person;
begin
    select * into _person from photo_ai.person p where p.id = _person_id;
    if not found then
        raise exception 'photo_ai: there is no person %', _person_id using errcode = 'no_data_found';
    end if;
    perform photo_ai.lock_people(_person.owner_id);
    select * into _person from photo_ai.person p where p.id = _person_id for no key update;
    if not found then
        raise exception 'photo_ai: person % went while it was changed', _person_id
            using errcode = 'no_data_found';
    end if;
    return _person;
end
$func$;
comment on function photo_ai.person_row(uuid) is
    'A person''s row, under its owner''s grouping lock and its own row lock; an error names '
    'a person that does not exist.';

-------------------------------------------------------------------------------
-- name_person, hide_person: what the people list shows of a person
create or replace function photo_ai.name_person(person_id uuid, name text)
returns void
language sql volatile security definer
set search_path to pg_catalog, pg_temp
as $func$
    select photo_ai.change_person(person_id, _name => pg_catalog.btrim(coalesce(name, '')))
$func$;
comment on function photo_ai.name_person(uuid, text) is
    'Names a person (an empty name takes the name away). person: searches find it by name.';

create or replace function photo_ai.hide_person(person_id uuid, hidden boolean default true)
returns void
language sql volatile security definer
set search_path to pg_catalog, pg_temp
as $func$
    select photo_ai.change_person(person_id, _hidden => coalesce(hidden, true))
$func$;
comment on function photo_ai.hide_person(uuid, boolean) is
    'Hides a person from the people list and "who is this?" (false shows it again); its '
    'faces stay with it and person: still finds it by name.';

create or replace function photo_ai.change_person(_person_id uuid, _name text default null, _hidden boolean default null)
returns void
language plpgsql volatile
set search_path to pg_catalog, pg_temp
as $func$
begin
    perform photo_ai.person_row(_person_id);
    update photo_ai.person p
    set name = coalesce(_name, p.name), hidden = coalesce(_hidden, p.hidden), updated_at = pg_catalog.now()
    where p.id = _person_id;
end
$func$;
comment on function photo_ai.change_person(uuid, text, boolean) is
    'Changes a person''s name or hidden flag (what is given), under its owner''s grouping lock.';

-------------------------------------------------------------------------------
-- set_birth_date: faces in photos taken before it never join the person. Faces the
-- grouping put there wait again (they may belong to a parent); faces a person put there
-- are facts, so the date is refused while any of them is older.
create or replace function photo_ai.set_birth_date(person_id uuid, birth_date date)
returns void
language plpgsql volatile security definer
set search_path to pg_catalog, pg_temp
as $func$
declare
    _older int;
begin
    perform photo_ai.person_row(set_birth_date.person_id);
    select count(*) into _older
    from photo_ai.face f join photo_ai.source_asset a on a.id = f.asset_id
    where f.person_id = set_birth_date.person_id and f.person_decided
      and a.taken_at < set_birth_date.birth_date;
    if _older > 0 then
        raise exception 'photo_ai: % face(s) placed with this person by hand are in photos taken '
                        'before %', _older, set_birth_date.birth_date
            using hint = 'Move them to another person or to nobody first (photo_ai.move_face).';
    end if;
    update photo_ai.person p set birth_date = set_birth_date.birth_date, updated_at = pg_catalog.now()
    where p.id = set_birth_date.person_id;
    update photo_ai.face f set person_id = null
    from photo_ai.source_asset a
    where a.id = f.asset_id and f.person_id = set_birth_date.person_id
      and a.taken_at < set_birth_date.birth_date;
end
$func$;
comment on function photo_ai.set_birth_date(uuid, date) is
    'Gives a person a birth date (NULL: none): faces in photos taken before it never join '
    'the person, and those the grouping put there wait to be grouped again.';

-------------------------------------------------------------------------------
-- merge_persons: one person where there were two (the grouping split someone)
create or replace function photo_ai.merge_persons(keep uuid, merge uuid)
returns void
language plpgsql volatile security definer
set search_path to pg_catalog, pg_temp
as $func$
declare
    _keep photo_ai.person;
    _merge photo_ai.person;
begin
    if keep = merge then
        raise exception 'photo_ai: a person cannot be merged into itself';
    end if;
    -- both locked in one order, whatever the order of the arguments
    perform photo_ai.person_row(least(keep, merge));
    perform photo_ai.person_row(greatest(keep, merge));
    select * into _keep from photo_ai.person p where p.id = keep;
    select * into _merge from photo_ai.person p where p.id = merge;
    if _keep.owner_id is distinct from _merge.owner_id then
        raise exception 'photo_ai: persons % and % belong to different owners', keep, merge;
    end if;
    update photo_ai.person p
    set name = coalesce(nullif(p.name, ''), _merge.name)
      , birth_date = coalesce(p.birth_date, _merge.birth_date)
      , updated_at = pg_catalog.now()
    where p.id = keep;
    -- the merged person goes when its last face leaves (photo_ai.tidy_persons)
    update photo_ai.face f set person_id = keep where f.person_id = merge;
end
$func$;
comment on function photo_ai.merge_persons(uuid, uuid) is
    'Moves every face of person merge to person keep, which keeps its name and birth date '
    '(or takes those of merge when it has none); merge is gone.';

-------------------------------------------------------------------------------
-- move_face: a face to another person, or to nobody (NULL); the grouping leaves it there
create or replace function photo_ai.move_face(face_id bigint, person_id uuid)
returns void
language plpgsql volatile security definer
set search_path to pg_catalog, pg_temp
as $func$
declare
    _face record;
    _person photo_ai.person;
begin
    select f.id, a.owner_id, a.taken_at into _face
    from photo_ai.face f join photo_ai.source_asset a on a.id = f.asset_id
    where f.id = move_face.face_id;
    if not found then
        raise exception 'photo_ai: there is no face %', move_face.face_id using errcode = 'no_data_found';
    end if;
    perform photo_ai.lock_people(_face.owner_id);
    if move_face.person_id is not null then
        _person := photo_ai.person_row(move_face.person_id);
        if _person.owner_id is distinct from _face.owner_id then
            raise exception 'photo_ai: face % and person % belong to different owners',
                move_face.face_id, move_face.person_id;
        end if;
        if _face.taken_at < _person.birth_date then
            raise exception 'photo_ai: face % is in a photo taken before %''s birth date (%)',
                move_face.face_id, coalesce(nullif(_person.name, ''), _person.id::text), _person.birth_date;
        end if;
    end if;
    update photo_ai.face f set person_id = move_face.person_id, person_decided = true
    where f.id = move_face.face_id;
end
$func$;
comment on function photo_ai.move_face(bigint, uuid) is
    'Puts a face with a person, or with nobody (NULL): a decision the grouping never undoes. '
    'The face''s photo must be of the person''s owner and not older than its birth date.';

-------------------------------------------------------------------------------
-- new_person: a person made by hand from one face (someone the grouping has not found)
create or replace function photo_ai.new_person(face_id bigint, name text default '')
returns uuid
language plpgsql volatile security definer
set search_path to pg_catalog, pg_temp
as $func$
declare
    _person uuid;
begin
    insert into photo_ai.person (owner_id, name, embedding_sum)
    select a.owner_id, pg_catalog.btrim(coalesce(new_person.name, '')),
           photo_ai.empty_embedding_sum()
    from photo_ai.face f
    join photo_ai.face_embedding e on e.face_id = f.id
    join photo_ai.source_asset a on a.id = f.asset_id
    where f.id = new_person.face_id
    returning id into _person;
    if _person is null then
        raise exception 'photo_ai: there is no face %', new_person.face_id using errcode = 'no_data_found';
    end if;
    perform photo_ai.move_face(new_person.face_id, _person);
    return _person;
end
$func$;
comment on function photo_ai.new_person(bigint, text) is
    'Makes a new person of one face (and names it): the face is placed there by hand.';

-------------------------------------------------------------------------------
-- persons: the people list, most faces first
create or replace function photo_ai.persons
(owner_id uuid default null, include_hidden boolean default false, of_person uuid default null)
returns table (person_id uuid, name text, birth_date date, hidden boolean, faces int,
               cover_face_id bigint, cover_asset_id uuid, cover_box real[],
               cover_image_width int, cover_image_height int)
language sql stable security definer
set search_path to pg_catalog, pg_temp
as $func$
    select p.id, p.name, p.birth_date, p.hidden, p.face_count, p.cover_face_id, f.asset_id, f.box
         , s.image_width, s.image_height
    from photo_ai.person p
    left join photo_ai.face f on f.id = p.cover_face_id
    left join photo_ai.face_scan s on s.asset_id = f.asset_id
    where (persons.owner_id is null or p.owner_id = persons.owner_id)
      and (include_hidden or not p.hidden)
      and (of_person is null or p.id = of_person)
    order by p.name = '', p.face_count desc, p.name, p.id
$func$;
comment on function photo_ai.persons(uuid, boolean, uuid) is
    'The persons (of one owner, or all, or the one of_person names), named first, then by '
    'how many faces they have; each with its cover face (photo, box, and the size of the '
    'image the box is in). Hidden persons only when asked for.';

-------------------------------------------------------------------------------
-- person_photos: a person's photos in the order they were taken, newest first
create or replace function photo_ai.person_photos(person_id uuid, max_results int default 100, skip int default 0)
returns table (asset_id uuid, taken_at timestamptz, face_id bigint, box real[])
language sql stable security definer
set search_path to pg_catalog, pg_temp
as $func$
    select distinct on (a.taken_at, a.id) a.id, a.taken_at, f.id, f.box
    from photo_ai.face f join photo_ai.source_asset a on a.id = f.asset_id
    where f.person_id = person_photos.person_id and a.deleted_at is null
    order by a.taken_at desc, a.id, f.score desc
    limit greatest(max_results, 0) offset greatest(skip, 0)
$func$;
comment on function photo_ai.person_photos(uuid, int, int) is
    'A person''s photos, newest first (trashed ones left out), with the person''s face in each.';

-------------------------------------------------------------------------------
-- who_is_this: the named persons a face looks most like (nearest mean first)
create or replace function photo_ai.who_is_this(face_id bigint, max_results int default 3)
returns table (person_id uuid, name text, distance float8)
language sql stable security definer
set search_path to pg_catalog, pg_temp
as $func$
    select p.id, p.name, p.embedding_sum operator(public.<=>) e.embedding
    from photo_ai.face f
    join photo_ai.face_embedding e on e.face_id = f.id
    join photo_ai.source_asset a on a.id = f.asset_id
    join photo_ai.person p on p.owner_id is not distinct from a.owner_id
    where f.id = who_is_this.face_id and p.name <> '' and not p.hidden
      and (p.birth_date is null or a.taken_at >= p.birth_date)
    order by 3, p.id
    limit greatest(max_results, 0)
$func$;
comment on function photo_ai.who_is_this(bigint, int) is
    'The named, visible persons of the face''s owner nearest to the face (by the cosine '
    'distance to the mean of their faces), nearest first.';
