"""The demo's sample photos, drawn here rather than shipped: receipts and invoices, street
signs, screenshots with Chinese and English text, and a few scenes without any text.

Everything is deterministic (one seeded random generator per picture), so generating again
writes byte-identical files: their checksums do not change and re-importing queues nothing.
A file is rewritten only when what this module draws for it has changed.

    python -m photo_ai_cli samples [DIR]      # default: demo_photos/
"""

from __future__ import annotations

import io
import math
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pillow_heif
from PIL import Image, ImageDraw, ImageFilter

from photo_ai_cli.pictures import column, text_width, write

README_NAME = "README.txt"
README_TEXT = """\
These pictures were drawn by photo_ai_cli/sample_photos.py for `make demo`.
Generating them again gives the same bytes; delete the folder to start afresh.
This file is not an image: the importer skips it.
"""

Colour = tuple[int, int, int]


@dataclass(frozen=True)
class Sample:
    """One picture: where it goes, what it shows, and the words printed on it."""

    path: str  # relative to the samples folder; the suffix picks the format
    kind: str  # receipt | sign | screenshot | scene
    draw: Callable[[random.Random], Image.Image]
    words: tuple[str, ...] = ()  # words OCR should find (the prominent ones)
    taken_at: datetime | None = None


# --------------------------------------------------------------------------- drawing helpers


def _noise(image: Image.Image, rng: random.Random, amount: float) -> Image.Image:
    """Sensor-like noise, seeded so the picture is the same every time."""
    noise = np.random.default_rng(rng.randrange(2**32)).normal(0, amount, (*image.size[::-1], 3))
    pixels = np.asarray(image, dtype=np.float32) + noise
    return Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8))


def _gradient(size: tuple[int, int], top: Colour, bottom: Colour) -> Image.Image:
    height = size[1]
    t = np.linspace(0.0, 1.0, height, dtype=np.float32)[:, None, None]
    rows = np.asarray(top, np.float32) * (1 - t) + np.asarray(bottom, np.float32) * t
    pixels = np.broadcast_to(rows, (height, size[0], 3))
    return Image.fromarray(pixels.astype(np.uint8))


def _table(size: tuple[int, int], rng: random.Random) -> Image.Image:
    """A wooden table top: brown with darker grain lines."""
    image = Image.new("RGB", size, (150, 105, 70))
    draw = ImageDraw.Draw(image)
    for _ in range(60):
        y = rng.randrange(size[1])
        shade = rng.randrange(110, 140)
        draw.line([(0, y), (size[0], y + rng.randrange(-20, 20))], (shade, 80, 50), 2)
    return image


@dataclass(frozen=True)
class Line:
    """A line printed on paper; "-" is a dashed rule."""

    text: str
    size: int = 0
    centred: bool = False

    @property
    def height(self) -> int:
        return 18 if self.text == "-" else int(self.size * 1.55)


def _printed_lines(printed: str) -> list[Line]:
    """Lines written one a line: the font size, "center" where the line is centred, then
    the text; or "-" for a dashed rule."""
    lines = []
    for row in printed.strip().splitlines():
        size, _, text = row.strip().partition(" ")
        centred = text.startswith("center ")
        lines.append(
            Line("-") if size == "-" else Line(text.removeprefix("center "), int(size), centred)
        )
    return lines


def _paper(width: int, lines: list[Line], margin: int = 36) -> Image.Image:
    """Off-white paper with lines of black text."""
    paper = Image.new(
        "RGB", (width, margin * 2 + sum(line.height for line in lines)), (250, 248, 240)
    )
    draw = ImageDraw.Draw(paper)
    y = margin
    for line in lines:
        if line.text == "-":
            for x in range(margin, width - margin, 14):
                draw.line([(x, y + 8), (x + 7, y + 8)], (120, 120, 120), 2)
        else:
            x = (width - text_width(draw, line.text, line.size)) / 2 if line.centred else margin
            write(draw, (x, y), line.text, line.size, (25, 25, 30))
        y += line.height
    return paper


def _photographed(paper: Image.Image, rng: random.Random, angle: float) -> Image.Image:
    """The paper lying slightly turned on a table, photographed with a little blur and noise."""
    turned = paper.rotate(angle, resample=Image.BICUBIC, expand=True, fillcolor=(0, 0, 0))
    mask = Image.new("L", paper.size, 255).rotate(angle, resample=Image.BICUBIC, expand=True)
    size = (turned.width + 120, turned.height + 120)
    photo = _table(size, rng)
    photo.paste(turned, (60 + rng.randrange(-20, 20), 60 + rng.randrange(-20, 20)), mask)
    photo = photo.filter(ImageFilter.GaussianBlur(0.6))
    return _noise(photo, rng, 4.0)


# --------------------------------------------------------------------------- receipts


def _receipt(width: int, tilt: float, printed: str) -> Callable[[random.Random], Image.Image]:
    """Paper `width` pixels wide with the printed lines on it (see _printed_lines),
    photographed turned by up to `tilt` degrees."""
    lines = _printed_lines(printed)

    def draw(rng: random.Random) -> Image.Image:
        return _photographed(_paper(width, lines), rng, rng.uniform(-tilt, tilt))

    return draw


_vat_invoice = _receipt(
    760,
    2.5,
    """
    44 center 增值税专用发票
    20 发票代码 1100231130   发票号码 08736512
    20 开票日期 2024年03月18日
    -
    22 购买方 名称 北京云图科技有限公司
    20 纳税人识别号 91110108MA01XK2P3Q
    20 货物或应税劳务名称   数量   单价   金额
    20 *信息技术服务*软件开发   1   3,760.38   3,760.38
    20 税率 6%   税额 225.62
    -
    30 合计 ¥3,986.00
    22 价税合计(大写) 叁仟玖佰捌拾陆元整
    22 销售方 上海启明软件有限公司
    """,
)


_restaurant_receipt = _receipt(
    520,
    3,
    """
    36 center 老北京炸酱面馆
    24 center 餐饮 消费小票
    20 桌号 12   人数 3   2024-05-02 19:42
    -
    22 宫保鸡丁        1    ¥38.00
    22 炸酱面          3    ¥54.00
    22 拍黄瓜          1    ¥16.00
    22 酸梅汤          2    ¥20.50
    -
    32 合计 ¥128.50
    22 微信支付 ¥128.50
    22 center 谢谢惠顾 欢迎再次光临
    """,
)


_supermarket_receipt = _receipt(
    520,
    3,
    """
    30 center 华联超市 HUALIAN MARKET
    18 收银员 007   小票号 20240611-0193
    -
    20 牛奶 Milk 1L        2 x 12.80
    20 鸡蛋 Eggs 10pcs         15.90
    20 苹果 Apple 1.2kg        14.30
    20 面包 Bread               9.50
    -
    30 合计 TOTAL ¥65.30
    20 支付宝 Alipay ¥65.30
    20 会员积分 +65
    """,
)


_taxi_receipt = _receipt(
    440,
    3,
    """
    30 center 北京市出租汽车专用发票
    22 车号 京B·T2481
    22 日期 2024-07-21
    22 上车 08:12   下车 08:47
    22 里程 18.6 km
    22 等候 00:06:30
    32 金额 ¥62.00
    """,
)


_hotel_invoice = _receipt(
    680,
    2,
    """
    36 center 电子发票(普通发票)
    26 center 上海外滩华庭酒店
    22 住宿服务 2晚 标准间
    20 入住 2024-09-13   离店 2024-09-15
    22 房费 ¥1,160.00   税额 ¥69.60
    -
    30 价税合计 ¥1,229.60
    18 Invoice No. 24312000000018765432
    """,
)


# --------------------------------------------------------------------------- street signs


def _street_backdrop(size: tuple[int, int], rng: random.Random) -> Image.Image:
    """Sky above a grey building wall, the usual setting of a sign."""
    image = _gradient(size, (120, 170, 225), (200, 220, 240))
    draw = ImageDraw.Draw(image)
    wall_top = int(size[1] * rng.uniform(0.25, 0.4))
    draw.rectangle([0, wall_top, size[0], size[1]], (150, 150, 148))
    for y in range(wall_top + 30, size[1], 40):
        draw.line([(0, y), (size[0], y)], (135, 135, 133), 2)
    return image


def _sign(
    main: str,
    sub: str,
    colour: Colour,
    rng: random.Random,
    symbol: str = "",
    size: tuple[int, int] = (900, 600),
) -> Image.Image:
    image = _street_backdrop(size, rng)
    draw = ImageDraw.Draw(image)
    box = (120, 150, size[0] - 120, size[1] - 150)
    draw.rectangle([box[0] - 8, box[3], box[0] + 8, size[1]], (90, 90, 95))  # post
    draw.rectangle([box[2] - 8, box[3], box[2] + 8, size[1]], (90, 90, 95))
    draw.rounded_rectangle(box, 24, fill=colour, outline=(245, 245, 245), width=8)
    x = box[0] + 40
    if symbol:
        draw.rounded_rectangle([x, box[1] + 40, x + 150, box[1] + 190], 16, fill=(245, 245, 245))
        write(draw, (x + 75 - text_width(draw, symbol, 120) / 2, box[1] + 48), symbol, 120, colour)
        x += 190
    write(draw, (x, box[1] + 45), main, 84, (255, 255, 255))
    write(draw, (x, box[1] + 170), sub, 40, (255, 255, 255))
    image = image.rotate(rng.uniform(-2, 2), resample=Image.BICUBIC, fillcolor=(150, 150, 148))
    return _noise(image.filter(ImageFilter.GaussianBlur(0.7)), rng, 5.0)


def _parking_sign(rng: random.Random) -> Image.Image:
    return _sign("停车场", "Parking  地下二层 B2", (25, 80, 170), rng, symbol="P")


def _exit_sign(rng: random.Random) -> Image.Image:
    return _sign("出口", "EXIT  →  人民广场", (20, 130, 70), rng, symbol="↗")


def _metro_sign(rng: random.Random) -> Image.Image:
    return _sign("地铁站", "Metro  2号线 Line 2", (180, 30, 40), rng, symbol="M")


def _street_name_sign(rng: random.Random) -> Image.Image:
    return _sign("中关村大街", "北京市海淀区 Zhongguancun St", (25, 80, 170), rng)


def _no_smoking_sign(rng: random.Random) -> Image.Image:
    return _sign("禁止吸烟", "No Smoking  违者罚款200元", (200, 40, 40), rng)


def _detour_sign(rng: random.Random) -> Image.Image:
    return _sign("前方施工", "请绕行  Road Work Ahead", (230, 150, 20), rng)


# --------------------------------------------------------------------------- screenshots


def _phone_frame(title: str, rng: random.Random) -> tuple[Image.Image, ImageDraw.ImageDraw]:
    image = Image.new("RGB", (540, 960), (237, 237, 237))
    draw = ImageDraw.Draw(image)
    draw.rectangle([0, 0, 540, 40], (30, 30, 30))
    write(draw, (16, 8), "9:41", 20, "white")
    write(draw, (440, 8), "5G 86%", 20, "white")
    draw.rectangle([0, 40, 540, 110], (247, 247, 247))
    write(draw, ((540 - text_width(draw, title, 30)) / 2, 58), title, 30, (20, 20, 20))
    return image, draw


def _bubble(draw: ImageDraw.ImageDraw, y: int, text: str, mine: bool) -> int:
    width = text_width(draw, text, 26) + 36
    x = 540 - 90 - width if mine else 90
    draw.rounded_rectangle([x, y, x + width, y + 56], 10, fill=(149, 236, 105) if mine else "white")
    write(draw, (x + 18, y + 12), text, 26, (20, 20, 20))
    avatar_x = 540 - 76 if mine else 14
    draw.rounded_rectangle([avatar_x, y, avatar_x + 56, y + 56], 8, fill=(110, 140, 190))
    return y + 80


def _chat_screenshot(rng: random.Random) -> Image.Image:
    image, draw = _phone_frame("项目群 (5)", rng)
    y = 140
    for text, mine in [
        ("明天上午10点开会", False),
        ("OK, see you at 10", True),
        ("会议室在3楼 Room 301", False),
        ("记得带发票报销", False),
        ("收到，谢谢", True),
        ("PPT已发邮件 please check", False),
    ]:
        y = _bubble(draw, y, text, mine)
    return image


def _flight_screenshot(rng: random.Random) -> Image.Image:
    image, draw = _phone_frame("行程单 Itinerary", rng)
    draw.rounded_rectangle([24, 140, 516, 560], 16, fill="white")
    write(draw, (50, 165), "中国国际航空 Air China", 24, (20, 20, 20))
    write(draw, (50, 215), "CA1831", 44, (200, 20, 30))
    write(draw, (50, 300), "北京 PEK", 34, (20, 20, 20))
    write(draw, (330, 300), "上海 SHA", 34, (20, 20, 20))
    write(draw, (50, 360), "08:00", 40, (20, 20, 20))
    write(draw, (330, 360), "10:15", 40, (20, 20, 20))
    write(draw, (50, 440), "2024年10月01日  座位 32K", 24, (90, 90, 90))
    write(draw, (50, 490), "登机口 Gate C52", 24, (90, 90, 90))
    return image


def _order_screenshot(rng: random.Random) -> Image.Image:
    image, draw = _phone_frame("订单详情", rng)
    draw.rounded_rectangle([24, 140, 516, 700], 16, fill="white")
    rows = [
        ("订单号 2024112098765", 24),
        ("无线蓝牙耳机 Bluetooth Earbuds", 26),
        ("数量 1", 24),
        ("商品金额 ¥299.00", 26),
        ("优惠券 -¥30.00", 24),
        ("实付款 ¥269.00", 34),
        ("已发货 顺丰快递 SF1234567890", 22),
    ]
    column(draw, rows, (50, 170), 2.4, (20, 20, 20))
    return image


def _settings_screenshot(rng: random.Random) -> Image.Image:
    image, draw = _phone_frame("设置 Settings", rng)
    y = 140
    for text in [
        "无线局域网 Wi-Fi",
        "蓝牙 Bluetooth",
        "通知 Notifications",
        "隐私 Privacy",
        "电池 Battery",
        "关于本机 About",
    ]:
        draw.rectangle([0, y, 540, y + 80], "white")
        write(draw, (40, y + 22), text, 30, (20, 20, 20))
        write(draw, (490, y + 20), ">", 30, (160, 160, 160))
        y += 90
    return image


def _desktop_frame(title: str) -> tuple[Image.Image, ImageDraw.ImageDraw]:
    image = Image.new("RGB", (1100, 700), "white")
    draw = ImageDraw.Draw(image)
    draw.rectangle([0, 0, 1100, 44], (222, 225, 230))
    for i, colour in enumerate([(240, 90, 80), (245, 190, 60), (90, 200, 90)]):
        draw.ellipse([16 + i * 26, 14, 32 + i * 26, 30], colour)
    write(draw, (110, 10), title, 22, (40, 40, 40))
    return image, draw


def _web_screenshot(rng: random.Random) -> Image.Image:
    image, draw = _desktop_frame("Python 教程 - 数据分析入门")
    write(draw, (60, 80), "Python 数据分析入门教程", 46, (20, 60, 140))
    body = [
        "第一章 安装 Anaconda 和 Jupyter Notebook",
        "第二章 使用 pandas 读取 CSV 文件",
        "第三章 用 matplotlib 画图 (Plotting)",
        "import pandas as pd",
        "df = pd.read_csv('sales_2024.csv')",
        "print(df.describe())",
    ]
    y = 180
    for i, text in enumerate(body):
        fill = (20, 20, 20) if i < 3 else (150, 40, 120)
        if i >= 3:
            draw.rectangle([50, y - 6, 800, y + 42], (245, 245, 248))
        write(draw, (60, y), text, 30, fill)
        y += 66
    return image


def _calendar_screenshot(rng: random.Random) -> Image.Image:
    image, draw = _desktop_frame("日历 Calendar")
    write(draw, (60, 70), "2024年3月18日 星期一", 40, (20, 20, 20))
    events = [
        ("09:30", "周会 Weekly Sync", (70, 130, 220)),
        ("11:00", "产品评审 Product Review", (230, 120, 40)),
        ("14:00", "面试 Interview 张伟", (60, 170, 100)),
        ("16:30", "季度报告 Q1 Report", (170, 80, 200)),
    ]
    y = 160
    for when, what, colour in events:
        write(draw, (60, y + 18), when, 30, (90, 90, 90))
        draw.rounded_rectangle([200, y, 1040, y + 90], 12, fill=colour)
        write(draw, (230, y + 20), what, 36, "white")
        y += 120
    return image


# --------------------------------------------------------------------------- scenes

SCENE_WIDTH, SCENE_HEIGHT = 960, 640


def _sky(top: Colour, bottom: Colour) -> tuple[Image.Image, ImageDraw.ImageDraw]:
    """A scene's canvas, a sky from `top` to `bottom` over the whole picture, and its pen."""
    image = _gradient((SCENE_WIDTH, SCENE_HEIGHT), top, bottom)
    return image, ImageDraw.Draw(image)


def _sunset_sea(rng: random.Random) -> Image.Image:
    image, draw = _sky((250, 120, 60), (255, 200, 120))
    horizon = 380
    draw.ellipse([400, 260, 560, 420], (255, 230, 150))
    sea = _gradient((SCENE_WIDTH, SCENE_HEIGHT - horizon), (30, 70, 120), (10, 30, 60))
    image.paste(sea, (0, horizon))
    for _ in range(90):  # glitter on the water
        x, y = rng.randrange(380, 580), rng.randrange(horizon + 5, SCENE_HEIGHT)
        draw.line([(x, y), (x + rng.randrange(10, 40), y)], (255, 200, 120), 2)
    return _noise(image, rng, 3.0)


def _forest(rng: random.Random) -> Image.Image:
    image, draw = _sky((150, 200, 240), (220, 235, 245))
    draw.rectangle([0, 470, SCENE_WIDTH, SCENE_HEIGHT], (70, 120, 50))
    for _ in range(26):
        x = rng.randrange(-20, SCENE_WIDTH)
        height = rng.randrange(180, 360)
        base = 480 + rng.randrange(0, 120)
        draw.rectangle([x - 8, base - 40, x + 8, base], (90, 60, 30))
        green = (rng.randrange(20, 60), rng.randrange(90, 150), rng.randrange(30, 60))
        for tier in range(3):
            top = base - height + tier * height // 4
            half = 30 + tier * 22
            draw.polygon(
                [(x, top), (x - half, top + height // 2), (x + half, top + height // 2)], green
            )
    return _noise(image, rng, 4.0)


def _mountains(rng: random.Random) -> Image.Image:
    image, draw = _sky((70, 130, 210), (190, 215, 240))
    for layer, colour in enumerate([(120, 130, 150), (90, 100, 120), (60, 80, 70)]):
        points = [(0, SCENE_HEIGHT)]
        for x in range(0, SCENE_WIDTH + 80, 80):
            points.append((x, 260 + layer * 90 + rng.randrange(-90, 60)))
        points.append((SCENE_WIDTH, SCENE_HEIGHT))
        draw.polygon(points, colour)
        if layer == 0:  # snow caps
            for px, py in points[1:-1]:
                draw.polygon([(px, py), (px - 25, py + 35), (px + 25, py + 35)], (245, 245, 250))
    return _noise(image, rng, 3.0)


def _night_sky(rng: random.Random) -> Image.Image:
    image, draw = _sky((5, 10, 35), (25, 35, 80))
    for _ in range(400):
        x, y = rng.randrange(SCENE_WIDTH), rng.randrange(470)
        r = rng.choice([1, 1, 1, 2])
        v = rng.randrange(170, 256)
        draw.ellipse([x - r, y - r, x + r, y + r], (v, v, min(255, v + 20)))
    draw.ellipse([760, 70, 840, 150], (245, 240, 210))
    draw.polygon([(0, 640), (0, 500), (300, 430), (620, 520), (960, 450), (960, 640)], (10, 15, 20))
    return _noise(image, rng, 2.0)


def _beach(rng: random.Random) -> Image.Image:
    image, draw = _sky((90, 170, 235), (200, 230, 250))
    draw.rectangle([0, 300, SCENE_WIDTH, 430], (30, 140, 190))
    draw.polygon([(0, 430), (960, 400), (960, 640), (0, 640)], (235, 215, 160))
    for i in range(6):  # surf
        y = 415 + i * 3
        draw.arc([-200 + i * 40, y - 20, 1200, y + 20], 0, 180, (250, 250, 250), 3)
    draw.ellipse([80, 60, 170, 150], (255, 250, 200))
    draw.line([(760, 560), (790, 330)], (120, 80, 40), 10)  # a palm tree
    for angle in range(0, 360, 45):
        dx, dy = 110 * math.cos(math.radians(angle)), 50 * math.sin(math.radians(angle))
        draw.line([(790, 330), (790 + dx, 330 + dy + 30)], (40, 120, 40), 12)
    return _noise(image, rng, 3.0)


def _flowers(rng: random.Random) -> Image.Image:
    image, draw = _sky((160, 200, 240), (230, 240, 250))
    draw.rectangle([0, 280, SCENE_WIDTH, SCENE_HEIGHT], (80, 150, 60))
    for _ in range(220):
        x, y = rng.randrange(SCENE_WIDTH), rng.randrange(290, SCENE_HEIGHT)
        r = 4 + (y - 280) // 40
        colour = rng.choice([(240, 80, 120), (250, 220, 60), (250, 250, 250), (180, 90, 220)])
        draw.ellipse([x - r, y - r, x + r, y + r], colour)
    return _noise(image, rng, 3.0)


# --------------------------------------------------------------------------- the catalogue


class _Shot(NamedTuple):
    """What a picture of the catalogue shows."""

    draw: Callable[[random.Random], Image.Image]
    words: str  # the words OCR must find, separated by spaces
    when: str  # when it was taken


# path (its suffix picks the format, its top folder the kind): what is drawn there
_CATALOGUE: dict[str, _Shot] = {
    "receipts/增值税专用发票.jpg": _Shot(_vat_invoice, "增值税专用发票 合计", "2024-03-18 15:20"),
    "receipts/restaurant.jpg": _Shot(_restaurant_receipt, "合计 餐饮 宫保鸡丁", "2024-05-02 19:45"),
    "receipts/supermarket.jpg": _Shot(_supermarket_receipt, "华联超市 合计", "2024-06-11 18:03"),
    "receipts/taxi.png": _Shot(_taxi_receipt, "出租汽车 发票", "2024-07-21 08:50"),
    "receipts/2024/hotel_invoice.webp": _Shot(
        _hotel_invoice, "电子发票 价税合计", "2024-09-15 11:00"
    ),
    "signs/parking.jpg": _Shot(_parking_sign, "停车场", "2024-04-06 10:12"),
    "signs/exit.webp": _Shot(_exit_sign, "出口 EXIT", "2024-04-06 10:40"),
    "signs/metro.jpg": _Shot(_metro_sign, "地铁站", "2024-04-07 09:05"),
    "signs/street/zhongguancun.heic": _Shot(_street_name_sign, "中关村大街", "2024-04-07 14:30"),
    "signs/no_smoking.tiff": _Shot(_no_smoking_sign, "禁止吸烟", "2024-08-01 12:00"),
    "signs/detour.jpg": _Shot(_detour_sign, "前方施工", "2024-08-02 17:30"),
    "screenshots/chat.png": _Shot(_chat_screenshot, "开会 发票", "2024-03-17 21:02"),
    "screenshots/flight.png": _Shot(_flight_screenshot, "CA1831 Itinerary", "2024-09-20 09:00"),
    "screenshots/order.png": _Shot(_order_screenshot, "订单详情 实付款", "2024-11-20 22:15"),
    "screenshots/settings.gif": _Shot(_settings_screenshot, "Bluetooth", "2024-02-01 08:00"),
    "screenshots/python_tutorial.png": _Shot(
        _web_screenshot, "Python 数据分析", "2024-01-12 20:30"
    ),
    "screenshots/calendar.png": _Shot(_calendar_screenshot, "周会 Report", "2024-03-18 08:55"),
    "scenes/sunset_sea.jpg": _Shot(_sunset_sea, "", "2024-08-10 19:20"),
    "scenes/forest.jpg": _Shot(_forest, "", "2024-05-19 11:00"),
    "scenes/mountains.jpg": _Shot(_mountains, "", "2024-10-03 13:40"),
    "scenes/night_sky.jpg": _Shot(_night_sky, "", "2024-08-12 23:10"),
    "scenes/beach.webp": _Shot(_beach, "", "2024-07-14 15:00"),
    "scenes/flowers.png": _Shot(_flowers, "", "2024-04-20 10:30"),
}


def _sample(path: str, shot: _Shot) -> Sample:
    kind = {"receipts": "receipt", "signs": "sign", "screenshots": "screenshot"}.get(
        path.split("/")[0], "scene"
    )
    return Sample(
        path, kind, shot.draw, tuple(shot.words.split()), datetime.fromisoformat(shot.when)
    )


SAMPLES: tuple[Sample, ...] = tuple(_sample(path, shot) for path, shot in _CATALOGUE.items())


# --------------------------------------------------------------------------- writing


def _exif(taken_at: datetime | None) -> bytes:
    if taken_at is None:
        return b""
    exif = Image.Exif()
    stamp = taken_at.strftime("%Y:%m:%d %H:%M:%S")
    exif[0x0132] = stamp  # DateTime
    exif.get_ifd(0x8769)[0x9003] = stamp  # DateTimeOriginal
    return exif.tobytes()


def encode(image: Image.Image, suffix: str, taken_at: datetime | None = None) -> bytes:
    """The bytes of the picture in the format its file name asks for."""
    buffer = io.BytesIO()
    exif = _exif(taken_at)
    suffix = suffix.lower()
    if suffix in (".jpg", ".jpeg"):
        image.save(buffer, "JPEG", quality=88, exif=exif)
    elif suffix == ".png":
        image.save(buffer, "PNG", exif=exif)
    elif suffix == ".webp":
        image.save(buffer, "WEBP", quality=88, exif=exif)
    elif suffix in (".heic", ".heif"):
        pillow_heif.from_pillow(image).save(buffer, quality=85, exif=exif or None)
    elif suffix in (".tif", ".tiff"):
        # libtiff cannot write an EXIF sub-directory; the TIFF DateTime tag says the same.
        info = {0x0132: taken_at.strftime("%Y:%m:%d %H:%M:%S")} if taken_at else {}
        image.save(buffer, "TIFF", compression="tiff_lzw", tiffinfo=info)
    elif suffix == ".gif":
        image.convert("P", palette=Image.ADAPTIVE, colors=255).save(buffer, "GIF")
    else:
        raise ValueError(f"no encoder for {suffix}")
    return buffer.getvalue()


def render(sample: Sample) -> bytes:
    rng = random.Random(f"photo_ai sample {sample.path}")
    return encode(sample.draw(rng).convert("RGB"), Path(sample.path).suffix, sample.taken_at)


@dataclass
class Generated:
    folder: Path
    written: list[Path]
    unchanged: list[Path]

    @property
    def paths(self) -> list[Path]:
        return sorted(self.written + self.unchanged)


def _write_if_changed(path: Path, data: bytes) -> bool:
    if path.exists() and path.read_bytes() == data:
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(data)
    tmp.replace(path)
    return True


def generate(folder: Path, samples: tuple[Sample, ...] = SAMPLES) -> Generated:
    """Draws the samples into folder; only files whose bytes would change are written."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    result = Generated(folder, [], [])
    for sample in samples:
        path = folder / sample.path
        (result.written if _write_if_changed(path, render(sample)) else result.unchanged).append(
            path
        )
    _write_if_changed(folder / README_NAME, README_TEXT.encode())
    return result
