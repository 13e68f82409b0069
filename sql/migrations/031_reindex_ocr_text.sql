-- 0.3.0 builds the OCR text index by new rules (a line's weight from the size of its
-- letters, A only for the largest text; long words cut into pieces). Every OCR text is
-- indexed again once, by those rules, which exist only after the functions of this script:
-- sql/functions/012_text_index.sql does it at the end of the install or upgrade that
-- applied this migration. Nothing to change before that.
select 1;
