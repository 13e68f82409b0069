"""Small files that decode huge: memory stays bounded however many arrive at once.

A one-bit PNG of 10000x11900 is 15 KB and 119 million pixels, just under the default pixel
limit. Eight of them posted at once, every task asked, with the default settings: the
sidecar answers them all and its peak memory (VmHWM) stays under 3 GiB. It measured
7.0 GiB before the pixels in flight were bounded and greyscale stayed one byte a pixel."""

import asyncio
import io
from concurrent.futures import ThreadPoolExecutor

import pytest
from PIL import Image

from inference_sidecar.limits import PixelBudget
from tests.support.sidecars import start_sidecar

BOMBS = 8
PEAK_LIMIT_BYTES = 3 * 1024**3


def one_bit_png(size=(10000, 11900)) -> bytes:
    buffer = io.BytesIO()
    Image.new("1", size).save(buffer, "PNG", optimize=True)
    return buffer.getvalue()


def peak_memory(pid: int) -> int:
    """The process's high-water mark of resident memory, in bytes."""
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    raise AssertionError("no VmHWM in /proc/<pid>/status")


@pytest.fixture
def default_sidecar(tmp_path, tiny_model_dir):
    running = start_sidecar(tmp_path, "memory-key-0123456789ab", model_dir=str(tiny_model_dir))
    yield running
    running.stop()


def test_eight_huge_one_bit_pngs_at_once_stay_under_3_gib(default_sidecar):
    data = one_bit_png()
    assert len(data) < 100_000

    def analyze(_):
        with default_sidecar.client() as own:
            own.timeout = 600
            return own.post("/v1/analyze", files={"image": ("bomb.png", data)})

    with ThreadPoolExecutor(BOMBS) as pool:
        answers = list(pool.map(analyze, range(BOMBS)))
    for answer in answers:
        assert answer.status_code == 200, answer.text
        assert answer.json()["image"] == {"width": 10000, "height": 11900}
    assert default_sidecar.alive()
    peak = peak_memory(default_sidecar.running.pid)
    print(f"sidecar VmHWM after {BOMBS} one-bit 10000x11900 PNGs: {peak / 1024**3:.2f} GiB")
    assert peak <= PEAK_LIMIT_BYTES


async def _holder(budget: PixelBudget, pixels: int, log: list, release: asyncio.Event):
    async with budget.hold(pixels):
        log.append(pixels)
        await release.wait()


def test_pixels_beyond_the_budget_wait_in_arrival_order():
    async def scenario():
        budget, log = PixelBudget(100), []
        first, second, third = asyncio.Event(), asyncio.Event(), asyncio.Event()
        tasks = [
            asyncio.create_task(_holder(budget, 60, log, first)),
            asyncio.create_task(_holder(budget, 50, log, second)),  # waits: 110 > 100
            asyncio.create_task(_holder(budget, 10, log, third)),  # waits behind it
        ]
        await asyncio.sleep(0.01)
        assert log == [60]
        first.set()
        await asyncio.sleep(0.01)
        assert log == [60, 50, 10]
        second.set(), third.set()
        await asyncio.gather(*tasks)

    asyncio.run(scenario())


def test_an_image_over_the_whole_budget_runs_alone_and_a_cancelled_wait_frees_its_turn():
    async def scenario():
        budget, log = PixelBudget(100), []
        small, huge, late = asyncio.Event(), asyncio.Event(), asyncio.Event()
        first = asyncio.create_task(_holder(budget, 30, log, small))
        big = asyncio.create_task(_holder(budget, 500, log, huge))
        await asyncio.sleep(0.01)
        assert log == [30]
        big.cancel()  # its client went away while it waited
        after = asyncio.create_task(_holder(budget, 70, log, late))
        await asyncio.sleep(0.01)
        assert log == [30, 70]
        small.set(), late.set()
        await asyncio.gather(first, after)
        alone = asyncio.create_task(_holder(budget, 500, log, huge))
        await asyncio.sleep(0.01)
        assert log == [30, 70, 500]
        huge.set()
        await alone

    asyncio.run(scenario())
