"""The write side of ``SqlRecorder``: turn queued events into rows, write them in one transaction.

Runs are coalesced: a run created and updated within one batch is inserted once with its
latest state; a run inserted by an earlier batch gets one UPDATE per batch. Values are
converted here, once, and written with the driver's ``executemany`` (no per-value
SQLAlchemy type processing). Nothing is forgotten until its transaction commits, so a batch
the database could not take (unreachable, locked, full) is retried, together with newer
events, by the next ``write``; a record the database refuses (a value it cannot store) is
left out and listed in ``dropped``, and the rest is written (``_bad_records``).

Every state passes the one state policy (``core.state_policy``): in Python, against the
run's state as this writer knows it (read from the database first for a run created
elsewhere), and again in SQL against the row, for what other writers did meanwhile. A
refused state is not written, neither to the run row nor to its history, and the run is
listed in ``rejected`` so its process can stop.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import Connection, Engine

from jupyter_flows.core.records import FlowRunInfo, LogInfo, TaskRunInfo, new_id
from jupyter_flows.core.state_policy import ACCEPTED, FINAL, Decision, propose
from jupyter_flows.core.states import State, StateType

from . import _sql
from ._bad_records import (
    BAD_RECORD,
    DroppedRecord,
    is_bad_record,
    leave_out_bad_records,
    note_dropped,
    reason_of,
)
from ._batch_rows import _TYPE_TEXT, Events, StateEvent, TrackedRun
from .db import READ_ONLY, store_error
from .types import clean_text, datetime_converter, to_json

__all__ = ["Events", "Batcher", "DroppedRecord"]

logger = logging.getLogger(__name__)

_RUNNING = StateType.RUNNING
_SCHEDULED = StateType.SCHEDULED
#: How many refused runs ``Batcher.rejected`` remembers (the oldest are forgotten first).
MAX_REJECTED = 10_000
_CHUNK = 500


class _Refused(Exception):
    """A batch's run row was refused by the SQL guard: write the batch run by run."""


class Batcher:
    """Writer-side state of one recorder; every method must be called under its write lock."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        dialect = engine.dialect.name
        self._dt: Callable[[datetime | None], Any] = datetime_converter(dialect)
        self._placeholder = "?" if dialect == "sqlite" else "%s"
        self._sql = _sql.statements(self._placeholder)
        self._sane_rowcount = bool(engine.dialect.supports_sane_multi_rowcount)
        self.reset()

    def reset(self) -> None:
        """Forget everything (a forked child must not write its parent's records)."""
        self._runs: dict[str, TrackedRun] = {}
        self._flow_runs: dict[str, TrackedRun] = {}
        self._dirty: list[TrackedRun] = []
        self._known_flows: set[str] = set()
        #: runs whose proposed states were refused: run id -> (state type, name) they are in
        self.rejected: dict[str, tuple[str, str | None]] = {}
        #: records the database refused (newest last): left out so that the rest is written
        self.dropped: list[DroppedRecord] = []
        #: how many records were dropped in all (``dropped`` keeps the newest)
        self.dropped_total = 0
        self._rows: dict[str, list[tuple[Any, ...]]] = {
            name: [] for name in ("flow", "input", "state", "log", "result", "artifact")
        }

    @property
    def pending(self) -> int:
        """How many runs and rows are waiting for a commit."""
        return len(self._dirty) + sum(len(rows) for rows in self._rows.values())

    def write(self, events: Events) -> int:
        """Take ``events`` in and commit everything pending; returns the rows written.

        Raises ``StoreError`` (keeping everything for the next call) if the DB write fails.
        """
        try:
            if events.states or events.flow_runs:
                self._read_unknown(events)
            self._take(events)
            if not self._dirty and not any(self._rows.values()):
                return 0
            try:
                with self.engine.begin() as conn:
                    count = self._execute(conn, exact=not self._sane_rowcount)
            except _Refused:  # rolled back: again, one run at a time, to know which
                with self.engine.begin() as conn:
                    count = self._execute(conn, exact=True)
            except BAD_RECORD as e:
                if not is_bad_record(e):
                    raise
                # rolled back: again, one record at a time, leaving out the ones refused
                logger.warning("a record was refused (%s): writing one by one", reason_of(e))
                with self.engine.begin() as conn:
                    count = self._execute(conn, exact=True, isolate=True)
        except (sa_exc.SQLAlchemyError, OSError, ValueError, TypeError) as e:
            # (ValueError/TypeError: a value the driver cannot take, e.g. a bad str subclass)
            raise store_error(
                f"cannot write {self.pending} run records to", self.engine.url, e
            ) from None
        self._committed()
        return count

    # -- the state policy ------------------------------------------------------------------

    def _read_unknown(self, events: Events) -> None:
        """Learn the database's state of runs this writer has not seen (made elsewhere)."""
        # A flow run "created" here may be one made elsewhere that this process runs (a
        # deployment's run): read those too. Task runs are always made by their process.
        created = {info.id for info in events.task_runs}
        wanted: dict[str, set[str]] = {"flow": set(), "task": set()}
        wanted["flow"].update(i.id for i, _ in events.flow_runs if i.id not in self._flow_runs)
        for kind, run_id, _, _ in events.states:
            known = self._runs if kind == "task" else self._flow_runs
            if run_id not in known and run_id not in created:
                wanted[kind].add(run_id)
        for kind, ids in wanted.items():
            if not ids:
                continue
            known = self._runs if kind == "task" else self._flow_runs
            with self.engine.connect().execution_options(**READ_ONLY) as conn:
                for run_id, type_, name, flow_run_id in self._select_states(conn, kind, ids):
                    run = known[run_id] = TrackedRun(kind, run_id, flow_run_id, ())
                    if type_ is not None:
                        run.state = State(StateType(type_), name or type_.title())

    def _select_states(
        self, conn: Connection, kind: str, ids: set[str] | list[str]
    ) -> list[tuple[str, str | None, str | None, str | None]]:
        table = "task_run" if kind == "task" else "flow_run"
        ordered = list(ids)
        found: list[tuple[str, str | None, str | None, str | None]] = []
        for i in range(0, len(ordered), _CHUNK):
            chunk = ordered[i : i + _CHUNK]
            sql = _sql.read_states(table, self._placeholder, len(chunk))
            found.extend(tuple(r) for r in conn.exec_driver_sql(sql, tuple(chunk)))  # type: ignore[misc]
        return found

    def _refuse(self, run_id: str, state: State | None) -> None:
        rejected = self.rejected
        rejected.pop(run_id, None)
        if len(rejected) >= MAX_REJECTED:
            del rejected[next(iter(rejected))]
        rejected[run_id] = (state.type.value, state.name) if state else ("", None)

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
            logs = events.logs
            if not all(type(r.level) is int for r in logs):  # a remote writer's bad level
                logs = [r for r in logs if self._int_level(r)]
            self._rows["log"].extend(
                (
                    r.flow_run_id,
                    r.task_run_id,
                    r.level,
                    r.logger,
                    clean_text(r.message),
                    dt(r.timestamp),
                )
                for r in logs
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
        if events.artifacts:
            self._rows["artifact"].extend(
                (
                    a.id,
                    a.key,
                    a.type,
                    None if a.description is None else clean_text(a.description),
                    to_json(a.data),
                    a.flow_run_id,
                    a.task_run_id,
                    dt(a.created),
                    dt(a.updated),
                )
                for a in events.artifacts
            )

    def _int_level(self, record: LogInfo) -> bool:
        if type(record.level) is int:
            return True
        note_dropped(self, "log", record.flow_run_id, f"level {record.level!r} is not an integer")
        return False

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
        self._track(self._flow_runs, TrackedRun("flow", info.id, info.id, row))

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
            run = TrackedRun("task", info.id, info.flow_run_id, row)
            if info.id in runs:
                self._track(runs, run)
            else:
                runs[info.id] = run
                run.dirty = True
                dirty.append(run)
            if info.inputs:
                inputs.extend((info.id, i.upstream_id, i.kind, i.parameter) for i in info.inputs)

    def _track(self, runs: dict[str, TrackedRun], run: TrackedRun) -> None:
        previous = runs.get(run.id)
        if previous is not None and not previous.dirty and previous.state is not None:
            # its row exists (written earlier, or made elsewhere) and is where we know it:
            # nothing to write; its later states update it, and it keeps its name
            return
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
        accepted, reject = ACCEPTED, Decision.REJECT
        for kind, run_id, state, run_count in states:
            runs = tasks if kind == "task" else flows
            run = runs.get(run_id)
            if run is None:  # created by another process, or finished and forgotten
                flow_run_id = run_id if kind == "flow" else None
                run = runs[run_id] = TrackedRun(kind, run_id, flow_run_id, ())
            type_ = state.type
            current = run.state
            if current is not None and (
                (current.type, type_) not in accepted
                or (current.type is type_ and current.name == state.name)
            ):
                if propose(current.type, type_, current.name, state.name).decision is reject:
                    self._refuse(run_id, current)
                continue  # refused or already there: nothing is written
            ts = state.timestamp
            ts_db = dt(ts)
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
            run.end = ts_db if type_ in FINAL else None
            if type_ is _SCHEDULED and run.expected is None and state.scheduled_time is not None:
                run.expected = dt(state.scheduled_time)
            run.state = state
            run.run_count = run_count
            if not run.dirty:
                run.dirty = True
                dirty.append(run)

    # -- rows -> database ----------------------------------------------------------------

    def _execute(self, conn: Connection, exact: bool, isolate: bool = False) -> int:
        """Write everything pending; ``exact``: run by run, leaving out refused states.

        Not ``exact``, a state another writer refused (the row count says so) raises
        ``_Refused`` before anything of the batch is committed. ``isolate``: each record in
        a savepoint of its own; one the database refuses is left out (with what depends on
        it) and listed in ``dropped``.
        """
        if isolate:
            leave_out_bad_records(self, conn)
        sql = self._sql
        rows = self._rows
        inserts: dict[str, list[tuple[Any, ...]]] = {"flow": [], "task": []}
        updates: dict[str, list[tuple[Any, ...]]] = {"flow": [], "task": []}
        owners: dict[str, list[TrackedRun]] = {
            f"{kind}_{verb}": [] for kind in ("flow", "task") for verb in ("insert", "update")
        }
        for run in self._dirty:
            if run.inserted:
                if run.state is None:
                    continue  # created twice, no state yet: nothing to change
                update = (*run.mutable(), run.total - run.written_total, run.id, run.state.type)
                updates[run.kind].append(update)
                owners[f"{run.kind}_update"].append(run)
            else:
                inserts[run.kind].append((*run.row, *run.mutable(), run.total))
                owners[f"{run.kind}_insert"].append(run)
        self._run(conn, sql.flow, rows["flow"])
        statements = (
            ("flow_insert", sql.flow_run_insert, inserts["flow"]),
            ("task_insert", sql.task_run_insert, inserts["task"]),
            ("flow_update", sql.flow_run_update, updates["flow"]),
            ("task_update", sql.task_run_update, updates["task"]),
        )
        refused: list[TrackedRun] = []
        for key, statement, params in statements:
            if not exact:
                if self._run(conn, statement, params) != len(params):
                    raise _Refused
                continue
            for run, one in zip(owners[key], params, strict=True):
                if not conn.exec_driver_sql(statement, one).rowcount:
                    refused.append(run)
        if refused:
            self._drop_refused(conn, refused)
        for statement, params in (
            (sql.task_run_input, rows["input"]),
            (sql.run_state, rows["state"]),
            (sql.run_log, rows["log"]),
            (sql.result_record, rows["result"]),
            (sql.artifact, rows["artifact"]),
        ):
            self._run(conn, statement, params)
        return sum(len(p) for _, _, p in statements) + sum(len(r) for r in rows.values())

    @staticmethod
    def _run(conn: Connection, statement: str, params: list[tuple[Any, ...]]) -> int:
        """Execute ``statement`` for every row of ``params``; the rows it changed."""
        if not params:
            return 0
        result = conn.exec_driver_sql(statement, params if len(params) > 1 else params[0])
        return int(result.rowcount)

    def _drop_refused(self, conn: Connection, refused: list[TrackedRun]) -> None:
        """Another writer moved these runs meanwhile: no history of their refused states."""
        for kind in ("flow", "task"):
            mine = {r.id: r for r in refused if r.kind == kind}
            if not mine:
                continue
            found = {row[0]: row for row in self._select_states(conn, kind, list(mine))}
            for run_id, run in mine.items():
                proposed = run.state.name if run.state else None
                row = found.get(run_id)
                if row is None or row[1] is None:
                    run.state = None
                    continue
                run.state = State(StateType(row[1]), row[2] or row[1].title())
                if proposed is not None:  # created again without a state: nothing refused
                    self._refuse(run_id, run.state)
                logger.info("%s run %s is %s: %s refused", kind, run_id, row[2], proposed)
        dropped = {(r.kind, r.id) for r in refused}
        states = self._rows["state"]
        states[:] = [r for r in states if (r[1], r[0]) not in dropped]

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
                state.type in FINAL or (run.kind == "flow" and run.running_since is None)
            ):
                (tasks if run.kind == "task" else flows).pop(run.id, None)
        self._dirty = []
        for rows in self._rows.values():
            rows.clear()
