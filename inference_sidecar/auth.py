"""API key checks. Our clients send `x-api-key`; mt-photos-ai's clients send `api-key`.

Both headers are accepted on every protected route, so one key serves every client. The key
is checked from the request's headers by an ASGI middleware, before any of its body is read:
a stranger's upload is answered 401 at once, never spooled (FastAPI reads a form body before
any route dependency could look at the key).

Open without the key: / (a page saying the service runs, as mt-photos-ai's), /ping and
/health; Immich's /predict with PHOTO_AI_IMMICH_WITHOUT_KEY;
the API docs (/docs, /redoc, /openapi.json) when they are on and the host is loopback.
"""

import hmac

from fastapi import Request
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from inference_sidecar.asgi import HttpMiddleware
from inference_sidecar.errors import MissingKey, Unauthorized
from inference_sidecar.limits import Render
from inference_sidecar.settings import Settings, is_loopback

KEY_HEADERS = ("x-api-key", "api-key")
ALWAYS_OPEN = ("/", "/ping", "/health")
DOC_PATHS = ("/docs", "/docs/oauth2-redirect", "/redoc", "/openapi.json")


def key_problem(headers: Headers, settings: Settings) -> Unauthorized | None:
    """Why these headers do not carry the key, or None when they do (or none is set)."""
    expected = settings.api_key_value
    if expected is None:
        return None
    sent = next((headers[h] for h in KEY_HEADERS if h in headers), None)
    if sent is None:
        return MissingKey()
    if not hmac.compare_digest(sent.encode(), expected.encode()):
        return Unauthorized("Invalid API key")  # mt-photos-ai's wording
    return None


def request_has_key(request: Request) -> bool:
    return key_problem(request.headers, request.app.state.settings) is None


def open_paths(settings: Settings) -> frozenset[str]:
    paths = set(ALWAYS_OPEN)
    if settings.immich_without_key:
        paths.add("/predict")  # Immich's server sends no key
    if settings.docs_on and is_loopback(settings.host):
        paths.update(DOC_PATHS)
    return frozenset(paths)


class RequireKey(HttpMiddleware):
    """Answers 401, in the shape of the API asked, to a request without the key."""

    def __init__(self, app: ASGIApp, settings: Settings, render: Render):
        super().__init__(app)
        self.settings = settings
        self.open = open_paths(settings)
        self.render = render

    async def http(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["path"] not in self.open:
            problem = key_problem(Headers(scope=scope), self.settings)
            if problem is not None:
                response = self.render(scope, problem)
                response.headers["connection"] = "close"  # the body, if any, is never read
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)
