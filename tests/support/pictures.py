"""Test pictures rendered with Pillow: printed text, tiny-detector faces, odd formats, and
plain picture files."""

import io
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pillow_heif
from PIL import Image, ImageDraw

from inference_sidecar.testing.tiny_models import draw_tiny_face
from photo_ai_cli.pictures import text_page

INVOICE_LINES = ("增值税专用发票 合计 ¥128.50", "Invoice 2024")
SIGN_LINES = ("停车场 出口", "EXIT 3")


def text_picture(lines: Sequence[str] = INVOICE_LINES, **layout) -> Image.Image:
    """Black lines of text on a white 800x200 page (layout: see text_page)."""
    return text_page(lines, **layout)


def picture(path: Path, colour=(200, 30, 30), size=(64, 48), **save) -> Path:
    """A plain picture file (its format from the name, or `format`)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", size, colour).save(path, **save)
    return path


def face_picture() -> tuple[Image.Image, list[tuple[int, int, int, int]]]:
    """A dark 640x640 picture with two squares the tiny face detector finds, and their boxes."""
    image = Image.new("RGB", (640, 640), (20, 20, 20))
    draw = ImageDraw.Draw(image)
    boxes = [draw_tiny_face(draw, (320, 320), 32), draw_tiny_face(draw, (128, 128), 16)]
    return image, boxes


def encode(image: Image.Image, fmt: str, **options) -> bytes:
    buffer = io.BytesIO()
    if fmt == "HEIC":
        pillow_heif.from_pillow(image).save(buffer, quality=80)
    else:
        image.save(buffer, fmt, **options)
    return buffer.getvalue()


def rotated_exif_jpeg(size=(120, 80)) -> bytes:
    """A landscape JPEG whose EXIF says 'rotate 90° clockwise to display'."""
    exif = Image.Exif()
    exif[0x0112] = 6
    return encode(Image.new("RGB", size, (200, 30, 30)), "JPEG", exif=exif.tobytes())


def sixteen_bit_png(size=(64, 48)) -> bytes:
    return encode(Image.fromarray(np.full(size[::-1], 40000, dtype=np.uint16)), "PNG")


def transparent_png(size=(64, 48)) -> bytes:
    return encode(Image.new("RGBA", size, (0, 0, 0, 0)), "PNG")


def animated_gif(size=(64, 48)) -> bytes:
    frames = [Image.new("RGB", size, colour) for colour in ("red", "blue", "green")]
    buffer = io.BytesIO()
    frames[0].save(buffer, "GIF", save_all=True, append_images=frames[1:], duration=100)
    return buffer.getvalue()


def decompression_bomb(pixels: int) -> bytes:
    """A small PNG whose header declares `pixels` pixels (one bit each, all zero)."""
    side = int(pixels**0.5) + 1
    return encode(Image.new("1", (side, side)), "PNG", optimize=True)


def truncated_jpeg() -> bytes:
    data = encode(text_picture(), "JPEG", quality=90)
    return data[: len(data) // 2]


def portrait(
    path: Path, boxes: Sequence[Sequence[float]], colours: Sequence[tuple], size=(640, 480)
) -> Path:
    """A picture with a face-like oval in each box (its colour, with two eyes): what the
    People view cuts round faces from."""
    image = Image.new("RGB", size, (235, 235, 230))
    draw = ImageDraw.Draw(image)
    for (x1, y1, x2, y2), colour in zip(boxes, colours, strict=True):
        draw.ellipse((x1, y1, x2, y2), fill=colour)
        eye = (x2 - x1) / 8
        for ex in (x1 + (x2 - x1) * 0.33, x1 + (x2 - x1) * 0.67):
            ey = y1 + (y2 - y1) * 0.4
            draw.ellipse((ex - eye, ey - eye, ex + eye, ey + eye), fill=(30, 30, 30))
    path.parent.mkdir(parents=True, exist_ok=True)
    image.save(path, quality=90)
    return path
