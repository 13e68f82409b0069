"""Printed text for pictures drawn with Pillow: the demo's sample photos, the tests' and the
benchmarks' pictures. One font, WenQuanYi Zen Hei, has every CJK character they print.

    font(size)                      the font (FontMissing names the Debian package)
    text_width(draw, text, size)    how wide a line of text is
    write(draw, xy, text, size)     one line of text, its top-left corner at xy
    column(draw, lines, xy)         lines of (text, size) one under the other; the next y
    text_page(lines)                a plain page with lines of text on it
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from functools import cache
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

CJK_FONT = Path("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc")  # Debian: fonts-wqy-zenhei
PROPORTIONAL, MONOSPACED = 0, 1  # the two faces in CJK_FONT

Colour = tuple[int, int, int] | str


class FontMissing(FileNotFoundError):
    pass


@cache
def font(size: int, face: int = PROPORTIONAL) -> ImageFont.FreeTypeFont:
    if not CJK_FONT.is_file():
        raise FontMissing(
            f"the CJK font {CJK_FONT} is missing: install the Debian package fonts-wqy-zenhei "
            "(make setup does)"
        )
    return ImageFont.truetype(str(CJK_FONT), size, index=face)


def text_width(draw: ImageDraw.ImageDraw, text: str, size: int, face: int = PROPORTIONAL) -> float:
    return draw.textlength(text, font=font(size, face))


def write(
    draw: ImageDraw.ImageDraw,
    xy: tuple[float, float],
    text: str,
    size: int,
    fill: Colour = "black",
    face: int = PROPORTIONAL,
) -> None:
    """Draws one line of text with its top-left corner at xy."""
    draw.text(xy, text, font=font(size, face), fill=fill)


def column(
    draw: ImageDraw.ImageDraw,
    lines: Iterable[tuple[str, int]],
    xy: tuple[float, float],
    leading: float = 1.6,
    fill: Colour = "black",
    face: int = PROPORTIONAL,
) -> float:
    """Draws (text, size) lines one under the other from xy, each `leading` times its size
    below the one before; returns the y where a next line would go."""
    x, y = xy
    for text, size in lines:
        write(draw, (x, y), text, size, fill, face)
        y += int(size * leading)
    return y


def text_page(
    lines: Sequence[str],
    size: tuple[int, int] = (800, 200),
    font_size: int = 40,
    ground: Colour = "white",
    fill: Colour = "black",
    origin: tuple[float, float] = (20, 20),
    leading: float = 2.2,
) -> Image.Image:
    """A page of the ground colour with lines of one size on it, from origin down."""
    image = Image.new("RGB", size, ground)
    column(ImageDraw.Draw(image), ((line, font_size) for line in lines), origin, leading, fill)
    return image
