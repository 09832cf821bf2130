"""Events: what happened, for automations and for people to read.

A part of ``OrchestrationService``. Events are rows of the ``event`` table: every state a
flow run enters becomes ``flow-run.<State>``, every state of a task run ``task-run.<State>``
(read from the state history in batches, so runs recorded by kernels and by workers count
alike, and a task pays nothing for it), and users emit their own (``emit_event``, REST,
CLI). Readers keep their place in a ``cursor`` row advanced by compare-and-set, so that with
several servers on one database each row is read once.
"""

from __future__ import annotations

import re
import uuid as _uuid
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, delete, func, insert, select, update
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import Connection, Engine

from ._tables import CURSOR, DEPLOYMENT, EVENT, FLOW_RUN, STATE, TASK_RUN, now
from .event_models import (
    RESOURCE_ID,
    RESOURCE_ROLE,
    Event,
    RelatedResource,
    has_resource_id,
    related_resources,
    split_resource,
)
from .schemas import CreateEvent, DescribeEvent, ListEventsQuery, ListEventsResponse

__all__ = ["Events", "CursorMoved", "emit", "insert_event", "store_event"]

#: ``follows`` is kept only for an event at most this far from the one it follows (Prefect's)
TIGHT_TIMING = timedelta(minutes=5)


class CursorMoved(Exception):
    """Another server read these rows first: roll back, its work stands."""


def insert_event(conn: Connection, event: str, payload: Mapping[str, Any], **extra: Any) -> int:
    """Append one event (a new ``uuid`` unless ``extra`` gives one); its id."""
    values = {"event": event, "payload": dict(payload), "occurred": extra.pop("at", None) or now()}
    extra["uuid"] = extra.get("uuid") or str(_uuid.uuid4())
    result = conn.execute(insert(EVENT).values(**values, **extra))
    return int(result.inserted_primary_key[0])  # type: ignore[index]


def emit(
    event: str,
    resource: str | Mapping[str, str] | None = None,
    occurred: datetime | None = None,
    related: Sequence[Mapping[str, str] | RelatedResource] | None = None,
    payload: Mapping[str, Any] | None = None,
    id: _uuid.UUID | str | None = None,
    follows: Event | _uuid.UUID | str | None = None,
    *,
    url: str | None = None,
) -> Event:
    """Record an event in the run database ``url`` (default: the default database).

    ``resource`` is a resource's id, or Prefect's labels with ``"prefect.resource.id"``.
    Inside a flow run, the payload gets the run's ``flow_run_id`` and ``flow_name`` (unless it
    has them), the resource defaults to the run, and another resource relates to the run
    (role ``flow-run``). ``follows`` (an ``Event`` or its id) is kept if that event occurred
    within 5 minutes of this one. Raises ``TypeError`` for a resource dict without an id
    (a payload passed where the resource goes), ``ValueError`` for a bad name or label.
    """
    from ..core.context import FlowRunContext
    from ..store.api import run_store

    if isinstance(resource, Mapping) and not has_resource_id(resource):
        raise TypeError(
            f"emit_event({event!r}, ...): the second argument is the resource (Prefect's "
            f"signature), a resource id or a dict with {RESOURCE_ID!r}; got a dict without "
            "one. Pass the payload by name: emit_event(name, payload={...})"
        )
    resource_id, labels = split_resource(resource) if resource is not None else (None, {})
    others = related_resources(related or [])
    body_payload = dict(payload or {})
    context = FlowRunContext.get()
    if context is not None:
        run = context.flow_run
        body_payload.setdefault("flow_run_id", run.id)
        body_payload.setdefault("flow_name", run.flow_name)
        run_resource = f"flow-run/{run.id}"
        if resource_id is None:
            resource_id, labels = run_resource, {"prefect.resource.name": run.name, **labels}
        elif resource_id != run_resource and all(r[RESOURCE_ID] != run_resource for r in others):
            others.append(
                {
                    RESOURCE_ID: run_resource,
                    RESOURCE_ROLE: "flow-run",
                    "prefect.resource.name": run.name,
                }
            )
    when = occurred or now()
    follows_id: Any = follows
    if isinstance(follows, Event):
        close = abs(_aware(when) - _aware(follows.occurred)) < TIGHT_TIMING
        follows_id = follows.id if close else None
    body = CreateEvent.model_validate(
        {
            "event": event,
            "resource": resource_id,
            "resource_labels": labels,
            "related": others,
            "payload": body_payload,
            "occurred": when,
            "uuid": id or _uuid.uuid4(),
            "follows": follows_id,
        }
    )
    return Event.from_described(store_event(run_store(url).engine, body))


def _aware(when: datetime) -> datetime:
    return when if when.utcoffset() is not None else when.astimezone()


def store_event(engine: Engine, body: CreateEvent) -> DescribeEvent:
    """Append the event ``body`` and return it as stored (with its id and time)."""
    with engine.begin() as conn:
        event_id = insert_event(
            conn,
            body.event,
            body.payload,
            at=body.occurred,
            resource=body.resource,
            resource_labels=body.resource_labels or None,
            related=body.related or None,
            uuid=str(body.uuid) if body.uuid else None,
            follows=str(body.follows) if body.follows else None,
        )
        row = conn.execute(select(EVENT).where(EVENT.c.id == event_id)).mappings().one()
    return DescribeEvent.model_validate(dict(row))


class Events:
    """Emit, list and prune events; turn flow-run and task-run states into events."""

    engine: Engine

    def emit_event(self, body: CreateEvent) -> DescribeEvent:
        return store_event(self.engine, body)

    def list_events(self, query: ListEventsQuery) -> ListEventsResponse:
        """Newest first; with ``after_id``, the ones after it, oldest first (to follow)."""
        stmt = select(EVENT)
        if query.event:
            if any(c in query.event for c in "*?"):
                sqlite = self.engine.dialect.name == "sqlite"
                stmt = stmt.where(*_glob_filter(query.event, prefix_range=sqlite))
            else:
                stmt = stmt.where(EVENT.c.event == query.event)
        if query.resource:
            stmt = stmt.where(_resource_filter(query.resource))
        if query.since is not None:
            stmt = stmt.where(EVENT.c.occurred >= query.since)
        if query.until is not None:
            stmt = stmt.where(EVENT.c.occurred < query.until)
        if query.before_id is not None:
            stmt = stmt.where(EVENT.c.id < query.before_id)
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
        except CursorMoved:
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
            tasks = _task_runs(conn, {r.run_id for r in rows if r.run_kind == "task"})
            ids = {r.run_id for r in rows if r.run_kind == "flow"}
            ids |= {t["flow_run_id"] for t in tasks.values() if t["flow_run_id"]}
            runs = _flow_runs(conn, ids)
            last = _last_states(conn, {r.run_id for r in rows}, start)
            new: list[dict[str, Any]] = []
            for r in rows:
                if last.get(r.run_id) == (r.type, r.name):
                    continue  # the state it is in, recorded again (the kernel, then the worker)
                last[r.run_id] = (r.type, r.name)
                new.append(_state_event(r, runs, tasks))
            if new:
                conn.execute(insert(EVENT), new)
            if not self._advance(conn, "run_state", start, rows[-1].id):
                raise CursorMoved


def _state_event(
    r: Any, runs: dict[str, dict[str, Any]], tasks: dict[str, dict[str, Any]]
) -> dict[str, Any]:
    """The ``flow-run.<State>`` or ``task-run.<State>`` event row of the state row ``r``."""
    state = {"state_type": r.type, "state_name": r.name, "message": r.message}
    row = {"occurred": r.timestamp, "uuid": str(_uuid.uuid4()), "resource_labels": None}
    if r.run_kind != "task":
        run = runs.get(r.run_id, {})
        payload = {
            "flow_run_id": r.run_id, "flow_name": run.get("flow_name"),
            "flow_run_name": run.get("name"), "deployment": run.get("deployment"),
            "tags": run.get("tags") or [], **state,
        }  # fmt: skip
        return {**row, "event": f"flow-run.{r.name}", "payload": payload,
                "resource": f"flow-run/{r.run_id}", "related": None}  # fmt: skip
    task = tasks.get(r.run_id, {})
    run = runs.get(task.get("flow_run_id") or "", {})
    payload = {
        "task_run_id": r.run_id, "task_run_name": task.get("name"),
        "task_name": task.get("task_name"), "flow_run_id": task.get("flow_run_id"),
        "flow_name": run.get("flow_name"), "flow_run_name": run.get("name"),
        "deployment": run.get("deployment"),
        "tags": sorted({*(task.get("tags") or []), *(run.get("tags") or [])}), **state,
    }  # fmt: skip
    related = None
    if task.get("flow_run_id"):
        related = [{RESOURCE_ID: f"flow-run/{task['flow_run_id']}", RESOURCE_ROLE: "flow-run"}]
    return {**row, "event": f"task-run.{r.name}", "payload": payload,
            "resource": f"task-run/{r.run_id}", "related": related}  # fmt: skip


def _task_runs(conn: Connection, ids: set[str]) -> dict[str, dict[str, Any]]:
    """Name, task, tags and flow run of the task runs ``ids``."""
    if not ids:
        return {}
    found: dict[str, dict[str, Any]] = {}
    listed = sorted(ids)
    for i in range(0, len(listed), 500):
        rows = conn.execute(
            select(TASK_RUN.c.id, TASK_RUN.c.name, TASK_RUN.c.task_name, TASK_RUN.c.tags,
                   TASK_RUN.c.flow_run_id).where(TASK_RUN.c.id.in_(listed[i : i + 500]))
        ).mappings().all()  # fmt: skip
        found.update((r["id"], dict(r)) for r in rows)
    return found


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


def _resource_filter(resource: str) -> Any:
    """The events of ``resource``: its id, a glob of ids, or a bare run id (``flow-run/ID``
    or ``task-run/ID``)."""
    if any(c in resource for c in "*?"):
        return EVENT.c.resource.like(_like(resource), escape="\\")
    if "/" not in resource:
        return EVENT.c.resource.in_([f"flow-run/{resource}", f"task-run/{resource}"])
    return EVENT.c.resource == resource


def _like(pattern: str) -> str:
    """A glob of ``*`` and ``?`` as a LIKE pattern (escaped with a backslash)."""
    escaped = pattern.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return escaped.replace("*", "%").replace("?", "_")


def _glob_filter(pattern: str, prefix_range: bool) -> list[Any]:
    """SQL conditions for a glob of ``*`` and ``?``: a LIKE, and with ``prefix_range`` a range
    on the literal prefix so that the ``event`` index is used (``automation.*``:
    ``'automation.' <= event < 'automation/'``; only where text compares byte by byte, as in
    SQLite: a PostgreSQL locale may order punctuation otherwise)."""
    conditions = [EVENT.c.event.like(_like(pattern), escape="\\")]
    prefix = re.split(r"[*?]", pattern, maxsplit=1)[0]
    if prefix and prefix_range:
        upper = prefix[:-1] + chr(ord(prefix[-1]) + 1)
        conditions += [EVENT.c.event >= prefix, EVENT.c.event < upper]
    return conditions
