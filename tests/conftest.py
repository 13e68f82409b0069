"""The fixtures every test directory may ask for, from tests/support (only the root conftest
may declare pytest_plugins). Directory conftests hold what is private to their directory."""

pytest_plugins = [
    "tests.support.database",
    "tests.support.sidecars",
    "tests.support.pipeline",
    "tests.support.search",
]
