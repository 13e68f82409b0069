"""What a task is, as data: the shape every module in this package fills in."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from PIL import Image
from pydantic import BaseModel

from inference_sidecar.registry import ModelSlot
from inference_sidecar.settings import Settings

if TYPE_CHECKING:
    from inference_sidecar.inference import Inference


@dataclass(frozen=True)
class ModelResult:
    """What a batch run returns for one item: it names the model that made it."""

    model: str


@dataclass(frozen=True)
class Batch:
    """One batched model call: items in, one result per item out, in the model's own thread.

    Its name names its batcher and its metrics (photo_ai_sidecar_batch_size{model=...},
    photo_ai_sidecar_task_seconds{task=...}).
    """

    name: str
    run: Callable[[Any, list[Any]], Sequence[Any]]  # (loaded model, items) -> results
    # (the model if loaded already, else None; item) -> item: work done in a decode thread
    # before the item queues, so the model's one thread is left the network alone.
    prepare: Callable[[Any | None, Any], Any] | None = None
    waits: bool = True  # False: never wait for more items (the batch is mostly per-item work)


@dataclass(frozen=True)
class TaskSpec:
    """One task of /v1/analyze: its request options, its answer, its model and how it runs."""

    name: str  # the name in `tasks`, `options`, `results`, `errors` and /health's `models`
    options: type[BaseModel]  # `options.<name>` of a request; every field optional
    result: type[BaseModel]  # `results.<name>` of the answer
    slot: Callable[[Settings], ModelSlot]  # where its model is and how it loads
    batches: tuple[Batch, ...]
    run: Callable[[Inference, Image.Image, Any], Awaitable[BaseModel]]  # image + options -> result
    # The slot of another model for the same task, by name (faces: another InsightFace pack
    # that Immich asks for); None: the task has one model only.
    variant: Callable[[Settings, str], ModelSlot] | None = None
