"""python -m inference_sidecar: check the settings, then serve with uvicorn."""

import logging
import sys

import uvicorn
from pydantic import ValidationError

from inference_sidecar.app import create_app
from inference_sidecar.settings import Settings, startup_problem


def main() -> int:
    try:
        settings = Settings()
    except ValidationError as e:
        print(f"inference_sidecar: invalid PHOTO_AI_ setting:\n{e}", file=sys.stderr)
        return 2
    problem = startup_problem(settings)
    if problem:
        print(f"inference_sidecar: {problem}", file=sys.stderr)
        return 2
    logging.basicConfig(
        level=settings.log_level.upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    uvicorn.run(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        log_level=settings.log_level,
        timeout_graceful_shutdown=10,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
