"""OCR with RapidOCR's PP-OCR models (shipped inside the rapidocr wheel, so always present).

RapidOCR's one-call API hides the detection scores Immich asks for, and it runs one image
at a time. Here its own pipeline steps are driven directly: detection per image, then
direction classification and recognition over the text crops of a whole batch at once.

Long screenshots: detection first shrinks an image's long side to RapidOCR's max_side_len
(2000 px) and, when the short side then falls below the detector's limit_side_len (736 px),
scales the whole picture up again, so a 1080x7780 chat is read from a blurred quarter-size
copy. Such an image (and only such an image) is detected in overlapping tiles along its long
side, each at full resolution, and the tiles' lines are merged: a line cut by a tile's edge
gives way to the whole line in the neighbouring tile, and a line seen whole in two tiles is
kept once.

Immich's maxResolution: Immich's own service shrinks an image so that its short side is at
most maxResolution (each side then a multiple of 32) for the detector only, and cuts the
recogniser's crops from the image itself. `read_batch(..., detection_sides)` does the same, so
12 px print on a 1440x1080 preview is detected at 736 px and read at full size.
"""

import math
from dataclasses import dataclass

import cv2
import numpy as np
import onnxruntime
from PIL import Image
from rapidocr import RapidOCR
from rapidocr.main import RapidOCRError
from rapidocr.utils.process_img import get_rotate_crop_image, map_boxes_to_original

from inference_sidecar.models.preprocess import pixel_array

# Detection keeps boxes scoring at least this; callers can ask for stricter, not looser.
DETECTION_MIN_SCORE = 0.5
# Neighbouring tiles share this fraction of a tile: more than a line of text is tall.
TILE_OVERLAP = 1 / 8
# Boxes from two tiles covering more than this of the smaller one are the same line.
SAME_LINE_OVERLAP = 0.5
# rapidocr's sorted_boxes: boxes whose tops are closer than this are on one line.
SAME_ROW_PX = 10
# Pixels kept around a box when it is cut from the image: the cubic warp reads two neighbours.
CROP_MARGIN = 2
# PP-OCR's detector takes sides that are multiples of this.
DETECTOR_STRIDE = 32


@dataclass(frozen=True)
class OcrLine:
    text: str
    score: float  # recognition confidence
    box_score: float  # detection confidence
    box: np.ndarray  # (4, 2) float32 pixel corners: top-left, top-right, bottom-right, bottom-left


@dataclass
class _Detected:
    boxes: np.ndarray  # (n, 4, 2) float32, in the pixel coordinates of the image detected
    box_scores: list[float]
    crops: list[np.ndarray]

    @staticmethod
    def nothing() -> "_Detected":
        return _Detected(np.zeros((0, 4, 2), dtype=np.float32), [], [])

    def select(self, indices) -> "_Detected":
        return _Detected(
            self.boxes[list(indices)].reshape(-1, 4, 2),
            [self.box_scores[i] for i in indices],
            [self.crops[i] for i in indices],
        )


def cuda_available() -> bool:
    return "CUDAExecutionProvider" in onnxruntime.get_available_providers()


class OcrModel:
    def __init__(self, engine: RapidOCR, device: str):
        self._engine = engine
        self.device = device
        det = engine.cfg.Det
        self.name = f"{_enum_value(det.ocr_version)}_{_enum_value(det.model_type)}"
        self._max_side = int(engine.max_side_len)
        self._detector_min_side = int(det.limit_side_len)

    @classmethod
    def load(cls, device: str = "cpu") -> "OcrModel":
        # Asked for CUDA without onnxruntime-gpu, RapidOCR runs on the CPU; say so.
        device = "cuda" if device == "cuda" and cuda_available() else "cpu"
        params = {
            "Global.log_level": "warning",
            "Det.box_thresh": DETECTION_MIN_SCORE,
            "EngineConfig.onnxruntime.use_cuda": device == "cuda",
        }
        model = cls(RapidOCR(params=params), device)
        model._warm_up()
        return model

    def _warm_up(self) -> None:
        """RapidOCR creates its sessions on first use; create them now, at load time."""
        blank = Image.new("RGB", (64, 64), "white")
        self._detect(blank)
        self._recognise([np.full((48, 160, 3), 255, dtype=np.uint8)])

    def read(self, image: Image.Image, detection_side: int | None = None) -> list[OcrLine]:
        return self.read_batch([image], [detection_side])[0]

    def read_batch(
        self, images: list[Image.Image], detection_sides: list[int | None] | None = None
    ) -> list[list[OcrLine]]:
        """Every line found in each image, boxes in that image's pixel coordinates.

        Images are 8-bit RGB or greyscale (L). An image's detection side, when given, is the
        short side of the copy the detector sees (Immich's maxResolution); None leaves the
        sizing to RapidOCR. Not thread-safe (RapidOCR keeps per-call state); callers
        serialise through one worker.
        """
        sides = detection_sides or [None] * len(images)
        detected = [self._detect(image, side) for image, side in zip(images, sides, strict=True)]
        all_crops = [crop for item in detected for crop in item.crops]
        texts, scores = self._recognise(all_crops)
        results, start = [], 0
        for item in detected:
            end = start + len(item.crops)
            results.append(_lines(item, texts[start:end], scores[start:end]))
            start = end
        return results

    def _detect(self, image: Image.Image, side: int | None = None) -> _Detected:
        if side is not None:
            return self._detect_sized(image, detector_size(image.width, image.height, side))
        if self._needs_tiles(image.width, image.height):
            return self._detect_in_tiles(image)
        return self._detect_whole(image)

    def _needs_tiles(self, width: int, height: int) -> bool:
        """True when detection would shrink the image and then enlarge its short side again."""
        long, short = max(width, height), min(width, height)
        return long > self._max_side and short * self._max_side / long < self._detector_min_side

    def _detect_whole(self, image: Image.Image) -> _Detected:
        # Shrunk first, then turned into BGR (what PP-OCR was trained on): a resize treats
        # each channel alike, so the pixels are those of converting first, without a
        # full-size copy of a large picture.
        working, record = self._engine.preprocess_img(pixel_array(image))
        try:
            crops, det = self._engine.detect_and_crop(_bgr(working), record)
        except RapidOCRError:  # RapidOCR's way of saying "no text here"
            return _Detected.nothing()
        boxes = map_boxes_to_original(
            det.boxes.astype(np.float32), record, image.height, image.width
        )
        return _Detected(boxes, [float(s) for s in det.scores], crops)

    def _detect_sized(self, image: Image.Image, size: tuple[int, int]) -> _Detected:
        """Detection on a copy of `size`, boxes mapped onto the image and cut from it."""
        detector = self._engine.text_det  # created by _warm_up
        steps = detector.get_preprocess()
        copy = _bgr(pixel_array(image.resize(size, Image.Resampling.LANCZOS)))
        blob = steps.permute(steps.normalize(copy))[None].astype(np.float32)
        # The post-processing maps the detector's map straight onto the image's own pixels.
        found, scores = detector.postprocess_op(detector.session(blob), (image.height, image.width))
        if not len(found):
            return _Detected.nothing()
        boxes = np.asarray(found, dtype=np.float32).reshape(-1, 4, 2)
        order = _reading_order(boxes, list(range(len(boxes))))
        boxes = boxes[order]
        crops = [_cut(image, box) for box in boxes]
        return _Detected(boxes, [float(scores[i]) for i in order], crops)

    def _detect_in_tiles(self, image: Image.Image) -> _Detected:
        tall = image.height >= image.width
        length, breadth = (image.height, image.width) if tall else (image.width, image.height)
        tile = max(self._max_side, breadth)
        spans = tile_spans(length, tile, math.ceil(tile * TILE_OVERLAP))
        found = []
        for start, end in spans:
            area = (0, start, image.width, end) if tall else (start, 0, end, image.height)
            part = self._detect_whole(image.crop(area))
            part.boxes[:, :, 1 if tall else 0] += start
            axis = part.boxes[:, :, 1 if tall else 0]
            cut = (axis.min(axis=1) <= start + 1) & (start > 0)
            cut |= (axis.max(axis=1) >= end - 1) & (end < length)
            found.append((part, cut))
        return _merge_tiles(found)

    def _recognise(self, crops: list[np.ndarray]) -> tuple[list[str], list[float]]:
        if not crops:
            return [], []
        try:
            upright, _ = self._engine.cls_and_rotate(crops)
            rec = self._engine.recognize_txt(upright)
        except RapidOCRError:
            return [""] * len(crops), [0.0] * len(crops)
        return list(rec.txts), [float(s) for s in rec.scores]


def detector_size(width: int, height: int, short_side: int) -> tuple[int, int]:
    """The size Immich's service gives the detector for maxResolution `short_side`: the
    picture shrunk (never enlarged) so its short side is at most `short_side`, each side then
    rounded to the stride."""
    scale = min(1.0, short_side / min(width, height))
    return tuple(
        max(DETECTOR_STRIDE, round(int(side * scale) / DETECTOR_STRIDE) * DETECTOR_STRIDE)
        for side in (width, height)
    )


def _bgr(pixels: np.ndarray) -> np.ndarray:
    """PP-OCR's colour order, from RGB or greyscale pixels."""
    if pixels.ndim == 2:
        return cv2.cvtColor(pixels, cv2.COLOR_GRAY2BGR)
    return np.ascontiguousarray(pixels[:, :, ::-1])


def _cut(image: Image.Image, box: np.ndarray) -> np.ndarray:
    """The box's text as RapidOCR cuts it (straightened, BGR), from the image at full size.
    Only the box's surroundings are converted, so a large picture is never copied whole."""
    left, top = np.maximum(np.floor(box.min(axis=0)) - CROP_MARGIN, 0).astype(int)
    right, bottom = np.minimum(
        np.ceil(box.max(axis=0)) + CROP_MARGIN, (image.width, image.height)
    ).astype(int)
    region = _bgr(pixel_array(image.crop((left, top, right, bottom))))
    return get_rotate_crop_image(region, (box - (left, top)).astype(np.float32))


def tile_spans(length: int, tile: int, overlap: int) -> list[tuple[int, int]]:
    """(start, end) of equal tiles, each at most `tile` long, spread evenly over 0..length
    with at least `overlap` shared by neighbours."""
    count = max(1, math.ceil((length - overlap) / (tile - overlap)))
    size = min(length, math.ceil((length + (count - 1) * overlap) / count))
    step = (length - size) / (count - 1) if count > 1 else 0
    return [(round(i * step), round(i * step) + size) for i in range(count)]


def _merge_tiles(found: list[tuple[_Detected, np.ndarray]]) -> _Detected:
    """One detection from the tiles': whole lines before lines cut by a tile's edge, then
    higher detection scores first; a line overlapping one already kept is the same line."""
    merged = _Detected(
        np.concatenate([part.boxes for part, _ in found]).reshape(-1, 4, 2),
        [score for part, _ in found for score in part.box_scores],
        [crop for part, _ in found for crop in part.crops],
    )
    cut = np.concatenate([flags for _, flags in found])
    rects = np.concatenate([merged.boxes.min(axis=1), merged.boxes.max(axis=1)], axis=1)
    kept: list[int] = []
    for i in sorted(range(len(cut)), key=lambda i: (cut[i], -merged.box_scores[i])):
        if not kept or _covered(rects[i], rects[kept]).max() <= SAME_LINE_OVERLAP:
            kept.append(i)
    return merged.select(_reading_order(merged.boxes[kept], kept))


def _covered(rect: np.ndarray, others: np.ndarray) -> np.ndarray:
    """How much of the smaller of `rect` and each of `others` their intersection covers."""
    low = np.maximum(rect[:2], others[:, :2])
    high = np.minimum(rect[2:], others[:, 2:])
    shared = np.prod(np.clip(high - low, 0, None), axis=1)
    area = np.prod(rect[2:] - rect[:2])
    other_areas = np.prod(others[:, 2:] - others[:, :2], axis=1)
    return shared / np.maximum(np.minimum(area, other_areas), 1e-6)


def _reading_order(boxes: np.ndarray, indices: list[int]) -> list[int]:
    """`indices` ordered as rapidocr orders boxes: top to bottom, left to right in a row."""
    if not indices:
        return []
    tops = boxes[:, 0, 1]
    by_top = np.argsort(tops, kind="stable")
    rows = np.concatenate([[0], np.cumsum(np.diff(tops[by_top]) >= SAME_ROW_PX)])
    order = by_top[np.lexsort((boxes[by_top, 0, 0], rows))]
    return [indices[i] for i in order]


def _lines(item: _Detected, texts: list[str], scores: list[float]) -> list[OcrLine]:
    found = zip(texts, scores, item.box_scores, item.boxes, strict=True)
    return [
        OcrLine(text=text, score=score, box_score=box_score, box=box)
        for text, score, box_score, box in found
        if text.strip()
    ]


def _enum_value(value) -> str:
    return str(getattr(value, "value", value))
