"""Plain ASGI middleware, the sidecar's and the search page's: no extra task per request, as
Starlette's BaseHTTPMiddleware would add, and nothing between the app and a streamed body."""

from collections.abc import Callable

from starlette.types import ASGIApp, Message, Receive, Scope, Send


class HttpMiddleware:
    """A middleware for HTTP requests: anything else (lifespan, websockets) passes straight
    to the app. A subclass says what it does to a request in `http`."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            await self.http(scope, receive, send)
        else:
            await self.app(scope, receive, send)

    async def http(self, scope: Scope, receive: Receive, send: Send) -> None:
        raise NotImplementedError


def on_response_start(send: Send, see: Callable[[Message], None]) -> Send:
    """`send`, first showing `see` the message that starts the response: its status, and its
    headers while they can still change."""

    async def sending(message: Message) -> None:
        if message["type"] == "http.response.start":
            see(message)
        await send(message)

    return sending
