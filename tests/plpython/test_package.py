"""The package PL/Python imports is versioned with the extension it belongs to."""

import re

from photo_ai_plpython import __version__
from tests.support import ROOT


def test_the_package_has_the_extensions_version():
    control = (ROOT / "extensions" / "photo_ai" / "photo_ai.control").read_text()
    assert re.search(r"default_version = '([^']+)'", control).group(1) == __version__
