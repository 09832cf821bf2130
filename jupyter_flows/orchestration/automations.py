"""Automations: "when events like this happen, run (or pause, resume) that deployment".

A part of ``OrchestrationService``, over the event stream of ``events``. ``process_events``
turns new flow-run states into events, then matches every new event against the enabled
automations; its read position moves (compare-and-set) before the actions run, so with
several servers on one database each event is handled once, and an action runs at most once.
"""

from __future__ import annotations

import fnmatch
import logging
import re
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import Connection, Engine

from ..core.records import new_id
from ..exceptions import Conflict, NotFound
from ..store.repository import RunStore
from ._tables import AUTOMATION, EVENT, find_by_id_or_name, now
from .events import CursorMoved, Events, insert_event
from .schemas import (
    AutomationAction,
    CreateAutomation,
    CreateDeploymentRun,
    DescribeAutomation,
    DescribeDeployment,
    EventTrigger,
    ListAutomationsResponse,
    UpdateAutomation,
    UpdateDeployment,
)

__all__ = ["Automations", "matches", "fill_parameters"]

logger = logging.getLogger(__name__)

#: events automations themselves cause; never matched (no automation loops). Nor are the
#: events of the runs an automation started matched by that same automation.
_OWN_EVENTS = "automation."


def _run_tag(automation: str) -> str:
    """The tag of the runs an automation starts (``automation:<name>``)."""
    return f"automation:{automation}"


_PLACEHOLDER = re.compile(r"\{\{\s*event\.([A-Za-z0-9_]+)\s*\}\}")


def matches(trigger: EventTrigger, event: str, payload: Mapping[str, Any]) -> bool:
    """Does an event named ``event`` with ``payload`` match ``trigger``?"""
    if event.startswith(_OWN_EVENTS) or not fnmatch.fnmatchcase(event, trigger.event):
        return False
    for key, wanted in trigger.match.items():
        value = payload.get(key)
        if isinstance(value, list) and not isinstance(wanted, list):
            if wanted not in value:
                return False
        elif value != wanted:
            return False
    return True


def fill_parameters(parameters: Mapping[str, Any], payload: Mapping[str, Any]) -> dict[str, Any]:
    """``parameters`` with ``{{ event.KEY }}`` placeholders filled from the event's payload.

    A value that is only a placeholder takes the payload value as it is (a number stays a
    number); placeholders inside a longer string are formatted into it.
    """
    filled = {}
    for name, value in parameters.items():
        if not isinstance(value, str) or "{{" not in value:
            filled[name] = value
            continue
        for key in _PLACEHOLDER.findall(value):
            if key not in payload:
                raise ValueError(f"parameter {name!r}: the event has no {key!r}")
        whole = _PLACEHOLDER.fullmatch(value.strip())
        if whole:
            filled[name] = payload[whole.group(1)]
        else:
            filled[name] = _PLACEHOLDER.sub(lambda m: str(payload[m.group(1)]), value)
    return filled


class Automations(Events):
    """Automations over the event stream."""

    engine: Engine
    runs: RunStore

    def read_deployment(self, id_or_name: str) -> DescribeDeployment:
        raise NotImplementedError

    def run_deployment(self, deployment_id: str, body: CreateDeploymentRun) -> Any:
        raise NotImplementedError

    def update_deployment(self, deployment_id: str, body: UpdateDeployment) -> Any:
        raise NotImplementedError

    # ------------------------------------------------------------------ automations

    def _check_action(self, action: AutomationAction) -> None:
        try:
            self.read_deployment(action.deployment)
        except NotFound:
            raise ValueError(f"action.deployment: no deployment {action.deployment!r}") from None

    def create_automation(self, body: CreateAutomation) -> DescribeAutomation:
        self._check_action(body.action)
        at = now()
        row: dict[str, Any] = {
            "id": new_id(),
            "name": body.name,
            "description": body.description,
            "enabled": body.enabled,
            "trigger": body.trigger.model_dump(mode="json"),
            "action": body.action.model_dump(mode="json"),
            "pending": [],
            "fired_count": 0,
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
        row = self._automation_row(id_or_name)
        values: dict[str, Any] = {"updated": now()}
        if body.action is not None:
            self._check_action(body.action)
            values["action"] = body.action.model_dump(mode="json")
        if body.trigger is not None:
            values["trigger"] = body.trigger.model_dump(mode="json")
            values["pending"] = []
        if body.enabled is not None:
            values["enabled"] = body.enabled
            values["pending"] = []
        if body.description is not None:
            values["description"] = body.description
        with self.engine.begin() as conn:
            conn.execute(update(AUTOMATION).where(AUTOMATION.c.id == row["id"]).values(**values))
        return self.read_automation(row["id"])

    def delete_automation(self, id_or_name: str) -> None:
        row = self._automation_row(id_or_name)
        with self.engine.begin() as conn:
            conn.execute(delete(AUTOMATION).where(AUTOMATION.c.id == row["id"]))

    # ------------------------------------------------------------------ processing

    def process_events(self, limit: int = 500) -> int:
        """Turn new flow-run states into events, then fire the automations they match.

        Returns how many events were looked at (call again while it returns ``limit``).
        """
        self._derive_run_events(limit)
        try:
            actions, seen = self._match_events(limit)
        except CursorMoved:
            return 0
        for automation, action, payload in actions:
            self._perform(automation, action, payload)
        return seen

    def _match_events(
        self, limit: int
    ) -> tuple[list[tuple[str, AutomationAction, dict[str, Any]]], int]:
        actions: list[tuple[str, AutomationAction, dict[str, Any]]] = []
        with self.engine.begin() as conn:
            start = self._position(conn, "event", EVENT)
            events = (
                conn.execute(
                    select(EVENT).where(EVENT.c.id > start).order_by(EVENT.c.id).limit(limit)
                )
                .mappings()
                .all()
            )
            if not events:
                return [], 0
            automations = (
                conn.execute(select(AUTOMATION).where(AUTOMATION.c.enabled.is_(True)))
                .mappings()
                .all()
            )
            for automation in automations:
                fired = self._evaluate(conn, automation, events)
                actions.extend(
                    (automation["name"], AutomationAction.model_validate(automation["action"]), p)
                    for p in fired
                )
            if not self._advance(conn, "event", start, int(events[-1]["id"])):
                raise CursorMoved
        return actions, len(events)

    def _evaluate(
        self, conn: Connection, automation: Any, events: Iterable[Any]
    ) -> list[dict[str, Any]]:
        """The payloads of the events that fire ``automation``; its counters updated."""
        trigger = EventTrigger.model_validate(automation["trigger"])
        pending = list(automation["pending"] or [])
        own_tag = _run_tag(automation["name"])
        fired: list[dict[str, Any]] = []
        last: datetime | None = None
        for event in events:
            if not matches(trigger, event["event"], event["payload"]):
                continue
            if own_tag in (event["payload"].get("tags") or []):
                continue  # a run this automation started: no self-triggering loops
            payload = {**event["payload"], "event": event["event"], "event_id": event["id"]}
            at: datetime = event["occurred"]
            pending.append(at.timestamp())
            if trigger.within_seconds is not None:
                pending = [t for t in pending if t > at.timestamp() - trigger.within_seconds]
            if len(pending) >= trigger.threshold:
                fired.append(payload)
                pending, last = [], at
        if fired or pending != list(automation["pending"] or []):
            values: dict[str, Any] = {"pending": pending}
            if fired:
                values["fired_count"] = automation["fired_count"] + len(fired)
                values["last_fired"] = last
            conn.execute(
                update(AUTOMATION).where(AUTOMATION.c.id == automation["id"]).values(**values)
            )
        return fired

    def _perform(self, automation: str, action: AutomationAction, payload: dict[str, Any]) -> None:
        """Do one action; its outcome becomes an ``automation.triggered`` (or ``.failed``) event."""
        outcome: dict[str, Any] = {
            "automation": automation,
            "action": action.type,
            "deployment": action.deployment,
            "cause": payload.get("event"),
            "cause_id": payload.get("event_id"),
        }
        try:
            if action.type == "run-deployment":
                body = CreateDeploymentRun(
                    parameters=fill_parameters(action.parameters, payload),
                    tags=[*action.tags, _run_tag(automation)],
                    message=f"by automation {automation!r} on {payload.get('event')}"
                    f" (event {payload.get('event_id')})",
                )
                outcome["flow_run_id"] = self.run_deployment(action.deployment, body).id
            else:
                paused = action.type == "pause-deployment"
                self.update_deployment(action.deployment, UpdateDeployment(paused=paused))
            name = "automation.triggered"
            logger.info("automation %s: %s %s", automation, action.type, action.deployment)
        except Exception as exc:  # noqa: BLE001 - a failed action is recorded, not raised
            outcome["error"] = str(exc)
            name = "automation.failed"
            logger.warning("automation %s failed: %s", automation, exc)
        with self.engine.begin() as conn:
            insert_event(conn, name, outcome, resource=f"automation/{automation}")
