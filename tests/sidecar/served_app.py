"""A sidecar app built in this process and served over loopback HTTP by uvicorn in a thread:
for tests that build it with what a child process cannot be given (an extra task spec) or
with settings that decide its rules but not where it listens (a network PHOTO_AI_HOST)."""

import threading
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import uvicorn

from inference_sidecar.app import create_app
from photo_ai_cli.local import free_port


@contextmanager
def served(settings, *tasks) -> Iterator[str]:
    """The URL of create_app(settings, tasks) (tasks: the default ones when none given)."""
    app = create_app(settings, tasks) if tasks else create_app(settings)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        while not server.started and thread.is_alive():
            thread.join(0.05)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(30)


def client(url: str, key: str | None = None) -> httpx.Client:
    return httpx.Client(base_url=url, headers={"x-api-key": key} if key else {}, timeout=60)
