"""Which models this sidecar has, loading each on first use and saying why one is absent.

Each task spec (inference_sidecar.tasks) makes its ModelSlot: how its model is located
(cheaply, at any time) and loaded (once, under a lock, in the thread that first needs it).

A missing model is a state of the installation: the task answers 503 with a message naming
the file and the variable that sets it, the other tasks keep working, and the files are
looked for again on the next request, so adding a model needs no restart.
"""

import importlib.metadata
import logging
import re
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import onnxruntime

from inference_sidecar.errors import ModelMissing, ModelUnavailable, SidecarError
from inference_sidecar.settings import Settings

if TYPE_CHECKING:
    from inference_sidecar.tasks.spec import TaskSpec

log = logging.getLogger(__name__)

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

    def status(self, with_paths: bool) -> dict:
        """/health's entry; without paths, file names stand for the absolute paths."""
        location = self.locate()
        model = self._model
        entry: dict[str, Any] = {
            "available": location.problem is None,
            "loaded": model is not None,
            "device": getattr(model, "device", self.device),
        }
        if with_paths:
            entry["path"] = location.path
        if model is not None:
            entry["name"] = getattr(model, "name", None)
        if location.problem:
            entry["missing"] = location.problem.detail
        elif self._failure:
            entry["error"] = self._failure[1].detail
        for key in ("missing", "error"):
            if key in entry and not with_paths:
                entry[key] = without_paths(entry[key], location.path)
        return entry


# An absolute path (not the // of a URL), up to a space, quote, bracket, comma or colon.
_ABSOLUTE_PATH = re.compile(r"(?<![\w.:/])/(?:[^\s'\"(),:/]+/)*([^\s'\"(),:/]*)")


def without_paths(text: str, known: str = "") -> str:
    """The text with each absolute path cut to its last part (`known` first, as it may hold
    spaces): a file name says what is missing without telling a stranger how the host's
    disks are laid out."""
    if known:
        text = text.replace(known, Path(known).name)
    return _ABSOLUTE_PATH.sub(lambda match: match.group(1) or "/", text)


class ModelRegistry:
    """One slot per task, each made by the task's spec (inference_sidecar.tasks), and one
    more per named variant asked for (another face pack), made on first request and kept."""

    def __init__(self, settings: Settings, specs: "Sequence[TaskSpec]"):
        self._settings = settings
        self._specs = {spec.name: spec for spec in specs}
        self.slots = {spec.name: spec.slot(settings) for spec in specs}
        self._variants: dict[tuple[str, str], ModelSlot] = {}
        self._variants_lock = threading.Lock()

    def slot(self, task: str, variant: str | None = None) -> ModelSlot:
        """The task's own slot, or that of a variant its spec can make (TaskSpec.variant)."""
        if variant is None:
            return self.slots[task]
        with self._variants_lock:
            if (task, variant) not in self._variants:
                make = self._specs[task].variant
                if make is None:
                    raise ValueError(f"task {task} has no variants")
                self._variants[task, variant] = make(self._settings, variant)
            return self._variants[task, variant]

    def get(self, task: str, variant: str | None = None) -> Any:
        return self.slot(task, variant).get()

    def loaded(self, task: str, variant: str | None = None) -> Any | None:
        """The model if it is loaded already; never loads it."""
        return self.slot(task, variant).loaded

    def status(self, with_paths: bool) -> dict[str, dict]:
        return {task: slot.status(with_paths) for task, slot in self.slots.items()}


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


def package_versions() -> dict[str, str | None]:
    names = ["photo_ai", "fastapi", "onnxruntime", "rapidocr", "torch", "pillow", "numpy"]
    return {name: _version(name) for name in names}


def _version(name: str) -> str | None:
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return None
