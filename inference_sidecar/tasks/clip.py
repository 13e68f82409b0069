"""Task `clip`: a Chinese-CLIP image embedding; the same model embeds texts for search."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from PIL import Image

from inference_sidecar.errors import ModelMissing
from inference_sidecar.registry import Location, ModelSlot, torch_device
from inference_sidecar.schemas_v1 import ModelOut, StrictModel
from inference_sidecar.settings import Settings
from inference_sidecar.tasks.spec import Batch, ModelResult, TaskSpec
from inference_sidecar.vectors import float_list

if TYPE_CHECKING:
    from inference_sidecar.inference import Inference


class ClipOptions(StrictModel):
    pass


class ClipOut(ModelOut):
    dim: int
    embedding: list[float]


@dataclass(frozen=True)
class ClipResult(ModelResult):
    dim: int
    vectors: np.ndarray  # (n, dim) float32, unit length


def slot(settings: Settings) -> ModelSlot:
    # models.clip needs torch, an optional dependency: imported only where it is used, so
    # that without it the task reports itself unavailable and the others still run.
    model_dir, name = settings.model_dir, settings.clip_model
    device = torch_device(settings.device)

    def locate() -> Location:
        from inference_sidecar.models.clip import clip_checkpoint_path

        path = Path(clip_checkpoint_path(model_dir, name))
        if path.is_file():
            return Location(str(path))
        return Location(str(path), ModelMissing("clip", str(path), "PHOTO_AI_MODEL_DIR"))

    def load() -> Any:
        from inference_sidecar.models.clip import ClipModel

        return ClipModel.load(model_dir, name=name, device=device)

    return ModelSlot("clip", device, locate, load)


def squash_for_model(model: Any | None, image: Image.Image) -> Image.Image:
    """Chinese-CLIP squashes every image to resolution x resolution (bicubic). Doing it in
    the decode threads leaves the model's one batch thread just the network: on a GPU that
    resize, not the network, is what limits throughput. The model's own resize of an image
    already that size is a copy, so the pixels are the same."""
    size = getattr(model, "resolution", None)
    if not size or image.size == (size, size):
        return image
    return image.resize((size, size), Image.Resampling.BICUBIC)


def embed_images(model: Any, images: list[Image.Image]) -> list[ClipResult]:
    vectors = model.encode_images(images)
    return [ClipResult(model.name, model.dim, row[None, :]) for row in vectors]


def embed_texts(model: Any, texts: list[str]) -> list[ClipResult]:
    vectors = model.encode_texts(texts)
    return [ClipResult(model.name, model.dim, row[None, :]) for row in vectors]


def stacked(parts: list[ClipResult]) -> ClipResult:
    """One result of n vectors from n results of one vector each."""
    vectors = np.stack([part.vectors[0] for part in parts])
    return ClipResult(parts[0].model, parts[0].dim, vectors)


async def analyze(inference: Inference, image: Image.Image, options: ClipOptions) -> ClipOut:
    result = await inference.clip_image(image)
    return ClipOut(model=result.model, dim=result.dim, embedding=float_list(result.vectors[0]))


SPEC = TaskSpec(
    name="clip",
    options=ClipOptions,
    result=ClipOut,
    slot=slot,
    batches=(
        Batch("clip_image", embed_images, prepare=squash_for_model),
        Batch("clip_text", embed_texts),
    ),
    run=analyze,
)
