"""A stand-in for the inference sidecar, speaking its v1 contract over real HTTP, for tests
that need an answer a real sidecar will not give on cue: slow, refusing the key, waiting
until the test lets it go, or counting what it was sent.

    with StandinSidecar(delay=1.5) as standin:
        conn.execute("SELECT photo_ai.configure(sidecar_url => %s)", [standin.url])
        ...
        assert standin.paths_sent() == [...]
"""

from __future__ import annotations

import hashlib
import json
import socket
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np

DIM = 512


def analysis(tasks: list[str], text: str = "stand-in text") -> dict:
    """A /v1/analyze answer with a result for every asked task, in the v1 shapes."""
    results = {
        "ocr": {"model": "standin", "text": text, "lines": []},
        "clip": {"model": "ViT-B-16", "dim": DIM, "embedding": [1.0] + [0.0] * (DIM - 1)},
        "faces": {"model": "standin", "faces": []},
    }
    return {
        "image": {"width": 64, "height": 48},
        "results": {task: results[task] for task in tasks},
        "errors": {},
    }


def text_embeddings(texts: list[str]) -> dict:
    """A /v1/clip/text answer: each text a direction of its own (texts that mean nothing
    in particular, as the tags task's labels are to a test that is not about them)."""
    vectors = []
    for text in texts:
        seed = int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "little")
        v = np.random.default_rng(seed).normal(size=DIM)
        vectors.append([round(float(x), 6) for x in v / np.linalg.norm(v)])
    return {"model": "ViT-B-16", "dim": DIM, "embeddings": vectors}


def default_answer(path: str, body: dict) -> tuple[int, dict]:
    if path == "/v1/clip/text":
        return 200, text_embeddings(body["texts"])
    return 200, analysis(body.get("tasks", []))


class StandinSidecar:
    """`answer(path, body)` returns (status, JSON body); the default answers every task.
    `delay` seconds pass before each answer; `gate`, when set, is waited for first."""

    def __init__(
        self,
        answer: Callable[[str, dict], tuple[int, dict]] | None = None,
        delay: float = 0.0,
        port: int = 0,
    ):
        self.answer = answer or default_answer
        self.delay = delay
        self.gate: threading.Event | None = None
        self.received: list[tuple[str, dict]] = []  # (path, JSON body) in arrival order
        self.started = threading.Event()  # set when the first /v1/analyze arrives
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", port), self._handler())
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"

    def __enter__(self) -> StandinSidecar:
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc) -> None:
        if self.gate is not None:
            self.gate.set()
        self._server.shutdown()
        self._server.server_close()

    def photos_sent(self) -> list[str]:
        """The file names of every /v1/analyze request, in arrival order."""
        with self._lock:
            return [Path(b["path"]).name for p, b in self.received if p == "/v1/analyze"]

    def _record(self, path: str, body: dict) -> None:
        with self._lock:
            self.received.append((path, body))
        if path == "/v1/analyze":
            self.started.set()

    def _handler(self):
        standin = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as the database's client expects

            def setup(self):
                super().setup()
                # headers and body go out in two writes: without this, Nagle's algorithm
                # and the client's delayed ACK add 40 ms to every answer
                self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

            def do_GET(self):
                self._reply(200, {"status": "ok", "models": {}})

            def do_POST(self):
                length = int(self.headers.get("content-length", 0))
                body = json.loads(self.rfile.read(length) or b"{}")
                standin._record(self.path, body)
                if standin.gate is not None:
                    standin.gate.wait(timeout=60)
                time.sleep(standin.delay)
                self._reply(*standin.answer(self.path, body))

            def _reply(self, status: int, document: dict) -> None:
                data = json.dumps(document).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up waiting (a timeout test)

            def log_message(self, *args) -> None:
                pass

        return Handler


def serve(port: int, delay: float = 0.0) -> None:
    """Answers every task on `port` (after `delay` seconds) until killed: a stand-in in a
    process of its own, for benches that must not share a Python interpreter (its GIL) with
    their client."""
    with StandinSidecar(port=port, delay=delay):
        threading.Event().wait()


if __name__ == "__main__":
    import sys

    serve(int(sys.argv[1]), float(sys.argv[2]) if len(sys.argv) > 2 else 0.0)
