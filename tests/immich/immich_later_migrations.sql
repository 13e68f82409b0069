-- Migrations Immich released after v2.2 that change the tables photo_ai attaches to
-- (immich-app/immich, server/src/schema/migrations/), run by the tests after photo_ai is
-- installed: Immich's migrations must keep running on a database photo_ai is attached to.

-- 1763785815996-AddAssetWidthHeight: two columns, and an UPDATE of every asset with EXIF
-- (photo_ai's statement trigger on asset sees it, and must queue nothing)
ALTER TABLE "asset" ADD COLUMN "width" integer;
ALTER TABLE "asset" ADD COLUMN "height" integer;
UPDATE "asset"
SET
  "width" = CASE
    WHEN "asset_exif"."orientation" IN ('5', '6', '7', '8', '-90', '90') THEN "asset_exif"."exifImageHeight"
    ELSE "asset_exif"."exifImageWidth"
  END,
  "height" = CASE
    WHEN "asset_exif"."orientation" IN ('5', '6', '7', '8', '-90', '90') THEN "asset_exif"."exifImageWidth"
    ELSE "asset_exif"."exifImageHeight"
  END
FROM "asset_exif"
WHERE "asset"."id" = "asset_exif"."assetId"
  AND ("asset_exif"."exifImageWidth" IS NOT NULL OR "asset_exif"."exifImageHeight" IS NOT NULL);

-- the edited-preview migration of Immich's photo editing (asset_file gains "isEdited", and
-- its unique constraint the column)
ALTER TABLE "asset_file" DROP CONSTRAINT "asset_file_assetId_type_uq";
ALTER TABLE "asset_file" ADD "isEdited" boolean NOT NULL DEFAULT false;
ALTER TABLE "asset_file" ADD CONSTRAINT "asset_file_assetId_type_isEdited_uq" UNIQUE ("assetId", "type", "isEdited");

-- OCR lines and faces gain "isVisible" (photo editing hides the ones cropped away)
ALTER TABLE "asset_ocr" ADD COLUMN "isVisible" boolean NOT NULL DEFAULT TRUE;
ALTER TABLE "asset_face" ADD COLUMN "isVisible" boolean NOT NULL DEFAULT TRUE;
