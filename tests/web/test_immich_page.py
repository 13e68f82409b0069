"""The search page over an Immich library: Immich's assets (photo_ai in Immich mode reads them
through photo_ai.source_asset), thumbnails from the previews Immich made, each photo linked
to Immich's own web app, and Immich's users as owners."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from tests.immich.immich_server import ImmichServer, ocr_line
from tests.support import pictures
from tests.support.database import superuser
from tests.support.pipeline import install_photo_ai, run_worker
from tests.web.library import cards

IMMICH_URL = "https://photos.example.com"


def upload(immich: ImmichServer, owner, root: Path, name: str, lines) -> dict:
    """An upload as Immich makes it: the original, then a JPEG preview under thumbs/."""
    original = root / "upload" / name
    preview = root / "thumbs" / (Path(name).stem + "-preview.jpeg")
    for folder in (original.parent, preview.parent):
        folder.mkdir(parents=True, exist_ok=True)
        folder.chmod(0o755)
    picture = pictures.text_picture(lines)
    picture.save(original)
    buffer = io.BytesIO()
    picture.save(buffer, "JPEG", quality=92)
    preview.write_bytes(buffer.getvalue())
    asset = immich.upload(owner, original)
    immich.extract_metadata(asset, *picture.size)
    immich.make_preview(asset, preview)
    # Immich's OCR job, as its machine-learning service (photo_ai's sidecar) read the preview
    immich.write_ocr(asset, [ocr_line(text, 0.1 + 0.4 * i, 0.3) for i, text in enumerate(lines)])
    return asset


@pytest.fixture
def immich_library(immich_web_template, make_database, web_sidecar, immich_root) -> dict:
    database = make_database(immich_web_template)
    with superuser(database) as conn:
        immich = ImmichServer(conn, immich_root)
        install_photo_ai(conn, web_sidecar)
        admin, bob = immich.create_user(), immich.create_user("bob@example.com", "Bob")
        invoice = upload(immich, admin, immich_root, "invoice.png", pictures.INVOICE_LINES)
        sign = upload(immich, bob, immich_root, "sign.png", pictures.SIGN_LINES)
        assert conn.execute("SELECT photo_ai.immich_mode()").fetchone()[0]
    run_worker(database)
    return {"database": database, "invoice": str(invoice["id"]), "sign": str(sign["id"])}


def test_immich_photos_are_searched_and_linked_to_immich(immich_library, serve, immich_root):
    page = serve(immich_library["database"], [immich_root], immich_url=IMMICH_URL)
    invoice = immich_library["invoice"]
    html = page.get("/?q=ocr:发票").text
    assert cards(html) == [invoice]
    assert f'href="{IMMICH_URL}/photos/{invoice}"' in html
    photo = page.get(f"/asset/{invoice}").text
    assert f'id="open-in-immich" href="{IMMICH_URL}/photos/{invoice}"' in photo
    assert "增值税专用发票" in photo


def test_thumbnails_come_from_immichs_previews(immich_library, serve, immich_root):
    (immich_root / "upload" / "invoice.png").unlink()  # only the preview is left
    page = serve(immich_library["database"], [immich_root], immich_url=IMMICH_URL)
    response = page.get(f"/thumb/{immich_library['invoice']}")
    assert response.status_code == 200 and response.headers["content-type"] == "image/jpeg"


def test_immichs_users_are_the_owners(immich_library, serve, immich_root):
    page = serve(immich_library["database"], [immich_root])
    html = page.get("/").text
    assert "Bob (1)" in html and "Admin (1)" in html
    assert 'href="https://' not in html  # no Immich URL configured: no links to it


def test_analyse_again_reached_from_immichs_photo_address(
    immich_library, serve, immich_root, browser, screenshot
):
    """Immich has no "refresh OCR" in its photo menu: the photo's id, taken from the address
    Immich shows (/photos/<id>), opens the same photo here, where "Analyse again" reads it
    anew and writes Immich's own OCR rows, which Immich's search then finds."""
    database, invoice = immich_library["database"], immich_library["invoice"]
    with superuser(database) as conn:
        owner = conn.execute('SELECT "ownerId" FROM asset WHERE id = %s', [invoice]).fetchone()[0]
        conn.execute('DELETE FROM ocr_search WHERE "assetId" = %s', [invoice])
        conn.execute('DELETE FROM asset_ocr WHERE "assetId" = %s', [invoice])
        conn.execute("DELETE FROM photo_ai.ocr_result WHERE asset_id = %s", [invoice])
        assert ImmichServer(conn, immich_root).search_ocr(owner, "发票") == []
    page = serve(database, [immich_root], immich_url=IMMICH_URL)
    in_immich = f"{IMMICH_URL}/photos/{invoice}"
    browser.goto(page.url + "/asset/" + in_immich.rsplit("/photos/", 1)[1])
    with browser.expect_navigation():
        browser.click("#analyse-again")
    assert browser.is_visible("#analysed")
    assert "增值税专用发票" in browser.inner_text(".ocr-lines")
    screenshot(browser, "analysed-again")
    with superuser(database) as conn:
        assert ImmichServer(conn, immich_root).search_ocr(owner, "发票") == [invoice]
