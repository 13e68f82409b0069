"""The extension as an admin meets it in psql: install, version, settings, roles, upgrades."""

from __future__ import annotations

import re

import psycopg
import pytest

from tests.support import ROOT
from tests.support.catalog import extension_catalog
from tests.support.database import superuser

CONTROL = (ROOT / "extensions" / "photo_ai" / "photo_ai.control").read_text()
VERSION = re.search(r"default_version = '([^']+)'", CONTROL).group(1)
RELEASED = sorted(
    p.name.removeprefix("photo_ai--").removesuffix(".sql")
    for p in (ROOT / "extensions" / "photo_ai" / "released").glob("photo_ai--*.sql")
)


def test_create_extension_cascade_installs_vector_and_plpython(make_database):
    with superuser(make_database()) as conn:
        conn.execute("CREATE EXTENSION photo_ai CASCADE")
        versions = dict(conn.execute("SELECT extname, extversion FROM pg_extension"))
        assert conn.execute("SELECT photo_ai.version()").fetchone()[0] == VERSION
    assert versions["photo_ai"] == VERSION
    assert "plpython3u" in versions
    major, minor = (int(x) for x in versions["vector"].split(".")[:2])
    assert (major, minor) >= (0, 8)


def test_drop_extension_removes_its_schema(make_database):
    with superuser(make_database()) as conn:
        conn.execute("CREATE EXTENSION photo_ai CASCADE")
        conn.execute("DROP EXTENSION photo_ai")
        left = conn.execute("SELECT count(*) FROM pg_namespace WHERE nspname = 'photo_ai'")
        assert left.fetchone()[0] == 0


def test_zh_tokens_segments_chinese_in_the_servers_python(conn):
    tokens = conn.execute("SELECT photo_ai.zh_tokens('增值税专用发票')").fetchone()[0]
    assert {"增值税", "发票", "专用发票"} <= set(tokens)
    mixed = conn.execute("SELECT photo_ai.zh_tokens('发票 Invoice 2024')").fetchone()[0]
    assert {"发票", "Invoice", "2024"} <= set(mixed)


def test_configure_changes_only_what_is_given(conn):
    first = conn.execute(
        "SELECT photo_ai.configure(sidecar_url => 'http://10.0.0.5:3003/, http://10.0.0.6:3003')"
    ).fetchone()[0]
    assert first["sidecar_urls"] == ["http://10.0.0.5:3003", "http://10.0.0.6:3003"]
    assert first["api_key"] is None

    second = conn.execute("SELECT photo_ai.configure(api_key => 's3cret')").fetchone()[0]
    assert second["sidecar_urls"] == first["sidecar_urls"]
    assert second["api_key"] == "********", "the key is never shown back"
    assert conn.execute("SELECT photo_ai.setting('api_key')").fetchone()[0] == "s3cret"

    cleared = conn.execute("SELECT photo_ai.configure(api_key => '')").fetchone()[0]
    assert cleared["api_key"] is None


@pytest.mark.parametrize("bad_url", ["", "localhost:3003", "ftp://x", " , "])
def test_configure_rejects_a_malformed_sidecar_url(conn, bad_url):
    with pytest.raises(psycopg.errors.RaiseException, match="sidecar_url"):
        conn.execute("SELECT photo_ai.configure(sidecar_url => %s)", [bad_url])


def test_only_admins_configure(conn, test_roles):
    conn.execute(f"SET ROLE {test_roles['reader']}")
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        conn.execute("SELECT photo_ai.configure(sidecar_url => 'http://evil:1')")
    conn.execute("RESET ROLE")
    conn.execute(f"SET ROLE {test_roles['admin']}")
    result = conn.execute("SELECT photo_ai.configure(sidecar_url => 'http://ok:1')").fetchone()
    assert result[0]["sidecar_urls"] == ["http://ok:1"]


def test_readers_search_but_outsiders_cannot(conn, test_roles):
    conn.execute(f"SET ROLE {test_roles['reader']}")
    assert conn.execute("SELECT photo_ai.zh_tokens('发票')").fetchone()[0] == ["发票"]
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        conn.execute("SELECT photo_ai.setting('api_key')")
    conn.execute("RESET ROLE")
    conn.execute(f"SET ROLE {test_roles['outsider']}")
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        conn.execute("SELECT photo_ai.zh_tokens('发票')")


def test_every_function_is_closed_to_public_and_documented(conn):
    rows = conn.execute(
        """
        SELECT p.oid::regprocedure::text, p.prokind, l.lanname, p.prosecdef, p.proconfig,
               has_function_privilege('public', p.oid, 'EXECUTE') AS public_can_run,
               obj_description(p.oid, 'pg_proc') AS comment
        FROM pg_proc p
        JOIN pg_language l ON l.oid = p.prolang
        WHERE p.pronamespace = 'photo_ai'::regnamespace
        """
    ).fetchall()
    assert rows
    for name, kind, language, definer, config, public_can_run, comment in rows:
        assert not public_can_run, f"{name} is executable by PUBLIC"
        assert comment, f"{name} has no COMMENT"
        pinned = any(c.startswith("search_path=pg_catalog") for c in config or [])
        # A procedure that commits may not pin search_path: it must then not be a definer.
        assert pinned or (kind == "p" and not definer), f"{name} has no pinned search_path"
        if language == "plpython3u":
            assert definer, f"{name} runs Python but is not SECURITY DEFINER"


def _fresh_catalog(make_database) -> list[str]:
    with superuser(make_database()) as conn:
        conn.execute("CREATE EXTENSION photo_ai CASCADE")
        return extension_catalog(conn)


@pytest.mark.parametrize("old_version", RELEASED)
def test_upgrade_from_a_release_gives_the_fresh_catalog(make_database, old_version):
    with superuser(make_database()) as conn:
        conn.execute(f"CREATE EXTENSION photo_ai VERSION '{old_version}' CASCADE")
        conn.execute("ALTER EXTENSION photo_ai UPDATE")
        assert conn.execute("SELECT photo_ai.version()").fetchone()[0] == VERSION
        upgraded = extension_catalog(conn)
    fresh = _fresh_catalog(make_database)
    assert [line for line in upgraded if line not in fresh] == []
    assert [line for line in fresh if line not in upgraded] == []


def test_running_the_upgrade_body_again_changes_nothing(make_database):
    """The ledger makes every migration run once: replaying the script is a no-op."""
    upgrade_body = (ROOT / "extensions" / "photo_ai" / f"photo_ai--{VERSION}.sql").read_text()
    upgrade_body = upgrade_body.split("\\quit", 1)[1].replace("create schema photo_ai;", "")
    with superuser(make_database()) as conn:
        conn.execute("CREATE EXTENSION photo_ai CASCADE")
        before = extension_catalog(conn)
        conn.execute("SELECT photo_ai.configure(sidecar_url => 'http://kept:1')")
        with conn.transaction():
            conn.execute(upgrade_body)
        assert extension_catalog(conn) == before
        kept = conn.execute("SELECT value FROM photo_ai.settings WHERE name = 'sidecar_urls'")
        assert kept.fetchone()[0] == ["http://kept:1"], "an admin's settings survive"


def test_every_python_function_is_a_thin_shim_over_the_package(conn):
    """The Python lives in photo_ai_plpython (linted, unit-tested); SQL bodies only call it."""
    bodies = conn.execute(
        "SELECT p.oid::regprocedure::text, p.prosrc FROM pg_proc p "
        "JOIN pg_language l ON l.oid = p.prolang "
        "WHERE p.pronamespace = 'photo_ai'::regnamespace AND l.lanname = 'plpython3u'"
    ).fetchall()
    assert bodies
    for name, body in bodies:
        lines = [line for line in body.splitlines() if line.strip()]
        assert len(lines) <= 12, f"{name} has {len(lines)} lines of Python in SQL"
        assert "from photo_ai_plpython import" in body, name
