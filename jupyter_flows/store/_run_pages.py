"""The SQL of the bounded reads of one flow run: its detail, pages of task runs and logs,
and its graph aggregated by task.

Every query here is bounded by a ``LIMIT`` or a ``GROUP BY`` over indexed columns, so what
one call reads and returns does not grow with the size of the run.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, Table, and_, func, or_, select
from sqlalchemy.engine import Connection
from sqlmodel import SQLModel

from jupyter_flows.exceptions import NotFound

from . import models as _models
from .schemas import (
    DescribeEdge,
    DescribeFlowRunDetail,
    DescribeLog,
    DescribeState,
    DescribeTaskGroup,
    DescribeTaskGroupEdge,
    DescribeTaskGroups,
    DescribeTaskRun,
    ListTaskRunsQuery,
    ListTaskRunsResponse,
)

__all__ = [
    "DETAIL_TASK_RUNS",
    "flow_run_row",
    "list_task_runs",
    "list_edges",
    "read_detail",
    "read_task_run_page",
    "read_log_page",
    "read_task_groups",
    "count_task_runs",
]

logger = logging.getLogger(__name__)

#: the detail lists the task runs of a run with at most this many
DETAIL_TASK_RUNS = 100

_tables = SQLModel.metadata.tables
assert _models.TABLE_NAMES  # the tables are registered by importing models
flow_run_t: Table = _tables["flow_run"]
task_run_t: Table = _tables["task_run"]
input_t: Table = _tables["task_run_input"]
state_t: Table = _tables["run_state"]
log_t: Table = _tables["run_log"]


def flow_run_row(conn: Connection, flow_run_id: str) -> dict[str, Any]:
    """The ``flow_run`` row as a dict; raises ``NotFound``."""
    found = conn.execute(select(flow_run_t).where(flow_run_t.c.id == flow_run_id))
    row = found.mappings().first()
    if row is None:
        raise NotFound(f"no flow run with id {flow_run_id!r}")
    return dict(row)


def _task_runs_of(flow_run_id: str) -> ColumnElement[bool]:
    return task_run_t.c.flow_run_id == flow_run_id


def count_task_runs(conn: Connection, flow_run_id: str) -> int:
    query = select(func.count()).select_from(task_run_t).where(_task_runs_of(flow_run_id))
    return int(conn.execute(query).scalar_one())


def list_task_runs(conn: Connection, flow_run_id: str) -> list[DescribeTaskRun]:
    """Every task run of a flow run, in order of creation."""
    query = (
        select(task_run_t)
        .where(_task_runs_of(flow_run_id))
        .order_by(task_run_t.c.created, task_run_t.c.id)
    )
    return [DescribeTaskRun.model_validate(dict(r)) for r in conn.execute(query).mappings()]


def list_edges(conn: Connection, flow_run_id: str) -> list[DescribeEdge]:
    """The edges into the task runs of a flow run, in order of recording."""
    downstream = task_run_t.alias("downstream")
    query = (
        select(
            input_t.c.upstream_id,
            input_t.c.task_run_id.label("downstream_id"),
            input_t.c.kind,
            input_t.c.parameter,
        )
        .join(downstream, downstream.c.id == input_t.c.task_run_id)
        .where(downstream.c.flow_run_id == flow_run_id)
        .order_by(input_t.c.id)
    )
    return [DescribeEdge.model_validate(dict(r)) for r in conn.execute(query).mappings()]


def read_detail(conn: Connection, flow_run_id: str) -> DescribeFlowRunDetail:
    """The run, its own states, its task runs counted by state type (and listed while
    there are at most ``DETAIL_TASK_RUNS``), its log lines counted."""
    data = flow_run_row(conn, flow_run_id)
    own = (
        select(state_t)
        .where(and_(state_t.c.run_id == flow_run_id, state_t.c.run_kind == "flow"))
        .order_by(state_t.c.id)
    )
    data["states"] = [DescribeState.model_validate(dict(r)) for r in conn.execute(own).mappings()]
    by_type = conn.execute(
        select(task_run_t.c.state_type, func.count())
        .where(_task_runs_of(flow_run_id))
        .group_by(task_run_t.c.state_type)
    )
    counts = {str(type_ or "NONE"): int(n) for type_, n in by_type}
    total = sum(counts.values())
    logs = select(func.count()).select_from(log_t).where(log_t.c.flow_run_id == flow_run_id)
    small = total <= DETAIL_TASK_RUNS
    data.update(
        task_run_counts=counts,
        task_run_total=total,
        log_total=int(conn.execute(logs).scalar_one()),
        task_runs_complete=small,
        task_runs=list_task_runs(conn, flow_run_id) if small else [],
        edges=list_edges(conn, flow_run_id) if small else [],
    )
    return DescribeFlowRunDetail.model_validate(data)


def _state_filter(column_type: Any, column_name: Any, states: Sequence[str]) -> Any:
    """A state type or name, any case."""
    return or_(
        column_type.in_([s.upper() for s in states]),
        func.lower(column_name).in_([s.lower() for s in states]),
    )


def read_task_run_page(
    conn: Connection, flow_run_id: str, query: ListTaskRunsQuery
) -> ListTaskRunsResponse:
    """One page of the run's task runs (creation order), their total, maybe their states."""
    flow_run_row(conn, flow_run_id)  # NotFound for an unknown run
    c = task_run_t.c
    where = [_task_runs_of(flow_run_id)]
    if query.state:
        where.append(_state_filter(c.state_type, c.state_name, query.state))
    if query.task_key is not None:
        where.append(c.task_key == query.task_key)
    total = conn.execute(select(func.count()).select_from(task_run_t).where(*where)).scalar_one()
    page = (
        select(task_run_t)
        .where(*where)
        .order_by(c.created, c.id)
        .limit(query.limit)
        .offset(query.offset)
    )
    items = [DescribeTaskRun.model_validate(dict(r)) for r in conn.execute(page).mappings()]
    states: list[DescribeState] = []
    if query.with_states and items:
        history = (
            select(state_t)
            .where(state_t.c.run_id.in_([t.id for t in items]))
            .order_by(state_t.c.id)
        )
        states = [DescribeState.model_validate(dict(r)) for r in conn.execute(history).mappings()]
    return ListTaskRunsResponse(
        items=items, total=int(total), limit=query.limit, offset=query.offset, states=states
    )


def read_log_page(
    conn: Connection,
    flow_run_id: str,
    *,
    task_run_id: str | None = None,
    after_id: int = 0,
    before_id: int | None = None,
    min_level: int = 0,
    limit: int = 1000,
    newest: bool = False,
) -> tuple[list[DescribeLog], bool]:
    """Up to ``limit`` log lines in ``id`` order, and whether more match beyond them.

    ``after_id``/``before_id`` bound the ids (exclusive); ``newest`` takes the last
    ``limit`` matching lines instead of the first (still returned oldest first).
    """
    flow_run_row(conn, flow_run_id)  # NotFound for an unknown run
    c = log_t.c
    where = [c.flow_run_id == flow_run_id]
    if task_run_id is not None:
        where.append(c.task_run_id == task_run_id)
    if after_id:
        where.append(c.id > after_id)
    if before_id is not None:
        where.append(c.id < before_id)
    if min_level:
        where.append(c.level >= min_level)
    order = c.id.desc() if newest else c.id
    query = select(log_t).where(*where).order_by(order).limit(limit + 1)
    rows = [DescribeLog.model_validate(dict(r)) for r in conn.execute(query).mappings()]
    more = len(rows) > limit
    rows = rows[:limit]
    if newest:
        rows.reverse()
    return rows, more


def read_task_groups(conn: Connection, flow_run_id: str) -> DescribeTaskGroups:
    """The run's task runs grouped by task key (counts by state name) and the edges
    between the groups, in two ``GROUP BY`` queries."""
    run = flow_run_row(conn, flow_run_id)
    c = task_run_t.c
    rows = conn.execute(
        select(c.task_key, func.min(c.task_name), c.state_name, func.count(), func.min(c.created))
        .where(_task_runs_of(flow_run_id))
        .group_by(c.task_key, c.state_name)
    )
    groups: dict[str, dict[str, Any]] = {}
    for task_key, task_name, state_name, n, created in rows:
        group = groups.setdefault(
            task_key,
            {"task_key": task_key, "task_name": task_name, "count": 0, "states": {},
             "first_created": created},
        )  # fmt: skip
        group["count"] += n
        name = state_name or "Pending"
        group["states"][name] = group["states"].get(name, 0) + n
        group["first_created"] = min(group["first_created"], created)
    up = task_run_t.alias("up")
    down = task_run_t.alias("down")
    pairs = conn.execute(
        select(up.c.task_key, down.c.task_key, func.count())
        .select_from(input_t)
        .join(down, down.c.id == input_t.c.task_run_id)
        .join(up, up.c.id == input_t.c.upstream_id)
        .where(down.c.flow_run_id == flow_run_id)
        .group_by(up.c.task_key, down.c.task_key)
    )
    edges = [
        DescribeTaskGroupEdge(upstream_key=u, downstream_key=d, count=int(n))
        for u, d, n in pairs
        if u in groups and d in groups
    ]
    ordered = sorted(groups.values(), key=lambda g: (g["first_created"], g["task_key"]))
    return DescribeTaskGroups(
        flow_run_id=flow_run_id,
        name=run["name"],
        groups=[DescribeTaskGroup.model_validate(g) for g in ordered],
        edges=edges,
    )
