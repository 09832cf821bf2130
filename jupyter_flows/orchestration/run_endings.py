"""What ends with a flow run: its unfinished task runs and subflow runs.

When the server ends a flow run (a cancel, a crash detected from missing heartbeats, a run
process that died), nothing of it may stay Running: every task run and subflow run of it
that has not ended ends with it, in the same transaction, with a state in its history.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import and_, insert, or_, select, update
from sqlalchemy.engine import Connection

from ..core.state_policy import HELD, Decision, propose
from ..core.states import StateType
from ._tables import FLOW_RUN, STATE, TASK_RUN, state_row

__all__ = ["end_descendants", "ENDS_WITH"]

#: The state the unfinished parts of a flow run get when it ends in a state of this type.
ENDS_WITH: dict[str, tuple[str, str]] = {
    "CANCELLED": ("CANCELLED", "Cancelled"),
    "CRASHED": ("CRASHED", "Crashed"),
    "FAILED": ("CRASHED", "Crashed"),
    # a suspended run resumed: what was running stopped with its process (a worker runs the
    # flow again, and these tasks with it)
    "SUSPENDED": ("CANCELLED", "Cancelled"),
}
_HELD = tuple(t.value for t in HELD)


def _unfinished(column: Any) -> Any:
    return or_(column.is_(None), column.in_(_HELD))


def _allowed(rows: Any, type_: str, name: str) -> list[Any]:
    """The rows (id, ..., state type, state name) the state policy lets enter ``type_``."""
    wanted = StateType(type_)
    return [
        r
        for r in rows
        if propose(StateType(r[-2]) if r[-2] else None, wanted, r[-1], name).decision
        is Decision.ACCEPT
    ]


def end_descendants(
    conn: Connection, flow_run_id: str, final_type: str, message: str, at: datetime
) -> int:
    """End the unfinished task and subflow runs under ``flow_run_id`` (each as the state
    policy allows); how many ended."""
    ending = ENDS_WITH.get(final_type)
    if ending is None:
        return 0
    type_, name = ending
    flow_runs, frontier = [flow_run_id], [flow_run_id]
    while frontier:  # subflows, level by level
        rows = conn.execute(
            select(FLOW_RUN.c.id, FLOW_RUN.c.state_type, FLOW_RUN.c.state_name).where(
                and_(
                    FLOW_RUN.c.parent_flow_run_id.in_(frontier),
                    _unfinished(FLOW_RUN.c.state_type),
                )
            )
        ).all()
        children = [r[0] for r in _allowed(rows, type_, name)]
        flow_runs.extend(children)
        frontier = children
    ended = 0
    history: list[dict[str, Any]] = []
    values = {"state_type": type_, "state_name": name, "state_message": message, "end_time": at}
    for subflow in flow_runs[1:]:
        ended += conn.execute(
            update(FLOW_RUN)
            .where(and_(FLOW_RUN.c.id == subflow, _unfinished(FLOW_RUN.c.state_type)))
            .values(**values)
        ).rowcount
        history.append(state_row(subflow, "flow", subflow, type_, name, message, at))
    tasks = _allowed(
        conn.execute(
            select(
                TASK_RUN.c.id, TASK_RUN.c.flow_run_id, TASK_RUN.c.state_type, TASK_RUN.c.state_name
            ).where(and_(TASK_RUN.c.flow_run_id.in_(flow_runs), _unfinished(TASK_RUN.c.state_type)))
        ).all(),
        type_,
        name,
    )
    if tasks:
        ids = [t[0] for t in tasks]
        for i in range(0, len(ids), 500):
            ended += conn.execute(
                update(TASK_RUN)
                .where(
                    and_(TASK_RUN.c.id.in_(ids[i : i + 500]), _unfinished(TASK_RUN.c.state_type))
                )
                .values(**values)
            ).rowcount
        history.extend(state_row(t[0], "task", t[1], type_, name, message, at) for t in tasks)
    if history:
        conn.execute(insert(STATE), history)
    return ended
