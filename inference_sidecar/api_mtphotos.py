"""mt-photos-ai's API, for MT Photos and other clients already written against it.

The shapes follow MT-Photos/mt-photos-ai (OCR, CLIP) and mt-photos-deepface /
mt-photos-insightface-unofficial (faces): the key comes in the `api-key` header, images
in a multipart field `file`, and numbers in OCR and CLIP answers are strings, as there.
Where the originals answer a bad image with 200 and a `msg`, this answers with the
matching 4xx status and the same body shape, {"result": [], "msg": "..."}.
"""

from typing import Annotated

from fastapi import APIRouter, File, UploadFile
from pydantic import BaseModel

from inference_sidecar.api_v1 import InferenceDep

TAG = "mt-photos"
router = APIRouter(tags=[TAG])  # every route needs the key (auth.py)


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


@router.post("/check", response_model=CheckResponse)
async def check() -> CheckResponse:
    return CheckResponse(
        result="pass",
        title="photo_ai inference sidecar (mt-photos-ai API)",
        help="https://mtmt.tech/docs/advanced/ocr_api",
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
