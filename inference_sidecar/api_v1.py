"""Our own API, the one the database talks to: /v1/analyze, /v1/clip/text, /health, /metrics.

/v1/analyze is built from the task specs (inference_sidecar.tasks): each asked task runs
through its spec's runner, and the request and answer shapes come from the specs.
"""

import asyncio
import json
from collections.abc import Sequence
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from PIL import Image
from pydantic import BaseModel, ValidationError
from starlette.datastructures import UploadFile

from inference_sidecar import metrics
from inference_sidecar.auth import request_has_key
from inference_sidecar.errors import BadRequest, SidecarError
from inference_sidecar.inference import Inference
from inference_sidecar.registry import package_versions
from inference_sidecar.schemas_v1 import (
    ClipTextRequest,
    ClipTextResponse,
    ErrorResponse,
    HealthResponse,
    ImageSize,
    TaskError,
    analyze_schemas,
)
from inference_sidecar.tasks import TaskSpec
from inference_sidecar.vectors import float_list

TAG = "v1"
router = APIRouter(tags=[TAG])
_ERRORS = {status: {"model": ErrorResponse} for status in (401, 403, 404, 413, 422, 503)}


def inference_of(request: Request) -> Inference:
    return request.app.state.inference


InferenceDep = Annotated[Inference, Depends(inference_of)]


def analyze_router(specs: Sequence[TaskSpec]) -> APIRouter:
    """POST /v1/analyze for these tasks."""
    analyzer = Analyzer(specs)
    analyze_routes = APIRouter(tags=[TAG])

    @analyze_routes.post(
        "/v1/analyze",
        response_model=analyzer.schemas.response,
        responses=_ERRORS,
        openapi_extra=analyzer.schemas.request_body,
    )
    async def analyze(request: Request, inference: InferenceDep):
        """One image (a path under the library roots, or uploaded bytes), every asked task."""
        return await analyzer.answer(request, inference)

    return analyze_routes


class Analyzer:
    def __init__(self, specs: Sequence[TaskSpec]):
        self.specs = {spec.name: spec for spec in specs}
        self.schemas = analyze_schemas(specs)

    async def answer(self, request: Request, inference: Inference) -> JSONResponse:
        if request.headers.get("content-type", "").startswith("multipart/form-data"):
            data, tasks, options = await self._multipart_input(request, inference)
        else:
            data, tasks, options = await self._json_input(request, inference)
        async with inference.decoded(data) as image:
            results, errors = await self._run_tasks(inference, image, tasks, options)
            size = ImageSize(width=image.width, height=image.height)
        body = self.schemas.response(image=size, results=results, errors=errors)
        status = 200 if results else next(iter(errors.values())).status
        return JSONResponse(body.model_dump(mode="json", exclude_none=True), status_code=status)

    async def _json_input(self, request: Request, inference: Inference):
        try:
            parsed = self.schemas.request.model_validate_json(await request.body())
        except ValidationError as e:
            raise BadRequest(_validation_summary(e)) from e
        data = await inference.read_path(parsed.path)
        return data, _unique(parsed.tasks), parsed.options

    async def _multipart_input(self, request: Request, inference: Inference):
        form = await request.form()
        upload = form.get("image")
        if not isinstance(upload, UploadFile):
            raise BadRequest("multipart body needs a file field 'image'")
        fields: dict[str, Any] = {}
        if form.get("tasks"):
            fields["tasks"] = [p.strip() for p in str(form["tasks"]).split(",") if p.strip()]
        try:
            if form.get("options"):
                fields["options"] = json.loads(str(form["options"]))
            parsed = self.schemas.tasks.model_validate(fields)
        except (ValidationError, ValueError) as e:
            raise BadRequest(_validation_summary(e)) from e
        return await inference.read_upload(upload), _unique(parsed.tasks), parsed.options

    async def _run_tasks(
        self, inference: Inference, image: Image.Image, tasks: list[str], options: BaseModel
    ) -> tuple[dict[str, BaseModel], dict[str, TaskError]]:
        runs = (self.specs[t].run(inference, image, getattr(options, t)) for t in tasks)
        outcomes = await asyncio.gather(*runs, return_exceptions=True)
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


def _unique(tasks: list[str]) -> list[str]:
    return list(dict.fromkeys(tasks))


def _validation_summary(error: Exception) -> str:
    if isinstance(error, ValidationError):
        parts = [f"{'.'.join(map(str, e['loc'])) or 'body'}: {e['msg']}" for e in error.errors()]
        return "; ".join(parts)
    return f"options is not valid JSON: {error}"


@router.post("/v1/clip/text", response_model=ClipTextResponse, responses=_ERRORS)
async def clip_text(body: ClipTextRequest, inference: InferenceDep):
    """CLIP text embeddings, one per text, in the order given."""
    result = await inference.clip_texts(body.texts)
    embeddings = [float_list(row) for row in result.vectors]
    return ClipTextResponse(model=result.model, dim=result.dim, embeddings=embeddings)


@router.get("/health", response_model=HealthResponse, response_model_exclude_none=True)
async def health(request: Request):
    """Open without a key: which models are there, never a secret. Where they are looked for
    (absolute paths) only for a request with the key, or when no key is set."""
    with_paths = request_has_key(request)
    models = await run_in_threadpool(request.app.state.registry.status, with_paths)
    versions = await run_in_threadpool(package_versions)
    return HealthResponse(
        status="ok", version=versions["photo_ai"], models=models, versions=versions
    )


@router.get("/metrics", response_class=Response)
async def prometheus_metrics():
    """Prometheus text format."""
    return Response(metrics.render(), media_type=metrics.CONTENT_TYPE)
