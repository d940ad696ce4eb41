from __future__ import annotations

from pathlib import Path

import pytest

from tests.harness import Bot, make_bot

# The ``browser`` fixture: a real headless Chromium.
pytest_plugins = ["tests.browser"]


@pytest.fixture
def bot(tmp_path: Path) -> Bot:
    return make_bot(tmp_path)
