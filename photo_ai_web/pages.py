"""The pages: search and the timeline (`/`), more results as you scroll (`/results`), one
photo (`/asset/<id>`), people (`/people`, `/people/<id>`), the work in progress (`/status`,
`/status.json`), sign-in and the language switch."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse, PlainTextResponse, RedirectResponse, Response

from photo_ai_cli.search import CLIP_DOWNLOAD, CLIP_FILE_NAMES
from photo_ai_web import i18n, queries
from photo_ai_web.photo_view import photo_view
from photo_ai_web.rendering import error_page, render

router = APIRouter()

DEFAULT_CLIP_MODEL = "ViT-B-16"
MAX_QUERY = 500  # characters; hybrid_search cuts a query there
PERSON_PAGE = 96  # a person's photos per page


@dataclass
class SearchForm:
    """What the search box and the filters send (`/?q=...&after=...&before=...&owner=...`).
    What does not parse is left out: a page, never an error."""

    q: str = ""
    after: str | None = None
    before: str | None = None
    owner: str | None = None

    def __post_init__(self) -> None:
        self.q = self.q[:MAX_QUERY]  # hybrid_search reads no more

    @property
    def mode(self) -> str:
        return "search" if self.q.strip() else "recent"

    def filters(self) -> queries.Filters:
        return queries.Filters(parse_uuid(self.owner), _day(self.after), _day(self.before))

    def values(self) -> dict[str, str]:
        return {"after": self.after or "", "before": self.before or "", "owner": self.owner or ""}

    async def results(self, conn, size: int, offset: int) -> queries.Results:
        if self.mode == "search":
            return await queries.search(conn, self.q, self.filters(), offset, size)
        return await queries.recent(conn, self.filters(), offset, size)

    def more_url(self, offset: int) -> str:
        """Where the grid's next cards are (`/results`)."""
        params = {"q": self.q, **self.values(), "offset": offset}
        return "/results?" + urlencode({k: v for k, v in params.items() if v not in (None, "")})


def _day(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


def parse_uuid(value: str | None) -> str | None:
    try:
        return str(uuid.UUID(value)) if value else None
    except ValueError:
        return None


async def search_form(
    q: str = "", after: str | None = None, before: str | None = None, owner: str | None = None
) -> SearchForm:
    """The form from the query string (async: FastAPI runs a plain function in a thread)."""
    return SearchForm(q, after, before, owner)


Form = Annotated[SearchForm, Depends(search_form)]


@router.get("/")
async def search_page(request: Request, form: Form):
    web = request.app.state.web
    size = web.settings.page_size
    async with web.db.reader() as conn:
        results = await form.results(conn, size, 0)
        owners = await web.owners.get(conn)
        tags = await web.popular_tags.get(conn)
    return render(
        request,
        "search.html",
        tags=[t for t in tags if f"tag:{t.name}" not in form.q],
        q=form.q,
        mode=form.mode,
        filters=form.filters(),
        filter_values=form.values(),
        owners=owners,
        library_size=sum(o.photos for o in owners),
        results=results,
        next_url=form.more_url(size) if results.has_more else None,
        clip_file=CLIP_FILE_NAMES[DEFAULT_CLIP_MODEL],
        clip_model=DEFAULT_CLIP_MODEL,
        clip_download=CLIP_DOWNLOAD + CLIP_FILE_NAMES[DEFAULT_CLIP_MODEL],
    )


@router.get("/results")
async def more_results(
    request: Request,
    form: Form,
    offset: Annotated[int, Query(ge=0, le=queries.MAX_RESULTS)] = 0,
):
    """The next cards of a grid, as an HTML fragment the page appends as you scroll."""
    web = request.app.state.web
    size = web.settings.page_size
    async with web.db.reader() as conn:
        results = await form.results(conn, size, offset)
    return render(
        request,
        "results_fragment.html",
        results=results,
        next_url=form.more_url(offset + size) if results.has_more else None,
    )


@router.get("/asset/{asset_id}")
async def asset_page(request: Request, asset_id: str, analysed: str | None = None):
    web = request.app.state.web
    valid = parse_uuid(asset_id)
    if valid is None:
        return error_page(request, 400, "error.bad_id")
    view = await photo_view(web, valid)
    if view is None:
        return error_page(request, 404, "error.not_found")
    return render(request, "asset.html", view=view, analysed=analysed == "1")


@router.get("/people")
async def people_page(request: Request):
    """Everyone the faces were grouped into: a round face each, naming in place."""
    async with request.app.state.web.db.reader() as conn:
        persons = await queries.persons(conn)
    return render(request, "people.html", persons=persons)


@router.get("/people/{person_id}")
async def person_page(request: Request, person_id: str, offset: int = 0):
    """A person's photos, newest first; naming it, merging it into another."""
    valid = parse_uuid(person_id)
    if valid is None:
        return error_page(request, 400, "error.bad_id")
    async with request.app.state.web.db.reader() as conn:
        persons = await queries.persons(conn)
        person = next((p for p in persons if p.person_id == valid), None)
        if person is None:
            return error_page(request, 404, "error.not_found")
        photos = await queries.person_photos(conn, valid, max(offset, 0), PERSON_PAGE)
    others = [p for p in persons if p.person_id != valid]
    next_url = f"/people/{valid}?offset={offset + PERSON_PAGE}" if photos.has_more else None
    return render(
        request, "person.html", person=person, others=others, results=photos, next_url=next_url
    )


@router.get("/status")
async def status_page(
    request: Request,
    retried: str | None = None,
    tasks: str = "",
    requeued: int | None = None,
):
    """Progress, the sidecar, failed photos; after a retry, how that photo's tasks went."""
    web = request.app.state.web
    retried_photo, retried_jobs = None, []
    async with web.db.reader() as conn:
        status = await queries.status(conn)
        if parse_uuid(retried):
            detail = await queries.photo(conn, retried)
            if detail is not None:
                retried_photo = await queries.photo_card(conn, retried)
                retried_jobs = queries.jobs_of(detail, [t for t in tasks.split(",") if t] or None)
    return render(
        request,
        "status.html",
        status=status,
        retried=retried_photo,
        retried_jobs=retried_jobs,
        requeued=requeued,
        clip_download=CLIP_DOWNLOAD + CLIP_FILE_NAMES[DEFAULT_CLIP_MODEL],
    )


@router.get("/status.json")
async def status_json(request: Request) -> JSONResponse:
    web = request.app.state.web
    async with web.db.reader() as conn:
        status = await queries.status(conn, with_failures=False)
    return JSONResponse(status.as_json(), headers={"cache-control": "no-store"})


@router.get("/login")
async def login_page(request: Request, next: str = "/", wrong: str | None = None):
    return render(request, "login.html", next=safe_next(next), wrong=wrong == "1")


@router.get("/lang/{code}")
async def switch_language(code: str, next: str = "/") -> Response:
    response = RedirectResponse(safe_next(next), 303)
    if code in i18n.LANGUAGES:
        response.set_cookie(i18n.COOKIE, code, max_age=365 * 86400, samesite="lax", path="/")
    return response


@router.get("/healthz")
async def healthz() -> PlainTextResponse:
    return PlainTextResponse("ok")


def safe_next(target: str) -> str:
    """Only a path of this site: never another site (//evil, https://evil, \\evil)."""
    if not target.startswith("/") or target.startswith(("//", "/\\")):
        return "/"
    return target
