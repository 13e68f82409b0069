"""Every supported container decodes, once, into upright 8-bit RGB the models accept."""

import pytest
from PIL import Image

from tests.support import pictures

BASE = Image.new("RGB", (64, 48), (30, 160, 90))

FORMATS = {
    "jpeg": lambda: pictures.encode(BASE, "JPEG"),
    "png": lambda: pictures.encode(BASE, "PNG"),
    "webp": lambda: pictures.encode(BASE, "WEBP"),
    "heic": lambda: pictures.encode(BASE, "HEIC"),
    "gif_animated": lambda: pictures.animated_gif((64, 48)),
    "tiff": lambda: pictures.encode(BASE, "TIFF"),
    "cmyk_jpeg": lambda: pictures.encode(BASE.convert("CMYK"), "JPEG"),
    "png_16bit": lambda: pictures.sixteen_bit_png((64, 48)),
    "png_alpha": lambda: pictures.transparent_png((64, 48)),
    "palette_png": lambda: pictures.encode(BASE.convert("P"), "PNG"),
    "greyscale_tiff": lambda: pictures.encode(BASE.convert("L"), "TIFF"),
}


@pytest.mark.parametrize("name", FORMATS)
def test_format_decodes(client, name):
    response = client.post(
        "/v1/analyze",
        files={"image": (f"picture.{name}", FORMATS[name]())},
        data={"tasks": "clip"},
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["image"] == {"width": 64, "height": 48}
    assert len(body["results"]["clip"]["embedding"]) == 512


def test_exif_orientation_is_applied(client):
    response = client.post(
        "/v1/analyze",
        files={"image": ("rotated.jpg", pictures.rotated_exif_jpeg((120, 80)))},
        data={"tasks": "clip"},
    )
    assert response.status_code == 200, response.text
    assert response.json()["image"] == {"width": 80, "height": 120}
