"""Request and response shapes of our own API (v1), as ARCHITECTURE.md documents them."""

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Task = Literal["ocr", "clip", "faces"]
ALL_TASKS: tuple[Task, ...] = ("ocr", "clip", "faces")
Point = tuple[float, float]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class OcrOptions(_Strict):
    min_score: float | None = Field(None, ge=0, le=1)


class FacesOptions(_Strict):
    min_score: float | None = Field(None, ge=0, le=1)


class ClipOptions(_Strict):
    pass


class AnalyzeOptions(_Strict):
    ocr: OcrOptions = OcrOptions()
    clip: ClipOptions = ClipOptions()
    faces: FacesOptions = FacesOptions()


class AnalyzeTasks(_Strict):
    """What to do with the image; a multipart request sends these as form fields."""

    tasks: list[Task] = Field(default=list(ALL_TASKS), min_length=1)
    options: AnalyzeOptions = AnalyzeOptions()


class AnalyzeRequest(AnalyzeTasks):
    path: str = Field(min_length=1, description="absolute path under PHOTO_AI_LIBRARY_ROOTS")


class ImageSize(BaseModel):
    width: int
    height: int


class OcrLineOut(BaseModel):
    text: str
    score: float
    box_score: float
    box: list[Point]
    box_normalized: list[Point]


class OcrOut(BaseModel):
    model: str
    text: str
    lines: list[OcrLineOut]


class ClipOut(BaseModel):
    model: str
    dim: int
    embedding: list[float]


class FaceOut(BaseModel):
    box: tuple[float, float, float, float]
    score: float
    landmarks: list[Point]
    embedding: list[float]


class FacesOut(BaseModel):
    model: str
    faces: list[FaceOut]


class TaskResults(BaseModel):
    ocr: OcrOut | None = None
    clip: ClipOut | None = None
    faces: FacesOut | None = None


class TaskError(BaseModel):
    status: int
    kind: str
    detail: str


class AnalyzeResponse(BaseModel):
    image: ImageSize
    results: TaskResults
    errors: dict[str, TaskError]


class ClipTextRequest(_Strict):
    texts: list[str] = Field(min_length=1, max_length=1024)


class ClipTextResponse(BaseModel):
    model: str
    dim: int
    embeddings: list[list[float]]


class ModelStatus(BaseModel):
    available: bool
    loaded: bool
    device: str
    path: str
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


# /v1/analyze reads its body itself (JSON or multipart), so its two forms are declared here
# for the OpenAPI page.
ANALYZE_REQUEST_BODY = {
    "requestBody": {
        "content": {
            "application/json": {"schema": AnalyzeRequest.model_json_schema()},
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "properties": {
                        "image": {"type": "string", "format": "binary"},
                        "tasks": {"type": "string", "example": "ocr,clip,faces"},
                        "options": {"type": "string", "description": "the options, as JSON text"},
                    },
                    "required": ["image"],
                }
            },
        }
    }
}
