"""Image-to-array helpers shared by the model modules (PIL, numpy and cv2 only, no torchvision)."""

from __future__ import annotations

import cv2
import numpy as np
from PIL import Image

# CLIP's published pixel statistics; Chinese-CLIP reuses OpenAI's values.
CLIP_MEAN = np.array([0.48145466, 0.4578275, 0.40821073], dtype=np.float32)
CLIP_STD = np.array([0.26862954, 0.26130258, 0.27577711], dtype=np.float32)
ROWS_PER_BAND = 256


def pixel_array(image: Image.Image) -> np.ndarray:
    """(H, W, 3) uint8 RGB pixels, or (H, W) for a greyscale (L) image: a large greyscale
    picture is not tripled at full size when only a small copy of it is needed in colour.

    Copied a band of rows at a time: np.asarray(image) goes through PIL's tobytes, which
    holds the pixels twice over while it copies (gigabytes for a 100-megapixel picture).
    """
    if image.mode not in ("RGB", "L"):
        image = image.convert("RGB")
    width, height = image.size
    pixels = np.empty((height, width, 3) if image.mode == "RGB" else (height, width), np.uint8)
    for top in range(0, height, ROWS_PER_BAND):
        bottom = min(height, top + ROWS_PER_BAND)
        pixels[top:bottom] = np.asarray(image.crop((0, top, width, bottom)))
    return pixels


def as_rgb(pixels: np.ndarray) -> np.ndarray:
    """(H, W, 3) from (H, W, 3) or greyscale (H, W)."""
    return cv2.cvtColor(pixels, cv2.COLOR_GRAY2RGB) if pixels.ndim == 2 else pixels


def clip_pixels(images: list[Image.Image], size: int) -> np.ndarray:
    """(n, 3, size, size) float32 batch, exactly as cn_clip's torchvision transform makes it.

    cn_clip squashes to size x size (no crop, aspect ratio not kept) with PIL's bicubic filter,
    scales to [0, 1] and normalises with CLIP's mean and std. torchvision's Resize on a PIL
    image calls PIL's own resize, so doing it here gives the same pixels.
    """
    batch = np.empty((len(images), 3, size, size), dtype=np.float32)
    for i, image in enumerate(images):
        if image.mode not in ("RGB", "L"):
            image = image.convert("RGB")
        # Squashed first: a greyscale picture becomes RGB at size x size, not at full size.
        resized = image.resize((size, size), Image.Resampling.BICUBIC).convert("RGB")
        pixels = np.asarray(resized, dtype=np.float32) / 255.0
        batch[i] = ((pixels - CLIP_MEAN) / CLIP_STD).transpose(2, 0, 1)
    return batch


def letterbox(rgb: np.ndarray, width: int, height: int) -> tuple[np.ndarray, float]:
    """Fit an image (RGB or greyscale) into a black width x height RGB canvas at the
    top-left, keeping its aspect.

    Returns the canvas and the scale from original to canvas pixels. This is the layout
    InsightFace's SCRFD was run with (bilinear resize, padding on the right or bottom).
    """
    src_h, src_w = rgb.shape[:2]
    if src_h / src_w > height / width:
        new_h, new_w = height, max(1, int(height * src_w / src_h))
    else:
        new_w, new_h = width, max(1, int(width * src_h / src_w))
    canvas = np.zeros((height, width, 3), dtype=np.uint8)
    resized = cv2.resize(rgb, (new_w, new_h), interpolation=cv2.INTER_LINEAR)
    canvas[:new_h, :new_w] = as_rgb(resized)
    return canvas, new_h / src_h


def normalized_chw(rgb: np.ndarray, mean: float, std: float) -> np.ndarray:
    """(3, H, W) float32 of (pixel - mean) / std, channel order kept (RGB)."""
    return ((rgb.astype(np.float32) - mean) / std).transpose(2, 0, 1)
