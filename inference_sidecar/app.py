"""The FastAPI application: three APIs over one set of models, errors in each API's own shape."""

import logging
import time
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.exception_handlers import (
    http_exception_handler,
    request_validation_exception_handler,
)
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from inference_sidecar import api_immich, api_mtphotos, api_v1, metrics
from inference_sidecar.errors import SidecarError
from inference_sidecar.inference import Inference
from inference_sidecar.registry import ModelRegistry
from inference_sidecar.settings import Settings

log = logging.getLogger(__name__)

# Room for multipart boundaries and form fields around an image of the largest allowed size.
FORM_OVERHEAD_BYTES = 1024 * 1024


def create_app(settings: Settings) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI):
        registry = ModelRegistry(settings)
        app.state.settings = settings
        app.state.registry = registry
        app.state.inference = Inference(settings, registry)
        yield
        await app.state.inference.close()

    app = FastAPI(title="photo_ai inference sidecar", version="1", lifespan=lifespan)
    app.include_router(api_v1.router)
    app.include_router(api_immich.router)
    app.include_router(api_mtphotos.router)
    app.add_exception_handler(SidecarError, _sidecar_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected_error)
    app.add_middleware(UploadLimit, max_bytes=settings.max_file_bytes + FORM_OVERHEAD_BYTES)
    app.add_middleware(RequestMetrics)
    return app


def _api_of(request: Request) -> str:
    route = request.scope.get("route")
    tags = getattr(route, "tags", None) or [api_v1.TAG]
    return tags[0]


async def _sidecar_error(request: Request, error: SidecarError) -> JSONResponse:
    metrics.ERRORS.labels(kind=error.kind).inc()
    api = _api_of(request)
    if api == api_immich.TAG:
        return JSONResponse({"detail": error.detail}, status_code=error.status)
    if api == api_mtphotos.TAG:
        # mt-photos-ai's own answer to a wrong key is FastAPI's {"detail": ...}.
        if error.status == 401:
            return JSONResponse({"detail": error.detail}, status_code=401)
        return JSONResponse({"result": [], "msg": error.detail}, status_code=error.status)
    return _our_error(error.status, error.kind, error.detail)


async def _validation_error(request: Request, error: RequestValidationError) -> JSONResponse:
    metrics.ERRORS.labels(kind="bad_request").inc()
    if _api_of(request) == api_v1.TAG:
        parts = [f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in error.errors()]
        return _our_error(422, "bad_request", "; ".join(parts))
    return await request_validation_exception_handler(request, error)


async def _http_error(request: Request, error: HTTPException) -> JSONResponse:
    if error.status_code >= 400:
        metrics.ERRORS.labels(kind=f"http_{error.status_code}").inc()
    if _api_of(request) == api_v1.TAG and request.scope.get("route") is not None:
        return _our_error(error.status_code, "bad_request", str(error.detail))
    return await http_exception_handler(request, error)


async def _unexpected_error(request: Request, error: Exception) -> JSONResponse:
    log.exception("unexpected error answering %s %s", request.method, request.url.path)
    metrics.ERRORS.labels(kind="internal").inc()
    return _our_error(500, "internal", f"{type(error).__name__}: {error}")


def _our_error(status: int, kind: str, detail: str) -> JSONResponse:
    return JSONResponse({"error": {"kind": kind, "detail": detail}}, status_code=status)


class UploadLimit:
    """Refuses a body whose declared length is over the limit before reading any of it;
    otherwise a huge upload would be spooled to disk in full before its size is checked."""

    def __init__(self, app: ASGIApp, max_bytes: int):
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            declared = dict(scope["headers"]).get(b"content-length", b"0")
            if declared.isdigit() and int(declared) > self.max_bytes:
                metrics.ERRORS.labels(kind="file_too_large").inc()
                detail = (
                    f"request body has {int(declared)} bytes; images are limited to "
                    f"{self.max_bytes - FORM_OVERHEAD_BYTES} (PHOTO_AI_MAX_FILE_BYTES)"
                )
                await _our_error(413, "file_too_large", detail)(scope, receive, send)
                return
        await self.app(scope, receive, send)


class RequestMetrics:
    """Counts and times every request by its route template (never the raw path)."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_recording_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_recording_status)
        finally:
            route = getattr(scope.get("route"), "path", "unmatched")
            metrics.REQUESTS.labels(route=route, status=str(status)).inc()
            metrics.REQUEST_SECONDS.labels(route=route).observe(time.perf_counter() - started)
