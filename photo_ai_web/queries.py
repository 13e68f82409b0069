"""What the pages ask the database, and the shapes they get back. A search is the CLI's own
query (photo_ai_cli.search: its statement, parameters and rows, run here on an asyncio
connection); everything else goes through photo_ai's functions for readers
(sql/functions/060_search_page.sql) and for admins (ai_reprocess, retry_failed)."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from time import monotonic
from typing import Any

import psycopg
from markupsafe import Markup, escape
from psycopg import AsyncConnection
from psycopg.rows import dict_row

from photo_ai_cli import search as cli_search

# hybrid_search fuses at most 1000 per arm: a page never scrolls further than that
MAX_RESULTS = 1000
SIMILAR_STRIP = 12
FAILED_SHOWN = 200
MATCH_MARKS = re.compile(r"[«»]")
SEMANTIC_OFF_NOTICE = re.compile(r"semantic arm of this search is off: (.*)", re.S)
TASKS = ("ocr", "clip", "faces")
TASK_STATES = ("done", "queued", "running", "failed")
CACHE_S = 60


@dataclass
class Filters:
    """What narrows a search or the timeline besides its words. person: and tag: are not
    here: they are part of the query language (hybrid_search reads them from the query)."""

    owner_id: str | None = None
    taken_after: date | None = None
    taken_before: date | None = None

    def arguments(self) -> dict[str, Any]:
        """hybrid_search's and recent_assets' arguments; dates cover whole days."""
        after = datetime.combine(self.taken_after, time.min) if self.taken_after else None
        before = None
        if self.taken_before:
            before = datetime.combine(self.taken_before + timedelta(days=1), time.min)
            before -= timedelta(microseconds=1)
        return {"owner_id": self.owner_id, "taken_after": after, "taken_before": before}

    def active(self) -> bool:
        return any((self.owner_id, self.taken_after, self.taken_before))


@dataclass
class Photo:
    """A photo in a grid, with why it is there when it is a hit."""

    asset_id: str
    path: str
    taken_at: datetime | None = None
    checksum: str | None = None
    score: float | None = None
    text_rank: int | None = None
    semantic_rank: int | None = None
    snippet: str = ""
    similarity: float | None = None

    @property
    def name(self) -> str:
        return file_name(self.path)

    @property
    def version(self) -> str:
        """Part of its thumbnail's URL: a changed photo gets a new URL."""
        return (self.checksum or "")[:16]

    @property
    def snippet_html(self) -> Markup:
        """The snippet with its match in <mark> (hybrid_search marks it «like this»); every
        piece of text escaped."""
        return Markup("").join(
            Markup("<mark>%s</mark>") % piece if i % 2 else escape(piece)
            for i, piece in enumerate(MATCH_MARKS.split(self.snippet))
            if piece
        )


@dataclass
class Results:
    photos: list[Photo]
    has_more: bool = False
    semantic_off: str | None = None  # why the semantic arm was off, when it was asked
    error: str | None = None


def file_name(path: str) -> str:
    """The last part of a POSIX path (what PurePath.name gives, for a fraction of the cost:
    a grid names sixty photos)."""
    return path.rsplit("/", 1)[-1]


def _photo(row: dict) -> Photo:
    return Photo(**{k: v for k, v in row.items() if k in Photo.__dataclass_fields__})


async def _rows(conn: AsyncConnection, sql: str, parameters) -> list[dict]:
    cursor = conn.cursor(row_factory=dict_row)
    await cursor.execute(sql, parameters)
    return await cursor.fetchall()


async def _value(conn: AsyncConnection, sql: str, parameters=None):
    cursor = await conn.execute(sql, parameters)
    return (await cursor.fetchone())[0]


def _semantic_off(hits: list[cli_search.Hit], notices: list[str]) -> str | None:
    for hit in hits:
        if hit.semantic_arm and hit.semantic_arm.startswith("off: "):
            return hit.semantic_arm[5:]
    for notice in notices:
        if match := SEMANTIC_OFF_NOTICE.search(notice):
            return match.group(1)
    return None


async def search(
    conn: AsyncConnection, query: str, filters: Filters, offset: int, page_size: int
) -> Results:
    """One page of hybrid_search's hits, from `offset` (hybrid_search has no offset: it is
    asked for everything up to the page's end)."""
    wanted = min(offset + page_size + 1, MAX_RESULTS)
    notices = cli_search.Notices()
    conn.add_notice_handler(notices)
    try:
        cursor = await conn.execute(
            cli_search.SEARCH_SQL,
            cli_search.search_parameters(query, wanted, **filters.arguments()),
        )
        hits = cli_search.hits_from_rows(await cursor.fetchall())
    except psycopg.Error as e:
        return Results([], error=e.diag.message_primary or str(e).strip())
    finally:
        conn.remove_notice_handler(notices)
    photos = [
        Photo(
            h.asset_id,
            h.path,
            h.taken_at,
            h.checksum,
            h.score,
            h.text_rank,
            h.semantic_rank,
            h.snippet,
        )
        for h in hits[offset : offset + page_size]
    ]
    return Results(
        photos,
        has_more=len(hits) > offset + page_size,
        semantic_off=_semantic_off(hits, notices.messages),
    )


async def recent(conn: AsyncConnection, filters: Filters, offset: int, page_size: int) -> Results:
    rows = await _rows(
        conn,
        "SELECT asset_id::text, path, taken_at, checksum "
        "FROM photo_ai.asset_cards(photo_ai.recent_assets("
        "max_results => %(n)s, skip => %(offset)s, owner_id => %(owner_id)s, "
        "taken_after => %(taken_after)s, taken_before => %(taken_before)s))",
        {"n": page_size + 1, "offset": offset, **filters.arguments()},
    )
    return Results([_photo(r) for r in rows[:page_size]], has_more=len(rows) > page_size)


async def _nearest(conn: AsyncConnection, function: str, argument: Any, limit: int) -> Results:
    """similar_assets or search_by_image, with each photo; their errors (no embedding yet,
    no CLIP model, an unreadable upload) become the result's error."""
    try:
        rows = await _rows(
            conn,
            f"WITH s AS MATERIALIZED (SELECT * FROM {function}(%s, %s)) "
            "SELECT s.asset_id::text, s.similarity, c.path, c.taken_at, c.checksum "
            "FROM s JOIN photo_ai.asset_cards(ARRAY(SELECT asset_id FROM s)) c "
            "     ON c.asset_id = s.asset_id "
            "ORDER BY s.similarity DESC, s.asset_id",
            [argument, limit],
        )
    except psycopg.Error as e:
        return Results([], error=e.diag.message_primary or str(e).strip())
    return Results([_photo(r) for r in rows])


async def similar(conn: AsyncConnection, asset_id: str, limit: int = SIMILAR_STRIP) -> Results:
    return await _nearest(conn, "similar_assets", asset_id, limit)


async def by_image(conn: AsyncConnection, image: bytes, limit: int) -> Results:
    return await _nearest(conn, "search_by_image", image, limit)


async def photo(conn: AsyncConnection, asset_id: str) -> dict | None:
    """Everything photo_ai knows of one photo (photo_ai.asset_detail), None when unknown."""
    return await _value(conn, "SELECT photo_ai.asset_detail(%s)", [asset_id])


@dataclass
class Job:
    """One task of a photo: its state (None: never queued) and why it last failed."""

    task: str
    state: str | None
    attempts: int = 0
    last_error: str | None = None


def jobs_of(detail: dict, tasks: list[str] | None = None) -> list[Job]:
    """The jobs of asset_detail's photo: the given tasks, or the image tasks and any other."""
    if tasks is None:
        tasks = list(TASKS) + [t for t in detail["jobs"] if t not in TASKS]
    jobs = []
    for task in tasks:
        job = detail["jobs"].get(task) or {}
        jobs.append(Job(task, job.get("state"), job.get("attempts", 0), job.get("last_error")))
    return jobs


async def photo_card(conn: AsyncConnection, asset_id: str) -> Photo | None:
    rows = await _rows(
        conn,
        "SELECT asset_id::text, path, taken_at, checksum FROM photo_ai.asset_cards(%s)",
        [[asset_id]],
    )
    return _photo(rows[0]) if rows else None


@dataclass
class Owner:
    owner_id: str | None
    name: str | None
    photos: int


async def owners(conn: AsyncConnection) -> list[Owner]:
    rows = await _rows(
        conn, "SELECT owner_id::text, name, photos FROM photo_ai.asset_owners()", None
    )
    return [Owner(**r) for r in rows]


@dataclass
class Tag:
    name: str
    name_en: str
    photos: int


async def popular_tags(conn: AsyncConnection) -> list[Tag]:
    """The tags on most photos: the search page offers them as filters."""
    rows = await _rows(conn, "SELECT name, name_en, photos FROM photo_ai.popular_tags()", None)
    return [Tag(**r) for r in rows]


class Cached:
    """A library-wide answer (its owners, its popular tags), asked again at most once a
    minute: counting a large library's photos is not worth doing for every search."""

    def __init__(self, fetch: Callable[[AsyncConnection], Awaitable], seconds: float = CACHE_S):
        self.fetch = fetch
        self.seconds = seconds
        self._value: Any = []
        self._expires = 0.0

    async def get(self, conn: AsyncConnection):
        if monotonic() >= self._expires:
            self._value = await self.fetch(conn)
            self._expires = monotonic() + self.seconds
        return self._value


# --------------------------------------------------------------------------- status


@dataclass
class TaskProgress:
    task: str
    counts: dict[str, int] = field(default_factory=dict)
    model_available: bool = True
    model_detail: str | None = None
    problem: str | None = None  # why its queued jobs wait (photo_ai.status.problem)

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def as_json(self) -> dict:
        return {
            "task": self.task,
            "counts": {s: self.counts.get(s, 0) for s in TASK_STATES},
            "total": self.total,
            "model_available": self.model_available,
        }


@dataclass
class Failure:
    """A photo whose jobs failed for good: which tasks, why, when."""

    asset_id: str
    path: str | None
    failed_at: datetime | None
    tasks: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # each reason once
    attempts: int = 0

    @property
    def name(self) -> str:
        return file_name(self.path) if self.path else self.asset_id


def _failures(rows: list[dict]) -> list[Failure]:
    """failed_jobs (one row per job, newest first) as one entry per photo."""
    photos: dict[str, Failure] = {}
    for row in rows:
        photo = photos.setdefault(
            row["asset_id"], Failure(row["asset_id"], row["path"], row["failed_at"])
        )
        photo.tasks.append(row["task"])
        photo.attempts = max(photo.attempts, row["attempts"])
        if row["last_error"] and row["last_error"] not in photo.errors:
            photo.errors.append(row["last_error"])
    return list(photos.values())


@dataclass
class Status:
    tasks: list[TaskProgress]
    failures: list[Failure]
    sidecar_error: str | None  # what holds the work at the sidecar: no answer, a key, a URL
    sidecar: dict  # photo_ai.sidecar_health()

    @property
    def busy(self) -> bool:
        return any(t.counts.get("queued") or t.counts.get("running") for t in self.tasks)

    def as_json(self) -> dict:
        return {
            "tasks": [t.as_json() for t in self.tasks],
            "busy": self.busy,
            "failed": sum(t.counts.get("failed", 0) for t in self.tasks),
            "sidecar": {"reachable": bool(self.sidecar.get("reachable"))},
        }


async def status(conn: AsyncConnection, with_failures: bool = True) -> Status:
    tasks: dict[str, TaskProgress] = {}
    sidecar_error = None
    for row in await _rows(conn, "SELECT * FROM photo_ai.status", None):
        progress = tasks.setdefault(str(row["task"]), TaskProgress(str(row["task"])))
        progress.counts[str(row["state"])] = row["jobs"]
        progress.model_available = row["model_available"]
        progress.model_detail = row["model_detail"]
        progress.problem = row.get("problem") or progress.problem
        sidecar_error = row["sidecar_error"] or sidecar_error
    failures = []
    if with_failures:
        rows = await _rows(
            conn,
            "SELECT asset_id::text, task::text, attempts, last_error, path, failed_at "
            "FROM photo_ai.failed_jobs LIMIT %s",
            [FAILED_SHOWN],
        )
        failures = _failures(rows)
    health = await _value(conn, "SELECT photo_ai.sidecar_health()")
    return Status(list(tasks.values()), failures, sidecar_error, health)


# --------------------------------------------------------------------------- admin actions


async def reprocess(admin: AsyncConnection, asset_id: str, tasks: list[str] | None = None) -> None:
    """ai_reprocess(immediate => true): the photo is analysed now, ahead of the queue."""
    await admin.execute(
        "SELECT ai_reprocess(%s, tasks => %s, immediate => true)", [asset_id, tasks]
    )


async def retry_all(admin: AsyncConnection) -> int:
    """Every failed job queued again (a worker picks them up)."""
    return await _value(admin, "SELECT photo_ai.retry_failed()")


# --------------------------------------------------------------------------- people


@dataclass
class Person:
    """A person of the People view, with the face that stands for it."""

    person_id: str
    name: str
    faces: int
    hidden: bool = False
    cover_asset_id: str | None = None
    cover_box: list[float] | None = None
    cover_image_width: int | None = None
    cover_image_height: int | None = None

    def face_square(self) -> tuple[float, float, float, float] | None:
        """The square the People view cuts from the cover photo, as fractions of its width
        and height (left, top, right, bottom): the face's box and a margin, kept inside the
        photo. Boxes are pixels of the analysed image; fractions hold for any size of it."""
        width, height, box = self.cover_image_width, self.cover_image_height, self.cover_box
        if not (width and height and box):
            return None
        side = min(1.6 * max(box[2] - box[0], box[3] - box[1]), width, height)
        left = min(max((box[0] + box[2] - side) / 2, 0), width - side)
        top = min(max((box[1] + box[3] - side) / 2, 0), height - side)
        return left / width, top / height, (left + side) / width, (top + side) / height


async def persons(conn: AsyncConnection, person_id: str | None = None) -> list[Person]:
    """The people list (hidden persons left out), or the one person of that id."""
    rows = await _rows(
        conn,
        "SELECT person_id::text, name, faces, hidden, cover_asset_id::text, cover_box, "
        "cover_image_width, cover_image_height FROM photo_ai.persons(of_person => %s)",
        [person_id],
    )
    return [Person(**row) for row in rows]


async def person(conn: AsyncConnection, person_id: str) -> Person | None:
    """One person (each round face on the People view asks: not the whole list)."""
    found = await persons(conn, person_id)
    return found[0] if found else None


async def person_photos(
    conn: AsyncConnection, person_id: str, offset: int, page_size: int
) -> Results:
    """One page of a person's photos, newest first (one more asked, to know of a next)."""
    rows = await _rows(
        conn,
        "SELECT c.asset_id::text, c.path, c.taken_at, c.checksum "
        "FROM photo_ai.asset_cards(array(SELECT asset_id FROM "
        "photo_ai.person_photos(%s, %s, %s))) c",
        [person_id, page_size + 1, offset],
    )
    photos = [_photo(r) for r in rows]
    return Results(photos[:page_size], has_more=len(photos) > page_size)


async def name_person(admin: AsyncConnection, person_id: str, name: str) -> None:
    await admin.execute("SELECT photo_ai.name_person(%s, %s)", [person_id, name])


async def merge_persons(admin: AsyncConnection, keep: str, merge: str) -> None:
    await admin.execute("SELECT photo_ai.merge_persons(keep => %s, merge => %s)", [keep, merge])
