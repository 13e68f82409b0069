-- People: faces grouped into persons. A person belongs to one owner (NULL: the standalone
-- library, which photo-ai import writes with no owner). Its faces' embeddings are summed
-- in embedding_sum, so the cosine distance to it is the distance to their mean (cosine
-- ignores length): a new face is compared with a person's mean in one step, and the sum
-- is kept up to date by adding and subtracting (sql/triggers/003_people.sql).
create table photo_ai.person
( id uuid not null primary key default pg_catalog.gen_random_uuid()
, owner_id uuid
, name text not null default '' check (pg_catalog.length(name) <= 200)
, birth_date date
, hidden boolean not null default false
, cover_face_id bigint
, face_count int not null default 0
, embedding_sum public.vector(512) not null
, created_at timestamptz not null default pg_catalog.now()
, updated_at timestamptz not null default pg_catalog.now()
);
-- A 512-d vector is just over PostgreSQL's TOAST threshold: kept in the row (PLAIN), it is
-- read and rewritten without a trip to the TOAST table on every face that joins; the room
-- left in each page lets those updates stay on their page (HOT).
alter table photo_ai.person alter column embedding_sum set storage plain, set (fillfactor = 50);
create index person_owner_idx on photo_ai.person (owner_id);
create index person_name_idx on photo_ai.person (pg_catalog.lower(name)) where name <> '';
comment on table photo_ai.person is
    'A person: faces of one owner grouped by photo_ai or put there by a person. Named '
    'persons and faces a person placed are never changed by the grouping.';
select pg_catalog.pg_extension_config_dump('photo_ai.person', '');

-- A face's embedding moves to a table of its own, with the HNSW index of the grouping's
-- nearest faces: grouping a face updates its row, and an update of a row under an HNSW
-- index writes a new index entry (2-3 ms at 100k faces, measured with bench/people.py).
create table photo_ai.face_embedding
( face_id bigint not null primary key references photo_ai.face (id) on delete cascade
, embedding public.vector(512) not null
);
alter table photo_ai.face_embedding alter column embedding set storage plain;
insert into photo_ai.face_embedding (face_id, embedding) select f.id, f.embedding from photo_ai.face f;
alter table photo_ai.face drop column embedding;
create index face_embedding_hnsw_idx on photo_ai.face_embedding
    using hnsw (embedding public.vector_cosine_ops);
comment on table photo_ai.face_embedding is
    'Each face''s ArcFace embedding (photo_ai.face holds its box, score and person).';
select pg_catalog.pg_extension_config_dump('photo_ai.face_embedding', '');

-- person_decided: a person put this face where it is (with someone, or with nobody); the
-- grouping never moves it. A face with no person and not decided is waiting to be grouped.
alter table photo_ai.face
    add column person_id uuid references photo_ai.person (id) on delete set null
  , add column person_decided boolean not null default false;
create index face_person_idx on photo_ai.face (person_id);
create index face_ungrouped_idx on photo_ai.face (id) where person_id is null and not person_decided;

-- A search may keep only the photos of some persons: the arms keep the photos listed here.
alter type photo_ai.search_filter add attribute asset_ids uuid[];
-- parse_search says which persons a query names: its result gains a column.
drop function if exists photo_ai.parse_search(text);
