"""Image-to-array helpers shared by the model modules (PIL, numpy and cv2 only, no torchvision)."""

from __future__ import annotations

import cv2
import numpy as np
from PIL import Image

# CLIP's published pixel statistics; Chinese-CLIP reuses OpenAI's values.
CLIP_MEAN = np.array([0.48145466, 0.4578275, 0.40821073], dtype=np.float32)
CLIP_STD = np.array([0.26862954, 0.26130258, 0.27577711], dtype=np.float32)


def rgb_array(image: Image.Image) -> np.ndarray:
    """(H, W, 3) uint8 RGB pixels of a PIL image of any mode."""
    if image.mode != "RGB":
        image = image.convert("RGB")
    return np.asarray(image, dtype=np.uint8)


def clip_pixels(images: list[Image.Image], size: int) -> np.ndarray:
    """(n, 3, size, size) float32 batch, exactly as cn_clip's torchvision transform makes it.

    cn_clip squashes to size x size (no crop, aspect ratio not kept) with PIL's bicubic filter,
    scales to [0, 1] and normalises with CLIP's mean and std. torchvision's Resize on a PIL
    image calls PIL's own resize, so doing it here gives the same pixels.
    """
    batch = np.empty((len(images), 3, size, size), dtype=np.float32)
    for i, image in enumerate(images):
        resized = image.convert("RGB").resize((size, size), Image.Resampling.BICUBIC)
        pixels = np.asarray(resized, dtype=np.float32) / 255.0
        batch[i] = ((pixels - CLIP_MEAN) / CLIP_STD).transpose(2, 0, 1)
    return batch


def letterbox(rgb: np.ndarray, width: int, height: int) -> tuple[np.ndarray, float]:
    """Fit an image into a black width x height canvas at the top-left, keeping its aspect.

    Returns the canvas and the scale from original to canvas pixels. This is the layout
    InsightFace's SCRFD was run with (bilinear resize, padding on the right or bottom).
    """
    src_h, src_w = rgb.shape[:2]
    if src_h / src_w > height / width:
        new_h, new_w = height, max(1, int(height * src_w / src_h))
    else:
        new_w, new_h = width, max(1, int(width * src_h / src_w))
    canvas = np.zeros((height, width, 3), dtype=np.uint8)
    canvas[:new_h, :new_w] = cv2.resize(rgb, (new_w, new_h), interpolation=cv2.INTER_LINEAR)
    return canvas, new_h / src_h


def normalized_chw(rgb: np.ndarray, mean: float, std: float) -> np.ndarray:
    """(3, H, W) float32 of (pixel - mean) / std, channel order kept (RGB)."""
    return ((rgb.astype(np.float32) - mean) / std).transpose(2, 0, 1)
