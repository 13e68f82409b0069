"""One photo's page, assembled: the photo, its recognised text with each line's box, its faces
with theirs, its jobs, and the photos like it. Boxes become fractions of the upright image
(an SVG over the picture draws them), whatever size the picture is shown at.

Its tags link to a search of each (tag:), and its description is shown in the page's
language."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from fastapi.concurrency import run_in_threadpool

from photo_ai_web import queries
from photo_ai_web.thumbnails import PhotoUnavailable


@dataclass
class TextLine:
    text: str
    points: str | None  # SVG polygon points, fractions of the image; None: no box known


@dataclass
class FaceBox:
    number: int
    x: float
    y: float
    width: float
    height: float
    score: float


@dataclass
class PhotoView:
    photo: queries.Photo
    in_trash: bool
    width: int | None = None  # the upright image, as analysed
    height: int | None = None
    unavailable: str | None = None  # why the picture cannot be shown
    ocr_done: bool = False
    lines: list[TextLine] = field(default_factory=list)
    faces_done: bool = False
    faces: list[FaceBox] = field(default_factory=list)
    jobs: list[queries.Job] = field(default_factory=list)
    tags: list[queries.Tag] = field(default_factory=list)  # photos: 1, this one
    description: dict[str, str | None] = field(default_factory=dict)  # by language
    similar: queries.Results = field(default_factory=lambda: queries.Results([]))

    @property
    def text(self) -> str:
        return "\n".join(line.text for line in self.lines)

    def job(self, task: str) -> queries.Job:
        return next(j for j in self.jobs if j.task == task)


async def photo_view(web, asset_id: str) -> PhotoView | None:
    async with web.db.reader() as conn:
        detail = await queries.photo(conn, asset_id)
        if detail is None:
            return None
        in_trash = detail["deleted_at"] is not None
        similar = queries.Results([])
        if detail.get("clip") and not in_trash:
            similar = await queries.similar(conn, asset_id)
    photo = queries.Photo(asset_id, detail["path"], None, detail["checksum"])
    photo.taken_at = _timestamp(detail["taken_at"])
    view = PhotoView(photo, in_trash, similar=similar)
    try:
        # made now, in a worker thread, the first time the photo is opened
        cached = await run_in_threadpool(
            web.thumbnails.get, asset_id, photo.path, photo.checksum, "preview"
        )
        view.width, view.height = cached.width, cached.height
    except PhotoUnavailable as e:
        view.unavailable = e.detail
    view.jobs = queries.jobs_of(detail)
    view.tags = [queries.Tag(t["name"], t["name_en"], 1) for t in detail.get("tags") or []]
    view.description = {"zh": detail.get("description"), "en": detail.get("description_en")}
    if detail.get("ocr"):
        view.ocr_done = True
        view.lines = [_text_line(line, view.width, view.height) for line in detail["ocr"]["lines"]]
    if detail.get("faces"):
        view.faces_done = True
        if view.width and view.height:
            view.faces = [
                _face_box(i + 1, face, view.width, view.height)
                for i, face in enumerate(detail["faces"]["faces"])
            ]
    return view


def _timestamp(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def _text_line(line: dict, width: int | None, height: int | None) -> TextLine:
    corners = line.get("box_normalized")
    if corners is None and line.get("box") and width and height:
        corners = [[x / width, y / height] for x, y in line["box"]]
    points = " ".join(f"{x:.4f},{y:.4f}" for x, y in corners) if corners else None
    return TextLine(line.get("text", ""), points)


def _face_box(number: int, face: dict, width: int, height: int) -> FaceBox:
    x1, y1, x2, y2 = face["box"]
    return FaceBox(
        number,
        x1 / width,
        y1 / height,
        (x2 - x1) / width,
        (y2 - y1) / height,
        float(face["score"]),
    )
