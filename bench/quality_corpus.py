"""The labelled corpora of bench/search_quality.py: rendered receipts, signs, screenshots and
notices in Chinese and English, with queries whose relevance is known by construction. The
same printed photos come in two corpora:

- clean: as a scanner sees them, a third untouched, a third mildly and a third badly
  degraded (noise, blur, a slight rotation, low JPEG quality);
- hard: as a phone photographs them: the page on a table, turned and seen at an angle
  (perspective), in uneven light, with low contrast, out of focus, with sensor noise and
  JPEG artefacts.

Every photo is drawn from a seed. What is printed on it is recorded line by line with its
role: a title (large), body text, or small print. A photo is relevant to a query when its
printed text contains every term of the query (the same `contains` that measures the OCR
ceiling); its grade is the role of the most prominent line holding the term: title 3,
body 2, small print 1 (for several terms, the least of the terms' grades).
"""

from __future__ import annotations

import io
import random
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

from photo_ai_cli.pictures import MONOSPACED, PROPORTIONAL, Colour, text_width, write

# corpus -> its version: bump it when the corpus's generator changes (the OCR cache is
# keyed by it)
CORPORA = {"clean": 2, "hard": 1}
GRADES = {"title": 3, "body": 2, "small": 1}

# What is printed. Titles name the photo (shop signs, document headings); body lines are
# items, sentences, amounts; small print is addresses, phones, notes. Words recur across
# roles on purpose, so that the same query finds a title on one photo and small print on
# another. Some names are made up: no dictionary knows them.
TITLES = [
    "增值税专用发票",
    "喵星人奶茶铺",
    "停车场出口 EXIT",
    "会议纪要",
    "北京市海淀区人民政府",
    "上海浦东国际机场",
    "欢迎光临 Welcome",
    "锦鲤记火锅",
    "沁芳斋茶馆",
    "地铁站入口",
    "INVOICE",
    "RECEIPT 收据",
    "Parking 停车场",
    "茗悦轩咖啡",
    "中关村创业大街",
    "营业执照",
    "Meeting Notes",
    "外卖订单",
    "火车站售票处",
    "Coffee House 咖啡",
]
BODY = [
    "拿铁咖啡 x2 ¥36.00",
    "合计 ¥128.50",
    "Total 3980.00",
    "开票日期 2024-03-18",
    "地址：北京市海淀区中关村大街1号",
    "请在出口处缴费",
    "珍珠奶茶 大杯 ¥15.00",
    "会议时间 2024年3月18日 14:00",
    "Meeting room 301",
    "发票号码 No.0042",
    "鸳鸯火锅套餐 ¥168.00",
    "乘客请从B出口出站",
    "Parking fee 20.00",
    "茶位费 ¥8.00",
    "金额 ¥3980.00 税额 ¥517.40",
    "订单编号 20240318",
    "Welcome to Shanghai",
    "会议纪要由行政部整理",
    "本店招牌 喵星人奶茶",
    "锦鲤记 秘制锅底",
    "沁芳斋 龙井新茶",
    "Total amount due 128.50",
    "停车时长 2小时",
    "浦东机场 T2航站楼",
    "营业执照副本 复印件",
    "购买方 北京某某科技有限公司",
    "收款人 李明",
    "Invoice date 2024-03-18",
    "外卖小哥 配送中",
    "茗悦轩 手冲咖啡 ¥42.00",
]
SMALL = [
    "谢谢惠顾 欢迎再次光临",
    "客服电话 400-820-8820",
    "本发票仅限报销使用",
    "地址：上海市浦东新区世纪大道100号",
    "Powered by WeChat Pay",
    "税号 91110108MA01",
    "营业执照号 110108012345678",
    "请保留小票作为售后凭证",
    "www.example.cn",
    "停车场 24小时营业",
    "发票请向收银台索取",
    "Thank you for your visit",
    "地铁2号线 中关村站",
    "火锅底料 外卖可选",
    "奶茶 少糖 去冰",
    "Invoice available on request",
    "北京市海淀区 邮编100080",
    "会议室 预订电话 8820",
    "Receipt No.0042",
    "咖啡豆 自家烘焙",
]

# (query, kind): the kinds are reported separately
QUERIES = [
    ("海淀", "word in a compound"),
    ("浦东", "word in a compound"),
    ("发票", "word in a compound"),
    ("出口", "word in a compound"),
    ("奶茶", "word in a compound"),
    ("火锅", "word in a compound"),
    ("机场", "word in a compound"),
    ("纪要", "word in a compound"),
    ("中关村", "word in a compound"),
    ("地铁", "word in a compound"),
    ("咖啡", "word in a compound"),
    ("停车场", "word in a compound"),
    ("营业执照", "word in a compound"),
    ("外卖", "word in a compound"),
    ("增值税专用发票", "whole compound"),
    ("北京市海淀区", "whole compound"),
    ("上海浦东国际机场", "whole compound"),
    ("会议纪要", "whole compound"),
    ("喵星人", "not in the dictionary"),
    ("锦鲤记", "not in the dictionary"),
    ("沁芳斋", "not in the dictionary"),
    ("茗悦轩", "not in the dictionary"),
    ("invoice", "English"),
    ("receipt", "English"),
    ("total", "English"),
    ("parking", "English"),
    ("welcome", "English"),
    ("meeting", "English"),
    ("coffee", "English"),
    ("2024", "number"),
    ("128.50", "number"),
    ("3980.00", "number"),
    ("0042", "number"),
    ("8820", "number"),
    ("20240318", "number"),
    ("发票 2024", "several words"),
    ("total 128.50", "several words"),
    ("停车场 出口", "several words"),
    ("拿铁 36.00", "several words"),
    ("meeting 301", "several words"),
    ("奶茶 ¥15.00", "several words"),
    ("茶", "one character"),
    ("票", "one character"),
    ("站", "one character"),
    ("锅", "one character"),
    ("店", "one character"),
    ("税", "one character"),
    # printed nowhere, but close to what is: every hit is a false positive
    ("海滨", "not printed"),
    ("invoices", "not printed"),
    ("128.5", "not printed"),
    ("地铁站出口", "not printed"),
    ("喵星球", "not printed"),
    ("meetings", "not printed"),
]

_CJK = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff"
_SPACE_IN_CJK = re.compile(rf"(?<=[{_CJK}])\s+(?=[{_CJK}])")


def normalize(text: str) -> str:
    """NFKC, case-folded, spaces between CJK characters dropped (OCR puts them anywhere)."""
    return _SPACE_IN_CJK.sub("", unicodedata.normalize("NFKC", text).casefold())


def contains(line: str, term: str) -> bool:
    """Whether a line holds a term: CJK anywhere, letters and digits as whole words."""
    term = normalize(term)
    pattern = re.escape(term)
    if term[:1].isascii() and term[:1].isalnum():
        pattern = r"(?<![a-z0-9])" + pattern
    if term[-1:].isascii() and term[-1:].isalnum():
        pattern += r"(?![a-z0-9])"
    return re.search(pattern, normalize(line)) is not None


def grade(lines: list[tuple[str, str]], query: str) -> int:
    """Relevance of printed (role, text) lines to a query: 0 when some term is missing."""
    grades = []
    for term in query.split():
        found = [GRADES[role] for role, text in lines if contains(text, term)]
        if not found:
            return 0
        grades.append(max(found))
    return min(grades)


@dataclass
class Photo:
    name: str
    kind: str
    taken_at: datetime
    lines: list[tuple[str, str]] = field(default_factory=list)  # (role, text)
    image: Image.Image | None = None


def make_corpus(seed: int, count: int, render: bool, corpus: str = "clean") -> list[Photo]:
    """The photos of a seed; with render, their images degraded as the corpus says (the slow
    part: a run whose OCR is cached needs only the printed lines). Both corpora print the
    same lines on the same photos."""
    start = datetime(2023, 1, 1, tzinfo=UTC)
    layouts = (receipt, sign, screenshot, notice)
    photos = []
    for i in range(count):
        rng = random.Random(f"{seed}/{i}")
        layout = layouts[i % len(layouts)]
        photo = Photo(
            f"{i:04d}_{layout.__name__}.jpg",
            layout.__name__,
            start + timedelta(minutes=rng.randrange(60 * 24 * 700)),
        )
        image = layout(rng, photo)
        if render and corpus == "clean":
            photo.image = degrade(image, random.Random(f"{seed}/{i}/degrade"))
        elif render:
            photo.image = photograph(image, random.Random(f"{seed}/{i}/photograph"))
        photos.append(photo)
    return photos


def write_images(photos: list[Photo], folder: Path) -> None:
    for photo in photos:
        path = folder / photo.name
        photo.image.save(path, "JPEG", quality=90)
        path.chmod(0o644)


# --- layouts: each draws its lines and records them with their roles ----------------------


def _print(
    draw: ImageDraw.ImageDraw,
    photo: Photo,
    role: str,
    text: str,
    xy,
    size: int,
    fill,
    face: int = PROPORTIONAL,
) -> int:
    """Prints a line and records it with its role; returns the height it takes."""
    write(draw, xy, text, size, fill, face)
    photo.lines.append((role, text))
    return int(size * 1.6)


# role, left edge, how many lines (a range; None: one title), font sizes (a range), colour,
# space after
Section = tuple[str, int, tuple[int, int] | None, tuple[int, int], Colour, int]
TEXTS = {"body": BODY, "small": SMALL}


def _document(rng: random.Random, photo: Photo, image: Image.Image, top: int, *sections: Section):
    """Sections of lines printed one under the other from `top`."""
    draw = ImageDraw.Draw(image)
    y = top
    for role, left, lines, sizes, fill, space in sections:
        texts = (
            [rng.choice(TITLES)]
            if lines is None
            else rng.sample(TEXTS[role], rng.randrange(*lines))
        )
        for text in texts:
            y += _print(draw, photo, role, text, (left, y), rng.randrange(*sizes), fill)
        y += space
    return image


def receipt(rng: random.Random, photo: Photo) -> Image.Image:
    return _document(
        rng,
        photo,
        Image.new("RGB", (680, 940), (250, 248, 240 - rng.randrange(20))),
        40,
        ("title", 45, None, (44, 60), "black", 0),
        ("body", 45, (4, 8), (22, 29), (30, 30, 30), 22),
        ("small", 45, (2, 4), (12, 16), (70, 70, 70), 0),
    )


def sign(rng: random.Random, photo: Photo) -> Image.Image:
    ground = rng.choice([(20, 60, 150), (20, 110, 60), (160, 30, 30), (40, 40, 40)])
    image = Image.new("RGB", (900, 520), ground)
    draw = ImageDraw.Draw(image)
    _print(draw, photo, "title", rng.choice(TITLES), (50, 120), rng.randrange(66, 90), "white")
    if rng.random() < 0.7:
        small = rng.choice(SMALL)
        _print(draw, photo, "small", small, (50, 420), rng.randrange(16, 22), (230, 230, 230))
    return image


def screenshot(rng: random.Random, photo: Photo) -> Image.Image:
    image = Image.new("RGB", (562, 1000), (237, 237, 237))
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 0, 562, 98), fill=(247, 247, 247))
    _print(draw, photo, "title", rng.choice(TITLES), (30, 38), 33, "black", MONOSPACED)
    y = 142
    for text in rng.sample(BODY, rng.randrange(3, 6)):
        width = int(text_width(draw, text, 24, MONOSPACED)) + 30
        left = 30 if rng.random() < 0.5 else 532 - width
        draw.rounded_rectangle(
            (left, y - 10, left + width, y + 42),
            9,
            fill=(255, 255, 255) if left == 30 else (149, 236, 105),
        )
        _print(draw, photo, "body", text, (left + 15, y), 24, "black", MONOSPACED)
        y += 82
        if rng.random() < 0.5:
            _print(draw, photo, "small", rng.choice(SMALL), (195, y - 15), 13, (150, 150, 150))
            y += 30
    return image


def notice(rng: random.Random, photo: Photo) -> Image.Image:
    return _document(
        rng,
        photo,
        Image.new("RGB", (820, 1050), (255, 255, 255)),
        60,
        ("title", 90, None, (48, 63), "black", 15),
        ("body", 75, (5, 9), (22, 27), (20, 20, 20), 30),
        ("small", 75, (2, 5), (13, 16), (90, 90, 90), 0),
    )


# --- degradation: a third clean, a third mild, a third hard --------------------------------


def degrade(image: Image.Image, rng: random.Random) -> Image.Image:
    level = rng.choice(("clean", "mild", "hard"))
    if level == "clean":
        return image
    blur, noise, angle = (0.7, 8, 3) if level == "mild" else (1.4, 18, 8)
    image = image.rotate(
        rng.uniform(-angle, angle), resample=Image.BICUBIC, expand=True, fillcolor=(200, 200, 200)
    )
    image = image.filter(ImageFilter.GaussianBlur(rng.uniform(0.3, blur)))
    pixels = np.asarray(image).astype(np.int16)
    grain = np.random.default_rng(rng.randrange(2**32)).normal(0, noise, pixels.shape)
    image = Image.fromarray(np.clip(pixels + grain, 0, 255).astype(np.uint8))
    if level == "hard":  # and a low JPEG quality, as a forwarded chat image has
        buffer = io.BytesIO()
        image.save(buffer, "JPEG", quality=rng.randrange(20, 40))
        image = Image.open(io.BytesIO(buffer.getvalue())).convert("RGB")
    return image


# --- photographed: the hard corpus ---------------------------------------------------------


def photograph(page: Image.Image, rng: random.Random) -> Image.Image:
    """The page as a phone photographs it from a little further away: lying on a table,
    turned, seen at an angle, lit unevenly, with low contrast, a little out of focus, noisy
    and JPEG-compressed."""
    table = tuple(rng.randrange(60, 130) for _ in range(3))
    scale = rng.uniform(0.75, 1.0)
    page = page.resize((round(page.width * scale), round(page.height * scale)), Image.LANCZOS)
    margin = int(0.1 * max(page.size))
    scene = Image.new("RGB", (page.width + 2 * margin, page.height + 2 * margin), table)
    scene.paste(page, (margin, margin))
    scene = scene.rotate(rng.uniform(-10, 10), resample=Image.BICUBIC, fillcolor=table)
    scene = _tilt(scene, rng, table)
    pixels = np.asarray(scene).astype(np.float32)
    pixels *= _uneven_light(scene.size, rng)[..., None]
    low, high = rng.uniform(30, 70), rng.uniform(165, 215)  # low contrast: a grey range
    pixels = low + pixels * (high - low) / 255
    image = Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8))
    image = image.filter(ImageFilter.GaussianBlur(rng.uniform(0.6, 1.8)))
    pixels = np.asarray(image).astype(np.float32)
    noise = np.random.default_rng(rng.randrange(2**32)).normal(0, rng.uniform(4, 10), pixels.shape)
    image = Image.fromarray(np.clip(pixels + noise, 0, 255).astype(np.uint8))
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=rng.randrange(30, 60))
    return Image.open(io.BytesIO(buffer.getvalue())).convert("RGB")


def _tilt(image: Image.Image, rng: random.Random, fill) -> Image.Image:
    """A perspective view: one edge of the picture further from the camera (shorter), and
    every corner a little off."""
    width, height = image.size
    corners = np.array([(0, 0), (width, 0), (width, height), (0, height)], dtype=np.float64)
    seen = corners.copy()
    far_edge = rng.randrange(4)  # top, right, bottom, left: the edge tilted away
    shrink = rng.uniform(0.05, 0.16)
    along = np.array([(1, 0), (0, 1), (-1, 0), (0, -1)][far_edge], dtype=np.float64)
    size = width if far_edge % 2 == 0 else height
    seen[far_edge] += along * shrink * size
    seen[(far_edge + 1) % 4] -= along * shrink * size
    for corner in seen:
        corner += (rng.uniform(-0.03, 0.03) * width, rng.uniform(-0.03, 0.03) * height)
    return image.transform(
        image.size,
        Image.PERSPECTIVE,
        _perspective_coefficients(seen, corners),
        resample=Image.BICUBIC,
        fillcolor=fill,
    )


def _perspective_coefficients(seen: np.ndarray, original: np.ndarray) -> list[float]:
    """The 8 coefficients of Image.PERSPECTIVE that take each point of `seen` (the output)
    back to the point of `original` it shows."""
    rows, values = [], []
    for (x, y), (u, v) in zip(seen, original, strict=True):
        rows.append([x, y, 1, 0, 0, 0, -u * x, -u * y])
        rows.append([0, 0, 0, x, y, 1, -v * x, -v * y])
        values += [u, v]
    return list(np.linalg.solve(np.array(rows), np.array(values)))


def _uneven_light(size: tuple[int, int], rng: random.Random) -> np.ndarray:
    """Brightness over the picture: falling off from a lamp on one side (down to a half or
    less) and darker again in the corners."""
    width, height = size
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    angle = rng.uniform(0, 2 * np.pi)
    along = (x / width - 0.5) * np.cos(angle) + (y / height - 0.5) * np.sin(angle)
    light = 1 - rng.uniform(0.35, 0.6) * (along + 0.5)
    corner = ((x / width - 0.5) ** 2 + (y / height - 0.5) ** 2) / 0.5
    return light * (1 - rng.uniform(0.1, 0.3) * corner)
