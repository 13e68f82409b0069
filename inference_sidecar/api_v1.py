"""Our own API, the one the database talks to: /v1/analyze, /v1/clip/text, /health, /metrics."""

import asyncio
import json
from typing import Annotated

import numpy as np
from fastapi import APIRouter, Depends, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from PIL import Image
from pydantic import ValidationError
from starlette.datastructures import UploadFile

from inference_sidecar import metrics
from inference_sidecar.auth import require_key
from inference_sidecar.errors import BadRequest, SidecarError
from inference_sidecar.inference import ClipResult, FacesResult, Inference, OcrResult
from inference_sidecar.registry import package_versions
from inference_sidecar.schemas_v1 import (
    ANALYZE_REQUEST_BODY,
    AnalyzeOptions,
    AnalyzeRequest,
    AnalyzeResponse,
    AnalyzeTasks,
    ClipOut,
    ClipTextRequest,
    ClipTextResponse,
    ErrorResponse,
    FaceOut,
    FacesOut,
    HealthResponse,
    ImageSize,
    OcrLineOut,
    OcrOut,
    Task,
    TaskError,
    TaskResults,
)
from inference_sidecar.vectors import float_list

TAG = "v1"
router = APIRouter(tags=[TAG])
_ERRORS = {status: {"model": ErrorResponse} for status in (401, 403, 404, 413, 422, 503)}


def inference_of(request: Request) -> Inference:
    return request.app.state.inference


InferenceDep = Annotated[Inference, Depends(inference_of)]


@router.post(
    "/v1/analyze",
    response_model=AnalyzeResponse,
    dependencies=[Depends(require_key)],
    responses=_ERRORS,
    openapi_extra=ANALYZE_REQUEST_BODY,
)
async def analyze(request: Request, inference: InferenceDep):
    """One image (a path under the library roots, or uploaded bytes), every asked task."""
    if request.headers.get("content-type", "").startswith("multipart/form-data"):
        data, tasks, options = await _multipart_input(request, inference)
    else:
        data, tasks, options = await _json_input(request, inference)
    image = await inference.decode(data)
    results, errors = await _run_tasks(inference, image, tasks, options)
    body = AnalyzeResponse(
        image=ImageSize(width=image.width, height=image.height),
        results=TaskResults(**results),
        errors=errors,
    )
    status = 200 if results else next(iter(errors.values())).status
    return JSONResponse(body.model_dump(mode="json", exclude_none=True), status_code=status)


async def _json_input(request: Request, inference: Inference):
    try:
        parsed = AnalyzeRequest.model_validate_json(await request.body())
    except ValidationError as e:
        raise BadRequest(_validation_summary(e)) from e
    data = await inference.read_path(parsed.path)
    return data, _unique(parsed.tasks), parsed.options


async def _multipart_input(request: Request, inference: Inference):
    form = await request.form()
    upload = form.get("image")
    if not isinstance(upload, UploadFile):
        raise BadRequest("multipart body needs a file field 'image'")
    inference.check_upload_size(upload.size)
    fields = {}
    if form.get("tasks"):
        fields["tasks"] = [part.strip() for part in str(form["tasks"]).split(",") if part.strip()]
    try:
        if form.get("options"):
            fields["options"] = json.loads(str(form["options"]))
        parsed = AnalyzeTasks.model_validate(fields)
    except (ValidationError, ValueError) as e:
        raise BadRequest(_validation_summary(e)) from e
    return await upload.read(), _unique(parsed.tasks), parsed.options


def _unique(tasks: list[Task]) -> list[Task]:
    return list(dict.fromkeys(tasks))


def _validation_summary(error: Exception) -> str:
    if isinstance(error, ValidationError):
        parts = [f"{'.'.join(map(str, e['loc'])) or 'body'}: {e['msg']}" for e in error.errors()]
        return "; ".join(parts)
    return f"options is not valid JSON: {error}"


async def _run_tasks(inference: Inference, image: Image.Image, tasks, options: AnalyzeOptions):
    runners = {
        "ocr": lambda: _ocr(inference, image, options),
        "clip": lambda: _clip(inference, image),
        "faces": lambda: _faces(inference, image, options),
    }
    outcomes = await asyncio.gather(*(runners[t]() for t in tasks), return_exceptions=True)
    results, errors = {}, {}
    for task, outcome in zip(tasks, outcomes, strict=True):
        if isinstance(outcome, SidecarError):
            metrics.ERRORS.labels(kind=outcome.kind).inc()
            errors[task] = TaskError(
                status=outcome.status, kind=outcome.kind, detail=outcome.detail
            )
        elif isinstance(outcome, BaseException):
            raise outcome
        else:
            results[task] = outcome
    return results, errors


async def _ocr(inference: Inference, image: Image.Image, options: AnalyzeOptions) -> OcrOut:
    result: OcrResult = await inference.ocr(image)
    min_score = options.ocr.min_score
    if min_score is None:
        min_score = inference.settings.ocr_min_score
    lines = [_ocr_line(line, image) for line in result.lines if line.score >= min_score]
    return OcrOut(model=result.model, text="\n".join(line.text for line in lines), lines=lines)


def _ocr_line(line, image: Image.Image) -> OcrLineOut:
    box = np.asarray(line.box, dtype=np.float64)
    normalized = box / np.array([image.width, image.height])
    return OcrLineOut(
        text=line.text,
        score=round(line.score, 5),
        box_score=round(line.box_score, 5),
        box=[(round(x, 1), round(y, 1)) for x, y in box.tolist()],
        box_normalized=[(round(x, 6), round(y, 6)) for x, y in normalized.tolist()],
    )


async def _clip(inference: Inference, image: Image.Image) -> ClipOut:
    result: ClipResult = await inference.clip_image(image)
    return ClipOut(model=result.model, dim=result.dim, embedding=float_list(result.vectors[0]))


async def _faces(inference: Inference, image: Image.Image, options: AnalyzeOptions) -> FacesOut:
    result: FacesResult = await inference.faces(image, options.faces.min_score)
    return FacesOut(model=result.model, faces=[_face(face) for face in result.faces])


def _face(face) -> FaceOut:
    return FaceOut(
        box=tuple(round(float(v), 1) for v in face.box),
        score=round(float(face.score), 5),
        landmarks=[(round(float(x), 1), round(float(y), 1)) for x, y in face.landmarks],
        embedding=float_list(face.embedding),
    )


@router.post(
    "/v1/clip/text",
    response_model=ClipTextResponse,
    dependencies=[Depends(require_key)],
    responses=_ERRORS,
)
async def clip_text(body: ClipTextRequest, inference: InferenceDep):
    """CLIP text embeddings, one per text, in the order given."""
    result = await inference.clip_texts(body.texts)
    embeddings = [float_list(row) for row in result.vectors]
    return ClipTextResponse(model=result.model, dim=result.dim, embeddings=embeddings)


@router.get("/health", response_model=HealthResponse, response_model_exclude_none=True)
async def health(request: Request):
    """Open without a key: it tells which models are there, never any secret."""
    models = await run_in_threadpool(request.app.state.registry.status)
    versions = await run_in_threadpool(package_versions)
    return HealthResponse(
        status="ok", version=versions["photo_ai"], models=models, versions=versions
    )


@router.get("/metrics", dependencies=[Depends(require_key)], response_class=Response)
async def prometheus_metrics():
    """Prometheus text format."""
    return Response(metrics.render(), media_type=metrics.CONTENT_TYPE)
