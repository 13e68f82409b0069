"""Decode an uploaded or stored image once, into the 8-bit RGB picture every model reads.

The pixel count is checked from the header, before any pixel data is decoded, so a
decompression bomb costs a few bytes of parsing and not gigabytes of memory.
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


def configure_pixel_limit(max_pixels: int) -> None:
    """Keep PIL's own bomb guard (which fires at twice its limit) in step with ours."""
    Image.MAX_IMAGE_PIXELS = max_pixels


def decode_image(data: bytes, max_pixels: int) -> Image.Image:
    """Return the first frame as an upright 8-bit RGB image, or raise BadImage/TooManyPixels."""
    if not data:
        raise BadImage("empty file")
    image = _open_header(data, max_pixels)
    _check_pixel_count(image, max_pixels)
    _load_pixels(image, max_pixels)
    return to_rgb(_upright(image))


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
        return ImageOps.exif_transpose(image) or image
    except (OSError, SyntaxError, ValueError, KeyError, TypeError):
        # Broken EXIF must not cost the picture: keep it as stored.
        return image


def to_rgb(image: Image.Image) -> Image.Image:
    """8-bit RGB; transparency is flattened onto white so dark text on clear stays readable."""
    if image.mode == "RGB":
        return image
    if image.mode in _WIDE_INTEGER_MODES or image.mode == "F":
        return _scale_to_8bit(image).convert("RGB")
    if image.mode in ("RGBA", "LA", "PA", "RGBa", "La") or _has_transparency(image):
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(background, rgba).convert("RGB")
    return image.convert("RGB")


def _has_transparency(image: Image.Image) -> bool:
    return image.mode == "P" and "transparency" in image.info


def _scale_to_8bit(image: Image.Image) -> Image.Image:
    """16-bit and float greyscale: PIL's own convert would clip everything above 255 to white."""
    pixels = np.asarray(image).astype(np.float64)
    if image.mode == "F":
        top = 1.0 if pixels.max(initial=0.0) <= 1.0 else 255.0
    else:
        top = 65535.0 if pixels.max(initial=0.0) > 255 else 255.0
    scaled = np.clip(pixels * (255.0 / top), 0, 255).astype(np.uint8)
    return Image.fromarray(scaled)
