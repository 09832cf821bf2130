"""``OrchestrationService``: deployments, runs to start, work pools, workers, claims.

Plain methods over the run database (SQLAlchemy Core); the server's handlers, the scheduler
and the embedded worker call them. Domain problems raise the ``jupyter_flows.exceptions``
tree; nothing here knows about HTTP. Work pools and workers live in ``pools``, claims and
reported states in ``run_states``, events and automations in ``automations``, variables in
``variables``, concurrency limits in ``concurrency``, block documents in ``blocks``; this
module holds deployments and the runs they create.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import exc as sa_exc
from sqlalchemy import func, insert, select, update
from sqlalchemy.engine import Engine

from ..core.records import new_id
from ..exceptions import Conflict, NotFound, ScheduleError
from ..store.repository import RunStore
from ..store.schemas import DescribeFlowRun
from . import deployments as _dep
from ._tables import DEPLOYMENT, FLOW_RUN, find_by_id_or_name, now, record_state
from .automations import Automations
from .blocks import BlockDocuments
from .concurrency import ConcurrencyLimits
from .pauses import Pauses
from .pools import WorkPools
from .retention import Retention
from .run_states import RunStates
from .scheduled_runs import ScheduledRuns, run_values
from .schemas import (
    CreateDeployment,
    CreateDeploymentRun,
    DescribeDeployment,
    ListDeploymentsQuery,
    ListDeploymentsResponse,
    NotebookParameter,
    SchedulePreview,
    ScheduleSpec,
    UpdateDeployment,
)
from .variables import Variables

__all__ = ["OrchestrationService"]

logger = logging.getLogger(__name__)

#: what a retry from failure may start from
RETRYABLE = ("FAILED", "CRASHED", "CANCELLED")


class OrchestrationService(
    WorkPools,
    RunStates,
    Automations,
    Retention,
    Variables,
    ConcurrencyLimits,
    BlockDocuments,
    Pauses,
    ScheduledRuns,
):
    """The orchestration domain over one run database."""

    def __init__(
        self, engine: Engine, root_dir: Path, outputs_dir: Path, heartbeat_timeout: float = 60.0
    ):
        self.engine = engine
        #: a worker silent this long is offline, and its active runs end Crashed
        self.heartbeat_timeout = heartbeat_timeout
        self.root_dir = Path(root_dir)
        self.outputs_dir = Path(outputs_dir)
        self.runs = RunStore(engine)
        #: installed packages whose flows deployments may run (besides code under the root)
        self.allowed_entrypoint_packages: tuple[str, ...] = ()
        #: called with a deployment's id after it changes (None: any may have)
        self.on_change: list[Callable[[str | None], None]] = []
        #: deployments' uploaded source bundles (``sources.SourceStore``; None: none taken)
        self.sources: Any = None
        self._ensure_default_pool()

    # ------------------------------------------------------------------ deployments

    def _changed(self, deployment_id: str | None = None) -> None:
        for callback in list(self.on_change):
            try:
                callback(deployment_id)
            except Exception:  # noqa: BLE001 - a listener must not break the write
                logger.exception("deployment change listener failed")

    def create_deployment(self, body: CreateDeployment) -> DescribeDeployment:
        kind, params, schema = _dep.check(
            body.entrypoint,
            body.parameters,
            self._source_root(body.source_digest),
            self.allowed_entrypoint_packages,
        )
        _dep.check_schedules(body.schedules)
        self._check_pool(body.work_pool)
        self._check_job_variables(body.work_pool, body.job_variables)
        at = now()
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
            "job_variables": body.job_variables,
            "source_digest": body.source_digest,
            "created": at,
            "updated": at,
        }
        try:
            with self.engine.begin() as conn:
                conn.execute(insert(DEPLOYMENT).values(**row))
        except sa_exc.IntegrityError:
            raise Conflict(f"a deployment named {body.name!r} already exists") from None
        self._changed(str(row["id"]))
        return self.read_deployment(str(row["id"]))

    def _source_root(self, source_digest: str | None) -> Path:
        """Where a deployment's entrypoint is: its unpacked source bundle, or the root."""
        if source_digest is None:
            return self.root_dir
        if self.sources is None or not self.sources.exists(source_digest):
            raise ValueError(
                f"source_digest: no source bundle {source_digest} on this server "
                "(upload it first: PUT sources/{digest})"
            )
        try:
            return Path(self.sources.unpacked(source_digest))
        except ValueError as exc:  # (a BundleError: stored before it was checked)
            raise ValueError(f"source_digest: {exc}") from None

    def _check_pool(self, name: str) -> None:
        """A body naming a pool that does not exist is bad input (400), not a missing route."""
        try:
            self.read_work_pool(name)
        except NotFound:
            raise ValueError(f"work_pool: no work pool {name!r}") from None

    def _check_job_variables(
        self, pool: str, *layers: dict[str, Any], where: str = "job_variables"
    ) -> dict[str, Any]:
        """The layers merged (later wins), if the pool's base job template takes them."""
        from .job_templates import validate_job_variables

        merged: dict[str, Any] = {}
        for layer in layers:
            merged.update(layer)
        template = self.read_work_pool(pool).base_job_template
        return validate_job_variables(template, merged, where)

    def _deployment_row(self, id_or_name: str) -> Any:
        return find_by_id_or_name(self.engine, DEPLOYMENT, id_or_name, "deployment")

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
        values: dict[str, Any] = {"updated": now()}
        if body.source_digest is not None:  # the same entrypoint, in the new bundle
            kind, params, schema = _dep.check(
                row["entrypoint"],
                body.parameters if body.parameters is not None else row["parameters"],
                self._source_root(body.source_digest),
                self.allowed_entrypoint_packages,
            )
            values.update(source_digest=body.source_digest, kind=kind, parameter_schema=schema)
            values["parameters"] = params
        elif body.parameters is not None:
            _, values["parameters"], _ = _dep.check(
                row["entrypoint"],
                body.parameters,
                self._source_root(row["source_digest"]),
                schema=row["parameter_schema"],
            )
        if body.schedules is not None:
            _dep.check_schedules(body.schedules)
            values["schedules"] = [
                dict(s.model_dump(mode="json"), id=s.id or new_id()[-8:]) for s in body.schedules
            ]
        if body.work_pool is not None:
            self._check_pool(body.work_pool)
        if body.work_pool is not None or body.job_variables is not None:
            job_variables = (
                body.job_variables if body.job_variables is not None else row["job_variables"]
            )
            pool = body.work_pool or row["work_pool"]
            values["job_variables"] = self._check_job_variables(pool, job_variables or {})
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
        if body.paused and not row["paused"]:  # as Prefect: its waiting scheduled runs go
            self._delete_waiting_runs(row["id"], auto_scheduled_only=True)
        elif body.schedules is not None:  # runs made ahead by the old schedules
            self._delete_waiting_runs(row["id"], auto_scheduled_only=True, after=now())
        self._changed(row["id"])
        return self.read_deployment(row["id"])

    def delete_deployment(self, deployment_id: str) -> None:
        """Delete a deployment and its runs no worker has claimed; the runs that ran stay,
        and automations that would run, pause or resume it are disabled."""
        row = self._deployment_row(deployment_id)
        with self.engine.begin() as conn:
            conn.execute(DEPLOYMENT.delete().where(DEPLOYMENT.c.id == row["id"]))
        self._delete_waiting_runs(row["id"], auto_scheduled_only=False)
        self._disable_automations_of(dict(row))
        self._changed(row["id"])

    def set_deployment_paused(self, deployment_id: str, paused: bool) -> DescribeDeployment:
        return self.update_deployment(deployment_id, UpdateDeployment(paused=paused))

    def run_deployment(self, deployment_id: str, body: CreateDeploymentRun) -> DescribeFlowRun:
        """A flow run of the deployment, Scheduled now (a worker of its pool starts it)."""
        row = self._deployment_row(deployment_id)
        _, params, _ = _dep.check(
            row["entrypoint"],
            {**row["parameters"], **body.parameters},
            self._source_root(row["source_digest"]),
            schema=row["parameter_schema"],
        )
        self._check_job_variables(row["work_pool"], row["job_variables"] or {}, body.job_variables)
        at = now()
        for _ in range(5):  # "now" is taken by another run of it: a microsecond later
            run_id = self._create_run(
                row, params, at, "Scheduled", body.tags, body.message, None, body.job_variables
            )
            if run_id is not None:
                return self.runs.read_flow_run(run_id)
            at += timedelta(microseconds=1)
        raise Conflict(f"could not create a run of deployment {row['name']!r}; try again")

    def retry_flow_run(self, flow_run_id: str) -> DescribeFlowRun:
        """A new run of a Failed, Crashed or Cancelled deployment run, with its parameters and
        tags, that reuses its completed task runs' persisted results (``retry_of``).

        ``Conflict`` for a run that did not end so, or that no deployment made (a kernel's or
        a script's: run it again there); ``NotFound`` for an unknown run or deployment.
        """
        old = self.runs.read_flow_run_item(flow_run_id)
        if old.state_type is None or old.state_type.value not in RETRYABLE:
            raise Conflict(
                f"flow run {old.name!r} is {old.state_name or 'new'}: only a Failed, Crashed or "
                "Cancelled run can be retried"
            )
        if old.deployment_id is None:
            raise Conflict(
                f"flow run {old.name!r} was not made by a deployment: run its flow again where "
                "it ran (a kernel, a script)"
            )
        row = self._deployment_row(old.deployment_id)
        tags = [t for t in old.tags if t not in row["tags"]]
        message = f"retry of {old.name} ({old.id})"
        at = now()
        for _ in range(5):
            run_id = self._create_run(
                row,
                dict(old.parameters),
                at,
                "Scheduled",
                tags,
                message,
                retry_of=old.id,
                job_variables=self._run_job_variables(old.id),
            )
            if run_id is not None:
                logger.info("flow run %s retries %s", run_id, old.id)
                return self.runs.read_flow_run(run_id)
            at += timedelta(microseconds=1)
        raise Conflict(f"could not create a retry of flow run {old.name!r}; try again")

    def _run_job_variables(self, run_id: str) -> dict[str, Any]:
        with self.engine.connect() as conn:
            found = conn.execute(
                select(FLOW_RUN.c.job_variables).where(FLOW_RUN.c.id == run_id)
            ).scalar()
        return dict(found or {})

    def next_run_times(self, deployment_id: str, n: int = 5) -> list[datetime]:
        return _dep.upcoming(_dep.describe(self._deployment_row(deployment_id)), n)

    def preview_schedule(self, body: SchedulePreview) -> list[datetime]:
        """The next ``body.n`` times of a cron or interval schedule (``ScheduleError`` if bad)."""
        from ..scheduling.triggers import next_times

        try:
            spec = ScheduleSpec(
                cron=body.cron, interval_seconds=body.interval_seconds, timezone=body.timezone
            )
        except ValueError:
            raise ScheduleError(
                "a schedule preview needs one of cron or interval_seconds"
            ) from None
        return next_times(spec, body.n)

    def notebook_parameters(self, path: str) -> list[NotebookParameter]:
        """The parameters of a notebook under the root (from its cell tagged ``parameters``)."""
        from ..execution.entrypoints import notebook_parameters

        found = notebook_parameters(_dep.notebook_path(path, self.root_dir))
        return [NotebookParameter.model_validate(p) for p in found]

    def create_scheduled_run(
        self, deployment_id: str, scheduled_time: datetime, late: bool = False
    ) -> str | None:
        """The run for one due time; None if it exists already (any server made it)."""
        try:
            row = self._deployment_row(deployment_id)
        except NotFound:
            return None
        made = self.create_scheduled_runs([(row["id"], scheduled_time)], late=late)
        return next(iter(made.values()), None)

    def _create_run(
        self,
        row: Any,
        params: dict[str, Any],
        at: datetime,
        state_name: str,
        tags: list[str],
        message: str | None = None,
        retry_of: str | None = None,
        job_variables: dict[str, Any] | None = None,
    ) -> str | None:
        values = run_values(row, params, at, state_name, tags, message, retry_of)
        values["job_variables"] = job_variables or {}
        run_id = values["id"]
        try:
            with self.engine.begin() as conn:
                conn.execute(insert(FLOW_RUN).values(**values))
                record_state(conn, run_id, "SCHEDULED", state_name, message, values["created"])
        except sa_exc.IntegrityError:
            return None  # (deployment, scheduled time) exists: another server was first
        return run_id
