"""The search page's test library: an invoice, a street sign, a broken file, and two scenes
the tiny random CLIP model tells apart (a near-duplicate of one embeds nearest to it), plus
the search page run in this process on a free port."""

from __future__ import annotations

import io
import re
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import uvicorn
from PIL import Image, ImageDraw

from photo_ai_cli.local import free_port
from photo_ai_web.app import create_app
from photo_ai_web.settings import WebSettings
from tests.support import ROOT, pictures

ARTIFACTS = ROOT / "build" / "test-artifacts" / "web"
INVOICE_TITLE = "增值税专用发票"
HTTP_TIMEOUT_S = 120


def beach() -> Image.Image:
    image = Image.new("RGB", (640, 480), (30, 80, 160))
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 300, 640, 480), fill=(230, 200, 120))
    draw.ellipse((420, 60, 540, 180), fill=(255, 220, 60))
    return image


def forest() -> Image.Image:
    image = Image.new("RGB", (640, 480), (150, 200, 240))
    draw = ImageDraw.Draw(image)
    for x in range(0, 640, 80):
        draw.polygon([(x, 400), (x + 40, 150), (x + 80, 400)], fill=(30, 110, 50))
    draw.rectangle((0, 400, 640, 480), fill=(90, 60, 30))
    return image


def near_duplicate(image: Image.Image) -> bytes:
    """The picture smaller and recompressed, as a copy sent around a chat would be."""
    smaller = image.resize((image.width * 4 // 5, image.height * 4 // 5)).convert("RGB")
    buffer = io.BytesIO()
    smaller.save(buffer, "JPEG", quality=60)
    return buffer.getvalue()


# file name -> how it is made; the broken one fails every task
LIBRARY = {
    "invoice.png": lambda path: pictures.text_picture().save(path),
    "sign.png": lambda path: pictures.text_picture(pictures.SIGN_LINES).save(path),
    "broken.jpg": lambda path: path.write_bytes(pictures.truncated_jpeg()),
    "beach.jpg": lambda path: beach().save(path, quality=92),
    "forest.jpg": lambda path: forest().save(path, quality=92),
}


def make_library(root: Path) -> None:
    for name, make in LIBRARY.items():
        make(root / name)
        (root / name).chmod(0o644)


@dataclass
class Page:
    """The search page served by uvicorn in a thread of the test process."""

    url: str
    settings: WebSettings
    server: uvicorn.Server
    thread: threading.Thread

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=15)

    def client(self, **options) -> httpx.Client:
        """A client of this page; slow machines get time (an admin action analyses a photo)."""
        return httpx.Client(base_url=self.url, timeout=HTTP_TIMEOUT_S, **options)

    def get(self, path: str, **options) -> httpx.Response:
        return httpx.get(self.url + path, timeout=HTTP_TIMEOUT_S, **options)


def start_page(dsn: str, library_roots: list[Path], state_dir: Path, **settings) -> Page:
    """create_app as `photo-ai serve` runs it, on a free loopback port."""
    web_settings = WebSettings(port=free_port(), state_dir=state_dir, **settings)
    app = create_app(web_settings, dsn, library_roots)
    server = uvicorn.Server(
        uvicorn.Config(app, host=web_settings.host, port=web_settings.port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the search page did not start (see the log above)")
        time.sleep(0.02)
    return Page(f"http://127.0.0.1:{web_settings.port}", web_settings, server, thread)


def cards(html: str) -> list[str]:
    """The asset ids of a page's photo cards, in order."""
    return re.findall(r'<figure class="card" data-asset="([0-9a-f-]{36})"', html)
