-------------------------------------------------------------------------------
-- The vocabulary of tags: labels, their text embeddings, and what a change to them sets in
-- motion. A label is embedded once per CLIP model by the worker (the tags task's
-- preparation, photo_ai.embed_labels); whenever the vocabulary changes, the tags of every
-- photo are computed again in the background from the embeddings already stored: no image
-- goes to the sidecar again.

-------------------------------------------------------------------------------
-- vocabulary: the labels in use
create or replace view photo_ai.vocabulary as
select l.name, l.name_en, l.category, l.synonyms, l.built_in
from photo_ai.label l
where not l.removed;
comment on view photo_ai.vocabulary is
    'The labels photos are tagged with: the built-in ones nobody removed, and those people added.';

-------------------------------------------------------------------------------
-- label_prompts: the texts whose embeddings make a label's: every template filled with
-- every name of the label that CLIP's Chinese text encoder reads (its Chinese names)
create or replace function photo_ai.label_prompts(_name text, _synonyms text[])
returns text[]
language sql stable
set search_path to pg_catalog, pg_temp
as $func$
    select array(
        select pg_catalog.replace(t.template, '{}', n.name)
        from pg_catalog.jsonb_array_elements_text(photo_ai.setting('label_templates'))
             with ordinality t(template, i)
        cross join lateral (
            select _name as name, 0 as j
            union all
            select s, j from pg_catalog.unnest(_synonyms) with ordinality s(s, j)
            where photo_ai.is_cjk_text(s)) n
        order by n.j, t.i)
$func$;
comment on function photo_ai.label_prompts(text, text[]) is
    'The prompts a label''s embedding averages: each of label_templates filled with the '
    'label''s name and each of its Chinese synonyms.';

-------------------------------------------------------------------------------
-- labels_to_embed: the labels in use that have no embedding for a model yet
create or replace function photo_ai.labels_to_embed(_model text, _limit int)
returns setof photo_ai.label
language sql stable
set search_path to pg_catalog, pg_temp
as $func$
    select l.* from photo_ai.label l
    where not l.removed
      and not exists (select 1 from photo_ai.label_embedding e
                      where e.model = _model and e.label = l.name)
    order by l.name
    limit _limit
$func$;
comment on function photo_ai.labels_to_embed(text, int) is
    'Labels in use with no embedding for the given model, up to _limit.';

-------------------------------------------------------------------------------
-- embed_labels: the tags task's preparation. Embeds the labels that lack an embedding for
-- the photos' model through the sidecar, a few per request, for up to 5 seconds a call
-- (the worker calls again before its next claim). NULL when the vocabulary is ready;
-- otherwise {kind, detail}: 'preparing' while it progresses, or the sidecar's problem.
create or replace function photo_ai.embed_labels()
returns jsonb
language plpgsql volatile security definer
set search_path to pg_catalog, pg_temp
as $func$
declare
    _model text := photo_ai.photos_clip_model();
    _until timestamptz := pg_catalog.clock_timestamp() + interval '5 seconds';
    _labels photo_ai.label[];
    _prompts jsonb;
    _embedded record;
begin
    if _model is null or not exists (select 1 from photo_ai.labels_to_embed(_model, 1)) then
        return null;  -- nothing to tag yet, or nothing to embed
    end if;
    -- one worker embeds at a time; the others find the work in progress
    if not pg_catalog.pg_try_advisory_xact_lock(pg_catalog.hashtext('photo_ai.embed_labels')) then
        return pg_catalog.jsonb_build_object('kind', 'preparing', 'detail',
            'another worker is embedding the vocabulary');
    end if;
    while pg_catalog.clock_timestamp() < _until loop
        _labels := array(select l from photo_ai.labels_to_embed(_model, 16) l);
        exit when pg_catalog.cardinality(_labels) = 0;
        _prompts := (select pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(
                         'label', l.name, 'prompts', photo_ai.label_prompts(l.name, l.synonyms)))
                     from pg_catalog.unnest(_labels) l);
        select * into _embedded from photo_ai.clip_text_embeddings(
            array(select pg_catalog.jsonb_array_elements_text(p->'prompts')
                  from pg_catalog.jsonb_array_elements(_prompts) with ordinality e(p, i) order by i),
            _model);
        if _embedded.problem is not null then
            return pg_catalog.jsonb_build_object('kind', _embedded.kind, 'detail',
                'the vocabulary cannot be embedded: ' || _embedded.problem);
        end if;
        perform photo_ai.store_label_embeddings(_model, _prompts, _embedded.embeddings);
    end loop;
    if exists (select 1 from photo_ai.labels_to_embed(_model, 1)) then
        return pg_catalog.jsonb_build_object('kind', 'preparing', 'detail', pg_catalog.format(
            'embedding the vocabulary for %s: %s of %s labels done', _model,
            (select count(*) from photo_ai.label_embedding e where e.model = _model),
            (select count(*) from photo_ai.vocabulary)));
    end if;
    perform photo_ai.apply_new_labels(_model);
    -- photos tagged before against another vocabulary (none of theirs is complete yet)
    perform photo_ai.enqueue(array(
        select c.asset_id from photo_ai.image_embedding c
        where c.model = _model
          and not exists (select 1 from photo_ai.tag_basis b where b.asset_id = c.asset_id
                                                               and b.model = _model)
          and exists (select 1 from photo_ai.job j where j.asset_id = c.asset_id
                                                     and j.task = 'tags' and j.state = 'done')),
        array['tags'], -1::smallint);
    return null;
end
$func$;
comment on function photo_ai.embed_labels() is
    'The tags task''s preparation: embeds labels that have no embedding for the photos'' CLIP '
    'model (5 s a call); when the vocabulary is complete, applies the new labels to the '
    'photos tagged before. NULL when ready, else {kind, detail}.';

-------------------------------------------------------------------------------
-- store_label_embeddings: each label's embedding is the normalised mean of its prompts'
create or replace function photo_ai.store_label_embeddings(_model text, _prompts jsonb, _embeddings jsonb)
returns int
language sql volatile
set search_path to pg_catalog, pg_temp
as $func$
    with prompt as (
        select p.label, (_embeddings->(p.n - 1)::int)::text::public.vector as embedding
        from (select e.p->>'label' as label, row_number() over (order by e.i, t.j) as n
              from pg_catalog.jsonb_array_elements(_prompts) with ordinality e(p, i)
              cross join lateral pg_catalog.jsonb_array_elements_text(e.p->'prompts')
                   with ordinality t(prompt, j)) p
    ), stored as (
        insert into photo_ai.label_embedding as e (model, label, embedding)
        select _model, p.label, public.l2_normalize(public.avg(p.embedding))
        from prompt p
        group by p.label
        on conflict (model, label) do update
            set embedding = excluded.embedding, computed_at = pg_catalog.now()
        returning 1
    )
    select count(*)::int from stored
$func$;
comment on function photo_ai.store_label_embeddings(text, jsonb, jsonb) is
    'Stores each label''s embedding: the normalised mean of the embeddings of its prompts '
    '(_prompts: [{label, prompts}], _embeddings: one per prompt, in order).';

-------------------------------------------------------------------------------
-- apply_new_labels: labels embedded after a photo's tags were computed join its softmax
-- by one term each: the denominator grows (tag_basis), every probability shrinks by the
-- same factor, the new labels get theirs, and the rule (tag_min_probability, tag_limit)
-- is applied again. Exact, and one distance per photo and new label instead of a product
-- with the whole vocabulary. Descriptions are written again where the tags changed.
create or replace function photo_ai.apply_new_labels(_model text)
returns int
language plpgsql volatile security definer
set search_path to pg_catalog, pg_temp
as $func$
declare
    _scale float8 := photo_ai.setting('tag_logit_scale')::text::float8;
    _min_probability float8 := photo_ai.setting('tag_min_probability')::text::float8;
    _max_tags int := photo_ai.setting('tag_limit')::text::int;
    _changed uuid[];
begin
    create temporary table new_scores on commit drop as
    select b.asset_id, e.label
         , 1 - (e.embedding operator(public.<=>) c.embedding) as similarity
    from photo_ai.tag_basis b
    join photo_ai.image_embedding c on c.asset_id = b.asset_id and c.model = _model
    join photo_ai.label_embedding e on e.model = _model and e.computed_at > b.computed_at
    join photo_ai.label l on l.name = e.label and not l.removed
    where b.model = _model;
    if not exists (select 1 from new_scores) then
        drop table new_scores;
        return 0;
    end if;
    -- the denominator: log(exp(old) + sum of exp(new logits)), less the largest for exp()
    update photo_ai.tag_basis b
    set log_partition = x.top + pg_catalog.ln(pg_catalog.exp(b.log_partition - x.top) + x.added)
      , computed_at = pg_catalog.clock_timestamp()
    from (select s.asset_id, s.top, sum(pg_catalog.exp(_scale * n.similarity - s.top)) as added
          from (select n.asset_id, greatest(o.log_partition, _scale * max(n.similarity)) as top
                from new_scores n
                join photo_ai.tag_basis o on o.asset_id = n.asset_id
                group by n.asset_id, o.log_partition) s
          join new_scores n on n.asset_id = s.asset_id
          group by s.asset_id, s.top) x
    where b.asset_id = x.asset_id;
    -- every tag's probability shrinks by the same factor; the new labels get theirs
    update photo_ai.asset_tag t
    set probability = pg_catalog.exp(_scale * t.similarity - b.log_partition)
    from photo_ai.tag_basis b
    where b.asset_id = t.asset_id and t.asset_id in (select n.asset_id from new_scores n);
    with added as (
        insert into photo_ai.asset_tag as t (asset_id, label, probability, similarity)
        select n.asset_id, n.label, pg_catalog.exp(_scale * n.similarity - b.log_partition), n.similarity
        from new_scores n
        join photo_ai.tag_basis b on b.asset_id = n.asset_id
        where pg_catalog.exp(_scale * n.similarity - b.log_partition) >= _min_probability
        on conflict (asset_id, label) do update
            set probability = excluded.probability, similarity = excluded.similarity
        returning t.asset_id
    )
    select array(select distinct a.asset_id from added a) into _changed;
    -- the rule again: what fell below the threshold or past the limit goes
    with ruled_out as (
        delete from photo_ai.asset_tag t
        using (select a.asset_id, a.label, a.probability
                    , row_number() over (partition by a.asset_id
                                         order by a.probability desc, a.label) as place
               from photo_ai.asset_tag a
               where a.asset_id in (select n.asset_id from new_scores n)) r
        where t.asset_id = r.asset_id and t.label = r.label
          and (r.probability < _min_probability or r.place > _max_tags)
        returning t.asset_id
    )
    select _changed || array(select distinct o.asset_id from ruled_out o) into _changed;
    drop table new_scores;
    perform photo_ai.write_description(d.c) from (select distinct c from pg_catalog.unnest(_changed) c) d;
    return (select count(distinct c) from pg_catalog.unnest(_changed) c);
end
$func$;
comment on function photo_ai.apply_new_labels(text) is
    'Applies labels embedded after photos were tagged to those photos, from their stored '
    'softmax denominators (tag_basis): exact, one distance a photo and label. Returns how '
    'many photos'' tags changed.';

-------------------------------------------------------------------------------
-- tag_library_again: every photo with a CLIP embedding is tagged again, after the photos
-- that arrive meanwhile (a lower priority), as the vocabulary changed
create or replace function photo_ai.tag_library_again()
returns bigint
language plpgsql volatile security definer
set search_path to pg_catalog, pg_temp
as $func$
begin
    if not 'tags' = any(photo_ai.enabled_tasks()) then
        return 0;
    end if;
    return photo_ai.enqueue(array(select c.asset_id from photo_ai.image_embedding c),
                            array['tags'], -1::smallint);
end
$func$;
comment on function photo_ai.tag_library_again() is
    'Queues the tags task for every photo with a CLIP embedding, after new photos: the '
    'vocabulary changed. Returns how many jobs were queued.';

-------------------------------------------------------------------------------
-- add_label: a person's own label (or a removed built-in one, back in use); the worker
-- embeds it and tags the library again
create or replace function photo_ai.add_label
( name text
, name_en text
, synonyms text[] default '{}'
)
returns photo_ai.label
language plpgsql volatile security definer
set search_path to pg_catalog, pg_temp
as $func$
declare
    _label photo_ai.label;
    _in_use boolean := exists (select 1 from photo_ai.vocabulary v
                               where v.name = pg_catalog.btrim(add_label.name));
begin
    if pg_catalog.btrim(coalesce(add_label.name, '')) = ''
       or pg_catalog.btrim(coalesce(add_label.name_en, '')) = '' then
        raise exception 'photo_ai: a label needs a name and an English name (given: %, %)',
            add_label.name, add_label.name_en;
    end if;
    insert into photo_ai.label as l (name, name_en, synonyms)
    values (pg_catalog.btrim(add_label.name), pg_catalog.btrim(add_label.name_en),
            coalesce(add_label.synonyms, '{}'))
    on conflict on constraint label_pkey do update
        set name_en = excluded.name_en, synonyms = excluded.synonyms, removed = false
    returning * into _label;
    -- its names changed: its embedding is computed again, and the photos' tags, which
    -- counted its old one, from scratch (a new label joins them incrementally instead)
    delete from photo_ai.label_embedding e where e.label = _label.name;
    if _in_use then
        perform photo_ai.tag_library_again();
    end if;
    perform pg_catalog.pg_notify('photo_ai_jobs', '');
    return _label;
exception when unique_violation then
    raise exception 'photo_ai: another label is already called % in English', add_label.name_en;
end
$func$;
comment on function photo_ai.add_label(text, text, text[]) is
    'Adds a label to the vocabulary (or changes one, or takes back a removed built-in one). '
    'The worker embeds it through the sidecar and tags the library again from the stored '
    'CLIP embeddings.';

-------------------------------------------------------------------------------
-- remove_label: by its Chinese or English name; a built-in label stays known as removed
create or replace function photo_ai.remove_label(name text)
returns boolean
language plpgsql volatile security definer
set search_path to pg_catalog, pg_temp
as $func$
declare
    _name text := (select l.name from photo_ai.label l
                   where not l.removed and (l.name = pg_catalog.btrim(remove_label.name)
                         or pg_catalog.lower(l.name_en) = pg_catalog.lower(pg_catalog.btrim(remove_label.name))));
begin
    if _name is null then
        return false;
    end if;
    delete from photo_ai.label l where l.name = _name and not l.built_in;
    update photo_ai.label l set removed = true where l.name = _name;
    delete from photo_ai.label_embedding e where e.label = _name;
    delete from photo_ai.asset_tag t where t.label = _name;
    perform photo_ai.tag_library_again();
    return true;
end
$func$;
comment on function photo_ai.remove_label(text) is
    'Removes a label (named in Chinese or English) from the vocabulary: its tags go at once '
    'and the library is tagged again in the background. False when no label has that name.';
