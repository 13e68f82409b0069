"""Face detection (SCRFD) and recognition (ArcFace) from an InsightFace model pack, in numpy.

The `insightface` package is not used (it compiles C extensions and pulls in a lot); the two
ONNX models of a pack are run with onnxruntime and their inputs and outputs handled here,
the way InsightFace's model_zoo handles them:

- SCRFD: RGB letterboxed into 640x640 at the top-left, (pixel - 127.5) / 128. Its outputs are
  scores, box distances and 5-point landmark distances, each for strides 8, 16, 32 (two
  anchors per cell); distances are in stride units from the cell's top-left corner.
  Candidates above the score threshold are merged with NMS at IoU 0.4.
- ArcFace: the face is warped onto the 112x112 ArcFace template by a similarity transform of
  its 5 landmarks, RGB, (pixel - 127.5) / 127.5; the 512-d output is L2-normalised.

Which file is the detector and which the recogniser is checked from the graph's inputs and
outputs (as InsightFace's ModelRouter does), so a pack with other file names still loads.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import NamedTuple

import cv2
import numpy as np
import onnxruntime as ort
from PIL import Image

from inference_sidecar.errors import ModelMissing
from inference_sidecar.models.preprocess import as_rgb, letterbox, normalized_chw, pixel_array


class PackFiles(NamedTuple):
    """The file names of an InsightFace pack's two models."""

    detector: str
    recognizer: str


# The usual files of each known InsightFace pack; for another pack, its directory is searched.
PACK_FILES = {
    "buffalo_l": PackFiles("det_10g.onnx", "w600k_r50.onnx"),
    "buffalo_m": PackFiles("det_2.5g.onnx", "w600k_r50.onnx"),
    "buffalo_s": PackFiles("det_500m.onnx", "w600k_mbf.onnx"),
    "buffalo_sc": PackFiles("det_500m.onnx", "w600k_mbf.onnx"),
    "antelopev2": PackFiles("scrfd_10g_bnkps.onnx", "glintr100.onnx"),
}
DEFAULT_FILES = PACK_FILES["buffalo_l"]

DETECTION_SIZE = 640  # InsightFace's det_size for dynamic-input detectors
NMS_IOU = 0.4
RECOGNITION_MEAN, RECOGNITION_STD = 127.5, 127.5
DETECTION_MEAN, DETECTION_STD = 127.5, 128.0

# Where the 5 landmarks (left eye, right eye, nose, left and right mouth corner) land in the
# 112x112 crop ArcFace models were trained on.
ARCFACE_TEMPLATE = np.array(
    [
        [38.2946, 51.6963],
        [73.5318, 51.5014],
        [56.0252, 71.7366],
        [41.5493, 92.3655],
        [70.7299, 92.2041],
    ],
    dtype=np.float32,
)

# SCRFD output layouts by output count: (strides, anchors per cell); with landmarks at 9 and 15.
SCRFD_LAYOUTS = {
    9: ((8, 16, 32), 2),
    15: ((8, 16, 32, 64, 128), 1),
}


@dataclass
class Face:
    box: tuple[float, float, float, float]  # x1, y1, x2, y2 in image pixels
    score: float
    landmarks: np.ndarray  # (5, 2) image pixels
    embedding: np.ndarray  # (512,) float32, L2-normalised


def face_pack_dir(model_dir: Path, pack: str) -> Path:
    return Path(model_dir) / "faces" / pack


def face_pack_files(model_dir: Path, pack: str) -> tuple[Path, Path]:
    """Where the pack's detector and recogniser usually are (what a missing-model message names).

    Loading also accepts other file names in the pack directory, recognised by their graphs.
    """
    pack_dir = face_pack_dir(model_dir, pack)
    files = PACK_FILES.get(pack, DEFAULT_FILES)
    return pack_dir / files.detector, pack_dir / files.recognizer


# ---------------------------------------------------------------------------------------------
# ONNX sessions and telling detector from recogniser


def _session(path: Path, device: str) -> ort.InferenceSession:
    providers = ["CPUExecutionProvider"]
    if device == "cuda" and "CUDAExecutionProvider" in ort.get_available_providers():
        providers.insert(0, "CUDAExecutionProvider")
    options = ort.SessionOptions()
    options.log_severity_level = 3  # onnxruntime warns about unused initialisers otherwise
    try:
        return ort.InferenceSession(str(path), options, providers=providers)
    except Exception as exc:  # onnxruntime raises its own untyped errors for a bad file
        raise ValueError(f"cannot load face model {path}: {exc}") from exc


def _session_device(session: ort.InferenceSession) -> str:
    # CUDA can be asked for and still missing at run time; onnxruntime then falls back quietly.
    return "cuda" if "CUDAExecutionProvider" in session.get_providers() else "cpu"


def _is_detector(session: ort.InferenceSession) -> bool:
    return len(session.get_outputs()) >= 5


def _is_recognizer(session: ort.InferenceSession) -> bool:
    shape = session.get_inputs()[0].shape
    if len(session.get_outputs()) != 1 or len(shape) != 4:
        return False
    height, width = shape[2], shape[3]
    return isinstance(height, int) and height == width and height >= 112 and height % 16 == 0


def _find_model(
    expected: Path, role: str, fits: Callable[[ort.InferenceSession], bool], device: str
) -> tuple[Path, ort.InferenceSession]:
    """The pack's `role` model: the file of the usual name first, then any other .onnx in it."""
    pack_dir = expected.parent
    candidates = [expected]
    if pack_dir.is_dir():
        candidates += sorted(p for p in pack_dir.glob("*.onnx") if p != expected)
    for path in candidates:
        if path.is_file():
            session = _session(path, device)
            if fits(session):
                return path, session
    if expected.is_file():
        raise ValueError(f"{expected} is not a {role} model, and no other file in {pack_dir} is")
    raise ModelMissing("faces", str(expected), "PHOTO_AI_MODEL_DIR")


# ---------------------------------------------------------------------------------------------
# SCRFD


@lru_cache(maxsize=32)
def _anchor_centers(height: int, width: int, stride: int, anchors: int) -> np.ndarray:
    """(height * width * anchors, 2) x, y of each cell's top-left corner, in network order."""
    ys, xs = np.mgrid[:height, :width]
    centers = np.stack([xs, ys], axis=-1).reshape(-1, 2).astype(np.float32) * stride
    return np.repeat(centers, anchors, axis=0)


def _nms(boxes: np.ndarray, scores: np.ndarray, iou: float) -> list[int]:
    """Greedy non-maximum suppression; indices kept, best first (InsightFace's +1 area rule)."""
    x1, y1, x2, y2 = boxes.T
    areas = (x2 - x1 + 1) * (y2 - y1 + 1)
    order = np.argsort(-scores, kind="stable")
    keep = []
    while order.size:
        best, rest = order[0], order[1:]
        keep.append(int(best))
        w = np.maximum(0.0, np.minimum(x2[best], x2[rest]) - np.maximum(x1[best], x1[rest]) + 1)
        h = np.maximum(0.0, np.minimum(y2[best], y2[rest]) - np.maximum(y1[best], y1[rest]) + 1)
        overlap = w * h / (areas[best] + areas[rest] - w * h)
        order = rest[overlap <= iou]
    return keep


class ScrfdDetector:
    def __init__(self, path: Path, session: ort.InferenceSession):
        outputs = session.get_outputs()
        if len(outputs) not in SCRFD_LAYOUTS:
            raise ValueError(
                f"{path}: face alignment needs a SCRFD detector with landmarks "
                f"(9 or 15 outputs), this one has {len(outputs)}"
            )
        self.session = session
        self.strides, self.anchors = SCRFD_LAYOUTS[len(outputs)]
        self.input_name = session.get_inputs()[0].name
        self.output_names = [o.name for o in outputs]
        height, width = session.get_inputs()[0].shape[2:4]
        fixed = isinstance(height, int) and isinstance(width, int)
        self.input_width, self.input_height = (width, height) if fixed else (DETECTION_SIZE,) * 2

    def detect(self, rgb: np.ndarray, min_score: float) -> tuple[np.ndarray, ...]:
        """Boxes (n, 4), scores (n,), landmarks (n, 5, 2) in image pixels, best first."""
        canvas, scale = letterbox(rgb, self.input_width, self.input_height)
        blob = normalized_chw(canvas, DETECTION_MEAN, DETECTION_STD)[None]
        outputs = self.session.run(self.output_names, {self.input_name: blob})
        boxes, scores, landmarks = self._decode(outputs, min_score)
        keep = _nms(boxes, scores, NMS_IOU)
        return boxes[keep] / scale, scores[keep], landmarks[keep] / scale

    def _decode(self, outputs: list[np.ndarray], min_score: float) -> tuple[np.ndarray, ...]:
        levels = len(self.strides)
        boxes, scores, landmarks = [], [], []
        for level, stride in enumerate(self.strides):
            # Batched exports add a leading batch axis of 1; both forms are in use.
            score = outputs[level].reshape(-1)
            distances = outputs[level + levels].reshape(-1, 4) * stride
            points = outputs[level + 2 * levels].reshape(-1, 5, 2) * stride
            centers = _anchor_centers(
                self.input_height // stride, self.input_width // stride, stride, self.anchors
            )
            hit = score >= min_score
            c = centers[hit]
            boxes.append(np.hstack([c - distances[hit, :2], c + distances[hit, 2:]]))
            scores.append(score[hit])
            landmarks.append(c[:, None, :] + points[hit])
        return np.concatenate(boxes), np.concatenate(scores), np.concatenate(landmarks)


# ---------------------------------------------------------------------------------------------
# ArcFace


def similarity_transform(src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """2x3 matrix of the least-squares rotation + uniform scale + shift taking src to dst.

    Umeyama's closed form, the estimate InsightFace's norm_crop uses (through scikit-image).
    """
    src_mean, dst_mean = src.mean(axis=0), dst.mean(axis=0)
    src_c, dst_c = src - src_mean, dst - dst_mean
    covariance = dst_c.T @ src_c / len(src)
    u, singular, vt = np.linalg.svd(covariance)
    sign = np.ones(2)
    if np.linalg.det(u) * np.linalg.det(vt) < 0:  # a reflection would fit better; forbid it
        sign[-1] = -1
    rotation = u @ np.diag(sign) @ vt
    scale = (singular * sign).sum() / src_c.var(axis=0).sum()
    shift = dst_mean - scale * rotation @ src_mean
    return np.hstack([scale * rotation, shift[:, None]]).astype(np.float32)


def align_face(rgb: np.ndarray, landmarks: np.ndarray, size: int = 112) -> np.ndarray:
    """The face (of an RGB or greyscale picture) warped onto the ArcFace template:
    (size, size, 3) uint8."""
    template = ARCFACE_TEMPLATE * (size / 112.0)
    matrix = similarity_transform(landmarks.astype(np.float64), template.astype(np.float64))
    return as_rgb(cv2.warpAffine(rgb, matrix, (size, size), borderValue=0.0))


class ArcFaceRecognizer:
    def __init__(self, session: ort.InferenceSession):
        self.session = session
        self.input_name = session.get_inputs()[0].name
        self.output_name = session.get_outputs()[0].name
        batch, _, self.size, _ = session.get_inputs()[0].shape
        self.max_batch = batch if isinstance(batch, int) else None  # None: any batch size

    def embed(self, crops: list[np.ndarray]) -> np.ndarray:
        """(n, d) float32 L2-normalised embeddings of aligned RGB crops."""
        blob = np.stack([normalized_chw(c, RECOGNITION_MEAN, RECOGNITION_STD) for c in crops])
        step = self.max_batch or len(blob)
        features = np.concatenate(
            [
                self.session.run([self.output_name], {self.input_name: blob[i : i + step]})[0]
                for i in range(0, len(blob), step)
            ]
        ).astype(np.float32)
        return features / np.maximum(np.linalg.norm(features, axis=1, keepdims=True), 1e-12)


# ---------------------------------------------------------------------------------------------


class FaceModel:
    """An InsightFace pack: finds faces and gives each a 512-d identity embedding."""

    def __init__(self, name: str, detector: ScrfdDetector, recognizer: ArcFaceRecognizer):
        self.name = name
        self.detector = detector
        self.recognizer = recognizer
        self.device = _session_device(detector.session)

    @classmethod
    def load(cls, model_dir: Path, pack: str = "buffalo_l", device: str = "cpu") -> FaceModel:
        det_path, rec_path = face_pack_files(model_dir, pack)
        detector = _find_model(det_path, "SCRFD face detection", _is_detector, device)
        recognizer = _find_model(rec_path, "ArcFace recognition", _is_recognizer, device)
        return cls(pack, ScrfdDetector(*detector), ArcFaceRecognizer(recognizer[1]))

    def detect(self, image: Image.Image, min_score: float = 0.5) -> list[Face]:
        pixels = pixel_array(image)
        boxes, scores, landmarks = self.detector.detect(pixels, min_score)
        if not len(boxes):
            return []
        crops = [align_face(pixels, points, self.recognizer.size) for points in landmarks]
        embeddings = self.recognizer.embed(crops)
        height, width = pixels.shape[:2]
        # Boxes are clipped to the picture (a face cut by the edge is still a face);
        # landmarks are left as predicted, as alignment needs them.
        boxes = np.clip(boxes, 0, [width, height, width, height])
        return [
            Face(
                box=tuple(float(v) for v in box),
                score=float(score),
                landmarks=points.astype(np.float32),
                embedding=embedding,
            )
            for box, score, points, embedding in zip(
                boxes, scores, landmarks, embeddings, strict=True
            )
        ]
