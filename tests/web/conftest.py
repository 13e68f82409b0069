"""The search page's own fixtures: its library read by its own sidecar (tiny models, real
OCR), a template database where that library is imported and analysed once per session,
pages served from clones of it, a database login that may only read, and Debian's chromium
driven by Playwright."""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from psycopg.conninfo import make_conninfo

from photo_ai_cli import importer
from photo_ai_cli.local import dsn
from tests.support import ROOT
from tests.support.database import drop_database, superuser, template
from tests.support.pipeline import point_at, run_worker
from tests.support.sidecars import Sidecar, start_sidecar
from tests.web.library import ARTIFACTS, Page, make_library, start_page

IMMICH_SCHEMA = ROOT / "tests" / "immich" / "immich_v3_schema.sql"
CHROMIUM = Path("/usr/bin/chromium")  # Debian's package (make setup installs it)
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def web_library() -> Iterator[Path]:
    root = Path(tempfile.mkdtemp(prefix="photo_ai_web_library_"))
    root.chmod(0o755)
    make_library(root)
    yield root
    shutil.rmtree(root)


@pytest.fixture(scope="session")
def immich_root() -> Iterator[Path]:
    """Immich's data folder (its upload location): originals under upload/, previews under
    thumbs/."""
    root = Path(tempfile.mkdtemp(prefix="photo_ai_web_immich_"))
    root.chmod(0o755)
    yield root
    shutil.rmtree(root)


@pytest.fixture(scope="session")
def web_sidecar(tmp_path_factory, web_library, immich_root, tiny_model_dir) -> Iterator[Sidecar]:
    running = start_sidecar(
        tmp_path_factory.mktemp("web_sidecar"),
        "web-search-page-key",
        model_dir=str(tiny_model_dir),
        library_roots=f"{web_library}:{immich_root}",
    )
    yield running
    running.stop()


@pytest.fixture(scope="session")
def immich_web_template(cluster) -> Iterator[str]:
    """A database with Immich v3.1's schema (tests/immich's), photo_ai not installed yet."""
    yield from template(IMMICH_SCHEMA.read_text(), f"photo_ai_test_web_immich_{os.getpid()}")


@pytest.fixture(scope="session")
def web_template(template_database, web_sidecar, web_library) -> Iterator[str]:
    """photo_ai with the library imported (checksums, dates) and analysed by the worker;
    cloned for every test that changes something."""
    name = f"photo_ai_test_web_{os.getpid()}"
    drop_database(name)
    with superuser() as conn:
        conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template_database}"')
    with superuser(name) as conn:
        point_at(conn, web_sidecar)
        importer.import_folder(conn, web_library)
    run_worker(name)
    yield name
    drop_database(name)


@pytest.fixture(scope="session")
def assets(web_template) -> dict[str, str]:
    """Asset ids by file name (the same in every clone)."""
    with superuser(web_template) as conn:
        rows = conn.execute("SELECT id::text, original_path FROM photo_ai.asset").fetchall()
    return {Path(path).name: asset for asset, path in rows}


@pytest.fixture(scope="session")
def shared_database(web_template) -> Iterator[str]:
    """A clone for the tests that only read (they share one page)."""
    name = f"photo_ai_test_web_shared_{os.getpid()}"
    with superuser() as conn:
        conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{web_template}"')
    yield name
    drop_database(name)


@pytest.fixture(scope="session")
def site(shared_database, web_library, tmp_path_factory) -> Iterator[Page]:
    """The search page over the analysed library, for tests that change nothing."""
    page = start_page(dsn(shared_database), [web_library], tmp_path_factory.mktemp("site"))
    yield page
    page.stop()


@pytest.fixture
def analysed(web_template, make_database) -> str:
    """A private clone of the analysed library's database."""
    return make_database(web_template)


@pytest.fixture
def serve(tmp_path, web_library) -> Iterator:
    """Starts search pages (database name or DSN, settings) stopped after the test."""
    pages: list[Page] = []

    def start(database: str, roots: list[Path] | None = None, **settings) -> Page:
        target = database if "=" in database else dsn(database)
        state = tmp_path / f"page{len(pages)}"
        page = start_page(target, roots or [web_library], state, **settings)
        pages.append(page)
        return page

    yield start
    for page in pages:
        page.stop()


@pytest.fixture(scope="session")
def reader_login(cluster) -> Iterator:
    """A database login that is a member of photo_ai_reader only; call with a database
    name for its DSN."""
    role, password = f"photo_ai_test_web_reader_{os.getpid()}", uuid.uuid4().hex
    with superuser() as conn:
        conn.execute(f"DROP ROLE IF EXISTS {role}")
        conn.execute(f"CREATE ROLE {role} LOGIN PASSWORD '{password}' IN ROLE photo_ai_reader")
    yield lambda database: make_conninfo(dsn(database), user=role, password=password)
    with superuser() as conn:
        conn.execute(f"DROP ROLE IF EXISTS {role}")


@pytest.fixture
def browser(tmp_path) -> Iterator:
    """A page of Debian's chromium, with a profile of its own, driven by Playwright (which
    downloads nothing: it is pointed at the system's browser)."""
    from playwright.sync_api import sync_playwright

    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: `make setup` installs Debian's chromium")
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(tmp_path / "chromium-profile"),
            executable_path=str(CHROMIUM),
            headless=True,
            args=CHROMIUM_ARGS,
            locale="en-US",
            viewport={"width": 1280, "height": 900},
        )
        page = context.pages[0] if context.pages else context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.script_errors = errors
        yield page
        context.close()


@pytest.fixture
def screenshot(request):
    """Saves the browser page's screenshot as build/test-artifacts/web/<test>-<name>.png."""

    def save(page, name: str) -> Path:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        path = ARTIFACTS / f"{request.node.name}-{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return save
