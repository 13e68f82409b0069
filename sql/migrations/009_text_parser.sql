-- The word segmenter of the text index, chosen once here: zhparser where that extension is
-- installed (the Docker image), jieba otherwise. photo_ai.rebuild_text_index() switches.
insert into photo_ai.setting_default (name, value, description)
select 'text_parser'
     , pg_catalog.to_jsonb(case when exists (select 1 from pg_catalog.pg_extension
                                             where extname = 'zhparser')
                                then 'zhparser' else 'jieba' end)
     , 'word segmenter of the OCR text index: zhparser or jieba (set by rebuild_text_index)';
