"""Who may use the page and what it accepts: loopback unless a password is set, the password
when it is, forms only from the page itself, admin actions only for an admin login, and
headers that keep the page out of other sites' frames and scripts."""

from __future__ import annotations

import re
import subprocess
import sys
from urllib.parse import unquote

import httpx
import pytest

from photo_ai_cli.local import sidecar_environment
from tests.support.database import superuser

PASSWORD = "correct-horse-battery-staple"


def csrf_of(client: httpx.Client, path: str = "/status") -> str:
    html = client.get(path).text
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def queued(database: str) -> int:
    with superuser(database) as conn:
        return conn.execute("SELECT count(*) FROM photo_ai.job WHERE state = 'queued'").fetchone()[
            0
        ]


def serve_command(*arguments: str, **environment: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "photo_ai_cli", "serve", *arguments],
        env=sidecar_environment(**environment),
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_any_other_address_than_loopback_needs_a_password():
    refused = serve_command("--host", "0.0.0.0", "--port", "9")
    assert refused.returncode == 2
    assert "refusing to listen on 0.0.0.0" in refused.stderr
    assert "PHOTO_AI_WEB_PASSWORD" in refused.stderr


@pytest.mark.parametrize("password", ["short", " " + PASSWORD])
def test_a_weak_password_is_refused(password):
    refused = serve_command("--host", "0.0.0.0", "--port", "9", web_password=password)
    assert refused.returncode == 2
    assert "at least 16 characters" in refused.stderr


def test_with_a_password_every_page_asks_for_it(analysed, serve, assets):
    page = serve(analysed, password=PASSWORD)
    with page.client(headers={"accept": "text/html"}) as client:
        first = client.get("/?q=ocr:发票")
        assert first.status_code == 303
        assert first.headers["location"].startswith("/login?next=")
        assert (
            client.get(f"/thumb/{assets['invoice.png']}", headers={"accept": "*/*"}).status_code
            == 401
        )
        token = csrf_of(client, "/login")
        wrong = client.post("/login", data={"csrf_token": token, "password": "guess" * 5})
        assert "wrong=1" in wrong.headers["location"]
        right = client.post(
            "/login", data={"csrf_token": token, "password": PASSWORD, "next": "/?q=ocr:发票"}
        )
        assert right.status_code == 303 and unquote(right.headers["location"]) == "/?q=ocr:发票"
        assert assets["invoice.png"] in client.get("/?q=ocr:发票").text
        client.post("/logout", data={"csrf_token": token})
        assert client.get("/").status_code == 303
    bearer = page.get(
        f"/thumb/{assets['invoice.png']}", headers={"authorization": f"Bearer {PASSWORD}"}
    )
    assert bearer.status_code == 200


def test_a_forged_session_cookie_is_refused(analysed, serve):
    page = serve(analysed, password=PASSWORD)
    for forged in ("9999999999.00", "9999999999." + "0" * 64, "garbage"):
        response = page.get("/status", cookies={"photo_ai_session": forged})
        assert response.status_code == 401


def test_on_loopback_a_foreign_host_name_is_refused(site):
    """A site whose name resolves to 127.0.0.1 (DNS rebinding) must not read the page."""
    response = site.get("/", headers={"host": "evil.example:8080"})
    assert response.status_code == 400
    assert site.get("/", headers={"host": "localhost:8080"}).status_code == 200


def test_forms_are_refused_without_their_token_or_from_another_site(analysed, serve):
    page = serve(analysed)
    before = queued(analysed)
    with page.client() as client:
        token = csrf_of(client)
        assert client.post("/status/retry-all").status_code == 403
        assert client.post("/status/retry-all", data={"csrf_token": "x" * 43}).status_code == 403
        foreign = client.post(
            "/status/retry-all",
            data={"csrf_token": token},
            headers={"origin": "http://evil.example"},
        )
        assert foreign.status_code == 403
        assert queued(analysed) == before
        done = client.post("/status/retry-all", data={"csrf_token": token})
        assert done.status_code == 303 and "requeued=3" in done.headers["location"]
    assert queued(analysed) == before + 3  # the broken photo's three tasks


def test_a_reader_login_searches_but_may_not_retry(analysed, serve, reader_login, assets):
    page = serve(reader_login(analysed))
    with page.client() as client:
        assert client.get("/?q=ocr:发票").text.count(assets["invoice.png"]) > 0
        status = client.get("/status").text
        assert "broken.jpg" in status and 'class="retry"' not in status
        assert 'id="analyse-again"' not in client.get(f"/asset/{assets['invoice.png']}").text
        token = csrf_of(client)
        refused = client.post(
            "/status/retry",
            data={"csrf_token": token, "asset_id": assets["broken.jpg"], "tasks": "ocr"},
        )
        assert refused.status_code == 403
        assert "photo_ai_admin" in refused.text
    with superuser(analysed) as conn:
        attempts = conn.execute(
            "SELECT attempts FROM photo_ai.job WHERE asset_id = %s AND task = 'ocr'",
            [assets["broken.jpg"]],
        ).fetchone()[0]
    assert attempts == 1


def test_pages_carry_protective_headers(site):
    headers = site.get("/").headers
    assert "script-src 'self'" in headers["content-security-policy"]
    assert "frame-ancestors 'none'" in headers["content-security-policy"]
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["x-frame-options"] == "DENY"


def test_an_upload_larger_than_allowed_is_never_read(shared_database, serve):
    page = serve(shared_database, max_upload_bytes=1_000_000)
    with page.client() as client:
        token = csrf_of(client)
        response = client.post(
            "/search/image",
            data={"csrf_token": token},
            files={"image": ("big.jpg", b"\xff" * 1_100_000)},
        )
    assert response.status_code == 413
    assert "larger than 0 MB" not in response.text and "larger than" in response.text
