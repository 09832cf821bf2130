"""Runs on their way through workers: claims, reported states, logs, cancellation, crashes.

A part of ``OrchestrationService``. A claim is a conditional ``UPDATE ... WHERE
state_type = 'SCHEDULED' AND worker IS NULL`` whose row count says who won, so workers in
different processes (or servers) never share a run.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from sqlalchemy import and_, func, insert, select, update
from sqlalchemy.engine import Engine

from ..exceptions import Conflict
from ..store.repository import RunStore
from ..store.schemas import DescribeFlowRun
from ._tables import (
    ACTIVE,
    DEPLOYMENT,
    FINAL,
    FLOW_RUN,
    LOG,
    TRANSITIONS,
    now,
    record_state,
)
from .schemas import AppendLogs, ClaimedRun, DescribeDeployment, DescribeWorkPool, UpdateRunState

__all__ = ["RunStates"]

logger = logging.getLogger(__name__)


class RunStates:
    """Claim due runs for workers and follow them to a final state."""

    engine: Engine
    runs: RunStore

    def read_work_pool(self, name: str) -> DescribeWorkPool:
        raise NotImplementedError

    def read_deployment(self, id_or_name: str) -> DescribeDeployment:
        raise NotImplementedError

    def claim_runs(self, pool: str, worker: str, limit: int = 1) -> list[ClaimedRun]:
        """Move up to ``limit`` due Scheduled runs of ``pool`` to Pending for ``worker``.

        Honours the pool's pause and concurrency limit and the deployments' pause; takes
        higher-priority deployments first, then the earliest due time.
        """
        work_pool = self.read_work_pool(pool)
        if work_pool.paused:
            return []
        at = now()
        with self.engine.connect() as conn:
            if work_pool.concurrency_limit is not None:
                active = conn.execute(
                    select(func.count())
                    .select_from(FLOW_RUN)
                    .where(and_(FLOW_RUN.c.work_pool == pool, FLOW_RUN.c.state_type.in_(ACTIVE)))
                ).scalar()
                limit = min(limit, work_pool.concurrency_limit - (active or 0))
            if limit <= 0:
                return []
            candidates = conn.execute(
                select(FLOW_RUN.c.id, FLOW_RUN.c.deployment_id)
                .join(DEPLOYMENT, DEPLOYMENT.c.id == FLOW_RUN.c.deployment_id)
                .where(
                    and_(
                        FLOW_RUN.c.work_pool == pool,
                        FLOW_RUN.c.state_type == "SCHEDULED",
                        FLOW_RUN.c.worker.is_(None),
                        FLOW_RUN.c.expected_start_time <= at,
                        DEPLOYMENT.c.paused.is_(False),
                    )
                )
                .order_by(DEPLOYMENT.c.priority.desc(), FLOW_RUN.c.expected_start_time)
                .limit(limit * 4)  # some may go to other workers meanwhile
            ).all()
        claimed: list[ClaimedRun] = []
        for run_id, deployment_id in candidates:
            if len(claimed) >= limit:
                break
            if self._claim_one(run_id, worker):
                claimed.append(
                    ClaimedRun(
                        flow_run=self.runs.read_flow_run(run_id),
                        deployment=self.read_deployment(deployment_id),
                    )
                )
        return claimed

    def _claim_one(self, run_id: str, worker: str) -> bool:
        at = now()
        with self.engine.begin() as conn:
            won = conn.execute(
                update(FLOW_RUN)
                .where(
                    and_(
                        FLOW_RUN.c.id == run_id,
                        FLOW_RUN.c.worker.is_(None),
                        FLOW_RUN.c.state_type == "SCHEDULED",
                    )
                )
                .values(worker=worker, heartbeat=at, state_type="PENDING", state_name="Pending")
            ).rowcount
            if won:
                record_state(conn, run_id, "PENDING", "Pending", f"claimed by {worker}", at)
        return bool(won)

    def set_run_state(self, run_id: str, body: UpdateRunState) -> DescribeFlowRun:
        """A state a worker reports; ``Conflict`` if the run can't go there from where it is."""
        run = self.runs.read_flow_run(run_id)
        current = run.state_type.value if run.state_type else None
        if current in FINAL:
            raise Conflict(f"flow run {run_id} already ended {run.state_name}")
        if body.type not in TRANSITIONS.get(current, set()):
            raise Conflict(f"flow run {run_id} cannot go from {run.state_name} to {body.name}")
        if body.worker is not None and run.worker not in (None, body.worker):
            raise Conflict(f"flow run {run_id} is claimed by {run.worker!r}")
        at = now()
        values: dict[str, Any] = {
            "state_type": body.type,
            "state_name": body.name,
            "state_message": body.message,
        }
        if body.type == "RUNNING" and run.start_time is None:
            values["start_time"] = at
        if body.type in FINAL:
            values["end_time"] = at
        with self.engine.begin() as conn:
            done = conn.execute(
                update(FLOW_RUN)
                .where(and_(FLOW_RUN.c.id == run_id, _state_is(current)))
                .values(**values)
            ).rowcount
            if not done:  # it changed since we read it: decide again on the new state
                raise Conflict(f"flow run {run_id} changed state meanwhile; try again")
            record_state(conn, run_id, body.type, body.name, body.message, at)
        return self.runs.read_flow_run(run_id)

    def append_logs(self, run_id: str, body: AppendLogs) -> None:
        self.runs.read_flow_run(run_id)
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

    def cancel_flow_run(self, run_id: str) -> DescribeFlowRun:
        """Scheduled or unclaimed: Cancelled now; held by a worker: Cancelling (it stops it)."""
        run = self.runs.read_flow_run(run_id)
        state = run.state_type.value if run.state_type else None
        if state in FINAL:
            raise Conflict(f"flow run {run_id} already ended {run.state_name}")
        if state == "CANCELLING":
            return run
        if state in ("RUNNING", "PAUSED") or (state == "PENDING" and run.worker):
            at = now()
            message = "cancellation requested"
            with self.engine.begin() as conn:
                done = conn.execute(
                    update(FLOW_RUN)
                    .where(and_(FLOW_RUN.c.id == run_id, _state_is(state)))
                    .values(state_type="CANCELLING", state_name="Cancelling", state_message=message)
                ).rowcount
                if not done:
                    raise Conflict(f"flow run {run_id} changed state meanwhile; try again")
                record_state(conn, run_id, "CANCELLING", "Cancelling", message, at)
            return self.runs.read_flow_run(run_id)
        return self.set_run_state(
            run_id, UpdateRunState(type="CANCELLED", name="Cancelled", message="cancelled")
        )

    def mark_crashed_runs(self, heartbeat_timeout: float) -> list[str]:
        """Active runs whose worker sent no heartbeat for ``heartbeat_timeout`` s end Crashed."""
        cutoff = now() - timedelta(seconds=heartbeat_timeout)
        with self.engine.connect() as conn:
            ids = [
                r[0]
                for r in conn.execute(
                    select(FLOW_RUN.c.id).where(
                        and_(
                            FLOW_RUN.c.state_type.in_(ACTIVE),
                            FLOW_RUN.c.worker.is_not(None),
                            FLOW_RUN.c.heartbeat < cutoff,
                        )
                    )
                )
            ]
        crashed = []
        message = f"its worker sent no heartbeat for {heartbeat_timeout:g} s"
        for run_id in ids:
            try:
                self.set_run_state(
                    run_id, UpdateRunState(type="CRASHED", name="Crashed", message=message)
                )
            except Conflict:
                continue  # it ended meanwhile
            crashed.append(run_id)
            logger.warning("flow run %s crashed: %s", run_id, message)
        return crashed


def _state_is(state: str | None) -> Any:
    return FLOW_RUN.c.state_type.is_(None) if state is None else FLOW_RUN.c.state_type == state
