"""OCR with RapidOCR's PP-OCR models (shipped inside the rapidocr wheel, so always present).

RapidOCR's one-call API hides the detection scores Immich asks for, and it runs one image
at a time. Here its own pipeline steps are driven directly: detection per image, then
direction classification and recognition over the text crops of a whole batch at once.
"""

from dataclasses import dataclass

import numpy as np
import onnxruntime
from PIL import Image
from rapidocr import RapidOCR
from rapidocr.main import RapidOCRError
from rapidocr.utils.process_img import map_boxes_to_original

# Detection keeps boxes scoring at least this; callers can ask for stricter, not looser.
DETECTION_MIN_SCORE = 0.5


@dataclass(frozen=True)
class OcrLine:
    text: str
    score: float  # recognition confidence
    box_score: float  # detection confidence
    box: np.ndarray  # (4, 2) float32 pixel corners: top-left, top-right, bottom-right, bottom-left


@dataclass
class _DetectedImage:
    height: int
    width: int
    boxes: np.ndarray  # (n, 4, 2) in the detector's working coordinates
    box_scores: list[float]
    crops: list[np.ndarray]
    resize_record: dict


def cuda_available() -> bool:
    return "CUDAExecutionProvider" in onnxruntime.get_available_providers()


class OcrModel:
    def __init__(self, engine: RapidOCR, device: str):
        self._engine = engine
        self.device = device
        det = engine.cfg.Det
        self.name = f"{_enum_value(det.ocr_version)}_{_enum_value(det.model_type)}"

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

    def read(self, image: Image.Image) -> list[OcrLine]:
        return self.read_batch([image])[0]

    def read_batch(self, images: list[Image.Image]) -> list[list[OcrLine]]:
        """Every line found in each image, boxes in that image's pixel coordinates.

        Not thread-safe (RapidOCR keeps per-call state); callers serialise through one worker.
        """
        detected = [self._detect(image) for image in images]
        all_crops = [crop for item in detected for crop in item.crops]
        texts, scores = self._recognise(all_crops)
        results, start = [], 0
        for item in detected:
            end = start + len(item.crops)
            results.append(self._lines(item, texts[start:end], scores[start:end]))
            start = end
        return results

    def _detect(self, image: Image.Image) -> _DetectedImage:
        bgr = np.ascontiguousarray(np.asarray(image)[:, :, ::-1])  # PP-OCR was trained on BGR
        working, record = self._engine.preprocess_img(bgr)
        try:
            crops, det = self._engine.detect_and_crop(working, record)
        except RapidOCRError:  # RapidOCR's way of saying "no text here"
            return _DetectedImage(image.height, image.width, np.zeros((0, 4, 2)), [], [], record)
        return _DetectedImage(image.height, image.width, det.boxes, list(det.scores), crops, record)

    def _recognise(self, crops: list[np.ndarray]) -> tuple[list[str], list[float]]:
        if not crops:
            return [], []
        try:
            upright, _ = self._engine.cls_and_rotate(crops)
            rec = self._engine.recognize_txt(upright)
        except RapidOCRError:
            return [""] * len(crops), [0.0] * len(crops)
        return list(rec.txts), [float(s) for s in rec.scores]

    @staticmethod
    def _lines(item: _DetectedImage, texts: list[str], scores: list[float]) -> list[OcrLine]:
        if not item.crops:
            return []
        boxes = map_boxes_to_original(
            item.boxes.astype(np.float32), item.resize_record, item.height, item.width
        )
        found = zip(texts, scores, item.box_scores, boxes, strict=True)
        return [
            OcrLine(text=text, score=score, box_score=float(box_score), box=box)
            for text, score, box_score, box in found
            if text.strip()
        ]


def _enum_value(value) -> str:
    return str(getattr(value, "value", value))
