-- The OCR search vectors' large text (weights A and B: titles, headings), indexed apart.
-- text_hits ranks a one-word query's photos with the word in large text first: ts_rank puts
-- every one of them above every photo that has it only in smaller print, so when enough of
-- them pass the filters, the photos with it only in small print need not be ranked. A word
-- in a third of a million photos then costs milliseconds (bench/search_speed.py --scale 1m).
create index ocr_result_prominent_tsv_idx on photo_ai.ocr_result
    using gin (pg_catalog.ts_filter(tsv, '{a,b}'));
