"""The pictures: `/thumb/<id>` for grids, `/preview/<id>` for a photo's page, JPEGs from
the thumbnail cache, and `/people/<id>/face`, a person's face cut from its preview. Only an
id is ever taken, never a path: the database says which file it is, and the cache reads it
only under the library roots."""

from __future__ import annotations

import io

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import PlainTextResponse, Response
from PIL import Image

from photo_ai_web import queries
from photo_ai_web.pages import parse_uuid
from photo_ai_web.thumbnails import PhotoUnavailable

router = APIRouter()

# A URL carrying the photo's current version (?v=, from its checksum) never changes content.
FOREVER = "private, max-age=31536000, immutable"
REVALIDATE = "private, no-cache"


@router.get("/thumb/{asset_id}")
async def thumbnail(request: Request, asset_id: str, v: str = "") -> Response:
    return await picture(request, asset_id, "thumb", v)


@router.get("/preview/{asset_id}")
async def preview(request: Request, asset_id: str, v: str = "") -> Response:
    return await picture(request, asset_id, "preview", v)


async def picture(
    request: Request, asset_id: str, size: str, version: str, square: Square | None = None
) -> Response:
    """A photo's JPEG of a size from the cache; with a square (fractions of the photo), that
    part of it cut out, FACE_PIXELS wide."""
    web = request.app.state.web
    valid = parse_uuid(asset_id)
    if valid is None:
        return PlainTextResponse("not a photo id", 400)
    async with web.db.reader() as conn:
        photo = await queries.photo_card(conn, valid)
    if photo is None:
        return PlainTextResponse("no photo with this id", 404)
    try:
        # the file work in a worker thread (made from the photo the first time); the small
        # JPEG is read whole there, which costs less than streaming it
        if square is None:
            jpeg = await run_in_threadpool(
                web.thumbnails.read, photo.asset_id, photo.path, photo.checksum, size
            )
        else:
            cached = await run_in_threadpool(
                web.thumbnails.get, photo.asset_id, photo.path, photo.checksum, size
            )
            jpeg = await run_in_threadpool(_cut, cached.path, square)
    except PhotoUnavailable as e:
        return PlainTextResponse(e.detail, e.status, headers={"cache-control": "no-store"})
    lasting = version and photo.version and version == photo.version
    return Response(
        jpeg,
        media_type="image/jpeg",
        headers={"cache-control": FOREVER if lasting else REVALIDATE},
    )


FACE_PIXELS = 160
Square = tuple[float, float, float, float]


@router.get("/people/{person_id}/face")
async def person_face(request: Request, person_id: str) -> Response:
    """The person's cover face, cut from its photo's preview."""
    person = None
    if parse_uuid(person_id):
        async with request.app.state.web.db.reader() as conn:
            person = await queries.person(conn, person_id)
    square = person.face_square() if person else None
    if square is None:
        return PlainTextResponse("no face for this person", 404)
    return await picture(request, person.cover_asset_id, "preview", "", square)


def _cut(preview, square: Square) -> bytes:
    """The square (fractions of the photo) cut from the preview, FACE_PIXELS wide."""
    with Image.open(preview) as image:
        width, height = image.size
        box = tuple(round(f * n) for f, n in zip(square, (width, height) * 2, strict=True))
        face = image.crop(box).resize((FACE_PIXELS, FACE_PIXELS), Image.Resampling.LANCZOS)
    buffer = io.BytesIO()
    face.save(buffer, "JPEG", quality=85)
    return buffer.getvalue()
