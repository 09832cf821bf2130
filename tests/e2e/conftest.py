"""The ``e2e`` fixture: an end-to-end environment, everything it started killed afterwards."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.harness import Env, stop_all


@pytest.fixture
def e2e(tmp_path: Path) -> Iterator[Env]:
    env = Env(tmp_path)
    try:
        yield env
    finally:
        stop_all(env, tmp_path)
