"""Automations: "when events like this happen (or do not), do that".

A part of ``OrchestrationService``, over the event stream of ``events``. ``process_events``
turns new flow-run and task-run states into events, then matches every new event against
the enabled automations (``triggers``) and queues the actions they fire (``action_queue``);
its read position moves (compare-and-set) in the same transaction, so with several servers
on one database each event is handled once and each firing queued once. The actions are
done by ``automation_actions`` (here at once, on the server by its own action runner).
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import Connection

from ..core.records import new_id
from ..exceptions import Conflict
from . import action_queue as queue
from ._tables import AUTOMATION, AUTOMATION_ACTION, CURSOR, EVENT, find_by_id_or_name, now
from .automation_actions import AutomationActions, run_tag
from .automation_preview import preview_trigger
from .automation_schemas import (
    CreateAutomation,
    DescribeAutomation,
    EventTrigger,
    ListAutomationsResponse,
    PreviewAutomation,
    PreviewAutomationResponse,
    UpdateAutomation,
)
from .events import CursorMoved, Events
from .templates import fill_parameters
from .triggers import armed_state, evaluate, matches

__all__ = ["Automations", "matches", "fill_parameters"]

logger = logging.getLogger(__name__)


class Automations(AutomationActions, Events):
    """Automations over the event stream."""

    # ------------------------------------------------------------------ automations

    def create_automation(self, body: CreateAutomation) -> DescribeAutomation:
        self.check_action_targets(body.action)
        at = now()
        row: dict[str, Any] = {
            "id": new_id(),
            "name": body.name,
            "description": body.description,
            "enabled": body.enabled,
            "trigger": body.trigger.model_dump(mode="json"),
            "action": body.action.model_dump(mode="json"),
            "pending": armed_state(body.trigger, at),
            "fired_count": 0,
            "failed_actions": 0,
            "created": at,
            "updated": at,
        }
        try:
            with self.engine.begin() as conn:
                conn.execute(insert(AUTOMATION).values(**row))
        except sa_exc.IntegrityError:
            raise Conflict(f"an automation named {body.name!r} already exists") from None
        return self.read_automation(str(row["id"]))

    def _automation_row(self, id_or_name: str) -> Any:
        return find_by_id_or_name(self.engine, AUTOMATION, id_or_name, "automation")

    def read_automation(self, id_or_name: str) -> DescribeAutomation:
        return DescribeAutomation.model_validate(dict(self._automation_row(id_or_name)))

    def list_automations(self) -> ListAutomationsResponse:
        with self.engine.connect() as conn:
            rows = conn.execute(select(AUTOMATION).order_by(AUTOMATION.c.name)).mappings().all()
        return ListAutomationsResponse(
            items=[DescribeAutomation.model_validate(dict(r)) for r in rows]
        )

    def update_automation(self, id_or_name: str, body: UpdateAutomation) -> DescribeAutomation:
        """Change an automation; a new trigger, or enabling, arms it afresh."""
        row = self._automation_row(id_or_name)
        at = now()
        values: dict[str, Any] = {"updated": at}
        if body.action is not None:
            self.check_action_targets(body.action)
            values["action"] = body.action.model_dump(mode="json")
        trigger = EventTrigger.model_validate(row["trigger"])
        if body.trigger is not None:
            trigger = body.trigger
            values["trigger"] = trigger.model_dump(mode="json")
        if body.trigger is not None or body.enabled is not None:
            values["pending"] = armed_state(trigger, at)
        if body.enabled is not None:
            values["enabled"] = body.enabled
        if body.description is not None:
            values["description"] = body.description
        with self.engine.begin() as conn:
            conn.execute(update(AUTOMATION).where(AUTOMATION.c.id == row["id"]).values(**values))
        return self.read_automation(row["id"])

    def delete_automation(self, id_or_name: str) -> None:
        """Delete an automation and the actions it still had to do."""
        row = self._automation_row(id_or_name)
        with self.engine.begin() as conn:
            queued = AUTOMATION_ACTION.c.automation_id == row["id"]
            conn.execute(delete(AUTOMATION_ACTION).where(queued))
            conn.execute(delete(AUTOMATION).where(AUTOMATION.c.id == row["id"]))

    def preview_automation(
        self, body: PreviewAutomation, at: datetime | None = None
    ) -> PreviewAutomationResponse:
        """What a draft automation would have fired on over the recent events (writes
        nothing; an action, if given, has its targets checked)."""
        if body.action is not None:
            self.check_action_targets(body.action)
        return preview_trigger(self.engine, body, at)

    # ------------------------------------------------------------------ processing

    def process_events(
        self, limit: int = 500, at: datetime | None = None, run_actions: bool = True
    ) -> int:
        """Turn new run states into events, match them, and queue the actions they fire.

        ``at``: the time Proactive triggers' windows are judged at (default: now).
        ``run_actions``: also do the due actions now (the server runs them on its own).
        Returns how many events were looked at (call again while it returns ``limit``).
        """
        self._derive_run_events(limit)
        try:
            seen = self._match_events(limit, at)
        except CursorMoved:
            seen = 0
        if run_actions:
            while self.run_due_actions() == 50:
                pass
        return seen

    def _match_events(self, limit: int, at: datetime | None) -> int:
        with self.engine.begin() as conn:
            start = self._position(conn, "event", EVENT)
            _lock_cursor(conn, "event")
            events = (
                conn.execute(
                    select(EVENT).where(EVENT.c.id > start).order_by(EVENT.c.id).limit(limit)
                )
                .mappings()
                .all()
            )
            automations = (
                conn.execute(select(AUTOMATION).where(AUTOMATION.c.enabled.is_(True)))
                .mappings()
                .all()
            )
            caught_up = len(events) < limit  # a window is judged once all before it is read
            when = (at or now()) if caught_up else None
            for automation in automations:
                self._evaluate(conn, automation, events, when)
            if events and not self._advance(conn, "event", start, int(events[-1]["id"])):
                raise CursorMoved
        return len(events)

    def _evaluate(
        self, conn: Connection, automation: Any, events: Any, at: datetime | None
    ) -> None:
        """Queue the actions ``automation`` fires on ``events``; its state and counts saved."""
        trigger = EventTrigger.model_validate(automation["trigger"])
        if not events and trigger.posture != "Proactive":
            return
        own_tag = run_tag(automation["name"])
        fired, state = evaluate(trigger, automation["pending"], events, own_tag, at)
        for cause in fired:
            queue.enqueue(conn, automation, dict(automation["action"]), cause)
        if fired or state != (automation["pending"] or {}):
            values: dict[str, Any] = {"pending": state}
            if fired:
                values["fired_count"] = automation["fired_count"] + len(fired)
                values["last_fired"] = now()
            conn.execute(
                update(AUTOMATION).where(AUTOMATION.c.id == automation["id"]).values(**values)
            )


def _lock_cursor(conn: Connection, name: str) -> None:
    """Serialise readers of the events until this transaction ends (on SQLite, the write
    lock its ``BEGIN IMMEDIATE`` took already does): a Proactive window fires once."""
    if conn.dialect.name == "postgresql":
        conn.execute(select(CURSOR.c.position).where(CURSOR.c.name == name).with_for_update())
