"""Immich's machine-learning protocol (Immich v2.x): GET /ping and POST /predict.

Requests and answers match immich_ml exactly, so Immich's server, pointed at this
sidecar, runs its smart search, face and OCR jobs on our models. The shapes, as
Immich's server reads them (machine-learning.repository.ts):
  clip visual     {"clip": "<JSON array>", "imageHeight": h, "imageWidth": w}
  clip textual    {"clip": "<JSON array>"}
  faces           {"facial-recognition": [{"boundingBox": {x1,y1,x2,y2}, "embedding":
                   "<JSON array>", "score": s}], "imageHeight": h, "imageWidth": w}
  ocr             {"ocr": {"box": [8 normalised numbers per text], "boxScore": [...],
                   "text": [...], "textScore": [...]}, "imageHeight": h, "imageWidth": w}
Errors have FastAPI's shape {"detail": "..."}, as Immich's own service answers.
OCR's maxResolution sizes only the detector's copy; lines are read from the full image.
Model names are honoured or refused by name (immich_models.py), never answered by another.
"""

import asyncio
import json
from dataclasses import dataclass, field
from typing import Annotated, Any

import numpy as np
from fastapi import APIRouter, File, Form, HTTPException, UploadFile
from fastapi.responses import JSONResponse, PlainTextResponse
from PIL import Image
from pydantic import BaseModel, ConfigDict, Field

from inference_sidecar.api_v1 import InferenceDep
from inference_sidecar.immich_models import check_clip_dim, check_ocr_model, face_pack
from inference_sidecar.inference import Inference
from inference_sidecar.vectors import float_list, json_array_string

TAG = "immich"
router = APIRouter(tags=[TAG])

TASK_TYPES = {
    "clip": {"visual", "textual"},
    "facial-recognition": {"detection", "recognition"},
    "ocr": {"detection", "recognition"},
}
# immich_ml's own defaults, used when Immich's server leaves an option out.
FACE_MIN_SCORE = 0.7
OCR_MIN_BOX_SCORE = 0.5
OCR_MIN_TEXT_SCORE = 0.9
OCR_MAX_RESOLUTION = 736


class BoundingBox(BaseModel):
    x1: int
    y1: int
    x2: int
    y2: int


class DetectedFace(BaseModel):
    boundingBox: BoundingBox
    embedding: str
    score: float


class OcrOutput(BaseModel):
    text: list[str]
    box: list[float]
    boxScore: list[float]
    textScore: list[float]


class PredictResponse(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    clip: str | None = None
    facial_recognition: list[DetectedFace] | None = Field(None, alias="facial-recognition")
    ocr: OcrOutput | None = None
    imageHeight: int | None = None
    imageWidth: int | None = None


@dataclass
class Entry:
    model_name: str
    options: dict[str, Any] = field(default_factory=dict)


Plan = dict[str, dict[str, Entry]]  # task -> model type -> entry


@router.get("/ping", response_class=PlainTextResponse)
def ping() -> str:
    """Immich's health check: open, answers `pong`."""
    return "pong"


@router.post("/predict", response_model=PredictResponse)
async def predict(
    inference: InferenceDep,
    entries: Annotated[str, Form()],
    image: Annotated[UploadFile | None, File()] = None,
    text: Annotated[str | None, Form()] = None,
):
    """The key is asked for unless PHOTO_AI_IMMICH_WITHOUT_KEY (see auth.py)."""
    plan = parse_entries(entries)
    _check_models(plan, inference.settings.face_model)
    if image is not None:
        async with inference.decoded(await inference.read_upload(image)) as picture:
            response = await _answer(plan, picture, inference)
    elif text is not None:
        response = await _answer(plan, text, inference)
    else:
        raise HTTPException(400, "Either image or text must be provided")
    body = response.model_dump(by_alias=True, exclude_none=True)
    return JSONResponse(body)


async def _answer(plan: Plan, payload: Image.Image | str, inference: Inference):
    _check_inputs(plan, payload)
    return await _run(plan, payload, inference)


def parse_entries(raw: str) -> Plan:
    """{task: {type: {"modelName": ..., "options": {...}}}}, validated as immich_ml does."""
    try:
        request = json.loads(raw)
    except ValueError as e:
        raise HTTPException(422, "Invalid request format.") from e
    if not isinstance(request, dict) or not request:
        raise HTTPException(422, "Invalid request format.")
    return {task: _parse_task(task, types) for task, types in request.items()}


def _parse_task(task: str, types: Any) -> dict[str, Entry]:
    if task not in TASK_TYPES:
        raise HTTPException(422, f"Unknown model task: {task}")
    if not isinstance(types, dict) or not types:
        raise HTTPException(422, "Invalid request format.")
    parsed = {}
    for model_type, entry in types.items():
        if model_type not in TASK_TYPES[task]:
            raise HTTPException(422, f"Unknown model type '{model_type}' for task {task}")
        if not isinstance(entry, dict) or not isinstance(entry.get("modelName"), str):
            raise HTTPException(422, "Invalid request format.")
        options = entry.get("options") or {}
        if not isinstance(options, dict):
            raise HTTPException(422, "Invalid request format.")
        parsed[model_type] = Entry(entry["modelName"], options)
    if "recognition" in parsed and "detection" not in parsed:
        # immich_ml's wording: recognition consumes detection's output.
        raise HTTPException(400, f"Task {task} of type recognition depends on output of detection")
    return parsed


def _check_models(plan: Plan, our_face_pack: str) -> None:
    """Refuse, before any image is decoded, a model name this sidecar cannot honour."""
    if "facial-recognition" in plan:
        _face_pack(plan["facial-recognition"], our_face_pack)
    for entry in plan.get("ocr", {}).values():
        check_ocr_model(entry.model_name)


def _face_pack(types: dict[str, Entry], our_face_pack: str) -> str:
    recognition = types.get("recognition")
    return face_pack(
        types["detection"].model_name, recognition and recognition.model_name, our_face_pack
    )


def _check_inputs(plan: Plan, payload: Image.Image | str) -> None:
    is_text = isinstance(payload, str)
    for task, types in plan.items():
        for model_type in types:
            if (model_type == "textual") != is_text:
                needed = "text" if model_type == "textual" else "an image"
                raise HTTPException(422, f"{task} {model_type} needs {needed}")


async def _run(plan: Plan, payload: Image.Image | str, inference: Inference) -> PredictResponse:
    jobs = {task: _job(task, types, payload, inference) for task, types in plan.items()}
    outputs = dict(zip(jobs, await asyncio.gather(*jobs.values()), strict=True))
    response = PredictResponse(
        clip=outputs.get("clip"),
        facial_recognition=outputs.get("facial-recognition"),
        ocr=outputs.get("ocr"),
    )
    if isinstance(payload, Image.Image):
        response.imageHeight, response.imageWidth = payload.height, payload.width
    return response


def _job(task: str, types: dict[str, Entry], payload, inference: Inference):
    if task == "clip":
        return _clip(next(iter(types.values())), payload, inference)
    if task == "facial-recognition":
        return _faces(types, payload, inference)
    return _ocr(types, payload, inference)


async def _clip(entry: Entry, payload: Image.Image | str, inference: Inference) -> str:
    if isinstance(payload, str):
        result = await inference.clip_texts([payload])
    else:
        result = await inference.clip_image(payload)
    check_clip_dim(entry.model_name, result.model, result.dim)
    return json_array_string(result.vectors[0])


async def _faces(
    types: dict[str, Entry], image: Image.Image, inference: Inference
) -> list[DetectedFace]:
    min_score = _number(types["detection"], "minScore", FACE_MIN_SCORE)
    pack = _face_pack(types, inference.settings.face_model)
    result = await inference.faces(image, min_score, pack)
    return [
        DetectedFace(
            boundingBox=_bounding_box(face.box),
            embedding=json_array_string(face.embedding),
            score=float(str(np.float32(face.score))),
        )
        for face in result.faces
    ]


def _bounding_box(box) -> BoundingBox:
    x1, y1, x2, y2 = (int(round(float(v))) for v in box)
    return BoundingBox(x1=x1, y1=y1, x2=x2, y2=y2)


async def _ocr(types: dict[str, Entry], image: Image.Image, inference: Inference) -> OcrOutput:
    detection, recognition = types["detection"], types.get("recognition", Entry(""))
    min_box_score = _number(detection, "minScore", OCR_MIN_BOX_SCORE)
    max_resolution = int(_number(detection, "maxResolution", OCR_MAX_RESOLUTION))
    min_text_score = _number(recognition, "minScore", OCR_MIN_TEXT_SCORE)
    # maxResolution sizes the detector's copy only; the lines are read from the full image.
    result = await inference.ocr(image, detection_side=max(32, max_resolution))
    # Immich keeps a text only when its score is strictly above minScore.
    lines = [
        line
        for line in result.lines
        if line.box_score >= min_box_score and line.score > min_text_score
    ]
    scale = np.array([image.width, image.height], dtype=np.float64)
    boxes = np.array([np.asarray(line.box) / scale for line in lines])
    return OcrOutput(
        text=[line.text for line in lines],
        box=float_list(boxes),
        boxScore=float_list(np.array([line.box_score for line in lines])),
        textScore=float_list(np.array([line.score for line in lines])),
    )


def _number(entry: Entry, option: str, default: float) -> float:
    value = entry.options.get(option)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise HTTPException(422, f"option {option} must be a number, not {value!r}")
    return float(value)
