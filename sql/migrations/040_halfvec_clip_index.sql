-- The CLIP index stores its vectors as halfvec: an expression index over the vector column
-- (the column, and so every stored embedding, keeps full precision; nearest_embeddings
-- searches this index where it exists and returns full-precision distances). Measured on
-- a million clustered 512-d embeddings (bench/search_speed.py --scale 1m, bench/README.md):
-- the same recall@10 as the vector index (and as Faiss) at every ef_search, in 60% of the
-- memory (1.56 GB at a million photos), and no slower. The index is built again here,
-- once: at a million photos that takes about 14 minutes on 2 cores (docs/scaling.md: how
-- much maintenance_work_mem it needs to stay fast).
drop index if exists photo_ai.clip_embedding_hnsw_idx;
create index if not exists clip_embedding_halfvec_hnsw_idx on photo_ai.clip_embedding
    using hnsw ((embedding::public.halfvec(512)) public.halfvec_cosine_ops)
    with (m = 24, ef_construction = 128);
