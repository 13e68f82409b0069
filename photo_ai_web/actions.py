"""What a form sends: search by image, and the admin actions (analyse a photo again, retry a
failed one, retry all), signing in and out. Every POST carries the CSRF token; each answers
with a redirect to a page that shows the outcome (so reloading it repeats nothing)."""

from __future__ import annotations

import asyncio
import base64
import io
from typing import Annotated
from urllib.parse import quote, urlencode

import psycopg
from fastapi import APIRouter, Depends, Form, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse, Response
from starlette.datastructures import FormData, UploadFile
from starlette.exceptions import HTTPException

from inference_sidecar.errors import SidecarError
from inference_sidecar.images import decode_image
from photo_ai_web import queries
from photo_ai_web.i18n import translator
from photo_ai_web.pages import DEFAULT_CLIP_MODEL, safe_next
from photo_ai_web.rendering import error_page, render
from photo_ai_web.security import CSRF_FIELD, SESSION_COOKIE, SESSION_DAYS

router = APIRouter()

WRONG_PASSWORD_DELAY_S = 1.0
UPLOAD_PREVIEW_PIXELS = 240
FORM_FIELDS_BYTES = 65536  # what a form may hold beside its upload


class CsrfRefused(Exception):
    pass


async def checked_form(request: Request) -> FormData:
    """The posted form, once its size, CSRF token and origin are checked (a body larger than
    an upload may be, or of no stated size, is never read)."""
    web = request.app.state.web
    length = request.headers.get("content-length", "")
    if not length.isdigit():
        raise HTTPException(411, "a form must say its length (Content-Length)")
    if int(length) > web.settings.max_upload_bytes + FORM_FIELDS_BYTES:
        raise HTTPException(413, _too_large(request))
    form = await request.form()
    sent = form.get(CSRF_FIELD)
    if not web.guard.csrf_valid(request, sent if isinstance(sent, str) else None):
        raise CsrfRefused
    return form


CheckedForm = Annotated[FormData, Depends(checked_form)]


def see(url: str) -> RedirectResponse:
    return RedirectResponse(url, 303)


@router.post("/search/image")
async def search_by_image(request: Request, form: CheckedForm):
    web = request.app.state.web
    upload, data = form.get("image"), b""
    if isinstance(upload, UploadFile):  # not a text field of that name
        data = await upload.read(web.settings.max_upload_bytes + 1)
        await upload.close()
    t_error = "error.image_search"
    if not data:
        return error_page(request, 400, t_error, _t(request, "error.upload_empty"))
    if len(data) > web.settings.max_upload_bytes:
        return error_page(request, 413, t_error, _too_large(request))
    preview = await run_in_threadpool(_preview_data_url, data, web.settings.max_image_pixels)
    async with web.db.reader() as conn:
        results = await queries.by_image(conn, data, web.settings.page_size)
        owners = await web.owners.get(conn)
    return render(
        request,
        "search.html",
        mode="image",
        upload_preview=preview,
        filters=queries.Filters(),
        filter_values={},
        owners=owners,
        library_size=sum(o.photos for o in owners),
        results=results,
        next_url=None,
        clip_model=DEFAULT_CLIP_MODEL,
    )


def _preview_data_url(data: bytes, max_pixels: int) -> str | None:
    """The uploaded picture, small, to show beside its results (it is not kept anywhere)."""
    try:
        picture = decode_image(data, max_pixels)
    except SidecarError:
        return None
    picture.thumbnail((UPLOAD_PREVIEW_PIXELS, UPLOAD_PREVIEW_PIXELS))
    buffer = io.BytesIO()
    picture.save(buffer, "JPEG", quality=80)
    return "data:image/jpeg;base64," + base64.b64encode(buffer.getvalue()).decode()


@router.post("/asset/{asset_id}/reprocess")
async def analyse_again(request: Request, asset_id: str, form: CheckedForm) -> Response:
    web = request.app.state.web
    try:
        async with web.db.admin() as admin:
            await queries.reprocess(admin, asset_id)
    except psycopg.errors.NoDataFound:
        return error_page(request, 404, "error.not_found")
    except (psycopg.errors.InvalidTextRepresentation, psycopg.errors.RaiseException) as e:
        return error_page(request, 400, "error.page", e.diag.message_primary or "")
    return see(f"/asset/{quote(asset_id)}?analysed=1")


@router.post("/people/{person_id}/name")
async def name_person(
    request: Request,
    person_id: str,
    form: CheckedForm,
    name: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "",
) -> Response:
    """Names a person (an empty name takes it away), then back where the form was."""
    return await _people_action(
        request,
        lambda admin: queries.name_person(admin, person_id, name[:200]),
        safe_next(next) if next else f"/people/{quote(person_id)}",
    )


@router.post("/people/{person_id}/merge")
async def merge_person(
    request: Request, person_id: str, form: CheckedForm, into: Annotated[str, Form()]
) -> Response:
    """Every face of this person goes to `into`, which keeps its name (or takes this one's)."""
    return await _people_action(
        request,
        lambda admin: queries.merge_persons(admin, into, person_id),
        f"/people/{quote(into)}",
    )


async def _people_action(request: Request, action, then: str) -> Response:
    try:
        async with request.app.state.web.db.admin() as admin:
            await action(admin)
    except psycopg.errors.NoDataFound:
        return error_page(request, 404, "error.not_found")
    except (psycopg.errors.InvalidTextRepresentation, psycopg.errors.RaiseException) as e:
        return error_page(request, 400, "error.page", e.diag.message_primary or "")
    return see(then)


@router.post("/status/retry")
async def retry(
    request: Request,
    form: CheckedForm,
    asset_id: Annotated[str, Form()],
    tasks: Annotated[str, Form()],
) -> Response:
    """A failed photo's failed tasks, run again now (ai_reprocess(immediate => true))."""
    web = request.app.state.web
    wanted = [t for t in tasks.split(",") if t]  # the database refuses unknown ones
    if not wanted:
        return error_page(request, 400, "error.page", "no task to retry")
    try:
        async with web.db.admin() as admin:
            await queries.reprocess(admin, asset_id, wanted)
    except psycopg.errors.NoDataFound:
        return error_page(request, 404, "error.not_found")
    except (psycopg.errors.InvalidTextRepresentation, psycopg.errors.RaiseException) as e:
        return error_page(request, 400, "error.page", e.diag.message_primary or "")
    return see("/status?" + urlencode({"retried": asset_id, "tasks": ",".join(wanted)}))


@router.post("/status/retry-all")
async def retry_all(request: Request, form: CheckedForm) -> Response:
    web = request.app.state.web
    async with web.db.admin() as admin:
        count = await queries.retry_all(admin)
    return see(f"/status?requeued={count}")


@router.post("/login")
async def sign_in(request: Request, form: CheckedForm) -> Response:
    web = request.app.state.web
    target = safe_next(str(form.get("next") or "/"))
    if not web.guard.password_matches(str(form.get("password") or "")):
        await asyncio.sleep(WRONG_PASSWORD_DELAY_S)  # guessing costs time
        return see("/login?" + urlencode({"next": target, "wrong": "1"}))
    response = see(target)
    response.set_cookie(
        SESSION_COOKIE,
        web.guard.new_session(),
        max_age=SESSION_DAYS * 86400,
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
        path="/",
    )
    return response


@router.post("/logout")
async def sign_out(request: Request, form: CheckedForm) -> Response:
    response = see("/login")
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


def _too_large(request: Request) -> str:
    megabytes = request.app.state.web.settings.max_upload_bytes / 1_000_000
    return _t(request, "error.upload_too_large", limit=f"{megabytes:.3g}")


def _t(request: Request, key: str, **fields) -> str:
    return translator(request.state.lang)(key, **fields)
