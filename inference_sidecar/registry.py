"""Which models this sidecar has, loading each on first use and saying why one is absent.

A missing model is a state of the installation: the task answers 503 with a message naming
the file and the variable that sets it, the other tasks keep working, and the files are
looked for again on the next request, so adding a model needs no restart.
"""

import importlib.metadata
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import onnxruntime

from inference_sidecar.errors import ModelMissing, ModelUnavailable, SidecarError
from inference_sidecar.settings import Settings

log = logging.getLogger(__name__)

TASKS = ("ocr", "clip", "faces")
# A model whose files are present but fail to load is retried after this long, not on
# every request: loading a large broken checkpoint again and again would stall the queue.
RETRY_FAILED_LOAD_S = 30.0


@dataclass(frozen=True)
class Location:
    path: str
    problem: SidecarError | None = None  # why the model cannot be loaded from there


class ModelSlot:
    """One task's model: located cheaply at any time, loaded once, thread-safe."""

    def __init__(self, task: str, device: str, locate: Callable[[], Location], load: Callable):
        self.task = task
        self.device = device
        self._locate = locate
        self._load = load
        self._model: Any = None
        self._failure: tuple[float, SidecarError] | None = None
        self._lock = threading.Lock()

    @property
    def loaded(self) -> Any | None:
        return self._model

    def get(self) -> Any:
        model = self._model
        if model is not None:
            return model
        with self._lock:
            if self._model is None:
                self._model = self._load_now()
            return self._model

    def _load_now(self) -> Any:
        location = self.locate()
        if location.problem:
            raise location.problem
        if self._failure and time.monotonic() - self._failure[0] < RETRY_FAILED_LOAD_S:
            raise self._failure[1]
        started = time.monotonic()
        try:
            model = self._load()
        except ModelMissing:
            raise
        except Exception as e:  # any loader failure is a state to report, not a crash
            log.exception("loading the %s model failed", self.task)
            error = ModelUnavailable(f"{self.task} model failed to load from {location.path}: {e}")
            self._failure = (time.monotonic(), error)
            raise error from e
        self._failure = None
        log.info("%s model loaded in %.1fs", self.task, time.monotonic() - started)
        return model

    def locate(self) -> Location:
        try:
            return self._locate()
        except ImportError as e:
            detail = f"{self.task} model cannot run here: {e} (pip install 'photo_ai[clip]')"
            return Location("", ModelUnavailable(detail))
        except Exception as e:  # a bad setting, e.g. an unknown model name
            return Location("", ModelUnavailable(f"{self.task} model cannot be located: {e}"))

    def status(self) -> dict:
        location = self.locate()
        model = self._model
        entry: dict[str, Any] = {
            "available": location.problem is None,
            "loaded": model is not None,
            "device": getattr(model, "device", self.device),
            "path": location.path,
        }
        if model is not None:
            entry["name"] = getattr(model, "name", None)
        if location.problem:
            entry["missing"] = location.problem.detail
        elif self._failure:
            entry["error"] = self._failure[1].detail
        return entry


class ModelRegistry:
    def __init__(self, settings: Settings):
        self.settings = settings
        self.slots = {
            "ocr": _ocr_slot(settings),
            "clip": _clip_slot(settings),
            "faces": _faces_slot(settings),
        }

    def get(self, task: str) -> Any:
        return self.slots[task].get()

    def loaded(self, task: str) -> Any | None:
        """The task's model if it is loaded already; never loads it."""
        return self.slots[task].loaded

    def status(self) -> dict[str, dict]:
        return {task: slot.status() for task, slot in self.slots.items()}


def onnx_device(setting: str) -> str:
    if setting != "auto":
        return setting
    cuda = "CUDAExecutionProvider" in onnxruntime.get_available_providers()
    return "cuda" if cuda else "cpu"


def torch_device(setting: str) -> str:
    if setting != "auto":
        return setting
    try:
        import torch
    except ImportError:
        return "cpu"
    return "cuda" if torch.cuda.is_available() else "cpu"


def _ocr_slot(settings: Settings) -> ModelSlot:
    from inference_sidecar.models.ocr import OcrModel

    device = onnx_device(settings.device)

    def locate() -> Location:
        import rapidocr

        return Location(str(Path(rapidocr.__file__).parent / "models"))

    return ModelSlot("ocr", device, locate, lambda: OcrModel.load(device=device))


def _clip_slot(settings: Settings) -> ModelSlot:
    model_dir, name = settings.model_dir, settings.clip_model
    device = torch_device(settings.device)

    def locate() -> Location:
        from inference_sidecar.models.clip import clip_checkpoint_path

        path = Path(clip_checkpoint_path(model_dir, name))
        if path.is_file():
            return Location(str(path))
        return Location(str(path), ModelMissing("clip", str(path), "PHOTO_AI_MODEL_DIR"))

    def load() -> Any:
        from inference_sidecar.models.clip import ClipModel

        return ClipModel.load(model_dir, name=name, device=device)

    return ModelSlot("clip", device, locate, load)


def _faces_slot(settings: Settings) -> ModelSlot:
    model_dir, pack = settings.model_dir, settings.face_model
    device = onnx_device(settings.device)

    def locate() -> Location:
        from inference_sidecar.models.faces import face_pack_dir

        path = Path(face_pack_dir(model_dir, pack))
        if path.is_dir() and any(path.glob("*.onnx")):
            return Location(str(path))
        return Location(str(path), ModelMissing("faces", str(path), "PHOTO_AI_MODEL_DIR"))

    def load() -> Any:
        from inference_sidecar.models.faces import FaceModel

        return FaceModel.load(model_dir, pack=pack, device=device)

    return ModelSlot("faces", device, locate, load)


def package_versions() -> dict[str, str | None]:
    names = ["photo_ai", "fastapi", "onnxruntime", "rapidocr", "torch", "pillow", "numpy"]
    return {name: _version(name) for name in names}


def _version(name: str) -> str | None:
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return None
