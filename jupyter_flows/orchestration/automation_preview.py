"""What a draft automation's trigger would have fired on over the stored recent events.

The trigger is replayed with ``triggers.evaluate`` over the events of the window, oldest
first, from a freshly armed state; a Proactive trigger's windows are closed at the exact
time they end (before the next event, and at the end of the window). Nothing is written.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Engine

from ._tables import EVENT, now
from .automation_actions import run_tag
from .automation_schemas import AutomationFiring, PreviewAutomation, PreviewAutomationResponse
from .triggers import armed_state, evaluate

__all__ = ["preview_trigger", "MAX_PREVIEW_EVENTS"]

logger = logging.getLogger(__name__)

#: at most this many events (the newest of the window) are replayed
MAX_PREVIEW_EVENTS = 20_000


def _deadline(trigger: Any, state: dict[str, Any]) -> float | None:
    """When the earliest armed Proactive window of ``state`` ends (POSIX seconds)."""
    armed = [b["armed"] for b in state.values() if b.get("armed") is not None]
    if trigger.posture != "Proactive" or not armed:
        return None
    return float(min(armed)) + float(trigger.within_seconds)


def preview_trigger(
    engine: Engine, body: PreviewAutomation, at: datetime | None = None
) -> PreviewAutomationResponse:
    """The firings of ``body.trigger`` over the events of the ``body.hours`` before ``at``."""
    until = at or now()
    since = until - timedelta(hours=body.hours)
    query = (
        select(EVENT)
        .where(EVENT.c.occurred >= since, EVENT.c.occurred <= until)
        .order_by(EVENT.c.id.desc())
        .limit(MAX_PREVIEW_EVENTS + 1)
    )
    with engine.connect() as conn:
        rows = [dict(r) for r in conn.execute(query).mappings().all()]
    truncated = len(rows) > MAX_PREVIEW_EVENTS
    rows = sorted(rows[:MAX_PREVIEW_EVENTS], key=lambda r: (r["occurred"], r["id"]))
    trigger = body.trigger
    own_tag = run_tag(body.name or "")
    start = rows[0]["occurred"] if truncated else since
    state: Any = armed_state(trigger, start)
    firings: list[AutomationFiring] = []

    def close_windows(before: float) -> None:
        nonlocal state
        while (end := _deadline(trigger, state)) is not None and end <= before:
            when = datetime.fromtimestamp(end, tz=until.tzinfo)
            fired, state = evaluate(trigger, state, [], own_tag, when)
            firings.extend(_firing(f, when, trigger) for f in fired)

    for row in rows:
        close_windows(row["occurred"].timestamp())
        fired, state = evaluate(trigger, state, [row], own_tag, None)
        firings.extend(_firing(f, row["occurred"], trigger) for f in fired)
    close_windows(until.timestamp())
    return PreviewAutomationResponse(
        since=since, until=until, events_seen=len(rows), truncated=truncated, firings=firings
    )


def _reason(fact: dict[str, Any], trigger: Any) -> str:
    if "expected" in fact:  # a Proactive window ended
        return f"no {fact['expected']} within {fact['within_seconds']:g} s"
    if trigger.threshold == 1:
        return "matched"
    within = f" within {trigger.within_seconds:g} s" if trigger.within_seconds else ""
    return f"match number {trigger.threshold}{within}"


def _firing(fact: dict[str, Any], at: datetime, trigger: Any) -> AutomationFiring:
    return AutomationFiring(
        at=at,
        event_id=fact.get("event_id"),
        event=fact.get("event"),
        resource=fact.get("resource"),
        payload=fact.get("payload") or {},
        reason=_reason(fact, trigger),
    )
