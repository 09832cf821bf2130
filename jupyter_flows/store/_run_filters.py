"""The SQL of the run list's filters (``RunStore.read_flow_runs``) and its subflow counts."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Table, and_, exists, func, literal, not_, or_, select
from sqlalchemy.engine import Connection

from .schemas import AUTO_SCHEDULED_TAG, ListFlowRunsQuery

__all__ = ["flow_run_filters", "subflow_counts"]


def flow_run_filters(
    conn: Connection, table: Table, query: ListFlowRunsQuery
) -> list[ColumnElement[bool]]:
    """The ``WHERE`` terms of ``query`` over the ``flow_run`` table."""
    c = table.c
    dialect = conn.dialect.name
    where: list[ColumnElement[bool]] = []
    if query.flow_name is not None:
        where.append(c.flow_name == query.flow_name)
    if query.state:
        where.append(
            or_(
                c.state_type.in_([s.upper() for s in query.state]),
                func.lower(c.state_name).in_([s.lower() for s in query.state]),
            )
        )
    if query.deployment_id is not None:
        where.append(c.deployment_id == query.deployment_id)
    if query.since is not None:
        where.append(c.created >= query.since)
    if query.until is not None:
        where.append(c.created < query.until)
    for tag in query.tags or ():
        where.append(has_tag(dialect, table, tag))
    if query.name:
        pattern = "%" + _escape_like(query.name.lower()) + "%"
        where.append(
            or_(
                func.lower(c.name).like(pattern, escape="\\"),
                func.lower(c.flow_name).like(pattern, escape="\\"),
            )
        )
    if query.parent_flow_run_id is not None:
        where.append(c.parent_flow_run_id == query.parent_flow_run_id)
    if query.top_level:
        where.append(c.parent_flow_run_id.is_(None))
    if query.kind:
        where.append(or_(*(_kind(dialect, table, kind) for kind in query.kind)))
    return where


def _kind(dialect: str, table: Table, kind: str) -> ColumnElement[bool]:
    """SQL for ``schemas.run_kind`` (keep the two in step)."""
    c = table.c
    if kind == "subflow":
        return c.parent_flow_run_id.is_not(None)
    top = c.parent_flow_run_id.is_(None)
    if kind == "interactive":
        return and_(top, c.deployment_id.is_(None))
    scheduled = has_tag(dialect, table, AUTO_SCHEDULED_TAG)
    return and_(
        top, c.deployment_id.is_not(None), scheduled if kind == "scheduled" else not_(scheduled)
    )


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def has_tag(dialect: str, table: Table, tag: str) -> ColumnElement[bool]:
    """``tag`` is one of the run's JSON ``tags``."""
    tags = table.c.tags
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import JSONB

        return tags.cast(JSONB).contains([tag])
    each = func.json_each(tags).table_valued("value")
    return exists(select(literal(1)).select_from(each).where(each.c.value == tag))


def subflow_counts(conn: Connection, table: Table, ids: list[str]) -> dict[str, Any]:
    """How many child flow runs each of ``ids`` has (one query on the parent index)."""
    if not ids:
        return {}
    c = table.c
    rows = conn.execute(
        select(c.parent_flow_run_id, func.count())
        .where(c.parent_flow_run_id.in_(ids))
        .group_by(c.parent_flow_run_id)
    )
    return {parent: count for parent, count in rows}
