"""API key checks. Our clients send `x-api-key`; mt-photos-ai's clients send `api-key`.

Both headers are accepted on every protected route, so one key serves every client.
"""

import hmac

from fastapi import Request

from inference_sidecar.errors import Unauthorized
from inference_sidecar.settings import Settings

KEY_HEADERS = ("x-api-key", "api-key")


def check_key(request: Request, settings: Settings) -> None:
    expected = settings.api_key_value
    if expected is None:
        return
    sent = next((request.headers[h] for h in KEY_HEADERS if h in request.headers), None)
    if sent is None:
        raise Unauthorized("missing API key: send it in the x-api-key header")
    if not hmac.compare_digest(sent.encode(), expected.encode()):
        raise Unauthorized("Invalid API key")  # mt-photos-ai's wording


def require_key(request: Request) -> None:
    """FastAPI dependency for every route that needs the key when one is set."""
    check_key(request, request.app.state.settings)


def require_key_unless_immich_open(request: Request) -> None:
    """Immich's server sends no key; PHOTO_AI_IMMICH_WITHOUT_KEY lets /predict through."""
    settings = request.app.state.settings
    if not settings.immich_without_key:
        check_key(request, settings)
