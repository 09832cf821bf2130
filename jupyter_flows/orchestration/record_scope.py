"""Which flow runs posted records touch, and whether a scoped token may touch them.

A run's token may record its own flow run and what runs under it (its task runs, its
subflow runs and theirs); a worker's token, the runs it claimed and what runs under them.
Records are ``record_codec`` items (``{"op", "info"}`` or ``{"op": "set_state", ...}``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Connection, Engine

from ._tables import FLOW_RUN, TASK_RUN

__all__ = ["foreign_records"]


def foreign_records(
    engine: Engine,
    items: Sequence[Any],
    *,
    root_run: str | None = None,
    worker: str | None = None,
) -> list[str]:
    """Where the items leave the scope (``root_run`` and what runs under it, or the runs of
    ``worker`` and what runs under them): ``["items[3]: flow run X is not ..."]``."""
    new_flows: dict[str, str | None] = {}  # flow runs created in this batch -> parent
    new_tasks: dict[str, str | None] = {}  # task runs created in this batch -> flow run
    for item in items:
        info = item.get("info") if isinstance(item, dict) else None
        if not isinstance(info, dict):
            continue
        if item.get("op") == "flow_run_created" and isinstance(info.get("id"), str):
            new_flows[info["id"]] = info.get("parent_flow_run_id")
        elif item.get("op") == "task_run_created" and isinstance(info.get("id"), str):
            new_tasks[info["id"]] = info.get("flow_run_id")
    problems: list[str] = []
    with engine.connect() as conn:
        scope = _Scope(conn, new_flows, root_run, worker)
        for i, item in enumerate(items):
            flow_run = scope.flow_run_of(item, new_tasks)
            if flow_run is None or not scope.allows(flow_run):
                what = f"flow run {flow_run}" if flow_run else "a run outside any flow run"
                problems.append(f"items[{i}]: {what} is not this token's to record")
    return problems


class _Scope:
    def __init__(
        self,
        conn: Connection,
        new_flows: dict[str, str | None],
        root_run: str | None,
        worker: str | None,
    ):
        self.conn, self.new_flows = conn, new_flows
        self.root_run, self.worker = root_run, worker
        self.known: dict[str, bool] = {}

    def flow_run_of(self, item: Any, new_tasks: dict[str, str | None]) -> str | None:
        if not isinstance(item, dict):
            return None
        raw = item.get("info")
        info: dict[str, Any] = raw if isinstance(raw, dict) else {}
        op = item.get("op")
        if op == "flow_run_created":
            return _str(info.get("id"))
        if op in ("task_run_created", "log", "result_stored", "artifact_saved"):
            return _str(info.get("flow_run_id"))
        if op == "set_state":
            run_id = _str(item.get("run_id"))
            if run_id is None or item.get("kind") != "task":
                return run_id
            if run_id in new_tasks:
                return _str(new_tasks[run_id])
            found = self.conn.execute(
                select(TASK_RUN.c.flow_run_id).where(TASK_RUN.c.id == run_id)
            ).scalar()
            return _str(found)
        return None

    def allows(self, flow_run: str, depth: int = 0) -> bool:
        if flow_run in self.known:
            return self.known[flow_run]
        if depth > 100:  # a parent chain that deep (or a cycle): not ours
            return False
        row = self.conn.execute(
            select(FLOW_RUN.c.parent_flow_run_id, FLOW_RUN.c.worker).where(
                FLOW_RUN.c.id == flow_run
            )
        ).first()
        if row is not None:
            parent, owner = row[0], row[1]
        elif flow_run in self.new_flows:
            parent, owner = self.new_flows[flow_run], None
        else:
            parent, owner = None, None
        if self.root_run is not None:
            allowed = flow_run == self.root_run
        else:
            allowed = row is not None and owner is not None and owner == self.worker
        if not allowed and parent:
            allowed = self.allows(parent, depth + 1)
        self.known[flow_run] = allowed
        return allowed


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None
