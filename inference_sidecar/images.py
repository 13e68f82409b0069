"""Decode an uploaded or stored image once, into the 8-bit picture every model reads.

The pixel count is checked from the header, before any pixel data is decoded, so a
decompression bomb costs a few bytes of parsing and not gigabytes of memory. A greyscale
or one-bit picture stays one byte a pixel (mode L) instead of becoming RGB, which PIL
stores in four: each model converts its own small working copy.
"""

import io
import warnings

import numpy as np
import pillow_heif
from PIL import Image, ImageFile, ImageOps, UnidentifiedImageError

from inference_sidecar.errors import BadImage, TooManyPixels

pillow_heif.register_heif_opener()
# A truncated file is an error of the asset, not something to paper over with grey pixels.
ImageFile.LOAD_TRUNCATED_IMAGES = False
# Our own limit is checked first and answers 413; PIL's warning would only be noise.
warnings.simplefilter("ignore", Image.DecompressionBombWarning)

_WIDE_INTEGER_MODES = {"I", "I;16", "I;16B", "I;16L", "I;16N"}
_GREY_MODES = {"1", "L", "F", *_WIDE_INTEGER_MODES}
_ALPHA_MODES = {"RGBA", "LA", "PA", "RGBa", "La"}
_ROWS_PER_STEP = 256  # 16-bit and float pictures are scaled this many rows at a time


def configure_pixel_limit(max_pixels: int) -> None:
    """Keep PIL's own bomb guard (which fires at twice its limit) in step with ours."""
    Image.MAX_IMAGE_PIXELS = max_pixels


def decode_image(data: bytes, max_pixels: int) -> Image.Image:
    """The first frame as an upright 8-bit RGB or greyscale (L) image; BadImage or
    TooManyPixels if it cannot be."""
    return load_image(open_image(data, max_pixels), max_pixels)


def open_image(data: bytes, max_pixels: int) -> Image.Image:
    """The image with only its header read: its size is known, no pixel is decoded yet."""
    if not data:
        raise BadImage("empty file")
    image = _open_header(data, max_pixels)
    _check_pixel_count(image, max_pixels)
    return image


def load_image(image: Image.Image, max_pixels: int) -> Image.Image:
    """Decode an opened image's pixels: upright, 8-bit RGB or L."""
    _load_pixels(image, max_pixels)
    return to_8bit(_upright(image))


def _too_many(max_pixels: int, size: str) -> TooManyPixels:
    return TooManyPixels(
        f"image has {size}; the limit is {max_pixels} pixels (PHOTO_AI_MAX_IMAGE_PIXELS)"
    )


def _open_header(data: bytes, max_pixels: int) -> Image.Image:
    try:
        return Image.open(io.BytesIO(data))
    except Image.DecompressionBombError as e:
        raise _too_many(max_pixels, "more than twice the allowed pixels") from e
    except UnidentifiedImageError as e:
        raise BadImage("not an image, or a format this service cannot read") from e
    except (OSError, SyntaxError, ValueError, EOFError) as e:
        raise BadImage(f"unreadable image header: {e}") from e


def _check_pixel_count(image: Image.Image, max_pixels: int) -> None:
    width, height = image.size
    if width <= 0 or height <= 0:
        raise BadImage(f"image has no pixels ({width}x{height})")
    if width * height > max_pixels:
        raise _too_many(max_pixels, f"{width * height} pixels ({width}x{height})")


def _load_pixels(image: Image.Image, max_pixels: int) -> None:
    try:
        image.seek(0)  # first frame of a GIF, animated WebP or multi-page TIFF
        image.load()
    except Image.DecompressionBombError as e:
        raise _too_many(max_pixels, "more than twice the allowed pixels") from e
    except (OSError, SyntaxError, ValueError, EOFError, IndexError, MemoryError) as e:
        raise BadImage(f"cannot decode image: {e}") from e


def _upright(image: Image.Image) -> Image.Image:
    try:
        # In place: without an orientation to apply, exif_transpose would return a copy.
        ImageOps.exif_transpose(image, in_place=True)
        return image
    except (OSError, SyntaxError, ValueError, KeyError, TypeError):
        # Broken EXIF must not cost the picture: keep it as stored.
        return image


def to_8bit(image: Image.Image) -> Image.Image:
    """8-bit RGB, or L for greyscale; transparency is flattened onto white so dark text on
    clear stays readable."""
    if image.mode in ("RGB", "L"):
        return image
    if image.mode in _WIDE_INTEGER_MODES or image.mode == "F":
        return _scale_to_8bit(image)
    if image.mode in _GREY_MODES:
        return image.convert("L")
    if image.mode in _ALPHA_MODES or _has_transparency(image):
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(background, rgba).convert("RGB")
    return image.convert("RGB")


def _has_transparency(image: Image.Image) -> bool:
    return image.mode == "P" and "transparency" in image.info


def _scale_to_8bit(image: Image.Image) -> Image.Image:
    """16-bit and float greyscale: PIL's own convert would clip everything above 255 to white.
    Scaled a band of rows at a time, so a large picture never exists in 64-bit floats."""
    pixels = np.asarray(image)
    brightest = float(pixels.max(initial=0))
    if image.mode == "F":
        top = 1.0 if brightest <= 1.0 else 255.0
    else:
        top = 65535.0 if brightest > 255 else 255.0
    scaled = np.empty(pixels.shape, dtype=np.uint8)
    for row in range(0, pixels.shape[0], _ROWS_PER_STEP):
        band = pixels[row : row + _ROWS_PER_STEP].astype(np.float64)
        scaled[row : row + _ROWS_PER_STEP] = np.clip(band * (255.0 / top), 0, 255)
    return Image.fromarray(scaled)
