"""What every API shares: read and decode an image off the event loop, with its pixels
counted against the budget until its answer, and hand images and texts to the models
through the batchers the task specs declare. The API modules only translate shapes."""

import asyncio
import time
from collections.abc import AsyncIterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from functools import partial
from typing import Any

from PIL import Image
from starlette.datastructures import UploadFile

from inference_sidecar import metrics
from inference_sidecar.batching import Batcher
from inference_sidecar.images import configure_pixel_limit, load_image, open_image
from inference_sidecar.limits import PixelBudget
from inference_sidecar.paths import file_too_large, read_library_file
from inference_sidecar.registry import ModelRegistry
from inference_sidecar.settings import Settings
from inference_sidecar.tasks import Batch, TaskSpec
from inference_sidecar.tasks.clip import ClipResult, stacked
from inference_sidecar.tasks.faces import FacesResult
from inference_sidecar.tasks.ocr import OcrResult


class Inference:
    def __init__(self, settings: Settings, registry: ModelRegistry, tasks: Sequence[TaskSpec]):
        self.settings = settings
        self.registry = registry
        configure_pixel_limit(settings.max_image_pixels)
        self._pixels = PixelBudget(settings.max_pixels_in_flight)
        self._io = ThreadPoolExecutor(settings.decode_threads, thread_name_prefix="decode")
        self._batches = {batch.name: (spec.name, batch) for spec in tasks for batch in spec.batches}
        # (batch name, model variant or None) -> its batcher; a variant's is made on first use
        self._batchers: dict[tuple[str, str | None], Batcher] = {}

    def _batcher(self, name: str, variant: str | None) -> Batcher:
        """The batcher of one batch on one model: each variant has its own (and its thread)."""
        if (name, variant) not in self._batchers:
            task, batch = self._batches[name]
            wait_s = self.settings.batch_max_wait_ms / 1000 if batch.waits else 0.0
            run = partial(self._run_batch, task, batch, variant)
            label = name if variant is None else f"{name}:{variant}"
            batcher = Batcher(label, run, self.settings.batch_max_size, wait_s)
            self._batchers[name, variant] = batcher
        return self._batchers[name, variant]

    def _run_batch(
        self, task: str, batch: Batch, variant: str | None, items: list[Any]
    ) -> Sequence[Any]:
        # In the batcher's own thread: the model loads there on first use.
        return batch.run(self.registry.get(task, variant), items)

    async def close(self) -> None:
        for batcher in self._batchers.values():
            await batcher.close()
        self._io.shutdown(wait=False, cancel_futures=True)

    # --- reading and decoding -------------------------------------------------------

    async def read_path(self, path: str) -> bytes:
        roots, limit = self.settings.library_root_paths, self.settings.max_file_bytes
        return await self._in_thread(read_library_file, path, roots, limit)

    async def read_upload(self, upload: UploadFile) -> bytes:
        self._check_size(upload.size)
        return await upload.read()

    def _check_size(self, size: int | None) -> None:
        if size is not None and size > self.settings.max_file_bytes:
            raise file_too_large(size, self.settings.max_file_bytes)

    @asynccontextmanager
    async def decoded(self, data: bytes) -> AsyncIterator[Image.Image]:
        """The picture in `data`, decoded once its pixels fit in PHOTO_AI_MAX_PIXELS_IN_FLIGHT
        and counted there until the block ends: hold it only while answering."""
        self._check_size(len(data))
        max_pixels = self.settings.max_image_pixels
        opened = await self._in_thread(open_image, data, max_pixels)
        async with self._pixels.hold(opened.width * opened.height):
            started = time.perf_counter()
            image = await self._in_thread(load_image, opened, max_pixels)
            del opened  # a one-bit or CMYK original is not kept beside its converted copy
            metrics.DECODE_SECONDS.observe(time.perf_counter() - started)
            yield image

    # --- models ---------------------------------------------------------------------

    async def submit(self, batch: str, item: Any, variant: str | None = None) -> Any:
        """One item through the named batch on the task's model (or the named variant of it),
        prepared in a decode thread first if the batch says so; its result, or its model's
        error."""
        task, spec = self._batches[batch]
        started = time.perf_counter()
        try:
            if spec.prepare is not None:
                model = self.registry.loaded(task, variant)
                item = await self._in_thread(spec.prepare, model, item)
            return await self._batcher(batch, variant).submit(item)
        finally:
            metrics.TASK_SECONDS.labels(task=batch).observe(time.perf_counter() - started)

    async def submit_many(self, batch: str, items: list[Any]) -> list[Any]:
        return list(await asyncio.gather(*(self.submit(batch, item) for item in items)))

    # The three models as Immich's and mt-photos-ai's APIs (and the task runners) call them.

    async def ocr(self, image: Image.Image, detection_side: int | None = None) -> OcrResult:
        """detection_side: the short side the detector sees (Immich's maxResolution); lines
        are read from the full image whatever it is."""
        return await self.submit("ocr", (image, detection_side))

    async def clip_image(self, image: Image.Image) -> ClipResult:
        return await self.submit("clip_image", image)

    async def clip_texts(self, texts: list[str]) -> ClipResult:
        return stacked(await self.submit_many("clip_text", texts))

    async def faces(
        self, image: Image.Image, min_score: float | None = None, pack: str | None = None
    ) -> FacesResult:
        """pack: an InsightFace pack other than PHOTO_AI_FACE_MODEL's (Immich's modelName)."""
        score = self.settings.face_min_score if min_score is None else min_score
        variant = None if pack == self.settings.face_model else pack
        return await self.submit("faces", (image, score), variant)

    # --- helpers --------------------------------------------------------------------

    async def _in_thread(self, func, *args) -> Any:
        return await asyncio.get_running_loop().run_in_executor(self._io, func, *args)
