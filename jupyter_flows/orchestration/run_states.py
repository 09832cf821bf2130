"""Runs on their way through workers: claims, reported states, logs, cancellation, crashes.

A part of ``OrchestrationService``. A claim is one conditional ``UPDATE ... RETURNING``
(``claims``), so workers in different processes (or servers) never share a run.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from sqlalchemy import and_, func, insert, select, text, update
from sqlalchemy.engine import Connection, Engine

from ..core.state_policy import Decision, propose
from ..core.states import StateType
from ..exceptions import Conflict, NotFound
from ..store import background
from ..store.repository import RunStore
from ._tables import ACTIVE, FINAL, FLOW_RUN, LOG, now, record_state
from .claims import claim
from .run_endings import end_descendants
from .schemas import (
    AppendLogs,
    ClaimedRun,
    DescribeDeployment,
    DescribeRunState,
    DescribeWorkPool,
    UpdateRunState,
)

__all__ = ["RunStates"]

logger = logging.getLogger(__name__)

_STATE_COLUMNS = (
    FLOW_RUN.c.id,
    FLOW_RUN.c.state_type,
    FLOW_RUN.c.state_name,
    FLOW_RUN.c.state_message,
    FLOW_RUN.c.worker,
    FLOW_RUN.c.heartbeat,
)


class RunStates:
    """Claim due runs for workers and follow them to a final state."""

    engine: Engine
    runs: RunStore

    def read_work_pool(self, name: str) -> DescribeWorkPool:
        raise NotImplementedError

    def read_deployment(self, id_or_name: str) -> DescribeDeployment:
        raise NotImplementedError

    def claim_runs(
        self, pool: str, worker: str, limit: int = 1, outputs_dir: str | None = None
    ) -> list[ClaimedRun]:
        """Move up to ``limit`` due Scheduled runs of ``pool`` to Pending for ``worker``.

        Honours the pool's pause and concurrency limit (a paused deployment makes no
        scheduled runs, but its ad-hoc runs run, as on Prefect); takes higher-priority
        deployments first, then the earliest due time. A notebook run
        claimed by a worker that writes into ``outputs_dir`` gets its ``output_path``.
        """
        work_pool = self.read_work_pool(pool)
        if work_pool.paused:
            return []
        at = now()
        with self.engine.begin() as conn:  # count and claim at once: a limit is never passed
            if work_pool.concurrency_limit is not None:
                _lock_pool(conn, pool)
                active = conn.execute(
                    select(func.count())
                    .select_from(FLOW_RUN)
                    .where(and_(FLOW_RUN.c.work_pool == pool, FLOW_RUN.c.state_type.in_(ACTIVE)))
                ).scalar()
                limit = min(limit, work_pool.concurrency_limit - (active or 0))
            if limit <= 0:
                return []
            return claim(conn, pool, worker, limit, outputs_dir, at, work_pool.base_job_template)

    def read_run_state(self, run_id: str) -> DescribeRunState:
        """The light state view of a flow run (one row, no task runs, logs or history)."""
        with self.engine.connect() as conn:
            row = conn.execute(select(*_STATE_COLUMNS).where(FLOW_RUN.c.id == run_id)).first()
        if row is None:
            raise NotFound(f"no flow run {run_id!r}")
        return DescribeRunState(**row._mapping)

    def set_run_state(self, run_id: str, body: UpdateRunState) -> DescribeRunState:
        """A state a worker (or the server) proposes, decided by the state policy.

        Accepted: recorded (a final state ends the run's unfinished task and subflow runs
        too). Ignored: the run is already there, nothing changes. Rejected: ``Conflict``
        (the run ended, is being cancelled, or is another worker's).
        """
        current = self.read_run_state(run_id)
        if current.worker is not None and body.worker != current.worker:
            raise Conflict(
                f"flow run {run_id} is claimed by {current.worker!r}: only that worker reports "
                "its states (cancel it with POST flow_runs/{id}/cancel)"
            )
        return self._propose(current, body.type, body.name, body.message)

    def _propose(
        self,
        current: DescribeRunState,
        type_: str,
        name: str,
        message: str | None,
        extra: dict[str, Any] | None = None,
        ends: tuple[str, str] | None = None,
    ) -> DescribeRunState:
        """Record ``type_``/``name`` if the state policy accepts it (``extra``: columns set
        with it, e.g. a rescheduled run's worker cleared; ``ends``: (``run_endings``
        kind, message) of the unfinished task runs to end with it)."""
        run_id = current.id
        before = StateType(current.state_type) if current.state_type else None
        verdict = propose(before, StateType(type_), current.state_name, name)
        if verdict.decision is Decision.REJECT:
            raise Conflict(f"flow run {run_id}: {verdict.reason}")
        if verdict.decision is Decision.IGNORE:
            return current.model_copy(update={"decision": "ignore"})
        at = now()
        values: dict[str, Any] = {"state_type": type_, "state_name": name, "state_message": message}
        values.update(extra or {})
        if type_ == "RUNNING":
            values["start_time"] = func.coalesce(FLOW_RUN.c.start_time, at)
        if type_ in FINAL:
            values["end_time"] = at
        with self.engine.begin() as conn:
            done = conn.execute(
                update(FLOW_RUN)
                .where(and_(FLOW_RUN.c.id == run_id, _state_is(current.state_type)))
                .values(**values)
            ).rowcount
            if not done:  # it changed since we read it: decide again on the new state
                raise Conflict(f"flow run {run_id} changed state meanwhile; try again")
            record_state(conn, run_id, type_, name, message, at)
            if type_ in FINAL:
                end_descendants(conn, run_id, type_, message or name, at)
            elif ends is not None:
                end_descendants(conn, run_id, ends[0], ends[1], at)
        return self.read_run_state(run_id).model_copy(update={"decision": "accept"})

    def append_logs(self, run_id: str, body: AppendLogs) -> None:
        self.read_run_state(run_id)
        rows = [
            {
                "flow_run_id": run_id,
                "task_run_id": line.task_run_id,
                "level": line.level,
                "logger": "jupyter_flows.worker",
                "message": line.message,
                "timestamp": line.timestamp or now(),
            }
            for line in body.items
        ]
        if rows:
            with self.engine.begin() as conn:
                conn.execute(insert(LOG), rows)

    def cancel_flow_run(self, run_id: str) -> DescribeRunState:
        """Not started: Cancelled now; held by a worker or a process: Cancelling.

        A Cancelling run is ended Cancelled by whoever runs it (its worker stops the run
        process; a kernel stops between cells); the policy refuses it any other state.
        """
        current = self.read_run_state(run_id)
        state = current.state_type
        if state in FINAL:
            raise Conflict(f"flow run {run_id} already ended {current.state_name}")
        if state == "CANCELLING":
            return current
        if state in ("RUNNING", "PAUSED") or (state == "PENDING" and current.worker):
            return self._propose(current, "CANCELLING", "Cancelling", "cancellation requested")
        return self._propose(current, "CANCELLED", "Cancelled", "cancelled")

    def mark_crashed_runs(self, heartbeat_timeout: float) -> list[str]:
        """Active runs whose worker sent no heartbeat for ``heartbeat_timeout`` s end Crashed,
        and so do started background task runs whose task worker's claim expired.

        Safe with several servers on one database: each run is moved by a conditional
        UPDATE, so exactly one of them records the crash.
        """
        cutoff = now() - timedelta(seconds=heartbeat_timeout)
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(*_STATE_COLUMNS).where(
                    and_(
                        FLOW_RUN.c.state_type.in_(ACTIVE),
                        FLOW_RUN.c.worker.is_not(None),
                        FLOW_RUN.c.heartbeat < cutoff,
                    )
                )
            ).all()
        crashed = []
        for row in rows:
            current = DescribeRunState(**row._mapping)
            message = f"its worker {current.worker} sent no heartbeat for {heartbeat_timeout:g} s"
            try:
                self._propose(current, "CRASHED", "Crashed", message)
            except Conflict:
                continue  # it ended meanwhile, or another server crashed it first
            crashed.append(current.id)
            logger.warning("flow run %s crashed: %s", current.id, message)
        # background task runs: claims whose task worker stopped renewing them are taken
        # back (re-queued if not started, else Crashed), as the task workers do themselves
        _requeued, crashed_tasks = background.sweep(self.engine)
        return crashed + crashed_tasks


def _lock_pool(conn: Connection, pool: str) -> None:
    """Serialise the claims of one pool until this transaction ends (on SQLite, the write
    lock its ``BEGIN IMMEDIATE`` took already does)."""
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(hashtext(:key))"), {"key": f"pool:{pool}"})


def _state_is(state: str | None) -> Any:
    return FLOW_RUN.c.state_type.is_(None) if state is None else FLOW_RUN.c.state_type == state
