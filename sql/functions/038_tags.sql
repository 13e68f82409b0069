-------------------------------------------------------------------------------
-- The tags task: a photo's tags from its CLIP embedding, one matrix product against the
-- vocabulary's embeddings. Calibration is CLIP's own zero-shot rule: a softmax over the
-- whole vocabulary of the similarities times the logit scale. A probability is comparable
-- across labels and models, and a photo that matches nothing in particular spreads its
-- probability thin and gets no tag, where a fixed similarity threshold would tag it
-- anyway (ARCHITECTURE.md, "Tags").

-------------------------------------------------------------------------------
-- tags_of: the task's compute function,
-- {model, log_partition, tags: [{label, probability, similarity}]}
create or replace function photo_ai.tags_of(_asset_id uuid)
returns jsonb
language sql stable
set search_path to pg_catalog, pg_temp
as $func$
    with rule as materialized (  -- the settings, read once and not for every label
        select photo_ai.setting('tag_logit_scale')::text::float8 as scale
             , photo_ai.setting('tag_min_probability')::text::float8 as min_probability
             , photo_ai.setting('tag_limit')::text::int as max_tags
    ), photo as materialized (
        -- a copy in memory (the embedding is unit length already): the stored one is
        -- TOASTed, and each label's distance would fetch it from there again
        select c.model, public.l2_normalize(c.embedding) as embedding
        from photo_ai.image_embedding c where c.asset_id = _asset_id
    ), scored as materialized (  -- each distance once
        select e.label, 1 - (e.embedding operator(public.<=>) p.embedding) as similarity
        from photo p
        join photo_ai.label_embedding e on e.model = p.model
        join photo_ai.label l on l.name = e.label and not l.removed
    ), logits as (
        select s.label, s.similarity, r.scale * s.similarity as logit
             , r.scale * max(s.similarity) over () as top
        from scored s, rule r
    ), partition as (
        -- log-sum-exp less the largest logit, so that exp() cannot overflow
        select g.*, g.top + pg_catalog.ln(sum(pg_catalog.exp(g.logit - g.top)) over ()) as log_partition
        from logits g
    ), ranked as (
        select s.*, pg_catalog.exp(s.logit - s.log_partition) as probability
             , row_number() over (order by s.logit desc, s.label) as place
        from partition s
    )
    select pg_catalog.jsonb_build_object(
        'model', (select p.model from photo p),
        'log_partition', (select max(x.log_partition) from ranked x),
        'tags', coalesce(pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(
                    'label', x.label, 'probability', round(x.probability::numeric, 4),
                    -- whole: a label added later is weighed against it
                    'similarity', x.similarity) order by x.place), '[]'))
    from ranked x, rule r
    where x.probability >= r.min_probability and x.place <= r.max_tags
$func$;
comment on function photo_ai.tags_of(uuid) is
    'The tags of a photo from its CLIP embedding: labels whose softmax probability over the '
    'vocabulary (similarity x tag_logit_scale) reaches tag_min_probability, at most '
    'tag_limit, most probable first; and the log of the softmax''s denominator.';

-------------------------------------------------------------------------------
-- write_tags: the task's store function; the description goes with the tags
create or replace function photo_ai.write_tags(_asset_id uuid, _result jsonb)
returns void
language plpgsql volatile security definer
set search_path to pg_catalog, pg_temp
as $func$
begin
    delete from photo_ai.asset_tag t where t.asset_id = _asset_id;
    insert into photo_ai.asset_tag (asset_id, label, probability, similarity)
    select _asset_id, x.label, x.probability, x.similarity
    from pg_catalog.jsonb_to_recordset(_result->'tags') as x(label text, probability real, similarity real)
    where exists (select 1 from photo_ai.label l where l.name = x.label and not l.removed);
    if _result->>'log_partition' is not null then
        insert into photo_ai.tag_basis as b (asset_id, model, log_partition)
        values (_asset_id, _result->>'model', (_result->>'log_partition')::float8)
        on conflict (asset_id) do update
            set model = excluded.model, log_partition = excluded.log_partition
              , computed_at = pg_catalog.clock_timestamp();
    end if;
    perform photo_ai.write_description(_asset_id);
end
$func$;
comment on function photo_ai.write_tags(uuid, jsonb) is
    'Stores a photo''s tags (replacing its earlier ones), what they were computed against '
    '(tag_basis) and its description.';

-------------------------------------------------------------------------------
-- describe_tags: what ai_reprocess shows of the stored result
create or replace function photo_ai.describe_tags(_asset_id uuid)
returns jsonb
language sql stable
set search_path to pg_catalog, pg_temp
as $func$
    select pg_catalog.jsonb_build_object('tags', pg_catalog.jsonb_build_object(
        'tags', coalesce((select pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(
                              'label', t.label, 'probability', t.probability)
                              order by t.probability desc, t.label)
                          from photo_ai.asset_tag t where t.asset_id = _asset_id), '[]'),
        'description', photo_ai.description(_asset_id)))
$func$;
comment on function photo_ai.describe_tags(uuid) is
    'A photo''s tags and description, as ai_reprocess shows them.';

-------------------------------------------------------------------------------
-- asset_tags: a photo's tags in both languages, for the search page and descriptions
create or replace function photo_ai.asset_tags(_asset_id uuid)
returns table (name text, name_en text, probability real)
language sql stable
set search_path to pg_catalog, pg_temp
as $func$
    select l.name, l.name_en, t.probability
    from photo_ai.asset_tag t
    join photo_ai.label l on l.name = t.label
    where t.asset_id = _asset_id
    order by t.probability desc, l.name
$func$;
comment on function photo_ai.asset_tags(uuid) is
    'A photo''s tags, Chinese and English names, most probable first.';
