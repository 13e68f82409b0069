"""The FastAPI application: three APIs over one set of models, errors in each API's own shape."""

import logging
import time
from collections.abc import Sequence
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.exception_handlers import (
    http_exception_handler,
    request_validation_exception_handler,
)
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException
from starlette.types import Message, Receive, Scope, Send

from inference_sidecar import api_immich, api_mtphotos, api_v1, metrics
from inference_sidecar.asgi import HttpMiddleware, on_response_start
from inference_sidecar.auth import RequireKey
from inference_sidecar.errors import SidecarError
from inference_sidecar.inference import Inference
from inference_sidecar.limits import BodyLimit
from inference_sidecar.registry import ModelRegistry
from inference_sidecar.settings import Settings
from inference_sidecar.tasks import TASKS, TaskSpec

log = logging.getLogger(__name__)


def create_app(settings: Settings, tasks: Sequence[TaskSpec] = TASKS) -> FastAPI:
    """The sidecar for these settings, running these tasks (inference_sidecar.tasks)."""

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        registry = ModelRegistry(settings, tasks)
        app.state.settings = settings
        app.state.registry = registry
        app.state.inference = Inference(settings, registry, tasks)
        yield
        await app.state.inference.close()

    docs = settings.docs_on
    app = FastAPI(
        title="photo_ai inference sidecar",
        version="1",
        lifespan=lifespan,
        docs_url="/docs" if docs else None,
        redoc_url="/redoc" if docs else None,
        openapi_url="/openapi.json" if docs else None,
    )
    routers = [api_v1.analyze_router(tasks), api_v1.router, api_immich.router, api_mtphotos.router]
    for router in routers:
        app.include_router(router)
    # Which API a path belongs to (by its router's tag): middlewares answer before routing.
    app.state.api_by_path = {
        route.path: route.tags[0] for router in routers for route in router.routes
    }
    app.add_exception_handler(SidecarError, _sidecar_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected_error)
    # Outermost last: metrics see every answer; the key is checked before the body is read.
    app.add_middleware(BodyLimit, max_file_bytes=settings.max_file_bytes, render=error_response)
    app.add_middleware(RequireKey, settings=settings, render=error_response)
    app.add_middleware(RequestMetrics)
    return app


def _api_of(scope: Scope) -> str:
    return scope["app"].state.api_by_path.get(scope["path"], api_v1.TAG)


def error_response(scope: Scope, error: SidecarError) -> JSONResponse:
    """The error in the shape of the API the request is for."""
    metrics.ERRORS.labels(kind=error.kind).inc()
    api = _api_of(scope)
    if api == api_immich.TAG:
        return JSONResponse({"detail": error.detail}, status_code=error.status)
    if api == api_mtphotos.TAG:
        return api_mtphotos.error_answer(error)
    return _our_error(error.status, error.kind, error.detail)


async def _sidecar_error(request: Request, error: SidecarError) -> JSONResponse:
    return error_response(request.scope, error)


async def _validation_error(request: Request, error: RequestValidationError) -> JSONResponse:
    metrics.ERRORS.labels(kind="bad_request").inc()
    if _api_of(request.scope) == api_v1.TAG:
        parts = [f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in error.errors()]
        return _our_error(422, "bad_request", "; ".join(parts))
    return await request_validation_exception_handler(request, error)


async def _http_error(request: Request, error: HTTPException) -> JSONResponse:
    if error.status_code >= 400:
        metrics.ERRORS.labels(kind=f"http_{error.status_code}").inc()
    if _api_of(request.scope) == api_v1.TAG and request.scope.get("route") is not None:
        return _our_error(error.status_code, "bad_request", str(error.detail))
    return await http_exception_handler(request, error)


async def _unexpected_error(request: Request, error: Exception) -> JSONResponse:
    log.exception("unexpected error answering %s %s", request.method, request.url.path)
    metrics.ERRORS.labels(kind="internal").inc()
    return _our_error(500, "internal", f"{type(error).__name__}: {error}")


def _our_error(status: int, kind: str, detail: str) -> JSONResponse:
    return JSONResponse({"error": {"kind": kind, "detail": detail}}, status_code=status)


def _known_path(scope: Scope) -> str:
    """The path of a request answered before routing, if it is a route's (never a raw path)."""
    return scope["path"] if scope["path"] in scope["app"].state.api_by_path else "unmatched"


class RequestMetrics(HttpMiddleware):
    """Counts and times every request by its route template (never the raw path)."""

    async def http(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = time.perf_counter()
        status = 500

        def record_status(start: Message) -> None:
            nonlocal status
            status = start["status"]

        try:
            await self.app(scope, receive, on_response_start(send, record_status))
        finally:
            route = getattr(scope.get("route"), "path", None) or _known_path(scope)
            metrics.REQUESTS.labels(route=route, status=str(status)).inc()
            metrics.REQUEST_SECONDS.labels(route=route).observe(time.perf_counter() - started)
