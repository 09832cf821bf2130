"""``RunStore``: the typed read API over the run database (what the UI and CLI query)."""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar

from pydantic import BaseModel
from sqlalchemy import Select, Table, and_, func, select
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import URL, Connection, Engine
from sqlmodel import SQLModel

from jupyter_flows.exceptions import NotFound

from . import _run_pages
from . import models as _models
from ._run_filters import flow_run_filters, subflow_counts
from .db import READ_ONLY, open_store, store_error
from .schemas import (
    DescribeEdge,
    DescribeFlow,
    DescribeFlowRun,
    DescribeFlowRunDetail,
    DescribeFlowRunItem,
    DescribeLog,
    DescribeResultRecord,
    DescribeState,
    DescribeTaskGroups,
    DescribeTaskRun,
    ListFlowRunsQuery,
    ListFlowRunsResponse,
    ListTaskRunsQuery,
    ListTaskRunsResponse,
    build_run_graph,
)

if TYPE_CHECKING:
    import networkx as nx

__all__ = ["RunStore"]

logger = logging.getLogger(__name__)

_M = TypeVar("_M", bound=BaseModel)
_tables = SQLModel.metadata.tables
assert _models.TABLE_NAMES  # the tables are registered by importing models
flow_t: Table = _tables["flow"]
flow_run_t: Table = _tables["flow_run"]
task_run_t: Table = _tables["task_run"]
input_t: Table = _tables["task_run_input"]
state_t: Table = _tables["run_state"]
log_t: Table = _tables["run_log"]
result_t: Table = _tables["result_record"]


class RunStore:
    """Reads flows, runs, states, logs and run graphs.

    Parameters
    ----------
    engine
        Engine of a database at the current schema (``open_store``). Reads run in
        deferred transactions: on SQLite they never wait for the write lock.
    """

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @classmethod
    def from_url(cls, url: str | URL | None = None) -> RunStore:
        """A store on a new engine for ``url`` (default: ``default_db_url()``)."""
        return cls(open_store(url))

    @contextmanager
    def _connect(self) -> Iterator[Connection]:
        try:
            with self.engine.connect().execution_options(**READ_ONLY) as conn:
                yield conn
        except sa_exc.SQLAlchemyError as e:
            raise store_error("cannot read the run database", self.engine.url, e) from None

    def ping(self) -> None:
        """``StoreError`` unless the database answers."""
        with self._connect() as conn:
            conn.exec_driver_sql("SELECT 1")

    @staticmethod
    def _all(conn: Connection, model: type[_M], query: Select[Any]) -> list[_M]:
        return [model.model_validate(dict(row)) for row in conn.execute(query).mappings()]

    # -- flow runs ------------------------------------------------------------------------

    def read_flow_runs(
        self,
        query: ListFlowRunsQuery | None = None,
        *,
        flow_name: str | None = None,
        state: str | Sequence[str] | None = None,
        tags: str | Sequence[str] | None = None,
        deployment_id: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> ListFlowRunsResponse:
        """One page of flow runs, newest first, and how many match in total.

        Pass either a ``ListFlowRunsQuery`` or its fields as keywords.
        """
        if query is None:
            query = ListFlowRunsQuery.model_validate(
                {
                    "flow_name": flow_name,
                    "state": state if state is None or isinstance(state, str) else list(state),
                    "tags": tags if tags is None or isinstance(tags, str) else list(tags),
                    "deployment_id": deployment_id,
                    "since": since,
                    "until": until,
                    "limit": limit,
                    "offset": offset,
                }
            )
        with self._connect() as conn:
            where = flow_run_filters(conn, flow_run_t, query)
            total = conn.execute(select(func.count()).select_from(flow_run_t).where(*where))
            page = (
                select(flow_run_t)
                .where(*where)
                .order_by(flow_run_t.c.created.desc(), flow_run_t.c.id.desc())
                .limit(query.limit)
                .offset(query.offset)
            )
            rows = [dict(row) for row in conn.execute(page).mappings()]
            counts = subflow_counts(conn, flow_run_t, [row["id"] for row in rows])
            items = [
                DescribeFlowRunItem.model_validate(
                    {**row, "subflow_count": counts.get(row["id"], 0)}
                )
                for row in rows
            ]
            return ListFlowRunsResponse(
                items=items, total=total.scalar_one(), limit=query.limit, offset=query.offset
            )

    def read_flow_run_item(self, flow_run_id: str) -> DescribeFlowRunItem:
        """A flow run's own row (no task runs, states or logs); raises ``NotFound``."""
        with self._connect() as conn:
            return DescribeFlowRunItem.model_validate(_run_pages.flow_run_row(conn, flow_run_id))

    def read_flow_run(self, flow_run_id: str) -> DescribeFlowRun:
        """A flow run with its task runs, its and their states, all its logs and its edges.

        Everything, however large the run: for a view of a large run, read
        ``read_flow_run_detail`` and pages of ``read_task_run_page``/``read_log_page``.
        """
        with self._connect() as conn:
            data = _run_pages.flow_run_row(conn, flow_run_id)
            data["task_runs"] = self._task_runs(conn, flow_run_id)
            data["states"] = self._states(conn, flow_run_id)
            data["task_states"] = self._all(
                conn,
                DescribeState,
                select(state_t)
                .where(and_(state_t.c.flow_run_id == flow_run_id, state_t.c.run_kind == "task"))
                .order_by(state_t.c.id),
            )
            data["logs"] = self._logs(conn, flow_run_id, None)
            data["edges"] = self._edges(conn, flow_run_id)
            return DescribeFlowRun.model_validate(data)

    def read_flow_run_detail(self, flow_run_id: str) -> DescribeFlowRunDetail:
        """A flow run, its own state history and its task runs counted by state type.

        Lists the task runs only of a run with at most ``DETAIL_TASK_RUNS`` (100) of them;
        no logs. Raises ``NotFound``.
        """
        with self._connect() as conn:
            return _run_pages.read_detail(conn, flow_run_id)

    def read_task_run_page(
        self, flow_run_id: str, query: ListTaskRunsQuery | None = None, **fields: Any
    ) -> ListTaskRunsResponse:
        """One page of a flow run's task runs (oldest first) and how many match.

        Pass a ``ListTaskRunsQuery`` or its fields as keywords. Raises ``NotFound``.
        """
        query = query if query is not None else ListTaskRunsQuery.model_validate(fields)
        with self._connect() as conn:
            return _run_pages.read_task_run_page(conn, flow_run_id, query)

    def read_log_page(
        self,
        flow_run_id: str,
        *,
        task_run_id: str | None = None,
        after_id: int = 0,
        before_id: int | None = None,
        min_level: int = 0,
        limit: int = 1000,
        newest: bool = False,
    ) -> tuple[list[DescribeLog], bool]:
        """Up to ``limit`` log lines of a flow run in ``id`` order, and whether more match.

        ``after_id``/``before_id`` bound the ids (exclusive: tail-follow with the last id
        seen, page back with the first); ``newest`` takes the last ``limit`` lines instead of
        the first; ``min_level`` drops lower levels. Raises ``NotFound``.
        """
        with self._connect() as conn:
            return _run_pages.read_log_page(
                conn,
                flow_run_id,
                task_run_id=task_run_id,
                after_id=after_id,
                before_id=before_id,
                min_level=min_level,
                limit=limit,
                newest=newest,
            )

    def count_task_runs(self, flow_run_id: str) -> int:
        """How many task runs a flow run has (0 for an unknown run)."""
        with self._connect() as conn:
            return _run_pages.count_task_runs(conn, flow_run_id)

    def read_task_groups(self, flow_run_id: str) -> DescribeTaskGroups:
        """The run graph aggregated in SQL: one group per task key (counts by state name),
        edges between groups. Raises ``NotFound``."""
        with self._connect() as conn:
            return _run_pages.read_task_groups(conn, flow_run_id)

    def read_flows(self) -> list[DescribeFlow]:
        """Every flow that has run, by name."""
        with self._connect() as conn:
            return self._all(conn, DescribeFlow, select(flow_t).order_by(flow_t.c.name))

    # -- task runs, states, logs ------------------------------------------------------------

    def read_task_runs(self, flow_run_id: str) -> list[DescribeTaskRun]:
        """The task runs of a flow run, in order of creation."""
        with self._connect() as conn:
            return self._task_runs(conn, flow_run_id)

    def read_task_run(self, task_run_id: str) -> DescribeTaskRun:
        """One task run; raises ``NotFound``."""
        with self._connect() as conn:
            query = select(task_run_t).where(task_run_t.c.id == task_run_id)
            found = self._all(conn, DescribeTaskRun, query)
        if not found:
            raise NotFound(f"no task run with id {task_run_id!r}")
        return found[0]

    def read_states(self, run_id: str) -> list[DescribeState]:
        """Every state of a flow or task run, oldest first."""
        with self._connect() as conn:
            return self._states(conn, run_id)

    def read_logs(self, flow_run_id: str, task_run_id: str | None = None) -> list[DescribeLog]:
        """The log lines of a flow run (or of one of its task runs), oldest first."""
        with self._connect() as conn:
            return self._logs(conn, flow_run_id, task_run_id)

    def read_result_record(self, key: str) -> DescribeResultRecord:
        """Where the result stored under ``key`` lives; raises ``NotFound``."""
        with self._connect() as conn:
            query = select(result_t).where(result_t.c.key == key)
            found = self._all(conn, DescribeResultRecord, query)
        if not found:
            raise NotFound(f"no result record with key {key!r}")
        return found[0]

    def _task_runs(self, conn: Connection, flow_run_id: str) -> list[DescribeTaskRun]:
        return _run_pages.list_task_runs(conn, flow_run_id)

    def _states(self, conn: Connection, run_id: str) -> list[DescribeState]:
        query = select(state_t).where(state_t.c.run_id == run_id).order_by(state_t.c.id)
        return self._all(conn, DescribeState, query)

    def _logs(
        self, conn: Connection, flow_run_id: str, task_run_id: str | None
    ) -> list[DescribeLog]:
        if task_run_id is None:
            where = log_t.c.flow_run_id == flow_run_id
        else:
            where = and_(log_t.c.flow_run_id == flow_run_id, log_t.c.task_run_id == task_run_id)
        query = select(log_t).where(where).order_by(log_t.c.timestamp, log_t.c.id)
        return self._all(conn, DescribeLog, query)

    def _edges(self, conn: Connection, flow_run_id: str) -> list[DescribeEdge]:
        return _run_pages.list_edges(conn, flow_run_id)

    # -- graph ------------------------------------------------------------------------------

    def flow_run_graph(self, flow_run_id: str) -> nx.DiGraph[str]:
        """The run graph: task run ids as nodes, edges upstream -> downstream.

        Node attributes: ``name, task_name, state_type, state_name, start, end, run_count``;
        edge attributes: ``kind`` (``"data"``/``"wait_for"``) and ``parameter``.
        Raises ``NotFound`` for an unknown flow run.
        """
        with self._connect() as conn:
            query = select(flow_run_t.c.id, flow_run_t.c.name).where(flow_run_t.c.id == flow_run_id)
            flow_run = conn.execute(query).first()
            if flow_run is None:
                raise NotFound(f"no flow run with id {flow_run_id!r}")
            task_runs = self._task_runs(conn, flow_run_id)
            edges = self._edges(conn, flow_run_id)
        return build_run_graph(flow_run_id, flow_run.name, task_runs, edges)
