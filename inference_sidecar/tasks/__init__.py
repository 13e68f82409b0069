"""The tasks of /v1/analyze, as data: one module per task, listed once here.

The v1 schemas (the task names, `options`, `results`), the runners, the batchers, the model
registry and /health all derive from TASKS. Adding a task is one module in this package
(its options, its result, its model slot, its batch functions and its runner: see spec.py)
and one line below.
"""

from inference_sidecar.tasks import clip, faces, ocr
from inference_sidecar.tasks.spec import Batch, TaskSpec

TASKS: tuple[TaskSpec, ...] = (ocr.SPEC, clip.SPEC, faces.SPEC)

__all__ = ["TASKS", "Batch", "TaskSpec"]
