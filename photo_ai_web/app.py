"""The FastAPI application: its state (settings, database, thumbnails, guard, templates), the
one middleware every request passes (host, sign-in, CSRF cookie, security headers, server
time), the error pages, and the routes of pages.py, actions.py and media.py."""

from __future__ import annotations

import time
from collections.abc import Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from starlette.datastructures import MutableHeaders
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.types import Message, Receive, Scope, Send

from inference_sidecar.asgi import HttpMiddleware, on_response_start
from photo_ai_web import actions, i18n, media, pages, queries
from photo_ai_web.database import Database, NotAllowed
from photo_ai_web.rendering import STATIC, error_page, make_templates
from photo_ai_web.security import CSRF_COOKIE, SECURITY_HEADERS, Guard, server_secret
from photo_ai_web.settings import WebSettings
from photo_ai_web.thumbnails import Thumbnails


@dataclass
class Web:
    settings: WebSettings
    db: Database
    thumbnails: Thumbnails
    guard: Guard
    templates: Jinja2Templates
    owners: queries.Cached
    popular_tags: queries.Cached


def create_app(
    settings: WebSettings, dsn: str, library_roots: list[Path] | Callable[[], list[Path]]
) -> FastAPI:
    """The page over the database at `dsn`, reading photos under `library_roots` (a list, or
    a function listing them)."""
    state_dir = settings.web_state_dir
    web = Web(
        settings=settings,
        db=Database(dsn, settings.database_connections),
        thumbnails=Thumbnails(
            state_dir / "thumbnails",
            library_roots,
            {"thumb": settings.thumbnail_pixels, "preview": settings.preview_pixels},
            settings.max_image_pixels,
            settings.max_file_bytes,
        ),
        guard=Guard(settings.host, settings.password_value, server_secret(state_dir)),
        templates=make_templates(),
        owners=queries.Cached(queries.owners),
        popular_tags=queries.Cached(queries.popular_tags),
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        await web.db.open()
        try:
            yield
        finally:
            await web.db.close()

    app = FastAPI(
        title="photo_ai search page",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )
    app.state.web = web
    app.mount("/static", StaticFiles(directory=str(STATIC)), name="static")
    app.include_router(pages.router)
    app.include_router(actions.router)
    app.include_router(media.router)
    app.add_middleware(EveryRequest)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(NotAllowed, _not_allowed)
    app.add_exception_handler(actions.CsrfRefused, _csrf_refused)
    return app


class EveryRequest(HttpMiddleware):
    """What every request passes, as plain ASGI (no extra task per request): the language,
    the CSRF token (its cookie set when new), the Host check, signing in; on the way out the
    security headers and the server's time (Server-Timing: app;dur=<ms> until the response
    starts)."""

    async def http(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = time.perf_counter()
        request = Request(scope)
        web: Web = scope["app"].state.web
        request.state.lang = i18n.negotiate(request)
        request.state.csrf, new_csrf = web.guard.csrf_token(request)

        def add_headers(start: Message) -> None:
            headers = MutableHeaders(scope=start)
            headers.update(SECURITY_HEADERS)
            if new_csrf:
                headers.append("set-cookie", _csrf_cookie(request.state.csrf))
            elapsed = (time.perf_counter() - started) * 1000
            headers["server-timing"] = f"app;dur={elapsed:.2f}"

        send_with_headers = on_response_start(send, add_headers)
        if not web.guard.host_allowed(request):
            refusal: Response | None = PlainTextResponse(
                "unknown Host for a loopback-only page", 400
            )
        elif not web.guard.signed_in(request):
            refusal = _sign_in_first(request)
        else:
            refusal = None
        if refusal is not None:
            await refusal(scope, receive, send_with_headers)
        else:
            await self.app(scope, receive, send_with_headers)


def _csrf_cookie(token: str) -> str:
    response = Response()
    response.set_cookie(CSRF_COOKIE, token, httponly=True, samesite="strict", path="/")
    return response.headers["set-cookie"]


def _sign_in_first(request: Request) -> Response:
    if "text/html" in request.headers.get("accept", ""):
        here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/login?next={quote(here)}", 303)
    return PlainTextResponse(
        "sign in first (or send Authorization: Bearer <PHOTO_AI_WEB_PASSWORD>)",
        401,
        headers={"www-authenticate": "Bearer"},
    )


async def _http_error(request: Request, error: StarletteHTTPException) -> Response:
    if error.status_code == 404:
        return error_page(request, 404, "error.not_found", str(error.detail or ""))
    return error_page(request, error.status_code, "error.page", str(error.detail or ""))


async def _not_allowed(request: Request, error: NotAllowed) -> Response:
    return error_page(request, 403, "error.not_allowed")


async def _csrf_refused(request: Request, error: actions.CsrfRefused) -> Response:
    return error_page(request, 403, "error.page", i18n.translator(request.state.lang)("error.csrf"))
