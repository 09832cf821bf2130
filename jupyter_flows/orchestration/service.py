"""``OrchestrationService``: deployments, runs to start, work pools, workers, claims.

Plain methods over the run database (SQLAlchemy Core); the server's handlers, the scheduler
and the embedded worker call them. Domain problems raise the ``jupyter_flows.exceptions``
tree; nothing here knows about HTTP.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from sqlalchemy import and_, func, insert, select, update
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import Engine

from ..core.names import generate_run_name
from ..core.records import new_id
from ..exceptions import Conflict, NotFound
from ..store.models import FlowRunRecord, RunStateRecord
from ..store.orchestration_models import DeploymentRecord, WorkerRecord, WorkPoolRecord
from ..store.repository import RunStore
from ..store.schemas import DescribeFlowRun
from . import deployments as _dep
from .schemas import (
    AppendLogs,
    ClaimedRun,
    CreateDeployment,
    CreateDeploymentRun,
    CreateWorkPool,
    DescribeDeployment,
    DescribeWorker,
    DescribeWorkPool,
    ListDeploymentsQuery,
    ListDeploymentsResponse,
    UpdateDeployment,
    UpdateRunState,
    UpdateWorkPool,
)

__all__ = ["OrchestrationService"]

logger = logging.getLogger(__name__)
FLOW_RUN = FlowRunRecord.__table__  # type: ignore[attr-defined]
STATE = RunStateRecord.__table__  # type: ignore[attr-defined]
DEPLOYMENT = DeploymentRecord.__table__  # type: ignore[attr-defined]
POOL = WorkPoolRecord.__table__  # type: ignore[attr-defined]
WORKER = WorkerRecord.__table__  # type: ignore[attr-defined]
FINAL = ("COMPLETED", "FAILED", "CANCELLED", "CRASHED")
ACTIVE = ("PENDING", "RUNNING", "CANCELLING")
WORKER_ONLINE = timedelta(seconds=60)


def _now() -> datetime:
    return datetime.now(timezone.utc)


class OrchestrationService:
    """The orchestration domain over one run database."""

    def __init__(self, engine: Engine, root_dir: Path, outputs_dir: Path):
        self.engine = engine
        self.root_dir = Path(root_dir)
        self.outputs_dir = Path(outputs_dir)
        self.runs = RunStore(engine)
        self.on_change: list[Callable[[], None]] = []
        self._lock = threading.Lock()
        self._ensure_default_pool()

    # ------------------------------------------------------------------ deployments

    def _changed(self) -> None:
        for callback in list(self.on_change):
            try:
                callback()
            except Exception:  # noqa: BLE001 - a listener must not break the write
                logger.exception("deployment change listener failed")

    def create_deployment(self, body: CreateDeployment) -> DescribeDeployment:
        kind, params, schema = _dep.check(body.entrypoint, body.parameters, self.root_dir)
        _dep.check_schedules(body.schedules)
        self.read_work_pool(body.work_pool)
        now = _now()
        row = {
            "id": new_id(),
            "name": body.name,
            "entrypoint": body.entrypoint,
            "kind": kind,
            "parameters": params,
            "parameter_schema": schema,
            "tags": body.tags,
            "description": body.description,
            "version": body.version,
            "work_pool": body.work_pool,
            "schedules": [
                dict(s.model_dump(mode="json"), id=s.id or new_id()[-8:]) for s in body.schedules
            ],
            "missed_runs": body.missed_runs,
            "paused": body.paused,
            "priority": body.priority,
            "created": now,
            "updated": now,
        }
        try:
            with self.engine.begin() as conn:
                conn.execute(insert(DEPLOYMENT).values(**row))
        except sa_exc.IntegrityError:
            raise Conflict(f"a deployment named {body.name!r} already exists") from None
        self._changed()
        return self.read_deployment(str(row["id"]))

    def _deployment_row(self, id_or_name: str) -> Any:
        with self.engine.connect() as conn:
            found = (
                conn.execute(
                    select(DEPLOYMENT).where(
                        (DEPLOYMENT.c.id == id_or_name) | (DEPLOYMENT.c.name == id_or_name)
                    )
                )
                .mappings()
                .first()
            )
        if found is None:
            raise NotFound(f"no deployment {id_or_name!r}")
        return found

    def read_deployment(self, id_or_name: str) -> DescribeDeployment:
        return _dep.describe(self._deployment_row(id_or_name))

    def list_deployments(self, query: ListDeploymentsQuery) -> ListDeploymentsResponse:
        where = []
        if query.work_pool is not None:
            where.append(DEPLOYMENT.c.work_pool == query.work_pool)
        if query.paused is not None:
            where.append(DEPLOYMENT.c.paused == query.paused)
        with self.engine.connect() as conn:
            total = conn.execute(
                select(func.count()).select_from(DEPLOYMENT).where(*where)
            ).scalar()
            rows = (
                conn.execute(
                    select(DEPLOYMENT)
                    .where(*where)
                    .order_by(DEPLOYMENT.c.name)
                    .limit(query.limit)
                    .offset(query.offset)
                )
                .mappings()
                .all()
            )
        return ListDeploymentsResponse(items=[_dep.describe(r) for r in rows], total=total or 0)

    def update_deployment(self, deployment_id: str, body: UpdateDeployment) -> DescribeDeployment:
        row = self._deployment_row(deployment_id)
        values: dict[str, Any] = {"updated": _now()}
        if body.parameters is not None:
            _, values["parameters"], _ = _dep.check(
                row["entrypoint"], body.parameters, self.root_dir
            )
        if body.schedules is not None:
            _dep.check_schedules(body.schedules)
            values["schedules"] = [
                dict(s.model_dump(mode="json"), id=s.id or new_id()[-8:]) for s in body.schedules
            ]
        if body.work_pool is not None:
            self.read_work_pool(body.work_pool)
        for name in (
            "tags",
            "description",
            "version",
            "work_pool",
            "missed_runs",
            "paused",
            "priority",
        ):
            if getattr(body, name) is not None:
                values[name] = getattr(body, name)
        with self.engine.begin() as conn:
            conn.execute(update(DEPLOYMENT).where(DEPLOYMENT.c.id == row["id"]).values(**values))
        self._changed()
        return self.read_deployment(row["id"])

    def delete_deployment(self, deployment_id: str) -> None:
        row = self._deployment_row(deployment_id)
        with self.engine.begin() as conn:
            conn.execute(DEPLOYMENT.delete().where(DEPLOYMENT.c.id == row["id"]))
        self._changed()

    def set_deployment_paused(self, deployment_id: str, paused: bool) -> DescribeDeployment:
        return self.update_deployment(deployment_id, UpdateDeployment(paused=paused))

    def run_deployment(self, deployment_id: str, body: CreateDeploymentRun) -> DescribeFlowRun:
        """A flow run of the deployment, Scheduled now (a worker of its pool starts it)."""
        row = self._deployment_row(deployment_id)
        _, params, _ = _dep.check(
            row["entrypoint"], {**row["parameters"], **body.parameters}, self.root_dir
        )
        run_id = self._create_run(row, params, _now(), "Scheduled", body.tags)
        assert run_id is not None
        return self.runs.read_flow_run(run_id)

    def next_run_times(self, deployment_id: str, n: int = 5) -> list[datetime]:
        return _dep.upcoming(_dep.describe(self._deployment_row(deployment_id)), n)

    def create_scheduled_run(
        self, deployment_id: str, scheduled_time: datetime, late: bool = False
    ) -> str | None:
        """The run for one due time; None if it exists already (any server made it)."""
        try:
            row = self._deployment_row(deployment_id)
        except NotFound:
            return None
        if row["paused"]:
            return None
        return self._create_run(
            row, row["parameters"], scheduled_time, "Late" if late else "Scheduled", []
        )

    def _create_run(
        self, row: Any, params: dict[str, Any], at: datetime, state_name: str, tags: list[str]
    ) -> str | None:
        run_id = new_id()
        now = _now()
        values = {
            "id": run_id,
            "name": generate_run_name(),
            "flow_name": _dep.flow_name(row),
            "flow_version": row["version"],
            "parameters": params,
            "tags": sorted({*row["tags"], *tags}),
            "state_type": "SCHEDULED",
            "state_name": state_name,
            "state_message": None,
            "created": now,
            "expected_start_time": at,
            "run_count": 0,
            "total_run_time": 0.0,
            "deployment_id": row["id"],
            "work_pool": row["work_pool"],
        }
        try:
            with self.engine.begin() as conn:
                conn.execute(insert(FLOW_RUN).values(**values))
                conn.execute(
                    insert(STATE).values(
                        run_id=run_id,
                        run_kind="flow",
                        flow_run_id=run_id,
                        type="SCHEDULED",
                        name=state_name,
                        timestamp=now,
                        message=None,
                    )
                )
        except sa_exc.IntegrityError:
            return None  # (deployment, scheduled time) exists: another server was first
        return run_id

    # ------------------------------------------------------------------ pools, workers

    def _ensure_default_pool(self) -> None:
        try:
            with self.engine.begin() as conn:
                exists = conn.execute(select(POOL.c.name).where(POOL.c.name == "default")).first()
                if exists is None:
                    conn.execute(
                        insert(POOL).values(
                            name="default",
                            type="process",
                            concurrency_limit=None,
                            paused=False,
                            description="the server's embedded worker",
                            created=_now(),
                        )
                    )
        except sa_exc.IntegrityError:
            pass  # created concurrently

    def create_work_pool(self, body: CreateWorkPool) -> DescribeWorkPool:
        try:
            with self.engine.begin() as conn:
                conn.execute(insert(POOL).values(**body.model_dump(), created=_now()))
        except sa_exc.IntegrityError:
            raise Conflict(f"a work pool named {body.name!r} already exists") from None
        return self.read_work_pool(body.name)

    def read_work_pool(self, name: str) -> DescribeWorkPool:
        with self.engine.connect() as conn:
            row = conn.execute(select(POOL).where(POOL.c.name == name)).mappings().first()
        if row is None:
            raise NotFound(f"no work pool {name!r}")
        return DescribeWorkPool.model_validate(dict(row))

    def list_work_pools(self) -> list[DescribeWorkPool]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(POOL).order_by(POOL.c.name)).mappings().all()
        return [DescribeWorkPool.model_validate(dict(r)) for r in rows]

    def update_work_pool(self, name: str, body: UpdateWorkPool) -> DescribeWorkPool:
        self.read_work_pool(name)
        values = body.model_dump(exclude_unset=True)
        if values:
            with self.engine.begin() as conn:
                conn.execute(update(POOL).where(POOL.c.name == name).values(**values))
        return self.read_work_pool(name)

    def set_work_pool_paused(self, name: str, paused: bool) -> DescribeWorkPool:
        return self.update_work_pool(name, UpdateWorkPool(paused=paused))

    def heartbeat(self, pool: str, worker: str) -> DescribeWorker:
        self.read_work_pool(pool)
        now = _now()
        with self.engine.begin() as conn:
            done = conn.execute(
                update(WORKER)
                .where(and_(WORKER.c.name == worker, WORKER.c.work_pool == pool))
                .values(last_heartbeat=now)
            ).rowcount
            if not done:
                conn.execute(insert(WORKER).values(name=worker, work_pool=pool, last_heartbeat=now))
            conn.execute(
                update(FLOW_RUN)
                .where(and_(FLOW_RUN.c.worker == worker, FLOW_RUN.c.state_type.in_(ACTIVE)))
                .values(heartbeat=now)
            )
        return DescribeWorker(name=worker, work_pool=pool, last_heartbeat=now, status="online")

    def list_workers(self, pool: str | None = None) -> list[DescribeWorker]:
        query = select(WORKER).order_by(WORKER.c.work_pool, WORKER.c.name)
        if pool is not None:
            query = query.where(WORKER.c.work_pool == pool)
        with self.engine.connect() as conn:
            rows = conn.execute(query).mappings().all()
        now = _now()
        return [
            DescribeWorker(
                name=r["name"],
                work_pool=r["work_pool"],
                last_heartbeat=r["last_heartbeat"],
                status="online" if now - r["last_heartbeat"] < WORKER_ONLINE else "offline",
            )
            for r in rows
        ]

    # ------------------------------------------------------------------ runs of workers

    def claim_runs(self, pool: str, worker: str, limit: int = 1) -> list[ClaimedRun]:
        """Move due Scheduled runs of ``pool`` to Pending for ``worker``, atomically."""
        work_pool = self.read_work_pool(pool)
        if work_pool.paused:
            return []
        now = _now()
        with self.engine.connect() as conn:
            active = (
                conn.execute(
                    select(func.count())
                    .select_from(FLOW_RUN)
                    .where(and_(FLOW_RUN.c.work_pool == pool, FLOW_RUN.c.state_type.in_(ACTIVE)))
                ).scalar()
                or 0
            )
            if work_pool.concurrency_limit is not None:
                limit = min(limit, work_pool.concurrency_limit - active)
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
                        FLOW_RUN.c.expected_start_time <= now,
                        DEPLOYMENT.c.paused.is_(False),
                    )
                )
                .order_by(DEPLOYMENT.c.priority.desc(), FLOW_RUN.c.expected_start_time)
                .limit(limit * 4)
            ).all()
        claimed: list[ClaimedRun] = []
        for run_id, deployment_id in candidates:
            if len(claimed) >= limit:
                break
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
                    .values(
                        worker=worker, heartbeat=now, state_type="PENDING", state_name="Pending"
                    )
                ).rowcount
                if won:
                    conn.execute(
                        insert(STATE).values(
                            run_id=run_id,
                            run_kind="flow",
                            flow_run_id=run_id,
                            type="PENDING",
                            name="Pending",
                            timestamp=now,
                            message=f"claimed by {worker}",
                        )
                    )
            if won:
                claimed.append(
                    ClaimedRun(
                        flow_run=self.runs.read_flow_run(run_id),
                        deployment=self.read_deployment(deployment_id),
                    )
                )
        return claimed

    def set_run_state(self, run_id: str, body: UpdateRunState) -> DescribeFlowRun:
        run = self.runs.read_flow_run(run_id)
        current = run.state_type.value if run.state_type else None
        if current in FINAL:
            raise Conflict(f"flow run {run_id} already ended {run.state_name}")
        if body.worker is not None and run.worker not in (None, body.worker):
            raise Conflict(f"flow run {run_id} is claimed by {run.worker!r}")
        now = _now()
        values: dict[str, Any] = {
            "state_type": body.type,
            "state_name": body.name,
            "state_message": body.message,
        }
        if body.type == "RUNNING" and run.start_time is None:
            values["start_time"] = now
        if body.type in FINAL:
            values["end_time"] = now
        with self.engine.begin() as conn:
            conn.execute(update(FLOW_RUN).where(FLOW_RUN.c.id == run_id).values(**values))
            conn.execute(
                insert(STATE).values(
                    run_id=run_id,
                    run_kind="flow",
                    flow_run_id=run_id,
                    type=body.type,
                    name=body.name,
                    timestamp=now,
                    message=body.message,
                )
            )
        return self.runs.read_flow_run(run_id)

    def append_logs(self, run_id: str, body: AppendLogs) -> None:
        from ..store.models import RunLogRecord

        self.runs.read_flow_run(run_id)
        rows = [
            {
                "flow_run_id": run_id,
                "task_run_id": line.task_run_id,
                "level": line.level,
                "logger": "jupyter_flows.worker",
                "message": line.message,
                "timestamp": line.timestamp or _now(),
            }
            for line in body.items
        ]
        if rows:
            with self.engine.begin() as conn:
                conn.execute(insert(RunLogRecord.__table__), rows)  # type: ignore[attr-defined]

    def cancel_flow_run(self, run_id: str) -> DescribeFlowRun:
        run = self.runs.read_flow_run(run_id)
        state = run.state_type.value if run.state_type else None
        if state in FINAL:
            raise Conflict(f"flow run {run_id} already ended {run.state_name}")
        if state == "RUNNING" or (state == "PENDING" and run.worker):
            return self._set_cancelling(run_id)  # its worker stops it and ends it Cancelled
        return self.set_run_state(
            run_id, UpdateRunState(type="CANCELLED", name="Cancelled", message="cancelled")
        )

    def _set_cancelling(self, run_id: str) -> DescribeFlowRun:
        now = _now()
        with self.engine.begin() as conn:
            conn.execute(
                update(FLOW_RUN)
                .where(FLOW_RUN.c.id == run_id)
                .values(
                    state_type="CANCELLING",
                    state_name="Cancelling",
                    state_message="cancellation requested",
                )
            )
            conn.execute(
                insert(STATE).values(
                    run_id=run_id,
                    run_kind="flow",
                    flow_run_id=run_id,
                    type="CANCELLING",
                    name="Cancelling",
                    timestamp=now,
                    message="cancellation requested",
                )
            )
        return self.runs.read_flow_run(run_id)

    def mark_crashed_runs(self, heartbeat_timeout: float) -> list[str]:
        """Runs whose worker stopped heartbeating end Crashed."""
        cutoff = _now() - timedelta(seconds=heartbeat_timeout)
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
        for run_id in ids:
            try:
                self.set_run_state(
                    run_id,
                    UpdateRunState(
                        type="CRASHED",
                        name="Crashed",
                        message=f"its worker sent no heartbeat for {heartbeat_timeout:g} s",
                    ),
                )
            except Conflict:
                pass
        return ids
