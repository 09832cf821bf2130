"""Deployments, schedules, work pools, workers and run control routes."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from jupyter_server.auth.decorator import authorized
from pydantic import BaseModel, Field
from tornado import web
from tornado.ioloop import PeriodicCallback

from ..orchestration.schemas import (
    AppendLogs,
    ClaimRuns,
    CreateDeployment,
    CreateDeploymentRun,
    CreateWorkPool,
    DescribeDeployment,
    DescribeWorker,
    DescribeWorkPool,
    ListDeploymentsQuery,
    ListDeploymentsResponse,
    SchedulePreview,
    ScheduleSpec,
    UpdateDeployment,
    UpdateRunState,
    UpdateWorkPool,
    WorkerHeartbeat,
)
from ..store.schemas import DescribeFlowRun
from .handlers import FlowsAPIHandler

__all__ = ["ROUTES", "initialize", "operations"]

logger = logging.getLogger(__name__)


class NextRunsQuery(BaseModel):
    n: int = Field(default=5, ge=1, le=100)


class NotebookPath(BaseModel):
    path: str = Field(min_length=1)


class PoolQuery(BaseModel):
    work_pool: str | None = None


def _items(values: list[Any]) -> dict[str, Any]:
    return {"items": [v.model_dump(mode="json") if isinstance(v, BaseModel) else v for v in values]}


class _Orchestration(FlowsAPIHandler):
    @property
    def service(self) -> Any:
        return self.services["orchestration"]


class DeploymentsHandler(_Orchestration):
    @web.authenticated
    @authorized
    async def get(self) -> None:
        query = self.query(ListDeploymentsQuery)
        self.reply(await self.blocking(self.service.list_deployments, query))

    @web.authenticated
    @authorized
    async def post(self) -> None:
        body = self.body(CreateDeployment)
        self.reply(await self.blocking(self.service.create_deployment, body), status=201)


class DeploymentHandler(_Orchestration):
    @web.authenticated
    @authorized
    async def get(self, deployment_id: str) -> None:
        self.reply(await self.blocking(self.service.read_deployment, deployment_id))

    @web.authenticated
    @authorized
    async def patch(self, deployment_id: str) -> None:
        body = self.body(UpdateDeployment)
        self.reply(await self.blocking(self.service.update_deployment, deployment_id, body))

    @web.authenticated
    @authorized
    async def delete(self, deployment_id: str) -> None:
        await self.blocking(self.service.delete_deployment, deployment_id)
        self.set_status(204)
        self.finish()


class DeploymentPauseHandler(_Orchestration):
    @web.authenticated
    @authorized
    async def post(self, deployment_id: str, action: str) -> None:
        paused = action == "pause"
        self.reply(await self.blocking(self.service.set_deployment_paused, deployment_id, paused))


class DeploymentRunHandler(_Orchestration):
    @web.authenticated
    @authorized(action="execute")
    async def post(self, deployment_id: str) -> None:
        body = self.body(CreateDeploymentRun)
        self.reply(await self.blocking(self.service.run_deployment, deployment_id, body), 201)


class NextRunsHandler(_Orchestration):
    @web.authenticated
    @authorized
    async def get(self, deployment_id: str) -> None:
        n = self.query(NextRunsQuery).n
        times = await self.blocking(self.service.next_run_times, deployment_id, n)
        self.reply({"items": [t.isoformat() for t in times]})


class SchedulePreviewHandler(_Orchestration):
    @web.authenticated
    @authorized(action="read")
    async def post(self) -> None:
        from ..scheduling.triggers import next_times

        body = self.body(SchedulePreview)
        try:
            spec = ScheduleSpec(
                cron=body.cron, interval_seconds=body.interval_seconds, timezone=body.timezone
            )
        except ValueError as exc:
            raise web.HTTPError(400, str(exc)) from exc
        times = await self.blocking(next_times, spec, body.n)
        self.reply({"items": [t.isoformat() for t in times]})


class NotebookParametersHandler(_Orchestration):
    @web.authenticated
    @authorized(action="read")
    async def post(self) -> None:
        from ..execution.entrypoints import notebook_parameters

        body = self.body(NotebookPath)
        root = Path(self.services["root_dir"]).resolve()
        path = (root / body.path).resolve()
        if root not in path.parents:
            raise web.HTTPError(400, "the notebook must be under the server root")
        params = await self.blocking(notebook_parameters, path)
        self.reply({"parameters": params})


class WorkPoolsHandler(_Orchestration):
    @web.authenticated
    @authorized
    async def get(self) -> None:
        self.reply(_items(await self.blocking(self.service.list_work_pools)))

    @web.authenticated
    @authorized
    async def post(self) -> None:
        body = self.body(CreateWorkPool)
        self.reply(await self.blocking(self.service.create_work_pool, body), status=201)


class WorkPoolHandler(_Orchestration):
    @web.authenticated
    @authorized
    async def get(self, name: str) -> None:
        self.reply(await self.blocking(self.service.read_work_pool, name))

    @web.authenticated
    @authorized
    async def patch(self, name: str) -> None:
        body = self.body(UpdateWorkPool)
        self.reply(await self.blocking(self.service.update_work_pool, name, body))


class WorkPoolPauseHandler(_Orchestration):
    @web.authenticated
    @authorized
    async def post(self, name: str, action: str) -> None:
        self.reply(await self.blocking(self.service.set_work_pool_paused, name, action == "pause"))


class WorkersHandler(_Orchestration):
    @web.authenticated
    @authorized
    async def get(self) -> None:
        pool = self.query(PoolQuery).work_pool
        self.reply(_items(await self.blocking(self.service.list_workers, pool)))


class HeartbeatHandler(_Orchestration):
    @web.authenticated
    @authorized(action="execute")
    async def post(self, name: str) -> None:
        body = self.body(WorkerHeartbeat)
        self.reply(await self.blocking(self.service.heartbeat, name, body.worker))


class ClaimHandler(_Orchestration):
    @web.authenticated
    @authorized(action="execute")
    async def post(self, name: str) -> None:
        body = self.body(ClaimRuns)
        claimed = await self.blocking(self.service.claim_runs, name, body.worker, body.limit)
        self.reply(_items(claimed))


class RunStateHandler(_Orchestration):
    @web.authenticated
    @authorized(action="execute")
    async def post(self, flow_run_id: str) -> None:
        body = self.body(UpdateRunState)
        self.reply(await self.blocking(self.service.set_run_state, flow_run_id, body))


class RunLogsAppendHandler(_Orchestration):
    @web.authenticated
    @authorized(action="execute")
    async def post(self, flow_run_id: str) -> None:
        body = self.body(AppendLogs)
        await self.blocking(self.service.append_logs, flow_run_id, body)
        self.set_status(204)
        self.finish()


class OutputQuery(BaseModel):
    format: str = Field(default="ipynb", pattern="^(ipynb|html)$")


class OutputHandler(_Orchestration):
    """The executed notebook of a notebook run (``?format=html`` renders it)."""

    @web.authenticated
    @authorized
    async def get(self, flow_run_id: str) -> None:
        fmt = self.query(OutputQuery).format
        run = await self.blocking(self.services["runs"].read_flow_run, flow_run_id)
        path = _output_path(run, Path(self.services["outputs_dir"]))
        if path is None:
            raise web.HTTPError(404, f"flow run {flow_run_id} has no output notebook")
        if fmt == "html":
            from ..execution.notebook import render_html

            path = await self.blocking(render_html, path)
        kind = "text/html" if fmt == "html" else "application/x-ipynb+json"
        self.set_header("Content-Type", kind)
        self.set_header("Content-Disposition", f'inline; filename="{path.name}"')
        self.finish(path.read_bytes())


def _output_path(run: Any, outputs_dir: Path) -> Path | None:
    message = run.state_message or ""
    if message.startswith("output: "):
        candidate = Path(message[len("output: ") :])
        if candidate.exists():
            return candidate
    found = sorted((outputs_dir / run.id).glob("*.ipynb"))
    return found[0] if found else None


class CancelHandler(_Orchestration):
    @web.authenticated
    @authorized(action="execute")
    async def post(self, flow_run_id: str) -> None:
        self.reply(await self.blocking(self.service.cancel_flow_run, flow_run_id))


_ANY = "(?P<{}>[^/]+)"
ROUTES: list[tuple[str, type[FlowsAPIHandler]]] = [
    ("deployments", DeploymentsHandler),
    (f"deployments/{_ANY.format('deployment_id')}", DeploymentHandler),
    (
        f"deployments/{_ANY.format('deployment_id')}/(?P<action>pause|resume)",
        DeploymentPauseHandler,
    ),
    (f"deployments/{_ANY.format('deployment_id')}/run", DeploymentRunHandler),
    (f"deployments/{_ANY.format('deployment_id')}/next_runs", NextRunsHandler),
    ("schedules/preview", SchedulePreviewHandler),
    ("notebooks/parameters", NotebookParametersHandler),
    ("work_pools", WorkPoolsHandler),
    (f"work_pools/{_ANY.format('name')}", WorkPoolHandler),
    (f"work_pools/{_ANY.format('name')}/(?P<action>pause|resume)", WorkPoolPauseHandler),
    (f"work_pools/{_ANY.format('name')}/workers/heartbeat", HeartbeatHandler),
    (f"work_pools/{_ANY.format('name')}/claim", ClaimHandler),
    ("workers", WorkersHandler),
    (f"flow_runs/{_ANY.format('flow_run_id')}/state", RunStateHandler),
    (f"flow_runs/{_ANY.format('flow_run_id')}/logs/append", RunLogsAppendHandler),
    (f"flow_runs/{_ANY.format('flow_run_id')}/cancel", CancelHandler),
    (f"flow_runs/{_ANY.format('flow_run_id')}/output", OutputHandler),
]


def operations() -> list[Any]:
    from .openapi import Operation

    items = {"type": "object", "properties": {"items": {"type": "array"}}}
    dep, pool, run = "deployments/{deployment_id}", "work_pools/{name}", "flow_runs/{flow_run_id}"
    return [
        Operation(
            "deployments",
            "GET",
            "List deployments",
            ListDeploymentsResponse,
            query=ListDeploymentsQuery,
        ),
        Operation(
            "deployments",
            "POST",
            "Create a deployment",
            DescribeDeployment,
            body=CreateDeployment,
            status=201,
            action="write",
        ),
        Operation(dep, "GET", "A deployment", DescribeDeployment),
        Operation(
            dep,
            "PATCH",
            "Update a deployment",
            DescribeDeployment,
            body=UpdateDeployment,
            action="write",
        ),
        Operation(dep, "DELETE", "Delete a deployment", None, status=204, action="write"),
        Operation(dep + "/pause", "POST", "Pause", DescribeDeployment, action="write"),
        Operation(dep + "/resume", "POST", "Resume", DescribeDeployment, action="write"),
        Operation(
            dep + "/run",
            "POST",
            "Run now",
            DescribeFlowRun,
            body=CreateDeploymentRun,
            status=201,
            action="execute",
        ),
        Operation(dep + "/next_runs", "GET", "Next run times", items, query=NextRunsQuery),
        Operation("schedules/preview", "POST", "Preview a schedule", items, body=SchedulePreview),
        Operation(
            "notebooks/parameters",
            "POST",
            "A notebook's parameters",
            {"type": "object"},
            body=NotebookPath,
        ),
        Operation("work_pools", "GET", "List work pools", items),
        Operation(
            "work_pools",
            "POST",
            "Create a work pool",
            DescribeWorkPool,
            body=CreateWorkPool,
            status=201,
            action="write",
        ),
        Operation(pool, "GET", "A work pool", DescribeWorkPool),
        Operation(
            pool,
            "PATCH",
            "Update a work pool",
            DescribeWorkPool,
            body=UpdateWorkPool,
            action="write",
        ),
        Operation(
            pool + "/workers/heartbeat",
            "POST",
            "Worker heartbeat",
            DescribeWorker,
            body=WorkerHeartbeat,
            action="execute",
        ),
        Operation(
            pool + "/claim", "POST", "Claim due runs", items, body=ClaimRuns, action="execute"
        ),
        Operation("workers", "GET", "List workers", items, query=PoolQuery),
        Operation(
            run + "/state",
            "POST",
            "Report a run's state",
            DescribeFlowRun,
            body=UpdateRunState,
            action="execute",
        ),
        Operation(
            run + "/logs/append",
            "POST",
            "Append logs",
            None,
            body=AppendLogs,
            status=204,
            action="execute",
        ),
        Operation(run + "/cancel", "POST", "Cancel a run", DescribeFlowRun, action="execute"),
        Operation(
            run + "/output", "GET", "The executed notebook", {"type": "string"}, query=OutputQuery
        ),
    ]


def initialize(app: Any, services: dict[str, Any]) -> None:
    """Build the service and the background parts the app's traits ask for."""
    from ..orchestration.service import OrchestrationService

    root_dir = Path(app.serverapp.root_dir if app.serverapp else ".")
    service = OrchestrationService(services["engine"], root_dir, Path(app.outputs_dir))
    services["orchestration"] = service
    services["root_dir"] = str(root_dir)
    services["outputs_dir"] = str(app.outputs_dir)
    if app.scheduler_enabled:
        from ..scheduling.scheduler import FlowsScheduler

        services["scheduler"] = FlowsScheduler(service)
        services["scheduler"].start()
    if app.embedded_worker:
        import os

        from ..workers.embedded import EmbeddedWorker

        env = dict(os.environ, JUPYTER_FLOWS_DB_URL=app.db_url)
        services["worker"] = EmbeddedWorker(service, root_dir, Path(app.outputs_dir), env=env)
        services["worker"].start()

    def check() -> None:
        try:
            crashed = service.mark_crashed_runs(app.heartbeat_timeout)
        except Exception:  # noqa: BLE001 - keep checking
            logger.exception("crashed-run check failed")
            return
        if crashed:
            logger.warning("runs of vanished workers marked Crashed: %s", crashed)

    checker = PeriodicCallback(check, app.crash_check_interval * 1000)
    checker.start()
    services["crash_checker"] = checker
