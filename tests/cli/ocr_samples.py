"""A few of the demo's samples that the command-line tests have read by the real OCR: a
receipt, a sign, a screenshot and a scene without text."""

from photo_ai_cli import sample_photos

OCR_SAMPLES = tuple(
    s
    for s in sample_photos.SAMPLES
    if s.path
    in (
        "receipts/增值税专用发票.jpg",
        "signs/parking.jpg",
        "screenshots/chat.png",
        "scenes/forest.jpg",
    )
)
