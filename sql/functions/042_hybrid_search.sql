-------------------------------------------------------------------------------
-- hybrid_search and its two arms. Each arm ranks on its own; reciprocal rank fusion adds
-- weight / (k + rank) over the arms an asset was found by, so agreement between the arms
-- counts for more than a high score in one, and no score needs to be calibrated against
-- the other (ts_rank and cosine similarity have nothing in common).

-------------------------------------------------------------------------------
-- ranked_text_matches: photos whose OCR text matches and that the filters keep, ranked by
-- ts_rank; all of them, or only those with a match in large text (weights A and B,
-- through the index on ts_filter(tsv, '{a,b}')). Dynamic SQL, planned for the filters
-- given and for the one part asked for.
create or replace function photo_ai.ranked_text_matches
(_include tsquery, _filter photo_ai.search_filter, _limit int, _large_text_only boolean)
returns table (asset_id uuid, rank int, score float8)
language plpgsql stable
set search_path to pg_catalog, pg_temp
as $func$
begin
    return query execute pg_catalog.format($sql$
        select h.asset_id, (row_number() over (order by h.score desc, h.asset_id))::int, h.score
        from (
            -- weights D, C, B, A: a title counts ten times small print. No length
            -- normalization: how much else a photo says does not make its title smaller
            -- (measured: nDCG@10 drops with normalization 1 or 2, docs/_search_section.md)
            select o.asset_id, pg_catalog.ts_rank('{0.1, 0.2, 0.4, 1.0}', o.tsv, $1)::float8 as score
            from photo_ai.ocr_result o
            where %s o.tsv @@ $1
              and ($2 is null or not o.tsv @@ $2)
              and ($3 is null or o.asset_id = any ($3))
              and exists (select 1 from photo_ai.source_asset a
                          where a.id = o.asset_id and a.deleted_at is null
                            and ($4 is null or a.owner_id = $4)
                            and ($5 is null or a.taken_at >= $5)
                            and ($6 is null or a.taken_at <= $6))
            order by 2 desc, 1
            limit $7
        ) h $sql$,
        case when _large_text_only then $$pg_catalog.ts_filter(o.tsv, '{a,b}') @@ $1 and$$
             else '' end)
    using _include, (_filter).excluded, (_filter).asset_ids, (_filter).owner_id,
          (_filter).taken_after, (_filter).taken_before, _limit;
end
$func$;
comment on function photo_ai.ranked_text_matches(tsquery, photo_ai.search_filter, int, boolean) is
    'Photos whose OCR text matches and that the filters keep, ranked by ts_rank with line '
    'prominence weights: all of them, or only those with a match in large text (A, B).';

-------------------------------------------------------------------------------
-- text_hits: the OCR arm, best first, ranked by ts_rank. A word in a third of the library
-- must not rank every photo that has it (0.8-1.3 s at a million photos). For a one-word
-- query, ts_rank puts every photo with the word in large text (weight A or B: at least
-- 0.243) above every photo with it only in smaller print (C or D: at most 0.232, however
-- often), so when enough photos with it in large text pass the filters they are the
-- answer, exactly (found through their own index). Otherwise every match is ranked, as
-- before: the answer is always what ranking every match gives.
create or replace function photo_ai.text_hits
(_include tsquery, _filter photo_ai.search_filter, _limit int)
returns table (asset_id uuid, rank int, score float8)
language plpgsql stable
set search_path to pg_catalog, pg_temp
as $func$
declare
    _prominent jsonb;
begin
    if _include is null then
        return;
    end if;
    if pg_catalog.numnode(_include) = 1 and pg_catalog.strpos(_include::text, ':') = 0 then
        _prominent := (select pg_catalog.jsonb_agg(m)
                       from photo_ai.ranked_text_matches(_include, _filter, _limit, true) m);
        if pg_catalog.jsonb_array_length(_prominent) >= _limit then
            return query
            select m.asset_id, m.rank, m.score
            from pg_catalog.jsonb_to_recordset(_prominent) as m(asset_id uuid, rank int, score float8)
            order by m.rank;
            return;
        end if;
    end if;
    return query
    select m.asset_id, m.rank, m.score
    from photo_ai.ranked_text_matches(_include, _filter, _limit, false) m
    order by m.rank;
end
$func$;
comment on function photo_ai.text_hits(tsquery, photo_ai.search_filter, int) is
    'The OCR text arm of hybrid_search: assets whose text matches, ranked by ts_rank with '
    'line prominence weights (a one-word query through the photos with it in large text '
    'first, when enough of them pass the filters); filters by owner, date taken, the trash '
    'and persons.';

-------------------------------------------------------------------------------
-- nearest_embeddings: the embeddings nearest to a vector among the assets the filters
-- keep, by cosine distance. Through the HNSW index (_exact false), pgvector's iterative
-- scan goes on while the filters reject neighbours (up to hnsw.max_scan_tuples), and
-- relaxed_order may return rows slightly out of order: the caller sorts. _exact computes
-- every distance: cosine_distance() is <=>, but as a function no index serves it. The
-- one statement is run with either ORDER BY, and planned for the filters actually given.
-- The index may store the vectors as halfvec (clip_embedding_halfvec_hnsw_idx, an
-- expression index over the vector column: half the size, so a million photos' graph
-- stays in memory): it is then searched by the halfvec distance, and the distance returned
-- is the full-precision one, which the caller's sort uses.
create or replace function photo_ai.nearest_embeddings
(_embedding public.vector, _filter photo_ai.search_filter, _limit int, _exact boolean)
returns table (asset_id uuid, distance float8)
language plpgsql stable
set search_path to pg_catalog, pg_temp
as $func$
begin
    return query execute pg_catalog.format($sql$
        select c.asset_id, c.embedding operator(public.<=>) $1
        from photo_ai.image_embedding c
        join photo_ai.source_asset a on a.id = c.asset_id
        where a.deleted_at is null
          and ($2 is null or a.owner_id = $2)
          and ($3 is null or a.taken_at >= $3)
          and ($4 is null or a.taken_at <= $4)
          and ($5 is null or not exists (
                  select 1 from photo_ai.ocr_result o
                  where o.asset_id = c.asset_id and o.tsv @@ $5))
          and ($7 is null or c.asset_id in (select pg_catalog.unnest($7::uuid[])))
        order by %s
        limit $6 $sql$,
        case when _exact then 'public.cosine_distance(c.embedding, $1)'
             when pg_catalog.to_regclass('photo_ai.clip_embedding_halfvec_hnsw_idx') is not null
                  and photo_ai.asset_source() = 'standalone'
             then '(c.embedding::public.halfvec(512)) operator(public.<=>) ($1::public.halfvec(512))'
             else 'c.embedding operator(public.<=>) $1' end)
    using _embedding, (_filter).owner_id, (_filter).taken_after, (_filter).taken_before,
          (_filter).excluded, _limit, (_filter).asset_ids;
end
$func$;
comment on function photo_ai.nearest_embeddings(public.vector, photo_ai.search_filter, int, boolean) is
    'The assets whose CLIP embeddings are nearest to a vector (cosine), filtered by owner, '
    'date taken, the trash, excluded text and persons; through the HNSW index, or exactly.';

-------------------------------------------------------------------------------
-- semantic_hits: the CLIP arm, nearest first. The HNSW index answers; when the filters
-- keep so few photos that the index scan gives up before finding enough, the photos
-- they keep are few, and an exact search over them is cheap and complete.
create or replace function photo_ai.semantic_hits
(_embedding public.vector, _filter photo_ai.search_filter, _limit int)
returns table (asset_id uuid, rank int, similarity float8)
language plpgsql stable
set search_path to pg_catalog, pg_temp
set hnsw.iterative_scan to relaxed_order
set hnsw.ef_search to 400
as $func$
declare
    _nearest jsonb;
begin
    if _embedding is null then
        return;  -- no query vector, no neighbours (and no scan ordered by nothing)
    end if;
    -- the candidate list must hold the results asked for (pgvector allows up to 1000)
    perform pg_catalog.set_config('hnsw.ef_search', least(1000, greatest(_limit,
        photo_ai.setting('hnsw_ef_search')::text::int))::text, true);
    _nearest := (select pg_catalog.jsonb_agg(n)
                 from photo_ai.nearest_embeddings(_embedding, _filter, _limit, false) n);
    if coalesce(pg_catalog.jsonb_array_length(_nearest), 0) < _limit then
        _nearest := (select pg_catalog.jsonb_agg(n)
                     from photo_ai.nearest_embeddings(_embedding, _filter, _limit, true) n);
    end if;
    return query
    select n.asset_id, (row_number() over (order by n.distance, n.asset_id))::int, 1 - n.distance
    from pg_catalog.jsonb_to_recordset(coalesce(_nearest, '[]')) as n(asset_id uuid, distance float8)
    order by n.distance, n.asset_id;
end
$func$;
comment on function photo_ai.semantic_hits(public.vector, photo_ai.search_filter, int) is
    'The CLIP arm of hybrid_search (and of similar_assets, search_by_image): the nearest '
    'embeddings by cosine distance through the HNSW index (iterative scan, so filters do not '
    'starve it; an exact search when they keep too few photos for the index to find), with '
    'filters by owner, date taken, the trash and excluded text.';

-------------------------------------------------------------------------------
-- hybrid_search: OCR text and CLIP meaning, fused
create or replace function photo_ai.hybrid_search
( query text
, max_results int default 50
, owner_id uuid default null
, taken_after timestamptz default null
, taken_before timestamptz default null
, text_weight float8 default 1.0
, semantic_weight float8 default 1.0
, rrf_k int default 60
, min_similarity float8 default null
)
returns setof photo_ai.search_hit
language plpgsql volatile security definer
set search_path to pg_catalog, pg_temp
as $func$
declare
    _q record := photo_ai.parse_search(query);
    -- fusion needs depth in each arm; a single arm needs only what is shown (bigint: any
    -- max_results, 2147483647 for "all of them" too, may be asked for)
    _depth int := case when _q.mode = 'both'
                       then least(greatest(2 * max_results::bigint, 100), 1000)
                       else max_results end;
    _filter photo_ai.search_filter := row(owner_id, taken_after, taken_before, _q.exclude_query,
        photo_ai.photos_kept(_q.persons, _q.tags, owner_id));
    -- the tags are a weaker kind of text than what is printed in the photo
    _description_weight float8 := text_weight * photo_ai.setting('description_weight')::text::float8;
    _embedding public.vector;
    _arm text := 'not asked';
begin
    -- NaN passes "< 0" (it sorts above every number) and would make every score NaN;
    -- an infinite weight makes every hit of its arm score alike
    if rrf_k is null or rrf_k < 1
       or not coalesce(text_weight >= 0 and text_weight < 'infinity'
                       and semantic_weight >= 0 and semantic_weight < 'infinity', false) then
        raise exception 'photo_ai: rrf_k must be at least 1 and text_weight and semantic_weight '
                        'finite numbers, 0 or more (given: rrf_k %, text_weight %, '
                        'semantic_weight %)', rrf_k, text_weight, semantic_weight;
    end if;
    if min_similarity = 'NaN' then
        raise exception 'photo_ai: min_similarity must be a number from -1 to 1, or NULL';
    end if;
    if coalesce(max_results, 0) < 1 then
        return;
    end if;
    if _q.include_query is null and _q.semantic_text is null and (_filter).asset_ids is not null then
        return query select * from photo_ai.photos_by_date((_filter).asset_ids, _filter, max_results, rrf_k);
        return;
    end if;
    if _q.mode <> 'ocr' and _q.semantic_text is not null then
        select e.embedding, coalesce('off: ' || e.problem, 'on') into _embedding, _arm
        from photo_ai.query_embedding_of(_q.semantic_text) e;
        if _embedding is null then
            raise notice 'photo_ai: the semantic arm of this search is off: %', pg_catalog.substr(_arm, 6);
        end if;
    end if;
    return query
    with text_arm as (
        select * from photo_ai.text_hits(_q.include_query, _filter, _depth)
        where _q.mode <> 'clip' and _q.include_query is not null
    ), semantic_arm as (
        select * from photo_ai.semantic_hits(_embedding, _filter, _depth) s
        where _embedding is not null and s.similarity >= coalesce(min_similarity, '-infinity')
    ), description_arm as (
        select * from photo_ai.description_hits(_q.include_query, _filter, _depth)
        where _q.mode = 'both' and _q.include_query is not null and _description_weight > 0
    ), hits as (
        select t.asset_id, text_weight / (rrf_k::float8 + t.rank) as part
             , t.rank as text_rank, t.score as text_score
             , null::int as semantic_rank, null::float8 as semantic_score, null::int as description_rank
        from text_arm t
        union all
        select s.asset_id, semantic_weight / (rrf_k::float8 + s.rank), null, null, s.rank, s.similarity, null
        from semantic_arm s
        union all
        select d.asset_id, _description_weight / (rrf_k::float8 + d.rank), null, null, null, null, d.rank
        from description_arm d
    ), fused as (
        select h.asset_id, sum(h.part) as score
             , min(h.text_rank) as text_rank, max(h.text_score) as text_score
             , min(h.semantic_rank) as semantic_rank, max(h.semantic_score) as semantic_score
             , min(h.description_rank) as description_rank
        from hits h
        group by h.asset_id
        order by 2 desc, 3, 5, 7, 1
        limit max_results
    )
    select f.asset_id, f.score, f.text_rank, f.text_score, f.semantic_rank, f.semantic_score
         , case when f.text_rank is not null then photo_ai.ocr_snippet(o.text, _q.needles)
                when f.description_rank is not null then d.description end
         , _arm
    from fused f
    left join photo_ai.ocr_result o on o.asset_id = f.asset_id
    left join photo_ai.asset_description d on d.asset_id = f.asset_id
    order by f.score desc, f.text_rank, f.semantic_rank, f.description_rank, f.asset_id;
end
$func$;
comment on function photo_ai.hybrid_search(text, int, uuid, timestamptz, timestamptz, float8, float8, int, float8) is
    'Searches photos by their OCR text and by meaning (CLIP), fused by reciprocal rank: '
    'score = text_weight / (rrf_k + text_rank) + semantic_weight / (rrf_k + semantic_rank). '
    'Prefix ocr: searches text only, clip: meaning only. All terms must occur; "a phrase" as '
    'written; -term excludes; person:name keeps photos of that person, tag:label photos with '
    'that tag (several: all of them; alone: those photos, newest first). Without a prefix, '
    'the tags also join as a third arm weighted text_weight x description_weight. Filters: owner_id, taken_after, taken_before (inclusive); '
    'trashed photos never. min_similarity drops weaker semantic hits. max_results under 1 '
    'returns nothing; weights must be finite and not negative. When CLIP cannot be '
    'asked (model missing, sidecar down) the text arm still answers, a NOTICE says why and '
    'the column semantic_arm reads off: <why>.';
