"""Pages of background task runs (``Task.delay``): what the REST API and the CLI list."""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.engine import Engine

from .background import QUEUE, TASK_RUN
from .schemas import (
    DescribeBackgroundTaskRun,
    ListBackgroundTaskRunsQuery,
    ListBackgroundTaskRunsResponse,
)

__all__ = ["read_background_task_runs", "read_background_task_run"]


def _filters(query: ListBackgroundTaskRunsQuery) -> list[Any]:
    where: list[Any] = []
    if query.state:
        wanted = [s.upper() for s in query.state]
        where.append(
            or_(TASK_RUN.c.state_type.in_(wanted), func.upper(TASK_RUN.c.state_name).in_(wanted))
        )
    if query.task_name:
        where.append(TASK_RUN.c.task_name == query.task_name)
    return where


_JOINED = TASK_RUN.join(QUEUE, QUEUE.c.task_run_id == TASK_RUN.c.id)


def _select() -> Any:
    return select(
        TASK_RUN,
        QUEUE.c.parameters,
        QUEUE.c.parameters_location,
        QUEUE.c.origin_flow_run_id,
        QUEUE.c.worker,
        QUEUE.c.claims,
        QUEUE.c.lease_expires,
    ).select_from(_JOINED)


def _item(row: Any) -> DescribeBackgroundTaskRun:
    return DescribeBackgroundTaskRun.model_validate(
        {**row, "parameters_pickled": row["parameters_location"] is not None}
    )


def read_background_task_run(engine: Engine, task_run_id: str) -> DescribeBackgroundTaskRun | None:
    """One background task run, or None."""
    with engine.connect() as conn:
        row = conn.execute(_select().where(TASK_RUN.c.id == task_run_id)).mappings().first()
    return None if row is None else _item(row)


def read_background_task_runs(
    engine: Engine, query: ListBackgroundTaskRunsQuery
) -> ListBackgroundTaskRunsResponse:
    """One page of background task runs, newest first."""
    where = _filters(query)
    joined = _JOINED
    rows_q = (
        _select()
        .where(and_(True, *where))
        .order_by(TASK_RUN.c.created.desc(), TASK_RUN.c.id.desc())
        .limit(query.limit)
        .offset(query.offset)
    )
    count_q = select(func.count()).select_from(joined).where(and_(True, *where))
    with engine.connect() as conn:
        rows = conn.execute(rows_q).mappings().all()
        total = int(conn.execute(count_q).scalar() or 0)
    items = [_item(row) for row in rows]
    return ListBackgroundTaskRunsResponse(
        items=items, total=total, limit=query.limit, offset=query.offset
    )
