"""python -m inference_sidecar: check the settings, then serve with uvicorn."""

import logging
import sys

import uvicorn

from inference_sidecar.app import create_app
from inference_sidecar.settings import Settings, settings_to_start, startup_problem


def main() -> int:
    settings = settings_to_start("inference_sidecar", Settings, startup_problem)
    if settings is None:
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
