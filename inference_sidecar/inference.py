"""What every API shares: read and decode an image off the event loop, and hand images and
texts to the models through their batchers. The API modules only translate shapes."""

import asyncio
import time
from collections.abc import Awaitable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, TypeVar

import numpy as np
from PIL import Image

from inference_sidecar import metrics
from inference_sidecar.batching import Batcher
from inference_sidecar.images import configure_pixel_limit, decode_image
from inference_sidecar.models.ocr import OcrLine
from inference_sidecar.paths import file_too_large, read_library_file
from inference_sidecar.registry import ModelRegistry
from inference_sidecar.settings import Settings

T = TypeVar("T")


@dataclass(frozen=True)
class OcrResult:
    model: str
    lines: list[OcrLine]


@dataclass(frozen=True)
class ClipResult:
    model: str
    dim: int
    vectors: np.ndarray  # (n, dim) float32, unit length


@dataclass(frozen=True)
class FacesResult:
    model: str
    faces: list  # inference_sidecar.models.faces.Face


class Inference:
    def __init__(self, settings: Settings, registry: ModelRegistry):
        self.settings = settings
        self.registry = registry
        configure_pixel_limit(settings.max_image_pixels)
        self._io = ThreadPoolExecutor(settings.decode_threads, thread_name_prefix="decode")
        size, wait_s = settings.batch_max_size, settings.batch_max_wait_ms / 1000
        self._batchers = {
            # OCR gains nothing from waiting (its batch is mostly per-image work), so it
            # only coalesces what queued up while the previous batch ran.
            "ocr": Batcher("ocr", self._ocr_batch, size, 0.0),
            "clip_image": Batcher("clip_image", self._clip_image_batch, size, wait_s),
            "clip_text": Batcher("clip_text", self._clip_text_batch, size, wait_s),
            "faces": Batcher("faces", self._faces_batch, size, wait_s),
        }

    async def close(self) -> None:
        for batcher in self._batchers.values():
            await batcher.close()
        self._io.shutdown(wait=False, cancel_futures=True)

    # --- reading and decoding -------------------------------------------------------

    async def read_path(self, path: str) -> bytes:
        roots, limit = self.settings.library_root_paths, self.settings.max_file_bytes
        return await self._in_thread(read_library_file, path, roots, limit)

    def check_upload_size(self, size: int | None) -> None:
        if size is not None and size > self.settings.max_file_bytes:
            raise file_too_large(size, self.settings.max_file_bytes)

    async def decode(self, data: bytes) -> Image.Image:
        self.check_upload_size(len(data))
        started = time.perf_counter()
        image = await self._in_thread(decode_image, data, self.settings.max_image_pixels)
        metrics.DECODE_SECONDS.observe(time.perf_counter() - started)
        return image

    async def shrink(self, image: Image.Image, max_side: int) -> Image.Image:
        """A copy whose longer side is at most max_side (Immich's OCR maxResolution)."""
        if max(image.size) <= max_side:
            return image
        return await self._in_thread(_shrunk, image, max_side)

    # --- models ---------------------------------------------------------------------

    async def ocr(self, image: Image.Image) -> OcrResult:
        return await self._timed("ocr", self._batchers["ocr"].submit(image))

    async def clip_image(self, image: Image.Image) -> ClipResult:
        async def squashed_then_embedded() -> ClipResult:
            ready = await self._clip_sized(image)
            return await self._batchers["clip_image"].submit(ready)

        return await self._timed("clip", squashed_then_embedded())

    async def _clip_sized(self, image: Image.Image) -> Image.Image:
        """Chinese-CLIP squashes every image to resolution x resolution (bicubic). Doing it
        here, in the decode threads, leaves the model's one batch thread just the network:
        on a GPU that resize, not the network, is what limits throughput. The model's own
        resize of an image already that size is a copy, so the pixels are the same."""
        size = getattr(self.registry.loaded("clip"), "resolution", None)
        if not size or image.size == (size, size):
            return image
        return await self._in_thread(image.resize, (size, size), Image.Resampling.BICUBIC)

    async def clip_texts(self, texts: list[str]) -> ClipResult:
        parts = await self._timed("clip_text", self._batchers["clip_text"].submit_many(texts))
        vectors = np.stack([part.vectors[0] for part in parts])
        return ClipResult(parts[0].model, parts[0].dim, vectors)

    async def faces(self, image: Image.Image, min_score: float | None = None) -> FacesResult:
        score = self.settings.face_min_score if min_score is None else min_score
        return await self._timed("faces", self._batchers["faces"].submit((image, score)))

    # Batch functions run in each batcher's own thread; the model loads there on first use.

    def _ocr_batch(self, images: list[Image.Image]) -> list[OcrResult]:
        model = self.registry.get("ocr")
        return [OcrResult(model.name, lines) for lines in model.read_batch(images)]

    def _clip_image_batch(self, images: list[Image.Image]) -> list[ClipResult]:
        model = self.registry.get("clip")
        vectors = model.encode_images(images)
        return [ClipResult(model.name, model.dim, row[None, :]) for row in vectors]

    def _clip_text_batch(self, texts: list[str]) -> list[ClipResult]:
        model = self.registry.get("clip")
        vectors = model.encode_texts(texts)
        return [ClipResult(model.name, model.dim, row[None, :]) for row in vectors]

    def _faces_batch(self, items: list[tuple[Image.Image, float]]) -> list[FacesResult]:
        model = self.registry.get("faces")
        name = getattr(model, "name", self.settings.face_model)
        return [FacesResult(name, model.detect(image, min_score=score)) for image, score in items]

    # --- helpers --------------------------------------------------------------------

    async def _in_thread(self, func, *args) -> Any:
        return await asyncio.get_running_loop().run_in_executor(self._io, func, *args)

    @staticmethod
    async def _timed(task: str, work: Awaitable[T]) -> T:
        started = time.perf_counter()
        try:
            return await work
        finally:
            metrics.TASK_SECONDS.labels(task=task).observe(time.perf_counter() - started)


def _shrunk(image: Image.Image, max_side: int) -> Image.Image:
    scale = max_side / max(image.size)
    size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
    return image.resize(size, Image.Resampling.BILINEAR)
