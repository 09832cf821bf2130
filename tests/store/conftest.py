"""Store fixtures: an engine at head, a recorder and a reader on the ``db_url`` database."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy.engine import Engine

from jupyter_flows.store import RunStore, SqlRecorder, open_store


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    engine = open_store(db_url)
    yield engine
    engine.dispose()


@pytest.fixture
def recorder(engine: Engine) -> Iterator[SqlRecorder]:
    recorder = SqlRecorder(engine)
    yield recorder
    recorder.close()


@pytest.fixture
def store(engine: Engine) -> RunStore:
    return RunStore(engine)
