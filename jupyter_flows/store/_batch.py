"""The write side of ``SqlRecorder``: turn queued events into rows, write them in one transaction.

Runs are coalesced: a run created and updated within one batch is inserted once with its
latest state; a run inserted by an earlier batch gets one UPDATE per batch. Values are
converted here, once, and written with the driver's ``executemany`` (no per-value
SQLAlchemy type processing). Nothing is forgotten until its transaction commits, so a
failed batch is retried, together with newer events, by the next ``write``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import Connection, Engine

from jupyter_flows.core.records import FlowRunInfo, LogInfo, ResultInfo, TaskRunInfo, new_id
from jupyter_flows.core.states import TERMINAL_TYPES, State, StateType

from . import _sql
from .db import store_error
from .types import clean_text, datetime_converter, to_json

__all__ = ["Events", "Batcher"]

logger = logging.getLogger(__name__)

_TYPE_TEXT = {t: t.value for t in StateType}
_RUNNING = StateType.RUNNING
_SCHEDULED = StateType.SCHEDULED

StateEvent = tuple[str, str, State, int]  # (kind, run_id, state, run_count)


@dataclass(slots=True)
class Events:
    """What the recorder queued since the last drain, in submission order per kind."""

    flow_runs: list[tuple[FlowRunInfo, str]] = field(default_factory=list)  # (info, params JSON)
    task_runs: list[TaskRunInfo] = field(default_factory=list)
    states: list[StateEvent] = field(default_factory=list)
    logs: list[LogInfo] = field(default_factory=list)
    results: list[ResultInfo] = field(default_factory=list)


class _Run:
    """What the writer knows of one run: its identity row and latest derived columns."""

    __slots__ = (
        "kind",
        "id",
        "flow_run_id",
        "row",
        "inserted",
        "dirty",
        "state",
        "run_count",
        "start",
        "end",
        "expected",
        "running_since",
        "total",
        "written_total",
    )

    def __init__(self, kind: str, run_id: str, flow_run_id: str | None, row: tuple[Any, ...]):
        self.kind = kind
        self.id = run_id
        self.flow_run_id = flow_run_id
        self.row = row  # identity columns, converted; empty for a run created elsewhere
        self.inserted = not row
        self.dirty = False
        self.state: State | None = None
        self.run_count = 0
        self.start: Any = None
        self.end: Any = None
        self.expected: Any = None
        self.running_since: datetime | None = None
        self.total = 0.0
        self.written_total = 0.0

    def mutable(self) -> tuple[Any, ...]:
        state = self.state
        if state is None:
            return (None, None, None, self.run_count, self.start, self.end, self.expected)
        return (
            _TYPE_TEXT[state.type],
            state.name,
            None if state.message is None else clean_text(state.message),
            self.run_count,
            self.start,
            self.end,
            self.expected,
        )


class Batcher:
    """Writer-side state of one recorder; every method must be called under its write lock."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        dialect = engine.dialect.name
        self._dt: Callable[[datetime | None], Any] = datetime_converter(dialect)
        self._sql = _sql.statements("?" if dialect == "sqlite" else "%s")
        self.reset()

    def reset(self) -> None:
        """Forget everything (a forked child must not write its parent's records)."""
        self._runs: dict[str, _Run] = {}
        self._flow_runs: dict[str, _Run] = {}
        self._dirty: list[_Run] = []
        self._known_flows: set[str] = set()
        self._rows: dict[str, list[tuple[Any, ...]]] = {
            name: [] for name in ("flow", "input", "state", "log", "result")
        }

    @property
    def pending(self) -> int:
        """How many runs and rows are waiting for a commit."""
        return len(self._dirty) + sum(len(rows) for rows in self._rows.values())

    def write(self, events: Events) -> int:
        """Take ``events`` in and commit everything pending; returns the rows written.

        Raises ``StoreError`` (keeping everything for the next call) if the DB write fails.
        """
        self._take(events)
        if not self._dirty and not any(self._rows.values()):
            return 0
        try:
            with self.engine.begin() as conn:
                count = self._execute(conn)
        except (sa_exc.SQLAlchemyError, OSError, ValueError, TypeError) as e:
            # (ValueError/TypeError: a value the driver cannot take, e.g. a bad str subclass)
            raise store_error(
                f"cannot write {self.pending} run records to", self.engine.url, e
            ) from None
        self._committed()
        return count

    # -- events -> rows ------------------------------------------------------------------

    def _take(self, events: Events) -> None:
        for info, params in events.flow_runs:
            try:
                self._flow_run_created(info, params)
            except Exception:  # a bug here must not lose the other records
                logger.exception("cannot record flow run %s", info.id)
        if events.task_runs:
            self._take_task_runs(events.task_runs)
        if events.states:
            self._take_states(events.states)
        dt = self._dt
        if events.logs:
            self._rows["log"].extend(
                (
                    r.flow_run_id,
                    r.task_run_id,
                    r.level,
                    r.logger,
                    clean_text(r.message),
                    dt(r.timestamp),
                )
                for r in events.logs
            )
        if events.results:
            self._rows["result"].extend(
                (
                    r.key,
                    r.task_run_id,
                    r.flow_run_id,
                    r.location,
                    r.serializer,
                    dt(r.created),
                    dt(r.expires),
                )
                for r in events.results
            )

    def _flow_run_created(self, info: FlowRunInfo, params: str) -> None:
        created = self._dt(info.created)
        if info.flow_name not in self._known_flows:
            self._known_flows.add(info.flow_name)
            flow = (new_id(), info.flow_name, info.flow_description, created)
            self._rows["flow"].append(flow)
        row = (
            info.id,
            info.name,
            info.flow_name,
            info.flow_version,
            params,
            to_json(info.tags),
            created,
            info.parent_flow_run_id,
            info.parent_task_run_id,
            info.deployment_id,
        )
        self._track(self._flow_runs, _Run("flow", info.id, info.id, row))

    def _take_task_runs(self, infos: list[TaskRunInfo]) -> None:
        dt, runs, dirty, inputs = self._dt, self._runs, self._dirty, self._rows["input"]
        for info in infos:
            try:
                row = (
                    info.id,
                    info.flow_run_id,
                    info.task_key,
                    info.task_name,
                    info.name,
                    to_json(info.tags),
                    info.dynamic_key,
                    info.cache_key,
                    info.description,
                    info.version,
                    dt(info.created),
                    info.subflow_run_id,
                )
            except Exception:  # a bug here must not lose the other records
                logger.exception("cannot record task run %s", info.id)
                continue
            run = _Run("task", info.id, info.flow_run_id, row)
            if info.id in runs:
                self._track(runs, run)
            else:
                runs[info.id] = run
                run.dirty = True
                dirty.append(run)
            if info.inputs:
                inputs.extend((info.id, i.upstream_id, i.kind, i.parameter) for i in info.inputs)

    def _track(self, runs: dict[str, _Run], run: _Run) -> None:
        previous = runs.get(run.id)
        if previous is not None and previous.dirty:
            # Created twice (or a state arrived first): keep the latest state columns.
            for name in ("state", "run_count", "start", "end", "expected", "running_since"):
                setattr(run, name, getattr(previous, name))
            run.total, run.inserted = previous.total, previous.inserted
            self._dirty.remove(previous)
        runs[run.id] = run
        run.dirty = True
        self._dirty.append(run)

    def _take_states(self, states: list[StateEvent]) -> None:
        dt = self._dt
        tasks, flows, dirty = self._runs, self._flow_runs, self._dirty
        append = self._rows["state"].append
        type_text = _TYPE_TEXT
        for kind, run_id, state, run_count in states:
            runs = tasks if kind == "task" else flows
            run = runs.get(run_id)
            if run is None:  # created by another process, or finished and forgotten
                run = runs[run_id] = _Run(kind, run_id, run_id if kind == "flow" else None, ())
            ts = state.timestamp
            ts_db = dt(ts)
            type_ = state.type
            message = state.message
            if message is not None:
                message = clean_text(message)
            append((run_id, kind, run.flow_run_id, type_text[type_], state.name, ts_db, message))
            since = run.running_since
            if since is not None:
                run.total += (ts - since).total_seconds()
                run.running_since = None
            if type_ is _RUNNING:
                run.running_since = ts
                if run.start is None:
                    run.start = ts_db
            run.end = ts_db if type_ in TERMINAL_TYPES else None
            if type_ is _SCHEDULED and run.expected is None and state.scheduled_time is not None:
                run.expected = dt(state.scheduled_time)
            run.state = state
            run.run_count = run_count
            if not run.dirty:
                run.dirty = True
                dirty.append(run)

    # -- rows -> database ----------------------------------------------------------------

    def _execute(self, conn: Connection) -> int:
        sql = self._sql
        rows = self._rows
        flow_inserts: list[tuple[Any, ...]] = []
        task_inserts: list[tuple[Any, ...]] = []
        flow_updates: list[tuple[Any, ...]] = []
        task_updates: list[tuple[Any, ...]] = []
        for run in self._dirty:
            if run.inserted:
                update = (*run.mutable(), run.total - run.written_total, run.id)
                (task_updates if run.kind == "task" else flow_updates).append(update)
            elif run.kind == "task":
                task_inserts.append((*run.row, *run.mutable(), run.total))
            else:
                flow_inserts.append((*run.row, *run.mutable(), run.total))
        batches = (
            (sql.flow, rows["flow"]),
            (sql.flow_run_insert, flow_inserts),
            (sql.task_run_insert, task_inserts),
            (sql.flow_run_update, flow_updates),
            (sql.task_run_update, task_updates),
            (sql.task_run_input, rows["input"]),
            (sql.run_state, rows["state"]),
            (sql.run_log, rows["log"]),
            (sql.result_record, rows["result"]),
        )
        count = 0
        for statement, params in batches:
            if params:
                conn.exec_driver_sql(statement, params if len(params) > 1 else params[0])
                count += len(params)
        return count

    def _committed(self) -> None:
        tasks, flows = self._runs, self._flow_runs
        for run in self._dirty:
            run.inserted = True
            run.dirty = False
            run.written_total = run.total
            # Forget finished runs, and flow runs between RUNNING spells (a scheduler's
            # SCHEDULED runs never finish in its process); a later state of theirs is
            # written as an UPDATE that keeps the database's start time and run time.
            state = run.state
            if state is not None and (
                state.type in TERMINAL_TYPES or (run.kind == "flow" and run.running_since is None)
            ):
                (tasks if run.kind == "task" else flows).pop(run.id, None)
        self._dirty = []
        for rows in self._rows.values():
            rows.clear()
