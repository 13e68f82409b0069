-- Vector search looks at 800 candidates by default (was 400). At a million photos
-- (bench/search_speed.py --scale 1m) text queries reach recall@10 0.83 at 400 and 0.93 at
-- 800, at about the same latency in hybrid_search (whose fused arm asks for 100 anyway);
-- at 100,000 photos 400 already gave 0.98-0.99 and 800 costs about a millisecond more.
-- An installation that changed the setting keeps its own value (setting_override).
update photo_ai.setting_default
set value = '800',
    description = 'HNSW candidate list of vector search (more: better recall, slower; '
                  'bench/README.md measures it at 100,000 and a million photos)'
where name = 'hnsw_ef_search';
