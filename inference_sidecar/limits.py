"""Memory limits, enforced: request bodies over the size limit are refused while they
arrive, decoded pixels held at once by all requests together are bounded, and the memory a
large picture used goes back to the system once it is answered."""

import asyncio
import ctypes
from collections import deque
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from starlette.datastructures import Headers
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from inference_sidecar import metrics
from inference_sidecar.asgi import HttpMiddleware
from inference_sidecar.errors import FileTooLarge, SidecarError

# Room for multipart boundaries and form fields around an image of the largest allowed size.
FORM_OVERHEAD_BYTES = 1024 * 1024
# A picture this large frees enough, once answered, to give back to the system at once.
RETURN_MEMORY_AFTER_PIXELS = 16_000_000

Render = Callable[[Scope, SidecarError], Response]


class BodyLimit(HttpMiddleware):
    """Refuses a body over the limit before it is read: at once from its declared length,
    and as it streams when it declares none (chunked), so it is never spooled in full."""

    def __init__(self, app: ASGIApp, max_file_bytes: int, render: Render):
        super().__init__(app)
        self.max_file_bytes = max_file_bytes
        self.max_body_bytes = max_file_bytes + FORM_OVERHEAD_BYTES
        self.render = render

    async def http(self, scope: Scope, receive: Receive, send: Send) -> None:
        declared = Headers(scope=scope).get("content-length", "")
        if declared.isdigit() and int(declared) > self.max_body_bytes:
            await self._refuse(scope, receive, send, f"has {int(declared)} bytes")
            return
        received, over, started = 0, False, False

        async def counting_receive() -> Message:
            nonlocal received, over
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body_bytes:
                    over = True
                    return {"type": "http.disconnect"}  # the app stops reading here
            return message

        async def send_unless_over(message: Message) -> None:
            nonlocal started
            if over and not started:
                return  # whatever the app makes of the cut-off body; the 413 goes instead
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counting_receive, send_unless_over)
        except Exception:
            if not over:
                raise
        if over and not started:
            await self._refuse(scope, receive, send, f"passed {self.max_body_bytes} bytes")

    async def _refuse(self, scope: Scope, receive: Receive, send: Send, size: str) -> None:
        detail = (
            f"request body {size}; images are limited to {self.max_file_bytes} bytes "
            "(PHOTO_AI_MAX_FILE_BYTES)"
        )
        response = self.render(scope, FileTooLarge(detail))
        response.headers["connection"] = "close"
        await response(scope, receive, send)


class PixelBudget:
    """Decoded pixels in flight across all requests, each image counted from its decode
    until its answer. Beyond the budget, requests wait in arrival order; an image larger
    than the whole budget waits until it can run alone."""

    def __init__(self, capacity: int):
        self.capacity = capacity
        self._used = 0
        self._waiting: deque[tuple[int, asyncio.Future]] = deque()

    @asynccontextmanager
    async def hold(self, pixels: int) -> AsyncIterator[None]:
        share = min(pixels, self.capacity)
        await self._acquire(share)
        try:
            yield
        finally:
            self._release(share)
            if pixels >= RETURN_MEMORY_AFTER_PIXELS:
                # Soon, not now: the request still holds the picture until its handler returns.
                asyncio.get_running_loop().call_soon(return_freed_memory)

    async def _acquire(self, share: int) -> None:
        if not self._waiting and self._used + share <= self.capacity:
            self._take(share)
            return
        turn = asyncio.get_running_loop().create_future()
        self._waiting.append((share, turn))
        metrics.PIXELS_WAITING.inc()
        try:
            await turn
        except asyncio.CancelledError:
            if turn.done() and not turn.cancelled():
                self._release(share)  # granted just as the request went away
            else:
                self._wake()  # it may have been first in line
            raise
        finally:
            metrics.PIXELS_WAITING.dec()

    def _take(self, share: int) -> None:
        self._used += share
        metrics.PIXELS_IN_FLIGHT.set(self._used)

    def _release(self, share: int) -> None:
        self._take(-share)
        self._wake()

    def _wake(self) -> None:
        while self._waiting:
            share, turn = self._waiting[0]
            if not turn.cancelled() and self._used + share > self.capacity:
                return
            self._waiting.popleft()
            if not turn.cancelled():
                self._take(share)
                turn.set_result(None)


def _glibc() -> ctypes.CDLL | None:
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:
        return None
    return libc if hasattr(libc, "malloc_trim") else None


_LIBC = _glibc()


def return_freed_memory() -> None:
    """Hand the memory freed in every thread's heap back to the system (glibc only).

    glibc keeps what a thread frees in that thread's heap, and the decode and model threads
    take turns: after a few large pictures the process stayed gigabytes larger for good.
    """
    if _LIBC is not None:
        _LIBC.malloc_trim(0)
