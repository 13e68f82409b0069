"""Task `ocr`: text lines and their boxes, by RapidOCR's PP-OCR models (shipped in the wheel)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from PIL import Image
from pydantic import BaseModel, Field

from inference_sidecar.models.ocr import OcrLine, OcrModel
from inference_sidecar.registry import Location, ModelSlot, onnx_device
from inference_sidecar.schemas_v1 import ModelOut, Point, StrictModel
from inference_sidecar.settings import Settings
from inference_sidecar.tasks.spec import Batch, ModelResult, TaskSpec

if TYPE_CHECKING:
    from inference_sidecar.inference import Inference


class OcrOptions(StrictModel):
    min_score: float | None = Field(None, ge=0, le=1)


class OcrLineOut(BaseModel):
    text: str
    score: float
    box_score: float
    box: list[Point]
    box_normalized: list[Point]


class OcrOut(ModelOut):
    text: str
    lines: list[OcrLineOut]


@dataclass(frozen=True)
class OcrResult(ModelResult):
    lines: list[OcrLine]


def slot(settings: Settings) -> ModelSlot:
    device = onnx_device(settings.device)

    def locate() -> Location:
        import rapidocr

        return Location(str(Path(rapidocr.__file__).parent / "models"))

    return ModelSlot("ocr", device, locate, lambda: OcrModel.load(device=device))


def read(model: OcrModel, items: list[tuple[Image.Image, int | None]]) -> list[OcrResult]:
    """Items are (image, the detector's short side or None: see OcrModel.read_batch)."""
    images, sides = [image for image, _ in items], [side for _, side in items]
    return [OcrResult(model.name, lines) for lines in model.read_batch(images, sides)]


async def analyze(inference: Inference, image: Image.Image, options: OcrOptions) -> OcrOut:
    result = await inference.ocr(image)
    min_score = options.min_score
    if min_score is None:
        min_score = inference.settings.ocr_min_score
    lines = [_line_out(line, image) for line in result.lines if line.score >= min_score]
    return OcrOut(model=result.model, text="\n".join(line.text for line in lines), lines=lines)


def _line_out(line: OcrLine, image: Image.Image) -> OcrLineOut:
    box = np.asarray(line.box, dtype=np.float64)
    normalized = box / np.array([image.width, image.height])
    return OcrLineOut(
        text=line.text,
        score=round(line.score, 5),
        box_score=round(line.box_score, 5),
        box=[(round(x, 1), round(y, 1)) for x, y in box.tolist()],
        box_normalized=[(round(x, 6), round(y, 6)) for x, y in normalized.tolist()],
    )


# OCR gains nothing from waiting (its batch is mostly per-image work), so it only
# coalesces what queued up while the previous batch ran.
SPEC = TaskSpec(
    name="ocr",
    options=OcrOptions,
    result=OcrOut,
    slot=slot,
    batches=(Batch("ocr", read, waits=False),),
    run=analyze,
)
