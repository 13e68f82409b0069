-------------------------------------------------------------------------------
-- Query embeddings: CLIP text embeddings come from the sidecar and are kept in
-- photo_ai.query_embedding, so a repeated search costs no round trip. A search must never
-- fail for want of them: every function here reports a problem instead of raising.

-------------------------------------------------------------------------------
-- sidecar_problem: one line saying why a sidecar answer holds no CLIP result, in the
-- words of the job policy's classification (photo_ai.answer_outcome)
create or replace function photo_ai.sidecar_problem(_answer jsonb)
returns text
language sql stable
set search_path to pg_catalog, pg_temp
as $func$
    select case o.kind
        when 'model_missing' then 'the CLIP model is missing: ' || o.detail
        when 'unreachable' then 'the sidecar did not answer: ' || o.detail
        when 'timeout' then 'the sidecar did not answer: ' || o.detail
        else o.detail end
    from photo_ai.answer_outcome(_answer, 'clip') o
$func$;
comment on function photo_ai.sidecar_problem(jsonb) is
    'A readable reason why a sidecar answer has no CLIP result (model missing, no answer, '
    'API key refused, other errors).';

-------------------------------------------------------------------------------
-- photos_clip_model: the model the photos were embedded with; queries must use the same
create or replace function photo_ai.photos_clip_model()
returns text
language sql stable
set search_path to pg_catalog, pg_temp
as $func$
    select c.model from photo_ai.image_embedding c limit 1
$func$;
comment on function photo_ai.photos_clip_model() is
    'The CLIP model of the stored photo embeddings (NULL when there are none).';

-------------------------------------------------------------------------------
-- can_write: false in a read-only transaction (a hot standby), where the cache is only read
create or replace function photo_ai.can_write()
returns boolean
language sql stable
set search_path to pg_catalog, pg_temp
as $func$
    select pg_catalog.current_setting('transaction_read_only') = 'off'
$func$;
comment on function photo_ai.can_write() is 'Whether this transaction may write.';

-------------------------------------------------------------------------------
-- remember_query_embedding: cache one embedding and keep the cache within its size
create or replace function photo_ai.remember_query_embedding(_model text, _query text, _embedding public.vector)
returns void
language plpgsql volatile
set search_path to pg_catalog, pg_temp
as $func$
declare
    _size int := photo_ai.setting('query_cache_size')::text::int;
begin
    if not photo_ai.can_write() then
        return;
    end if;
    insert into photo_ai.query_embedding as q (model, query, embedding) values (_model, _query, _embedding)
    on conflict (model, query) do update set embedding = excluded.embedding, used_at = pg_catalog.now();
    -- prune in steps of a tenth, so that a full cache is not pruned on every miss
    if (select count(*) from photo_ai.query_embedding) > _size * 1.1 then
        delete from photo_ai.query_embedding q
        where q.used_at < (select o.used_at from photo_ai.query_embedding o
                           order by o.used_at desc offset _size - 1 limit 1);
    end if;
end
$func$;
comment on function photo_ai.remember_query_embedding(text, text, public.vector) is
    'Caches a query embedding; past query_cache_size (and a tenth) the least recently used '
    'go. Does nothing in a read-only transaction.';

-------------------------------------------------------------------------------
-- clip_text_embeddings: CLIP text embeddings of some texts from the sidecar, in the model
-- the photos were embedded with (another model's vectors could not be compared with
-- theirs); NULL with the reason, and its kind as the job policy names it, when there are none
create or replace function photo_ai.clip_text_embeddings
( _texts text[]
, _model text
, _timeout_seconds float8 default null
, out embeddings jsonb
, out problem text
, out kind text
)
language plpgsql volatile
set search_path to pg_catalog, pg_temp
as $func$
declare
    _answer jsonb := photo_ai.sidecar_request('POST', '/v1/clip/text',
        _json => pg_catalog.jsonb_build_object('texts', pg_catalog.to_jsonb(_texts)),
        _timeout_seconds => _timeout_seconds);
begin
    if (_answer->>'status')::int is distinct from 200 then
        problem := photo_ai.sidecar_problem(_answer);
        kind := (photo_ai.answer_outcome(_answer, 'clip')).kind;
    elsif _answer->'body'->>'model' is distinct from _model then
        problem := pg_catalog.format('the photos were embedded with %s but the sidecar now uses %s; '
                                     'reprocess them (photo_ai.ai_reprocess) to search by meaning',
                                     _model, _answer->'body'->>'model');
        kind := 'model_mismatch';
    else
        embeddings := _answer->'body'->'embeddings';
    end if;
end
$func$;
comment on function photo_ai.clip_text_embeddings(text[], text, float8) is
    'The sidecar''s CLIP text embeddings of some texts (a JSON array of arrays) when it '
    'embeds with the given model; else NULL, the reason and its kind.';

-------------------------------------------------------------------------------
-- query_embedding_of: the CLIP embedding of a query text, from the cache or the sidecar;
-- NULL with the reason when there is none
create or replace function photo_ai.query_embedding_of
( _query text
, out embedding public.vector
, out problem text
)
language plpgsql volatile
set search_path to pg_catalog, pg_temp
as $func$
declare
    _model text := photo_ai.photos_clip_model();
    _cached record;
    _embedded jsonb;
begin
    if _model is null then
        problem := 'no photo has a CLIP embedding yet';
        return;
    end if;
    select q.embedding, q.used_at into _cached
    from photo_ai.query_embedding q where q.model = _model and q.query = _query;
    if found then
        embedding := _cached.embedding;
        -- recency for the pruning; a coarse clock spares a write on most searches
        if _cached.used_at < pg_catalog.now() - interval '10 minutes' and photo_ai.can_write() then
            update photo_ai.query_embedding q set used_at = pg_catalog.now()
            where q.model = _model and q.query = _query;
        end if;
        return;
    end if;
    select e.embeddings->0, e.problem into _embedded, problem
    from photo_ai.clip_text_embeddings(array[_query], _model,
        photo_ai.setting('search_timeout_seconds')::text::float8) e;
    if problem is null then
        embedding := _embedded::text::public.vector;
        perform photo_ai.remember_query_embedding(_model, _query, embedding);
    end if;
end
$func$;
comment on function photo_ai.query_embedding_of(text) is
    'The CLIP text embedding of a query (cached in photo_ai.query_embedding, else asked of the '
    'sidecar within search_timeout_seconds), or NULL and the reason: no photo embedded yet, '
    'CLIP model missing, sidecar unreachable, another model than the photos''.';
