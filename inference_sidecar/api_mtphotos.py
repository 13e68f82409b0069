"""mt-photos-ai's API, for MT Photos and other clients already written against it.

The shapes follow MT-Photos/mt-photos-ai (OCR, CLIP) and mt-photos-deepface /
mt-photos-insightface-unofficial (faces): the key comes in the `api-key` header, images
in a multipart field `file`, and numbers in OCR and CLIP answers are strings, as there.
Errors are answered as the originals answer them, even where our own API is stricter:
a photo that cannot be analysed (not an image, an empty or truncated file, too many pixels,
too many bytes) gets 200 with {"result": [], "msg": "..."}, on which clients skip the photo
(a 4xx would tell them the service is broken); a wrong or missing key gets 401 with FastAPI's
{"detail": "..."}; a missing model keeps its 503, in the {"result": [], "msg"} shape.
"""

from typing import Annotated

from fastapi import APIRouter, File, UploadFile
from fastapi.responses import HTMLResponse, JSONResponse
from pydantic import BaseModel

from inference_sidecar.api_v1 import InferenceDep
from inference_sidecar.errors import (
    BadImage,
    FileTooLarge,
    MissingKey,
    SidecarError,
    TooManyPixels,
)

TAG = "mt-photos"
router = APIRouter(tags=[TAG])  # every route but the page at / needs the key (auth.py)

KEY_HEADER = "api-key"  # the header mt-photos-ai's clients send the key in
HELP_URL = "https://mtmt.tech/docs/advanced/ocr_api"
# The photo's own faults: the originals answer them 200 with a `msg`, and clients move on.
PHOTO_FAULTS = (BadImage, TooManyPixels, FileTooLarge)

STATUS_PAGE = f"""<!DOCTYPE html>
<html lang="zh-CN">
<head><meta charset="utf-8"><title>photo_ai inference sidecar</title></head>
<body>
<h1>photo_ai 智能识别服务 · inference sidecar</h1>
<p>服务状态：运行中 · Status: running</p>
<p>mt-photos-ai API: <a href="{HELP_URL}">{HELP_URL}</a></p>
</body>
</html>
"""


def error_answer(error: SidecarError) -> JSONResponse:
    """The error as mt-photos-ai answers it (see the module's docstring)."""
    if isinstance(error, MissingKey):
        error = MissingKey(KEY_HEADER)
    if error.status == 401:
        return JSONResponse({"detail": error.detail}, status_code=401)
    status = 200 if isinstance(error, PHOTO_FAULTS) else error.status
    return JSONResponse({"result": [], "msg": error.detail}, status_code=status)


class CheckResponse(BaseModel):
    result: str
    title: str
    help: str


class PassResponse(BaseModel):
    result: str


class OcrBox(BaseModel):
    x: str
    y: str
    width: str
    height: str


class OcrTexts(BaseModel):
    texts: list[str]
    scores: list[str]
    boxes: list[OcrBox]


class OcrResponse(BaseModel):
    result: OcrTexts


class ClipResponse(BaseModel):
    result: list[str]


class ClipTextRequest(BaseModel):
    text: str


class FacialArea(BaseModel):
    x: int
    y: int
    w: int
    h: int


class RepresentedFace(BaseModel):
    embedding: list[float]
    facial_area: FacialArea
    face_confidence: float


class RepresentResponse(BaseModel):
    detector_backend: str
    recognition_model: str
    result: list[RepresentedFace]


@router.get("/", response_class=HTMLResponse)
async def status_page() -> str:
    """A page for a person who opens the service's address: it runs (no key needed)."""
    return STATUS_PAGE


@router.post("/check", response_model=CheckResponse)
async def check() -> CheckResponse:
    return CheckResponse(
        result="pass",
        title="photo_ai inference sidecar (mt-photos-ai API)",
        help=HELP_URL,
    )


@router.post("/restart", response_model=PassResponse)
@router.post("/restart_v2", response_model=PassResponse)
async def restart() -> PassResponse:
    """The originals restart themselves to free memory; this service never needs to."""
    return PassResponse(result="pass")


@router.post("/ocr", response_model=OcrResponse)
async def ocr(inference: InferenceDep, file: Annotated[UploadFile, File()]) -> OcrResponse:
    async with inference.decoded(await inference.read_upload(file)) as image:
        result = await inference.ocr(image)
    lines = [line for line in result.lines if line.score >= inference.settings.ocr_min_score]
    return OcrResponse(
        result=OcrTexts(
            texts=[line.text for line in lines],
            scores=[f"{line.score:.2f}" for line in lines],
            boxes=[_ocr_box(line.box) for line in lines],
        )
    )


def _ocr_box(box) -> OcrBox:
    # mt-photos-ai: x, y of the first corner; width and height from corners 1 and 2.
    def fixed(value) -> str:
        return str(round(float(value), 2))

    return OcrBox(
        x=fixed(box[0][0]),
        y=fixed(box[0][1]),
        width=fixed(box[1][0] - box[0][0]),
        height=fixed(box[2][1] - box[0][1]),
    )


@router.post("/clip/img", response_model=ClipResponse)
async def clip_image(inference: InferenceDep, file: Annotated[UploadFile, File()]):
    async with inference.decoded(await inference.read_upload(file)) as image:
        result = await inference.clip_image(image)
    return ClipResponse(result=[f"{v:.16f}" for v in result.vectors[0].tolist()])


@router.post("/clip/txt", response_model=ClipResponse)
async def clip_text(inference: InferenceDep, body: ClipTextRequest) -> ClipResponse:
    result = await inference.clip_texts([body.text])
    return ClipResponse(result=[f"{v:.16f}" for v in result.vectors[0].tolist()])


@router.post("/represent", response_model=RepresentResponse)
async def represent(inference: InferenceDep, file: Annotated[UploadFile, File()]):
    async with inference.decoded(await inference.read_upload(file)) as image:
        result = await inference.faces(image)
    return RepresentResponse(
        detector_backend="insightface",
        recognition_model=result.model,
        result=[_represented(face) for face in result.faces],
    )


def _represented(face) -> RepresentedFace:
    x1, y1, x2, y2 = (int(float(v)) for v in face.box)
    return RepresentedFace(
        embedding=[float(v) for v in face.embedding],
        facial_area=FacialArea(x=x1, y=y1, w=x2 - x1, h=y2 - y1),
        face_confidence=float(face.score),
    )
