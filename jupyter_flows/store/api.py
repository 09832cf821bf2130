"""Module-level reads on the default database, for the package root and notebooks.

Each call first flushes this process's recorder, so a notebook sees its own runs.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.engine import Engine

from jupyter_flows.core.settings import get_recorder

from .db import default_db_url
from .repository import RunStore
from .schemas import DescribeFlowRun, DescribeFlowRunItem, ListFlowRunsResponse

__all__ = [
    "FlowRunList",
    "run_store",
    "close_store",
    "read_flow_runs",
    "read_flow_run",
    "read_state_type",
    "read_state_on",
]

logger = logging.getLogger(__name__)

_lock = threading.Lock()
_stores: dict[tuple[int, str], RunStore] = {}


def run_store(url: str | None = None) -> RunStore:
    """The (cached, per process) ``RunStore`` of ``url`` (default: ``default_db_url()``)."""
    url = url or default_db_url()
    key = (os.getpid(), url)
    with _lock:
        store = _stores.get(key)
        if store is None:
            store = _stores[key] = RunStore.from_url(url)
        return store


class FlowRunList(list[DescribeFlowRunItem]):
    """One page of flow runs: a list of run summaries (no task runs, states or logs: see
    ``read_flow_run``), with the page as attributes.

    ``total`` runs match the filters; this page holds at most ``limit`` of them from
    ``offset`` on, and ``next_offset`` is where the next page starts (``None``: this is
    the last one).
    """

    def __init__(
        self, runs: Sequence[DescribeFlowRunItem], total: int, limit: int, offset: int
    ) -> None:
        super().__init__(runs)
        self.total = total
        self.limit = limit
        self.offset = offset

    @classmethod
    def from_page(cls, page: ListFlowRunsResponse) -> FlowRunList:
        return cls(page.items, page.total, page.limit, page.offset)

    @property
    def next_offset(self) -> int | None:
        end = self.offset + len(self)
        return end if len(self) and end < self.total else None

    @property
    def items(self) -> list[DescribeFlowRunItem]:
        """The runs as a plain list (what ``read_flow_runs(...).items`` was before)."""
        return list(self)


def close_store(url: str) -> None:
    """Forget this process's cached ``RunStore`` of ``url`` and close its connections."""
    with _lock:
        store = _stores.pop((os.getpid(), url), None)
    if store is not None:
        store.engine.dispose()


def read_flow_runs(
    flow_name: str | None = None,
    state: str | Sequence[str] | None = None,
    tags: str | Sequence[str] | None = None,
    deployment_id: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int = 50,
    offset: int = 0,
    *,
    url: str | None = None,
) -> FlowRunList:
    """Flow runs of the default database (or ``url``'s), newest first: a ``FlowRunList``
    (iterate it; ``.total``, ``.next_offset`` page on). Filters as
    ``RunStore.read_flow_runs``."""
    get_recorder().flush()
    page = run_store(url).read_flow_runs(
        flow_name=flow_name,
        state=state,
        tags=tags,
        deployment_id=deployment_id,
        since=since,
        until=until,
        limit=limit,
        offset=offset,
    )
    return FlowRunList.from_page(page)


def read_flow_run(flow_run_id: str, *, url: str | None = None) -> DescribeFlowRun:
    """One flow run with its task runs, states, logs and edges; raises ``NotFound``."""
    get_recorder().flush()
    return run_store(url).read_flow_run(flow_run_id)


def read_state_type(flow_run_id: str, *, url: str | None = None) -> str | None:
    """The state type of a flow run, read in one light query (``NotFound`` if none).

    What a run process or a kernel polls to learn that its run was cancelled or crashed.
    """
    from jupyter_flows.exceptions import NotFound

    found = read_state_on(run_store(url).engine, flow_run_id)
    if found is None:
        raise NotFound(f"no flow run {flow_run_id!r}")
    return found[0]


def read_state_on(engine: Engine, flow_run_id: str) -> tuple[str | None, str | None] | None:
    """``(state type, state name)`` of a flow run in ``engine``'s database, or None.

    One primary-key read; on SQLite a deferred transaction, which never takes the write lock.
    """
    from sqlalchemy import select

    from .models import FlowRunRecord

    table = FlowRunRecord.__table__  # type: ignore[attr-defined]
    query = select(table.c.state_type, table.c.state_name).where(table.c.id == flow_run_id)
    with engine.connect() as conn:
        row = conn.execute(query).first()
    return None if row is None else (row[0], row[1])
