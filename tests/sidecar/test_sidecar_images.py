"""The decoder's conversions, pixel by pixel (in-process: the HTTP tests cannot see pixels)."""

import pytest
from PIL import Image, ImageFile

from inference_sidecar.errors import BadImage, TooManyPixels
from inference_sidecar.images import decode_image
from inference_sidecar.settings import Settings, is_loopback, startup_problem
from tests.support import pictures

LIMIT = 1_000_000
GOOD_KEY = "0123456789abcdef"  # 16 characters, the shortest key accepted


def pixel(data: bytes, xy=(0, 0)) -> tuple[int, int, int]:
    image = decode_image(data, LIMIT)
    assert image.mode in ("RGB", "L")
    return image.convert("RGB").getpixel(xy)


def test_transparency_is_flattened_onto_white():
    assert pixel(pictures.transparent_png()) == (255, 255, 255)


def test_sixteen_bit_greyscale_is_scaled_not_clipped():
    # 40000 / 65535 of full scale is 155 in 8 bits; a plain convert would give 255.
    assert pixel(pictures.sixteen_bit_png()) == (155, 155, 155)


def test_cmyk_becomes_the_same_colour_in_rgb():
    red, green, blue = pixel(
        pictures.encode(
            Image.new("RGB", (8, 8), (200, 30, 30)).convert("CMYK"), "JPEG", quality=100
        )
    )
    assert red > 180 and green < 50 and blue < 50


def test_animated_gif_gives_its_first_frame():
    red, green, blue = pixel(pictures.animated_gif())
    assert red > 200 and green < 50 and blue < 50


def test_exif_rotation_turns_the_picture_upright():
    assert decode_image(pictures.rotated_exif_jpeg((120, 80)), LIMIT).size == (80, 120)


def test_heic_decodes():
    image = Image.new("RGB", (64, 48), (30, 160, 90))
    assert decode_image(pictures.encode(image, "HEIC"), LIMIT).size == (64, 48)


@pytest.mark.parametrize(
    "data, error",
    [
        (b"", BadImage),
        (b"GIF89a" + b"\x00" * 10, BadImage),
        (pictures.truncated_jpeg(), BadImage),
        (pictures.decompression_bomb(LIMIT + 1), TooManyPixels),
        (pictures.decompression_bomb(LIMIT * 10), TooManyPixels),
    ],
)
def test_bad_data_raises_the_matching_error(data, error):
    with pytest.raises(error):
        decode_image(data, LIMIT)


def test_pixel_count_is_checked_before_decoding(monkeypatch):
    data = pictures.encode(Image.new("L", (1100, 1000)), "PNG")

    def refuse_to_decode(self):
        raise AssertionError("pixels were decoded")

    monkeypatch.setattr(ImageFile.ImageFile, "load", refuse_to_decode)
    with pytest.raises(TooManyPixels):
        decode_image(data, LIMIT)


@pytest.mark.parametrize("host", ["127.0.0.1", "127.8.9.10", "::1", "localhost"])
def test_loopback_hosts(host):
    assert is_loopback(host)
    assert startup_problem(Settings(host=host, api_key=None)) is None


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.168.1.5", "sidecar"])
def test_network_hosts_need_a_key(host):
    assert not is_loopback(host)
    assert "PHOTO_AI_API_KEY" in startup_problem(Settings(host=host, api_key=None))
    assert startup_problem(Settings(host=host, api_key=GOOD_KEY)) is None


@pytest.mark.parametrize("key", ["secret", "x", " " * 20, "fifteen-chars-k", f" {GOOD_KEY}"])
def test_short_blank_or_padded_keys_are_refused(key):
    problem = startup_problem(Settings(api_key=key))
    assert "PHOTO_AI_API_KEY" in problem and "16 characters" in problem


def test_library_roots_split_on_colons(tmp_path):
    settings = Settings(library_roots=f"{tmp_path}/a::{tmp_path}/b:")
    root = tmp_path.resolve()
    assert settings.library_root_paths == [root / "a", root / "b"]
