-- HNSW over the CLIP embeddings, cosine distance (<=>). m = 24, ef_construction = 128:
-- measured on 100,000 clustered 512-d embeddings with text queries across CLIP's modality
-- gap (bench/search_speed.py's data), recall@10 at ef_search 400 is 0.995, against 0.975
-- for m = 16 / ef_construction = 128 and 0.955 for pgvector's defaults (16 / 64), at the
-- same query time; the build takes 1.3 times as long as 16 / 128, 2.3 times the defaults.
-- ARCHITECTURE.md, search, has the table.
create index clip_embedding_hnsw_idx on photo_ai.clip_embedding
    using hnsw (embedding public.vector_cosine_ops) with (m = 24, ef_construction = 128);
