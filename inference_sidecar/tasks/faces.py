"""Task `faces`: face boxes, landmarks and ArcFace embeddings from an InsightFace pack."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PIL import Image
from pydantic import BaseModel, Field

from inference_sidecar.errors import ModelMissing
from inference_sidecar.models.faces import Face, FaceModel, face_pack_dir
from inference_sidecar.registry import Location, ModelSlot, onnx_device
from inference_sidecar.schemas_v1 import ModelOut, Point, StrictModel
from inference_sidecar.settings import Settings
from inference_sidecar.tasks.spec import Batch, ModelResult, TaskSpec
from inference_sidecar.vectors import float_list

if TYPE_CHECKING:
    from inference_sidecar.inference import Inference


class FacesOptions(StrictModel):
    min_score: float | None = Field(None, ge=0, le=1)


class FaceOut(BaseModel):
    box: tuple[float, float, float, float]
    score: float
    landmarks: list[Point]
    embedding: list[float]


class FacesOut(ModelOut):
    faces: list[FaceOut]


@dataclass(frozen=True)
class FacesResult(ModelResult):
    faces: list[Face]


def slot(settings: Settings) -> ModelSlot:
    return pack_slot(settings, settings.face_model)


def pack_slot(settings: Settings, pack: str) -> ModelSlot:
    """The InsightFace pack `pack` under PHOTO_AI_MODEL_DIR/faces/."""
    model_dir, device = settings.model_dir, onnx_device(settings.device)

    def locate() -> Location:
        path = Path(face_pack_dir(model_dir, pack))
        if path.is_dir() and any(path.glob("*.onnx")):
            return Location(str(path))
        return Location(str(path), ModelMissing("faces", str(path), "PHOTO_AI_MODEL_DIR"))

    return ModelSlot("faces", device, locate, lambda: FaceModel.load(model_dir, pack, device))


def detect(model: Any, items: list[tuple[Image.Image, float]]) -> list[FacesResult]:
    """Items are (image, lowest detection score kept)."""
    return [FacesResult(model.name, model.detect(image, min_score=score)) for image, score in items]


async def analyze(inference: Inference, image: Image.Image, options: FacesOptions) -> FacesOut:
    result = await inference.faces(image, options.min_score)
    return FacesOut(model=result.model, faces=[_face_out(face) for face in result.faces])


def _face_out(face: Face) -> FaceOut:
    return FaceOut(
        box=tuple(round(float(v), 1) for v in face.box),
        score=round(float(face.score), 5),
        landmarks=[(round(float(x), 1), round(float(y), 1)) for x, y in face.landmarks],
        embedding=float_list(face.embedding),
    )


SPEC = TaskSpec(
    name="faces",
    options=FacesOptions,
    result=FacesOut,
    slot=slot,
    batches=(Batch("faces", detect),),
    run=analyze,
    variant=pack_slot,
)
