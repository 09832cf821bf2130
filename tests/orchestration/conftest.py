"""An OrchestrationService over a real database (SQLite and PostgreSQL), with a project root."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from jupyter_flows.orchestration.service import OrchestrationService
from jupyter_flows.store.db import open_store
from tests.helpers import write_notebook

FLOW_SOURCE = """
from jupyter_flows import flow, task

@task
def double(x: int) -> int:
    return 2 * x

@flow
def etl(n: int, label: str = "x") -> int:
    return double(n)
"""


@pytest.fixture
def root(tmp_path: Path) -> Path:
    root = tmp_path / "root"
    (root / "flows").mkdir(parents=True)
    (root / "flows" / "etl.py").write_text(FLOW_SOURCE)
    write_notebook(
        root / "report.ipynb", "n = 3\nname = 'a'\nrate = 0.5\nflag = True", "result = n * 2"
    )
    return root


@pytest.fixture
def service(db_url: str, root: Path, tmp_path: Path) -> Iterator[OrchestrationService]:
    engine = open_store(db_url)
    try:
        yield OrchestrationService(engine, root, tmp_path / "outputs")
    finally:
        engine.dispose()
