"""Events and automations: "when this happens, run (or pause, resume) that deployment".

A part of ``OrchestrationService``. Events are rows of the ``event`` table: every state a
flow run enters becomes ``flow-run.<State>`` (read from the state history, so runs recorded
by kernels and by workers count alike), and users emit their own (``emit_event``, REST,
CLI). ``process_events`` reads both with cursors advanced by compare-and-set, so that with
several servers on one database each event is handled once; an action runs after its
cursor moved (at most once).
"""

from __future__ import annotations

import fnmatch
import logging
import re
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, delete, func, insert, select, update
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import Connection, Engine

from ..core.records import new_id
from ..exceptions import Conflict, NotFound
from ..store.repository import RunStore
from ._tables import (
    AUTOMATION,
    CURSOR,
    DEPLOYMENT,
    EVENT,
    FLOW_RUN,
    STATE,
    find_by_id_or_name,
    now,
)
from .schemas import (
    AutomationAction,
    CreateAutomation,
    CreateDeploymentRun,
    CreateEvent,
    DescribeAutomation,
    DescribeDeployment,
    DescribeEvent,
    EventTrigger,
    ListAutomationsResponse,
    ListEventsQuery,
    ListEventsResponse,
    UpdateAutomation,
    UpdateDeployment,
)

__all__ = ["Automations", "emit", "insert_event", "matches", "fill_parameters"]

logger = logging.getLogger(__name__)

#: events automations themselves cause; never matched (no automation loops). Nor are the
#: events of the runs an automation started matched by that same automation.
_OWN_EVENTS = "automation."


class _CursorMoved(Exception):
    """Another server read these rows first: roll back, its work stands."""


_TEMPLATE = re.compile(r"^\{\{\s*event\.([A-Za-z0-9_]+)\s*\}\}$")


def insert_event(conn: Connection, event: str, payload: Mapping[str, Any], **extra: Any) -> int:
    """Append one event; its id."""
    values = {"event": event, "payload": dict(payload), "occurred": extra.pop("at", None) or now()}
    result = conn.execute(insert(EVENT).values(**values, **extra))
    return int(result.inserted_primary_key[0])  # type: ignore[index]


def emit(
    event: str,
    payload: Mapping[str, Any] | None = None,
    resource: str | None = None,
    url: str | None = None,
) -> DescribeEvent:
    """Record an event in the run database ``url`` (default: the default database).

    Inside a flow run, the payload gets the run's ``flow_run_id`` and ``flow_name`` (unless it
    has them) and the resource defaults to the run. Raises ``ValueError`` on a bad name.
    """
    from ..core.context import flow_run_context
    from ..store.api import run_store

    body = CreateEvent.model_validate(
        {"event": event, "payload": dict(payload or {}), "resource": resource}
    )
    context = flow_run_context.get()
    if context is not None:
        body.payload.setdefault("flow_run_id", context.flow_run.id)
        body.payload.setdefault("flow_name", context.flow_run.flow_name)
        body.resource = body.resource or f"flow-run/{context.flow_run.id}"
    engine = run_store(url).engine
    with engine.begin() as conn:
        event_id = insert_event(conn, body.event, body.payload, resource=body.resource)
    with engine.connect() as conn:
        row = conn.execute(select(EVENT).where(EVENT.c.id == event_id)).mappings().one()
    return DescribeEvent.model_validate(dict(row))


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
    """``parameters`` with every ``"{{ event.key }}"`` replaced by ``payload["key"]``."""
    filled = {}
    for name, value in parameters.items():
        found = _TEMPLATE.match(value) if isinstance(value, str) else None
        if found and found.group(1) not in payload:
            raise ValueError(f"parameter {name!r}: the event has no {found.group(1)!r}")
        filled[name] = payload[found.group(1)] if found else value
    return filled


class Automations:
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

    # ------------------------------------------------------------------ events

    def emit_event(self, body: CreateEvent) -> DescribeEvent:
        with self.engine.begin() as conn:
            event_id = insert_event(conn, body.event, body.payload, resource=body.resource)
        return self.list_events(ListEventsQuery(after_id=event_id - 1, limit=1)).items[0]

    def list_events(self, query: ListEventsQuery) -> ListEventsResponse:
        """Newest first; with ``after_id``, the ones after it, oldest first (to follow)."""
        stmt = select(EVENT)
        if query.event:
            if any(c in query.event for c in "*?"):
                sqlite = self.engine.dialect.name == "sqlite"
                stmt = stmt.where(*_glob_filter(query.event, prefix_range=sqlite))
            else:
                stmt = stmt.where(EVENT.c.event == query.event)
        if query.after_id is not None:
            stmt = stmt.where(EVENT.c.id > query.after_id).order_by(EVENT.c.id)
        else:
            stmt = stmt.order_by(EVENT.c.id.desc())
        with self.engine.connect() as conn:
            rows = conn.execute(stmt.limit(query.limit)).mappings().all()
        return ListEventsResponse(items=[DescribeEvent.model_validate(dict(r)) for r in rows])

    def prune_events(self, older_than: timedelta) -> int:
        with self.engine.begin() as conn:
            done = conn.execute(delete(EVENT).where(EVENT.c.occurred < now() - older_than))
        return int(done.rowcount or 0)

    # ------------------------------------------------------------------ processing

    def process_events(self, limit: int = 500) -> int:
        """Turn new flow-run states into events, then fire the automations they match.

        Returns how many events were looked at (call again while it returns ``limit``).
        """
        self._derive_run_events(limit)
        try:
            actions, seen = self._match_events(limit)
        except _CursorMoved:
            return 0
        for automation, action, payload in actions:
            self._perform(automation, action, payload)
        return seen

    def _advance(self, conn: Connection, name: str, old: int, new: int) -> bool:
        """Compare-and-set the cursor ``name`` from ``old`` to ``new``."""
        won = conn.execute(
            update(CURSOR)
            .where(and_(CURSOR.c.name == name, CURSOR.c.position == old))
            .values(position=new)
        ).rowcount
        return bool(won)

    def _position(self, conn: Connection, name: str, table: Any) -> int:
        """The cursor ``name``; made at the table's end the first time (no replay of history)."""
        found = conn.execute(select(CURSOR.c.position).where(CURSOR.c.name == name)).scalar()
        if found is not None:
            return int(found)
        start = int(conn.execute(select(func.coalesce(func.max(table.c.id), 0))).scalar() or 0)
        try:
            with conn.begin_nested():
                conn.execute(insert(CURSOR).values(name=name, position=start))
        except sa_exc.IntegrityError:  # another server made it meanwhile
            return int(
                conn.execute(select(CURSOR.c.position).where(CURSOR.c.name == name)).scalar_one()
            )
        return start

    def start_cursors(self) -> None:
        """Start reading at the current end of the state history and the event table."""
        with self.engine.begin() as conn:
            self._position(conn, "run_state", STATE)
            self._position(conn, "event", EVENT)

    def _derive_run_events(self, limit: int) -> None:
        try:
            self._derive_run_events_once(limit)
        except _CursorMoved:
            pass

    def _derive_run_events_once(self, limit: int) -> None:
        with self.engine.begin() as conn:
            start = self._position(conn, "run_state", STATE)
            rows = conn.execute(
                select(STATE.c.id, STATE.c.run_id, STATE.c.run_kind, STATE.c.type, STATE.c.name,
                       STATE.c.message, STATE.c.timestamp)
                .where(STATE.c.id > start)
                .order_by(STATE.c.id)
                .limit(limit)
            ).all()  # fmt: skip
            if not rows:
                return
            flow_states = [r for r in rows if r.run_kind == "flow"]
            ids = {r.run_id for r in flow_states}
            runs = _flow_runs(conn, ids)
            last = _last_states(conn, ids, start)
            for r in flow_states:
                if last.get(r.run_id) == (r.type, r.name):
                    continue  # the state it is in, recorded again (the kernel, then the worker)
                last[r.run_id] = (r.type, r.name)
                run = runs.get(r.run_id, {})
                payload = {
                    "flow_run_id": r.run_id,
                    "flow_name": run.get("flow_name"),
                    "flow_run_name": run.get("name"),
                    "deployment": run.get("deployment"),
                    "tags": run.get("tags") or [],
                    "state_type": r.type,
                    "state_name": r.name,
                    "message": r.message,
                }
                insert_event(
                    conn, f"flow-run.{r.name}", payload, resource=f"flow-run/{r.run_id}",
                    at=r.timestamp,
                )  # fmt: skip
            if not self._advance(conn, "run_state", start, rows[-1].id):
                raise _CursorMoved

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
                raise _CursorMoved
        return actions, len(events)

    def _evaluate(
        self, conn: Connection, automation: Any, events: Iterable[Any]
    ) -> list[dict[str, Any]]:
        """The payloads of the events that fire ``automation``; its counters updated."""
        trigger = EventTrigger.model_validate(automation["trigger"])
        pending = list(automation["pending"] or [])
        own_tag = f"automation:{automation['name']}"
        fired: list[dict[str, Any]] = []
        last: datetime | None = None
        for event in events:
            payload = {**event["payload"], "event": event["event"], "event_id": event["id"]}
            if not matches(trigger, event["event"], event["payload"]):
                continue
            if own_tag in (event["payload"].get("tags") or []):
                continue  # a run this automation started: no self-triggering loops
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
                    tags=[*action.tags, f"automation:{automation}"],
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


def _flow_runs(conn: Connection, ids: set[str]) -> dict[str, dict[str, Any]]:
    """Name, flow, deployment name and tags of the flow runs ``ids``."""
    if not ids:
        return {}
    rows = conn.execute(
        select(FLOW_RUN.c.id, FLOW_RUN.c.name, FLOW_RUN.c.flow_name, FLOW_RUN.c.tags,
               DEPLOYMENT.c.name.label("deployment"))
        .select_from(FLOW_RUN.outerjoin(DEPLOYMENT, DEPLOYMENT.c.id == FLOW_RUN.c.deployment_id))
        .where(FLOW_RUN.c.id.in_(ids))
    ).mappings().all()  # fmt: skip
    return {r["id"]: dict(r) for r in rows}


def _last_states(conn: Connection, ids: set[str], up_to: int) -> dict[str, tuple[str, str]]:
    """The (type, name) of the last state row up to id ``up_to`` of each flow run in ``ids``."""
    if not ids:
        return {}
    latest = (
        select(func.max(STATE.c.id))
        .where(and_(STATE.c.run_id.in_(ids), STATE.c.id <= up_to))
        .group_by(STATE.c.run_id)
    )
    rows = conn.execute(
        select(STATE.c.run_id, STATE.c.type, STATE.c.name).where(STATE.c.id.in_(latest))
    ).all()
    return {r.run_id: (r.type, r.name) for r in rows}


def _glob_filter(pattern: str, prefix_range: bool) -> list[Any]:
    """SQL conditions for a glob of ``*`` and ``?``: a LIKE, and with ``prefix_range`` a range
    on the literal prefix so that the ``event`` index is used (``automation.*``:
    ``'automation.' <= event < 'automation/'``; only where text compares byte by byte, as in
    SQLite: a PostgreSQL locale may order punctuation otherwise)."""
    escaped = pattern.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    conditions = [EVENT.c.event.like(escaped.replace("*", "%").replace("?", "_"), escape="\\")]
    prefix = re.split(r"[*?]", pattern, maxsplit=1)[0]
    if prefix and prefix_range:
        upper = prefix[:-1] + chr(ord(prefix[-1]) + 1)
        conditions += [EVENT.c.event >= prefix, EVENT.c.event < upper]
    return conditions
