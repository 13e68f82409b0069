"""Who may use the page, and that what they send comes from the page itself.

- Host: on loopback the page answers only to a loopback Host header, so a web site that
  points its own name at 127.0.0.1 (DNS rebinding) cannot read it.
- Password: when PHOTO_AI_WEB_PASSWORD is set (required off loopback) every request needs
  a session cookie from the sign-in form, or `Authorization: Bearer <password>` (scripts).
  The cookie is signed with a key derived from the password and a secret kept in the state
  folder: changing the password signs everyone out.
- CSRF: every form carries the token of the `photo_ai_csrf` cookie (SameSite=Strict), and a
  POST whose field differs, or whose Origin is another site, is refused.
- Headers: a Content-Security-Policy with no inline script, no framing, no sniffing.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import time
from pathlib import Path
from urllib.parse import urlsplit

from starlette.requests import Request

from inference_sidecar.settings import is_loopback

SESSION_COOKIE = "photo_ai_session"
CSRF_COOKIE = "photo_ai_csrf"
CSRF_FIELD = "csrf_token"
SESSION_DAYS = 30
SECURITY_HEADERS = {
    "content-security-policy": (
        "default-src 'self'; img-src 'self' data: blob:; style-src 'self'; script-src 'self'; "
        "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    ),
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "same-origin",
}
# Reachable without signing in: the sign-in form itself, its style, and the liveness check.
OPEN_PATHS = ("/login", "/static/", "/healthz")


def server_secret(state_dir: Path) -> bytes:
    """A random secret made once and kept (mode 600) in the page's state folder."""
    path = state_dir / "secret_key"
    if not path.exists():
        state_dir.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass  # another process made it first
        else:
            with os.fdopen(fd, "w") as f:
                f.write(secrets.token_hex(32) + "\n")
    return bytes.fromhex(path.read_text().strip())


class Guard:
    def __init__(self, host: str, password: str | None, secret: bytes):
        self.loopback_only = is_loopback(host)
        self.password = password
        self._key = hmac.new(secret, (password or "").encode(), hashlib.sha256).digest()

    # ----------------------------------------------------------------- host

    def host_allowed(self, request: Request) -> bool:
        if not self.loopback_only:
            return True
        name = urlsplit("//" + request.headers.get("host", "")).hostname or ""
        return is_loopback(name)

    # ----------------------------------------------------------------- password

    @property
    def password_required(self) -> bool:
        return self.password is not None

    def password_matches(self, given: str) -> bool:
        return self.password is not None and hmac.compare_digest(
            given.encode(), self.password.encode()
        )

    def new_session(self) -> str:
        expires = str(int(time.time()) + SESSION_DAYS * 86400)
        return f"{expires}.{self._sign(expires)}"

    def signed_in(self, request: Request) -> bool:
        if not self.password_required or request.url.path.startswith(OPEN_PATHS):
            return True
        bearer = request.headers.get("authorization", "")
        if bearer.startswith("Bearer ") and self.password_matches(bearer[7:]):
            return True
        expires, _, signature = request.cookies.get(SESSION_COOKIE, "").partition(".")
        return (
            expires.isdigit()
            and int(expires) > time.time()
            and hmac.compare_digest(signature, self._sign(expires))
        )

    def _sign(self, value: str) -> str:
        return hmac.new(self._key, value.encode(), hashlib.sha256).hexdigest()

    # ----------------------------------------------------------------- CSRF

    @staticmethod
    def csrf_token(request: Request) -> tuple[str, bool]:
        """The request's CSRF token, and whether it is new (the cookie must be set)."""
        token = request.cookies.get(CSRF_COOKIE, "")
        if len(token) >= 32:
            return token, False
        return secrets.token_urlsafe(32), True

    @staticmethod
    def same_origin(request: Request) -> bool:
        """False when the browser says the request comes from another site."""
        origin = request.headers.get("origin")
        if origin is None or origin == "null":
            return origin is None
        return urlsplit(origin).netloc == request.headers.get("host", "")

    @staticmethod
    def csrf_valid(request: Request, sent: str | None) -> bool:
        cookie = request.cookies.get(CSRF_COOKIE, "")
        return (
            bool(cookie and sent)
            and hmac.compare_digest(cookie.encode(), (sent or "").encode())
            and Guard.same_origin(request)
        )
