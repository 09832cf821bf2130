"""Deleting flow runs with everything of theirs: subflow runs, task runs, edges, states, logs,
artifacts, uploaded output notebooks.

Result records stay: a result may be another run's cache hit (they expire on their own).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlalchemy import delete, select
from sqlalchemy.engine import Connection

from .models import (
    ArtifactRecord,
    FlowRunRecord,
    RunLogRecord,
    RunOutputRecord,
    RunStateRecord,
    TaskRunInputRecord,
    TaskRunRecord,
)

__all__ = ["delete_flow_runs", "with_subflow_runs"]

_FLOW_RUN = FlowRunRecord.__table__  # type: ignore[attr-defined]
_TASK_RUN = TaskRunRecord.__table__  # type: ignore[attr-defined]
_INPUT = TaskRunInputRecord.__table__  # type: ignore[attr-defined]
_STATE = RunStateRecord.__table__  # type: ignore[attr-defined]
_LOG = RunLogRecord.__table__  # type: ignore[attr-defined]
_ARTIFACT = ArtifactRecord.__table__  # type: ignore[attr-defined]
_OUTPUT = RunOutputRecord.__table__  # type: ignore[attr-defined]
_CHUNK = 500


def _chunks(ids: Sequence[str]) -> Iterable[list[str]]:
    for i in range(0, len(ids), _CHUNK):
        yield list(ids[i : i + _CHUNK])


def with_subflow_runs(conn: Connection, run_ids: Iterable[str]) -> list[str]:
    """``run_ids`` and, recursively, the subflow runs under them."""
    found: list[str] = []
    seen: set[str] = set()
    level = [r for r in dict.fromkeys(run_ids) if r not in seen]
    while level:
        found.extend(level)
        seen.update(level)
        children: list[str] = []
        for chunk in _chunks(level):
            rows = conn.execute(
                select(_FLOW_RUN.c.id).where(_FLOW_RUN.c.parent_flow_run_id.in_(chunk))
            )
            children.extend(r[0] for r in rows if r[0] not in seen)
        level = children
    return found


def delete_flow_runs(conn: Connection, run_ids: Iterable[str]) -> int:
    """Delete the flow runs, their subflow runs and all their rows; the flow runs deleted."""
    flow_ids = with_subflow_runs(conn, run_ids)
    deleted = 0
    for chunk in _chunks(flow_ids):
        task_ids = [
            r[0]
            for r in conn.execute(select(_TASK_RUN.c.id).where(_TASK_RUN.c.flow_run_id.in_(chunk)))
        ]
        for tasks in _chunks(task_ids):
            conn.execute(delete(_INPUT).where(_INPUT.c.task_run_id.in_(tasks)))
            conn.execute(delete(_STATE).where(_STATE.c.run_id.in_(tasks)))
            conn.execute(delete(_LOG).where(_LOG.c.task_run_id.in_(tasks)))
        conn.execute(delete(_STATE).where(_STATE.c.run_id.in_(chunk)))
        conn.execute(delete(_LOG).where(_LOG.c.flow_run_id.in_(chunk)))
        conn.execute(delete(_ARTIFACT).where(_ARTIFACT.c.flow_run_id.in_(chunk)))
        conn.execute(delete(_OUTPUT).where(_OUTPUT.c.flow_run_id.in_(chunk)))
        conn.execute(delete(_TASK_RUN).where(_TASK_RUN.c.flow_run_id.in_(chunk)))
        deleted += int(conn.execute(delete(_FLOW_RUN).where(_FLOW_RUN.c.id.in_(chunk))).rowcount)
    return deleted
