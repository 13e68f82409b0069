-- configure() gained the pipeline's settings; the old signature would linger as an overload.
drop function if exists photo_ai.configure(text, text);
