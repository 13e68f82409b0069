-- Labels and tags: zero-shot tags from the CLIP embeddings already stored. A label is a
-- name in Chinese and English; its text embedding is computed once per CLIP model (the
-- average over prompt templates and the label's names); a photo's tags are the labels its
-- embedding matches best, scored by a softmax over the whole vocabulary.
create table photo_ai.label
( name text not null primary key
      check (name ~ '\S' and name = pg_catalog.btrim(name) and pg_catalog.length(name) <= 100)
, name_en text not null
      check (name_en ~ '\S' and name_en = pg_catalog.btrim(name_en) and pg_catalog.length(name_en) <= 100)
, category text not null default 'own'
-- other names, in either language: embedded with the name, and found by search and tag:
, synonyms text[] not null default '{}'
-- rows the extension owns: written again by every install and upgrade
, built_in boolean not null default false
-- a built-in label a person removed stays here, removed, so an upgrade does not bring it back
, removed boolean not null default false
, added_at timestamptz not null default pg_catalog.now()
);
create unique index label_name_en_idx on photo_ai.label (pg_catalog.lower(name_en));
comment on table photo_ai.label is
    'The vocabulary of tags: a Chinese name (the key), an English name, synonyms. Built-in '
    'labels come with the extension; photo_ai.add_label() and remove_label() change it.';
select pg_catalog.pg_extension_config_dump('photo_ai.label', 'where not built_in or removed');

-- Computed through the sidecar's /v1/clip/text; kept per model, so that a library embedded
-- with another model gets its own.
create table photo_ai.label_embedding
( model text not null
, label text not null references photo_ai.label (name) on delete cascade
, embedding public.vector(512) not null
, computed_at timestamptz not null default pg_catalog.now()
, primary key (model, label)
);
-- Kept in the row (PLAIN): every photo's tags read all of them, and a 512-d vector is just
-- over the TOAST threshold (a trip to the TOAST table per label and photo tripled the cost).
alter table photo_ai.label_embedding alter column embedding set storage plain;
comment on table photo_ai.label_embedding is
    'Each label''s CLIP text embedding per model: the normalised mean over the prompt '
    'templates (setting label_templates) filled with its Chinese names.';
select pg_catalog.pg_extension_config_dump('photo_ai.label_embedding', '');

create table photo_ai.asset_tag
( asset_id uuid not null
, label text not null references photo_ai.label (name) on delete cascade
-- the softmax over the vocabulary at CLIP's logit scale: how sure, among all labels
, probability real not null
-- the cosine similarity of the photo's and the label's embeddings
, similarity real not null
, primary key (asset_id, label)
);
create index asset_tag_label_idx on photo_ai.asset_tag (label, probability desc);
comment on table photo_ai.asset_tag is
    'A photo''s tags: the labels whose probability passes tag_min_probability (at most '
    'tag_limit), computed by the tags task from its CLIP embedding.';
select pg_catalog.pg_extension_config_dump('photo_ai.asset_tag', '');

-- What a photo's tags were computed against: the log of the softmax's denominator (the
-- log-sum-exp of every label's logit), and when. A label added later changes it by one
-- term, so the library takes a new label with one distance a photo (apply_new_labels)
-- instead of a product with the whole vocabulary.
create table photo_ai.tag_basis
( asset_id uuid not null primary key
, model text not null
, log_partition float8 not null
, computed_at timestamptz not null default pg_catalog.clock_timestamp()
);
comment on table photo_ai.tag_basis is
    'Per photo, the softmax denominator its tags were computed with (log-sum-exp of the '
    'logits over the vocabulary) and when: what lets a new label apply incrementally.';
select pg_catalog.pg_extension_config_dump('photo_ai.tag_basis', '');

-- The stored description and what of it search reads: the tags' names in both languages
-- and their synonyms, weighted by probability (the OCR text has its own, stronger arm).
create table photo_ai.asset_description
( asset_id uuid not null primary key
, description text not null
, description_en text not null
, tsv tsvector not null
, updated_at timestamptz not null default pg_catalog.now()
);
create index asset_description_tsv_idx on photo_ai.asset_description using gin (tsv);
comment on table photo_ai.asset_description is
    'A photo''s description in Chinese and English as of its tags'' last computation, and '
    'the search vector of its tags (the description arm of hybrid_search).';
select pg_catalog.pg_extension_config_dump('photo_ai.asset_description', '');

-- A task may need something before its jobs can run (the tags task: its vocabulary
-- embedded for the photos' model). The worker calls this function before it claims; while
-- it is not ready a problem row names why and holds the task's jobs.
alter table photo_ai.task add column prepare regprocedure;

-- A search may keep only photos with some tags: the parse says which.
drop function if exists photo_ai.parse_search(text);

insert into photo_ai.setting_default (name, value, description) values
  ('tag_min_probability', '0.1',
   'a label becomes a tag of a photo when its probability (softmax over the vocabulary) '
   'is at least this')
, ('tag_limit', '6', 'at most this many tags per photo, the most probable first')
, ('tag_logit_scale', '100',
   'CLIP''s logit scale: similarities times this are the softmax''s logits (Chinese-CLIP '
   'learns 100)')
, ('label_templates', '["一张{}的照片。", "{}的照片。", "一张{}的图片。", "这是{}。"]',
   'prompt templates whose text embeddings, filled with a label''s names, are averaged '
   'into the label''s embedding ({} is the name)')
, ('description_weight', '0.5',
   'the weight of the description arm (tags) in hybrid_search, as a share of text_weight: '
   'below printed text');
