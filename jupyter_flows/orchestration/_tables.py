"""Tables, state groups and the state-history insert shared by the service's modules."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.engine import Connection, Engine

from ..core import state_policy
from ..exceptions import NotFound
from ..store.models import (
    FlowRunRecord,
    ResultRecord,
    RunLogRecord,
    RunStateRecord,
    TaskRunRecord,
)
from ..store.orchestration_models import (
    AutomationActionRecord,
    AutomationRecord,
    BlockDocumentRecord,
    ConcurrencyLeaseRecord,
    ConcurrencyLimitRecord,
    CursorRecord,
    DeploymentRecord,
    EventRecord,
    ServerKeyRecord,
    SourceBundleRecord,
    VariableRecord,
    WorkerRecord,
    WorkPoolRecord,
)

__all__ = [
    "FLOW_RUN",
    "TASK_RUN",
    "STATE",
    "LOG",
    "RESULT",
    "DEPLOYMENT",
    "POOL",
    "WORKER",
    "EVENT",
    "AUTOMATION",
    "AUTOMATION_ACTION",
    "CURSOR",
    "SERVER_KEY",
    "VARIABLE",
    "CONCURRENCY_LIMIT",
    "CONCURRENCY_LEASE",
    "BLOCK_DOCUMENT",
    "SOURCE_BUNDLE",
    "FINAL",
    "ACTIVE",
    "now",
    "record_state",
    "state_row",
    "find_by_id_or_name",
]

FLOW_RUN = FlowRunRecord.__table__  # type: ignore[attr-defined]
TASK_RUN = TaskRunRecord.__table__  # type: ignore[attr-defined]
STATE = RunStateRecord.__table__  # type: ignore[attr-defined]
LOG = RunLogRecord.__table__  # type: ignore[attr-defined]
RESULT = ResultRecord.__table__  # type: ignore[attr-defined]
DEPLOYMENT = DeploymentRecord.__table__  # type: ignore[attr-defined]
POOL = WorkPoolRecord.__table__  # type: ignore[attr-defined]
WORKER = WorkerRecord.__table__  # type: ignore[attr-defined]
EVENT = EventRecord.__table__  # type: ignore[attr-defined]
AUTOMATION = AutomationRecord.__table__  # type: ignore[attr-defined]
AUTOMATION_ACTION = AutomationActionRecord.__table__  # type: ignore[attr-defined]
CURSOR = CursorRecord.__table__  # type: ignore[attr-defined]
SERVER_KEY = ServerKeyRecord.__table__  # type: ignore[attr-defined]
VARIABLE = VariableRecord.__table__  # type: ignore[attr-defined]
CONCURRENCY_LIMIT = ConcurrencyLimitRecord.__table__  # type: ignore[attr-defined]
CONCURRENCY_LEASE = ConcurrencyLeaseRecord.__table__  # type: ignore[attr-defined]
BLOCK_DOCUMENT = BlockDocumentRecord.__table__  # type: ignore[attr-defined]
SOURCE_BUNDLE = SourceBundleRecord.__table__  # type: ignore[attr-defined]

#: The state groups of ``core.state_policy``, as the strings stored in the tables.
FINAL = tuple(sorted(state_policy.FINAL_VALUES))
ACTIVE = tuple(sorted(t.value for t in state_policy.ACTIVE))


def now() -> datetime:
    return datetime.now(timezone.utc)


def state_row(
    run_id: str,
    kind: str,
    flow_run_id: str | None,
    type_: str,
    name: str,
    message: str | None,
    at: datetime,
) -> dict[str, Any]:
    """One row of the state history (of a flow run, or of a task run of ``flow_run_id``)."""
    return {
        "run_id": run_id,
        "run_kind": kind,
        "flow_run_id": flow_run_id,
        "type": type_,
        "name": name,
        "timestamp": at,
        "message": message,
    }


def record_state(
    conn: Connection, run_id: str, type_: str, name: str, message: str | None, at: datetime
) -> None:
    """Append one row to the flow run's state history."""
    conn.execute(
        insert(STATE).values(**state_row(run_id, "flow", run_id, type_, name, message, at))
    )


def find_by_id_or_name(engine: Engine, table: Any, id_or_name: str, what: str) -> Any:
    """The row of ``table`` whose id or name is ``id_or_name``; ``NotFound`` naming ``what``."""
    with engine.connect() as conn:
        found = (
            conn.execute(
                select(table).where((table.c.id == id_or_name) | (table.c.name == id_or_name))
            )
            .mappings()
            .first()
        )
    if found is None:
        raise NotFound(f"no {what} {id_or_name!r}")
    return found
