"""The page's connections: an asyncio pool whose connections act as photo_ai_reader, and admin
work in a transaction that takes photo_ai_admin for itself (SET LOCAL ROLE). The login in
PHOTO_AI_DSN decides what the page may do: a login that is a member of photo_ai_admin gets the
admin buttons (retry, analyse again); one that is only a reader gets a search-only page.

Asynchronous, so that a search runs on the event loop from request to response: no hand-over
to a worker thread and back (measured by bench/search_page.py, each costs more than the
page's own Python does under load)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import psycopg
from psycopg_pool import AsyncConnectionPool, PoolTimeout

from photo_ai_cli.db import DatabaseUnavailable

READER_ROLE = "photo_ai_reader"
ADMIN_ROLE = "photo_ai_admin"
CONNECT_TIMEOUT_S = 10
# A function of the search page's SQL (sql/functions/060_search_page.sql): present means the
# installed photo_ai is recent enough for the page.
PAGE_FUNCTION = "photo_ai.asset_cards(uuid[])"


class NotAllowed(PermissionError):
    """An admin action asked of a page whose database login is not an admin."""


async def _act_as_reader(conn: psycopg.AsyncConnection) -> None:
    await conn.execute(f"SET ROLE {READER_ROLE}")


class Database:
    def __init__(self, dsn: str, max_connections: int = 8):
        self.dsn = dsn
        self.max_connections = max_connections
        self.pool: AsyncConnectionPool | None = None
        self.can_admin = False

    def check(self) -> None:
        """The login may search and photo_ai is recent enough, or DatabaseUnavailable saying
        what to do; notes whether the login is an admin."""
        try:
            conn = psycopg.connect(self.dsn, autocommit=True, connect_timeout=CONNECT_TIMEOUT_S)
        except psycopg.OperationalError as e:
            raise DatabaseUnavailable(
                f"cannot connect to PostgreSQL ({self.dsn}): {str(e).strip()}\n"
                "Start the project's cluster with `make db-start` (or run `make demo`)."
            ) from e
        with conn:
            member, admin, installed = conn.execute(
                "SELECT pg_has_role(session_user, %s, 'MEMBER'), "
                "       pg_has_role(session_user, %s, 'MEMBER'), "
                "       to_regprocedure(%s) IS NOT NULL",
                [READER_ROLE, ADMIN_ROLE, PAGE_FUNCTION],
            ).fetchone()
            login = conn.info.user
        if not member:
            raise DatabaseUnavailable(
                f"the database login {login} may not search: GRANT {READER_ROLE} TO {login};"
            )
        if not installed:
            raise DatabaseUnavailable(
                "photo_ai in this database predates the search page: run `make install`, then "
                "ALTER EXTENSION photo_ai UPDATE (or `make demo`)"
            )
        self.can_admin = admin

    async def open(self) -> None:
        """Checks the login, then fills the pool (made here: it belongs to this event loop)."""
        self.check()
        self.pool = AsyncConnectionPool(
            self.dsn,
            min_size=1,
            max_size=self.max_connections,
            kwargs={"autocommit": True, "connect_timeout": CONNECT_TIMEOUT_S},
            configure=_act_as_reader,
            open=False,
            name="photo_ai_web",
        )
        await self.pool.open()
        try:
            await self.pool.wait(timeout=CONNECT_TIMEOUT_S)
        except PoolTimeout as e:
            await self.pool.close()
            raise DatabaseUnavailable(f"cannot connect to PostgreSQL ({self.dsn})") from e

    async def close(self) -> None:
        if self.pool is not None:
            await self.pool.close()

    @asynccontextmanager
    async def reader(self) -> AsyncIterator[psycopg.AsyncConnection]:
        async with self.pool.connection() as conn:
            yield conn

    @asynccontextmanager
    async def admin(self) -> AsyncIterator[psycopg.AsyncConnection]:
        """A transaction run as photo_ai_admin, on a connection of its own (an admin action
        may analyse a photo for seconds: the searches' pool is not held meanwhile, and the
        sidecar is reached with the worker's timeout, not the searches' shorter one that a
        pooled backend's kept-alive sidecar connection carries). NotAllowed when the login is
        no admin."""
        if not self.can_admin:
            raise NotAllowed(f"the database login is not a member of {ADMIN_ROLE}")
        async with await psycopg.AsyncConnection.connect(
            self.dsn, autocommit=True, connect_timeout=CONNECT_TIMEOUT_S
        ) as conn:
            async with conn.transaction():
                await conn.execute(f"SET LOCAL ROLE {ADMIN_ROLE}")
                yield conn
