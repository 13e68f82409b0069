"""Long screenshots (chats, receipts, tickets) read as well as short ones.

Detection shrinks an image's long side to 2000 px: a 1080x7780 chat came back with none of
its 110 lines exact. Such images are read in overlapping tiles along the long side."""

import random

import pytest
from PIL import Image, ImageDraw

from photo_ai_cli.pictures import text_width, write
from tests.support import pictures

CHAT_GROUND, THEIRS, MINE = (237, 237, 237), (255, 255, 255), (149, 236, 105)


def chat_lines(count: int, seed: int = 7) -> list[str]:
    rng = random.Random(seed)
    return [
        f"第{i}条 明天{rng.randint(1, 12)}点国贸见 订单{rng.randint(100000, 999999)}"
        for i in range(1, count + 1)
    ]


def chat_screenshot(lines: list[str], size: tuple[int, int], font_size: int) -> Image.Image:
    """A chat as a phone shows it: bubbles left and right, one line of text each, evenly
    spread down the whole height."""
    width, height = size
    image = Image.new("RGB", size, CHAT_GROUND)
    draw = ImageDraw.Draw(image)
    pitch, bubble_height, pad = height / len(lines), int(font_size * 1.6), font_size // 2
    for i, line in enumerate(lines):
        top = int(i * pitch + (pitch - bubble_height) / 2)
        bubble_width = int(text_width(draw, line, font_size)) + 2 * pad
        left = 40 if i % 2 == 0 else width - 40 - bubble_width
        colour = THEIRS if i % 2 == 0 else MINE
        draw.rounded_rectangle((left, top, left + bubble_width, top + bubble_height), 10, colour)
        write(draw, (left + pad, top + int(font_size * 0.3)), line, font_size, (25, 25, 25))
    return image


@pytest.fixture(scope="module")
def client(bare_sidecar):
    """A sidecar with the default pixel limit (the shared `sidecar` has a low one)."""
    with bare_sidecar.client() as own:
        yield own


def read_lines(client, image: Image.Image) -> list[dict]:
    response = client.post(
        "/v1/analyze",
        files={"image": ("chat.png", pictures.encode(image, "PNG"))},
        data={"tasks": "ocr"},
    )
    assert response.status_code == 200, response.text
    return response.json()["results"]["ocr"]["lines"]


def exact_share(expected: list[str], lines: list[dict]) -> float:
    """The share of expected lines read exactly, spaces aside, each found once."""
    read = [line["text"].replace(" ", "") for line in lines]
    return sum(read.count(text.replace(" ", "")) == 1 for text in expected) / len(expected)


CHAT = chat_lines(110)
CHAT_SIZE = (1080, 7780)


@pytest.fixture(scope="module")
def chat_read(client) -> list[dict]:
    return read_lines(client, chat_screenshot(CHAT, CHAT_SIZE, 36))


def test_a_long_chat_screenshot_reads_line_by_line(chat_read):
    share = exact_share(CHAT, chat_read)
    print(f"1080x7780, 110 lines: {len(chat_read)} read, {share:.1%} exact")
    assert share >= 0.95
    assert len(chat_read) <= len(CHAT) * 1.05  # lines seen in two tiles are kept once


def test_long_screenshot_boxes_are_in_the_whole_images_pixels(chat_read):
    by_text = {line["text"].replace(" ", ""): line for line in chat_read}
    width, height = CHAT_SIZE
    pitch = height / len(CHAT)
    for number in (1, 24, 45, 66, 87, 110):  # the top, lines near tile seams, the bottom
        line = by_text[CHAT[number - 1].replace(" ", "")]
        ys = [y for _, y in line["box"]]
        assert (number - 1) * pitch <= min(ys) < max(ys) <= number * pitch
        assert all(0 <= x <= width for x, _ in line["box"])
        assert line["box_normalized"][2][1] == pytest.approx(max(ys) / height, abs=1e-4)
    tops = [min(y for _, y in line["box"]) for line in chat_read]
    assert tops == sorted(tops)  # in reading order, top to bottom


def test_a_very_long_screenshot_reads_sensibly(client):
    expected = chat_lines(500)
    lines = read_lines(client, chat_screenshot(expected, (900, 20040), 21))
    share = exact_share(expected, lines)
    print(f"900x20040, 500 lines: {len(lines)} read, {share:.1%} exact")
    assert share >= 0.9
    assert len(lines) <= len(expected) * 1.05
