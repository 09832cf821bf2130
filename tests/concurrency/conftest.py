"""Concurrency tests run on SQLite and PostgreSQL: ``default_db`` is the process's database,
and ``limits`` creates limits in it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from jupyter_flows.core import settings
from jupyter_flows.orchestration.concurrency import create_limit, read_limit
from jupyter_flows.orchestration.concurrency_schemas import (
    CreateConcurrencyLimit,
    DescribeConcurrencyLimit,
)
from jupyter_flows.store.api import run_store


@pytest.fixture
def default_db(db_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """``db_url`` as the process's default run database (what ``concurrency()`` uses)."""
    monkeypatch.setenv("JUPYTER_FLOWS_DB_URL", db_url)
    settings.reset_recorder()
    yield db_url
    settings.reset_recorder()


@pytest.fixture
def limits(default_db: str) -> Callable[..., Any]:
    """``limits(name, limit, **fields)`` creates a limit; ``limits.read(name)`` reads one."""
    engine = run_store(default_db).engine

    def make(name: str, limit: int, **fields: Any) -> DescribeConcurrencyLimit:
        return create_limit(engine, CreateConcurrencyLimit(name=name, limit=limit, **fields))

    make.read = lambda name: read_limit(engine, name)  # type: ignore[attr-defined]
    return make


def max_overlap(intervals: list[tuple[float, float]]) -> int:
    """The most intervals that overlap at one moment (an exit before an equal enter)."""
    events = sorted([(t, 1) for t, _ in intervals] + [(t, -1) for _, t in intervals],
                    key=lambda e: (e[0], e[1]))  # fmt: skip
    now = best = 0
    for _, step in events:
        now += step
        best = max(best, now)
    return best
