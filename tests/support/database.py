"""The embedded cluster and databases cloned from a template that has photo_ai installed
(procrastinate's way: one install, cheap copies)."""

from __future__ import annotations

import os
import subprocess
import uuid
from collections.abc import Iterator

import psycopg
import pytest

from photo_ai_cli.local import dsn
from tests.support import ROOT

# One template per test session, so that sessions running side by side never share one.
TEMPLATE_DB = f"photo_ai_test_template_{os.getpid()}"


def superuser(dbname: str = "postgres") -> psycopg.Connection:
    return psycopg.connect(dsn(dbname), autocommit=True)


def drop_database(name: str) -> None:
    with superuser() as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def template(setup_sql: str, name: str) -> Iterator[str]:
    """A template database made afresh by setup_sql, for a session fixture to yield from;
    dropped when the session ends."""
    drop_database(name)
    with superuser() as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    with superuser(name) as conn:
        conn.execute(setup_sql)
    yield name
    drop_database(name)


@pytest.fixture(scope="session")
def cluster() -> str:
    subprocess.run([ROOT / "scripts" / "db.sh", "start"], check=True, capture_output=True)
    return dsn("postgres")


@pytest.fixture(scope="session")
def template_database(cluster: str) -> Iterator[str]:
    """Rebuilt once per test session, so it always carries the extension as built now."""
    yield from template("CREATE EXTENSION photo_ai CASCADE", TEMPLATE_DB)


@pytest.fixture
def make_database(cluster: str) -> Iterator:
    """Creates empty databases (template0) for tests that install photo_ai themselves."""
    created: list[str] = []

    def create(template: str = "template0") -> str:
        name = f"photo_ai_test_{uuid.uuid4().hex[:12]}"
        with superuser() as conn:
            conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
        created.append(name)
        return name

    yield create
    for name in created:
        drop_database(name)


@pytest.fixture
def database(template_database: str, make_database) -> str:
    """A fresh database with photo_ai installed, private to one test."""
    return make_database(template_database)


@pytest.fixture
def conn(database: str) -> Iterator[psycopg.Connection]:
    with superuser(database) as connection:
        yield connection


@pytest.fixture(scope="session")
def test_roles(cluster: str) -> dict[str, str]:
    """Login-less roles a superuser connection can SET ROLE to, one per kind of user."""
    roles = {
        "reader": "photo_ai_test_reader",
        "admin": "photo_ai_test_admin",
        "outsider": "photo_ai_test_outsider",
    }
    with superuser() as c:
        # The extension's roles are cluster-wide; make sure they exist before granting.
        for role in ("photo_ai_reader", "photo_ai_admin", *roles.values()):
            c.execute(
                "DO $$ BEGIN CREATE ROLE " + role + " NOLOGIN; "
                "EXCEPTION WHEN duplicate_object THEN NULL; END $$"
            )
        c.execute(f"GRANT photo_ai_reader TO {roles['reader']}")
        c.execute(f"GRANT photo_ai_admin TO {roles['admin']}")
    return roles
