"""Thumbnails: made once and kept on disk, made again when the photo changes, upright, any
format the sidecar reads, and only ever from under the library roots."""

from __future__ import annotations

import io
import os
import uuid
from pathlib import Path

import httpx
import pytest
from PIL import Image

from tests.support import pictures
from tests.support.database import superuser


def picture(page, asset: str, size: str = "thumb") -> httpx.Response:
    return page.get(f"/{size}/{asset}")


def add_photo(database: str, path: Path, checksum: bytes | None = None) -> str:
    with superuser(database) as conn:
        return str(
            conn.execute(
                "INSERT INTO photo_ai.asset (original_path, checksum) VALUES (%s, %s) RETURNING id",
                [str(path), checksum],
            ).fetchone()[0]
        )


@pytest.fixture
def folder(web_library) -> Path:
    """A folder of this test's own inside the library root."""
    path = web_library / f"t{uuid.uuid4().hex[:8]}"
    path.mkdir()
    return path


def cached_files(page) -> list[Path]:
    return sorted((page.settings.web_state_dir / "thumbnails").rglob("*.jpg"))


def test_a_thumbnail_is_a_small_jpeg_made_once(site, assets):
    before = {p: p.stat().st_mtime_ns for p in cached_files(site)}
    first = picture(site, assets["beach.jpg"])
    assert first.status_code == 200 and first.headers["content-type"] == "image/jpeg"
    image = Image.open(io.BytesIO(first.content))
    assert max(image.size) == site.settings.thumbnail_pixels  # 640x480 scaled down
    made = {p: p.stat().st_mtime_ns for p in cached_files(site)}
    assert picture(site, assets["beach.jpg"]).content == first.content
    assert {p: p.stat().st_mtime_ns for p in cached_files(site)} == made  # not made again
    assert len(made) >= len(before)


def test_a_changed_photo_gets_a_new_thumbnail(analysed, serve, folder):
    path = folder / "changing.jpg"
    Image.new("RGB", (300, 200), (200, 30, 30)).save(path)
    asset = add_photo(analysed, path, b"\x01")
    page = serve(analysed)
    red = Image.open(io.BytesIO(picture(page, asset).content)).convert("RGB")
    Image.new("RGB", (300, 200), (30, 30, 200)).save(path)
    with superuser(analysed) as conn:  # what `photo-ai import` does for a changed file
        conn.execute("UPDATE photo_ai.asset SET checksum = '\\x02' WHERE id = %s", [asset])
    blue = Image.open(io.BytesIO(picture(page, asset).content)).convert("RGB")
    assert red.getpixel((10, 10))[0] > 150 and blue.getpixel((10, 10))[2] > 150
    assert len([p for p in cached_files(page) if p.name.startswith(asset)]) == 1  # old one gone


def test_the_thumbnail_is_upright_whatever_the_exif_says(analysed, serve, folder):
    path = folder / "rotated.jpg"
    path.write_bytes(pictures.rotated_exif_jpeg(size=(120, 80)))
    page = serve(analysed)
    image = Image.open(io.BytesIO(picture(page, add_photo(analysed, path)).content))
    assert image.size == (80, 120)


def test_heic_is_shown_as_jpeg(analysed, serve, folder):
    path = folder / "phone.heic"
    path.write_bytes(pictures.encode(Image.new("RGB", (200, 100), (0, 160, 0)), "HEIC"))
    response = picture(serve(analysed), add_photo(analysed, path), "preview")
    assert response.headers["content-type"] == "image/jpeg"
    assert Image.open(io.BytesIO(response.content)).size == (200, 100)


def test_a_file_outside_the_library_roots_is_never_read(analysed, serve, tmp_path, folder):
    outside = tmp_path / "secret.png"
    pictures.text_picture(("SECRET",)).save(outside)
    (folder / "escape.png").symlink_to(outside)
    page = serve(analysed)
    for path in (outside, folder / "escape.png", Path("/etc/hostname"), folder / ".." / ".."):
        response = picture(page, add_photo(analysed, path))
        assert response.status_code == 403, path
        assert response.headers["content-type"].startswith("text/plain")
    assert not [p for p in cached_files(page) if p.stat().st_size > 0 and "secret" in str(p)]


def test_a_missing_or_broken_file_says_so(site, analysed, serve, folder, assets):
    page = serve(analysed)
    gone = picture(page, add_photo(analysed, folder / "gone.jpg"))
    assert gone.status_code == 404
    broken = picture(site, assets["broken.jpg"])
    assert broken.status_code == 422 and "truncated" in broken.text


def test_a_fifo_in_the_library_is_not_waited_on(analysed, serve, folder):
    fifo = folder / "pipe.jpg"
    os.mkfifo(fifo)
    response = picture(serve(analysed), add_photo(analysed, fifo))
    assert response.status_code == 404


def test_unknown_and_malformed_ids(site):
    assert picture(site, "00000000-0000-4000-8000-000000000000").status_code == 404
    assert picture(site, "invoice.png").status_code == 400


def test_a_versioned_thumbnail_may_be_kept_by_the_browser(site, assets):
    html = site.get("/?q=ocr:发票").text
    src = html.split(f'src="/thumb/{assets["invoice.png"]}?v=', 1)[1].split('"', 1)[0]
    kept = site.get(f"/thumb/{assets['invoice.png']}", params={"v": src})
    assert "immutable" in kept.headers["cache-control"]
    stale = site.get(f"/thumb/{assets['invoice.png']}", params={"v": "old"})
    assert "no-cache" in stale.headers["cache-control"]


def test_a_folder_imported_while_the_page_runs_is_read(analysed, serve, folder, tmp_path):
    """Without PHOTO_AI_LIBRARY_ROOTS the page asks photo_ai_cli's remembered folders again
    when a photo lies outside the ones it knew."""
    roots = [tmp_path]
    page = serve(analysed, lambda: list(roots))
    path = folder / "new.jpg"
    Image.new("RGB", (60, 40), (0, 0, 200)).save(path)
    asset = add_photo(analysed, path)
    assert picture(page, asset).status_code == 403
    roots.append(folder)  # what `photo-ai import` does to the remembered folders
    assert picture(page, asset).status_code == 200
