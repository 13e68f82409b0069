"""How the service serves: concurrent requests share batched model calls, the event loop
stays free while models work, and a sidecar open to the network refuses to start keyless."""

import re
import threading
from concurrent.futures import ThreadPoolExecutor

from tests.support import pictures
from tests.support.sidecars import run_sidecar_to_exit

CONCURRENT_REQUESTS = 16


def batch_counts(client, model: str) -> tuple[float, float]:
    """(batches run, batches of exactly one item) for `model`, from /metrics."""
    text = client.get("/metrics").text

    def sample(name: str, extra: str = "") -> float:
        pattern = rf'^{name}\{{{extra}model="{model}"\}} (\S+)$'
        match = re.search(pattern, text, re.MULTILINE)
        return float(match.group(1)) if match else 0.0

    single = sample("photo_ai_sidecar_batch_size_bucket", r'le="1\.0",')
    return sample("photo_ai_sidecar_batch_size_count"), single


def test_concurrent_clip_requests_are_coalesced(client, sidecar):
    image = pictures.encode(pictures.text_picture(), "PNG")

    def one_request(_):
        with sidecar.client() as own:
            response = own.post(
                "/v1/analyze", files={"image": ("a.png", image)}, data={"tasks": "clip"}
            )
            return response.status_code

    for _ in range(5):  # coalescing depends on arrival; a few rounds make it certain
        before = batch_counts(client, "clip_image")
        with ThreadPoolExecutor(CONCURRENT_REQUESTS) as pool:
            statuses = list(pool.map(one_request, range(CONCURRENT_REQUESTS)))
        assert statuses == [200] * CONCURRENT_REQUESTS
        after = batch_counts(client, "clip_image")
        batches, single = after[0] - before[0], after[1] - before[1]
        if batches - single > 0:
            break
    assert batches < CONCURRENT_REQUESTS  # fewer model calls than requests
    assert batches - single > 0  # at least one call carried more than one image


def test_ping_is_answered_while_ocr_is_busy(client, sidecar):
    busy = pictures.text_picture(lines=["增值税专用发票 合计 ¥128.50"] * 12, size=(1600, 1200))
    data = pictures.encode(busy, "PNG")
    ocr_done = threading.Event()

    def slow_ocr():
        with sidecar.client() as own:
            own.post("/v1/analyze", files={"image": ("big.png", data)}, data={"tasks": "ocr"})
        ocr_done.set()

    decoded_before = decode_count(client)
    worker = threading.Thread(target=slow_ocr)
    worker.start()
    try:
        # Once the image is decoded, OCR is running; the loop must still answer at once.
        while decode_count(client) == decoded_before and not ocr_done.is_set():
            ocr_done.wait(0.01)
        pongs = [client.get("/ping").text for _ in range(3)]
        answered_during_ocr = not ocr_done.is_set()
    finally:
        worker.join()
    assert pongs == ["pong"] * 3
    assert answered_during_ocr


def decode_count(client) -> float:
    text = client.get("/metrics").text
    match = re.search(r"^photo_ai_sidecar_decode_seconds_count (\S+)$", text, re.MULTILINE)
    return float(match.group(1)) if match else 0.0


def test_refuses_to_listen_on_the_network_without_a_key(tmp_path):
    result = run_sidecar_to_exit(host="0.0.0.0", port="1", model_dir=str(tmp_path))
    assert result.returncode == 2
    assert "PHOTO_AI_API_KEY" in result.stderr
