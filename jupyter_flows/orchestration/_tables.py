"""Tables, state groups and the state-history insert shared by the service's modules."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.engine import Connection, Engine

from ..exceptions import NotFound
from ..store.models import FlowRunRecord, RunLogRecord, RunStateRecord
from ..store.orchestration_models import (
    AutomationRecord,
    CursorRecord,
    DeploymentRecord,
    EventRecord,
    WorkerRecord,
    WorkPoolRecord,
)

__all__ = [
    "FLOW_RUN",
    "STATE",
    "LOG",
    "DEPLOYMENT",
    "POOL",
    "WORKER",
    "EVENT",
    "AUTOMATION",
    "CURSOR",
    "FINAL",
    "ACTIVE",
    "TRANSITIONS",
    "now",
    "record_state",
    "find_by_id_or_name",
]

FLOW_RUN = FlowRunRecord.__table__  # type: ignore[attr-defined]
STATE = RunStateRecord.__table__  # type: ignore[attr-defined]
LOG = RunLogRecord.__table__  # type: ignore[attr-defined]
DEPLOYMENT = DeploymentRecord.__table__  # type: ignore[attr-defined]
POOL = WorkPoolRecord.__table__  # type: ignore[attr-defined]
WORKER = WorkerRecord.__table__  # type: ignore[attr-defined]
EVENT = EventRecord.__table__  # type: ignore[attr-defined]
AUTOMATION = AutomationRecord.__table__  # type: ignore[attr-defined]
CURSOR = CursorRecord.__table__  # type: ignore[attr-defined]

FINAL = ("COMPLETED", "FAILED", "CANCELLED", "CRASHED")
ACTIVE = ("PENDING", "RUNNING", "CANCELLING")
#: The states a worker may report, by the run's current state (final states have none).
TRANSITIONS: dict[str | None, set[str]] = {
    None: {"PENDING", "RUNNING", *FINAL},
    "SCHEDULED": {"PENDING", "RUNNING", "CANCELLED", "CRASHED", "FAILED"},
    "PENDING": {"PENDING", "RUNNING", *FINAL},
    "RUNNING": {"RUNNING", *FINAL},
    "PAUSED": {"RUNNING", *FINAL},
    "CANCELLING": set(FINAL),
}


def now() -> datetime:
    return datetime.now(timezone.utc)


def record_state(
    conn: Connection, run_id: str, type_: str, name: str, message: str | None, at: datetime
) -> None:
    """Append one row to the flow run's state history."""
    conn.execute(
        insert(STATE).values(
            run_id=run_id,
            run_kind="flow",
            flow_run_id=run_id,
            type=type_,
            name=name,
            timestamp=at,
            message=message,
        )
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
