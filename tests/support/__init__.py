"""What the tests share, as plain modules; the root conftest registers their fixtures
(pytest_plugins), so a test asks for a fixture by name and imports helpers from here:

    database   the cluster, a template database per session, a fresh database per test,
               superuser connections, login-less roles
    sidecars   real sidecars as child processes, the libraries they read, tiny models
    pipeline   assets, the worker as pg_cron runs it, its jobs, a database pointed at a sidecar
    search     photos with known OCR lines and embeddings, hybrid_search's rows
    pictures   pictures with printed text, tiny-detector faces, odd formats
    catalog    a text listing of everything the extension owns
    standin    a stand-in sidecar speaking the v1 contract: slow, refusing, counting
"""

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent  # the checkout
