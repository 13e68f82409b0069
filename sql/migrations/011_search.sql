-- Search: its settings, the cache of query embeddings, and the shapes of its results.
insert into photo_ai.setting_default (name, value, description) values
  ('query_cache_size', '10000', 'query embeddings kept for hybrid_search; the least recently used go first')
, ('search_timeout_seconds', '10', 'how long a search waits for the sidecar to embed its query')
, ('hnsw_ef_search', '400', 'HNSW candidate list of vector search (more: better recall, slower)');

-- Query text -> CLIP text embedding, so a repeated search needs no sidecar round trip.
-- Keyed by model: embeddings of different models are not comparable.
create table photo_ai.query_embedding
( model text not null
, query text not null
, embedding public.vector(512) not null
, used_at timestamptz not null default pg_catalog.now()
, primary key (model, query)
);
create index query_embedding_used_at_idx on photo_ai.query_embedding (used_at);

create type photo_ai.search_hit as
( asset_id uuid
, score float8            -- fused: sum over arms of weight / (rrf_k + rank)
, text_rank int           -- 1 = best OCR text match; NULL: not found by text
, text_score float8       -- ts_rank of the OCR text, weighted by line prominence
, semantic_rank int       -- 1 = nearest CLIP embedding; NULL: not among the nearest
, semantic_score float8   -- cosine similarity of the photo to the query
, snippet text            -- the OCR line that matched, the match in «»
, semantic_arm text       -- 'on', 'not asked' (ocr:), or 'off: <why>'
);

create type photo_ai.similar_asset as
( asset_id uuid
, similarity float8       -- cosine similarity of the CLIP embeddings
);
