"""Request and response shapes of our own API (v1), as ARCHITECTURE.md documents them.

The shapes of /v1/analyze are built from the task specs (inference_sidecar.tasks): the task
names, `options` and `results` hold one entry per task.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, create_model

if TYPE_CHECKING:
    from inference_sidecar.tasks.spec import TaskSpec

Point = tuple[float, float]


class StrictModel(BaseModel):
    """A request part: an unknown field is an error, not ignored."""

    model_config = ConfigDict(extra="forbid")


class ModelOut(BaseModel):
    """An answer a model made: every one names the model (the database keeps the name beside
    the result, so that a new model's results can be told from an old one's)."""

    model: str


class ImageSize(BaseModel):
    width: int
    height: int


class TaskError(BaseModel):
    status: int
    kind: str
    detail: str


class ClipTextRequest(StrictModel):
    texts: list[str] = Field(min_length=1, max_length=1024)


class ClipTextResponse(ModelOut):
    dim: int
    embeddings: list[list[float]]


class ModelStatus(BaseModel):
    available: bool
    loaded: bool
    device: str
    path: str | None = None  # only for a request with the key (or when no key is set)
    name: str | None = None
    missing: str | None = None
    error: str | None = None


class HealthResponse(BaseModel):
    status: Literal["ok"]
    version: str | None
    models: dict[str, ModelStatus]
    versions: dict[str, str | None]


class ErrorBody(BaseModel):
    kind: str
    detail: str


class ErrorResponse(BaseModel):
    error: ErrorBody


@dataclass(frozen=True)
class AnalyzeSchemas:
    """The shapes of /v1/analyze for one list of tasks."""

    names: tuple[str, ...]
    tasks: type[BaseModel]  # {tasks, options}: what a multipart request sends as form fields
    request: type[BaseModel]  # the JSON request: the same and a path
    response: type[BaseModel]
    request_body: dict[str, Any]  # for the OpenAPI page: /v1/analyze reads its body itself


def analyze_schemas(specs: "Sequence[TaskSpec]") -> AnalyzeSchemas:
    names = tuple(spec.name for spec in specs)
    task_name = Literal[names]  # type: ignore[valid-type]
    options = create_model(
        "AnalyzeOptions",
        __base__=StrictModel,
        **{spec.name: (spec.options, spec.options()) for spec in specs},
    )
    tasks = create_model(
        "AnalyzeTasks",
        __base__=StrictModel,
        __doc__="What to do with the image; a multipart request sends these as form fields.",
        tasks=(list[task_name], Field(default=list(names), min_length=1)),
        options=(options, options()),
    )
    request = create_model(
        "AnalyzeRequest",
        __base__=tasks,
        path=(str, Field(min_length=1, description="absolute path under PHOTO_AI_LIBRARY_ROOTS")),
    )
    results = create_model(
        "TaskResults", **{spec.name: (spec.result | None, None) for spec in specs}
    )
    response = create_model(
        "AnalyzeResponse",
        image=(ImageSize, ...),
        results=(results, ...),
        errors=(dict[str, TaskError], ...),
    )
    return AnalyzeSchemas(names, tasks, request, response, _request_body(request, names))


def _request_body(request: type[BaseModel], names: tuple[str, ...]) -> dict[str, Any]:
    return {
        "requestBody": {
            "content": {
                "application/json": {"schema": request.model_json_schema()},
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "properties": {
                            "image": {"type": "string", "format": "binary"},
                            "tasks": {"type": "string", "example": ",".join(names)},
                            "options": {
                                "type": "string",
                                "description": "the options, as JSON text",
                            },
                        },
                        "required": ["image"],
                    }
                },
            }
        }
    }
