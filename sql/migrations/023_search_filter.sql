-- What a search keeps, as one value: an owner's photos, a range of dates taken, photos whose
-- text does not match an excluded query. The arms take it as one argument, so a new filter
-- (person:, tag:) is one field more. The arms' old signatures go with it.
create type photo_ai.search_filter as
( owner_id uuid
, taken_after timestamptz
, taken_before timestamptz
, excluded tsquery
);
drop function if exists photo_ai.text_hits(tsquery, tsquery, uuid, timestamptz, timestamptz, int);
drop function if exists photo_ai.nearest_embeddings
    (public.vector, tsquery, uuid, timestamptz, timestamptz, int, boolean);
drop function if exists photo_ai.semantic_hits
    (public.vector, tsquery, uuid, timestamptz, timestamptz, int);
