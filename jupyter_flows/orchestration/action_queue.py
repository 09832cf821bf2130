"""The queue of automation actions to do: enqueue, claim, retry later, settle.

Rows of ``automation_action``. A claim is a conditional ``UPDATE ... WHERE attempts = n``
that moves ``due`` past a lease: with several servers on one database one of them wins each
attempt, and an attempt whose server died is taken again when its lease ends.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, delete, insert, select, update
from sqlalchemy.engine import Connection, Engine

from ._tables import AUTOMATION_ACTION, now

__all__ = ["QueuedAction", "enqueue", "claim", "retry_later", "remove", "backoff"]

_Q = AUTOMATION_ACTION


@dataclass(frozen=True)
class QueuedAction:
    """One claimed attempt at an action (``attempt`` counts from 1)."""

    id: int
    automation_id: str
    automation: str
    action: dict[str, Any]
    cause: dict[str, Any]
    attempt: int


def enqueue(
    conn: Connection, automation: Any, action: dict[str, Any], cause: dict[str, Any]
) -> None:
    """Queue the action of ``automation`` (a row), fired by ``cause``, due now."""
    at = now()
    conn.execute(
        insert(_Q).values(
            automation_id=automation["id"], automation=automation["name"], action=action,
            cause=cause, attempts=0, due=at, created=at,
        )
    )  # fmt: skip


def claim(engine: Engine, limit: int, lease_seconds: float) -> list[QueuedAction]:
    """Up to ``limit`` due actions, each leased to this caller for ``lease_seconds``."""
    at = now()
    with engine.begin() as conn:
        rows = (
            conn.execute(select(_Q).where(_Q.c.due <= at).order_by(_Q.c.due, _Q.c.id).limit(limit))
            .mappings()
            .all()
        )
        won = []
        for row in rows:
            taken = conn.execute(
                update(_Q)
                .where(and_(_Q.c.id == row["id"], _Q.c.attempts == row["attempts"]))
                .values(attempts=row["attempts"] + 1, due=at + timedelta(seconds=lease_seconds))
            ).rowcount
            if taken:
                won.append(
                    QueuedAction(
                        id=int(row["id"]), automation_id=row["automation_id"],
                        automation=row["automation"], action=dict(row["action"]),
                        cause=dict(row["cause"]), attempt=row["attempts"] + 1,
                    )
                )  # fmt: skip
    return won


def backoff(attempt: int, base_seconds: float) -> float:
    """Seconds to wait after failed attempt ``attempt``: ``base``, ``2 base``, ``4 base``..."""
    return float(base_seconds * 2 ** (attempt - 1))


def retry_later(conn: Connection, item: QueuedAction, due: datetime, error: str) -> None:
    conn.execute(update(_Q).where(_Q.c.id == item.id).values(due=due, last_error=error))


def remove(conn: Connection, item: QueuedAction) -> None:
    conn.execute(delete(_Q).where(_Q.c.id == item.id))
