"""Deployments (create, read, update, delete, pause, run now), schedules, notebook parameters."""

from __future__ import annotations

from jupyter_server.auth.decorator import authorized
from tornado import web

from ..orchestration.schemas import (
    CreateDeployment,
    CreateDeploymentRun,
    DescribeDeployment,
    ListDeploymentsQuery,
    ListDeploymentsResponse,
    SchedulePreview,
    UpdateDeployment,
)
from ..store.schemas import DescribeFlowRun
from .handlers import FlowsAPIHandler
from .openapi import doc
from .schemas import (
    ListRunTimesQuery,
    ListRunTimesResponse,
    NotebookParametersResponse,
    ReadNotebookParameters,
)

__all__ = ["ROUTES"]


class DeploymentsHandler(FlowsAPIHandler):
    @doc("List deployments", ListDeploymentsResponse, query=ListDeploymentsQuery)
    @web.authenticated
    @authorized
    async def get(self) -> None:
        query = self.query(ListDeploymentsQuery)
        self.reply(await self.blocking(self.services.orchestration.list_deployments, query))

    @doc(
        "Create a deployment (code that workers will run, maybe on a schedule: an execute action)",
        DescribeDeployment,
        body=CreateDeployment,
        status=201,
        action="execute",
    )
    @web.authenticated
    @authorized(action="execute")
    async def post(self) -> None:
        body = self.body(CreateDeployment)
        created = await self.blocking(self.services.orchestration.create_deployment, body)
        self.reply(created, status=201)


class DeploymentHandler(FlowsAPIHandler):
    @doc("A deployment, by id or name", DescribeDeployment)
    @web.authenticated
    @authorized
    async def get(self, deployment_id: str) -> None:
        service = self.services.orchestration
        self.reply(await self.blocking(service.read_deployment, deployment_id))

    @doc(
        "Update a deployment (what and when it runs: an execute action)",
        DescribeDeployment,
        body=UpdateDeployment,
        action="execute",
    )
    @web.authenticated
    @authorized(action="execute")
    async def patch(self, deployment_id: str) -> None:
        body = self.body(UpdateDeployment)
        service = self.services.orchestration
        self.reply(await self.blocking(service.update_deployment, deployment_id, body))

    @doc("Delete a deployment (the runs that ran stay; its waiting runs go)", status=204)
    @web.authenticated
    @authorized
    async def delete(self, deployment_id: str) -> None:
        await self.blocking(self.services.orchestration.delete_deployment, deployment_id)
        self.no_content()


class DeploymentPauseHandler(FlowsAPIHandler):
    @doc(
        "Pause a deployment's schedules (its waiting scheduled runs are deleted)",
        DescribeDeployment,
    )
    @web.authenticated
    @authorized
    async def post(self, deployment_id: str) -> None:
        await self.set_paused(deployment_id, True)

    async def set_paused(self, deployment_id: str, paused: bool) -> None:
        service = self.services.orchestration
        self.reply(await self.blocking(service.set_deployment_paused, deployment_id, paused))


class DeploymentResumeHandler(DeploymentPauseHandler):
    @doc(
        "Resume a deployment's schedules (they will run code: an execute action)",
        DescribeDeployment,
        action="execute",
    )
    @web.authenticated
    @authorized(action="execute")
    async def post(self, deployment_id: str) -> None:
        await self.set_paused(deployment_id, False)


class DeploymentRunHandler(FlowsAPIHandler):
    @doc(
        "Run a deployment now (parameters override its defaults)",
        DescribeFlowRun,
        body=CreateDeploymentRun,
        status=201,
        action="execute",
    )
    @web.authenticated
    @authorized(action="execute")
    async def post(self, deployment_id: str) -> None:
        body = self.body(CreateDeploymentRun)
        service = self.services.orchestration
        self.reply(await self.blocking(service.run_deployment, deployment_id, body), status=201)


class DeploymentNextRunsHandler(FlowsAPIHandler):
    @doc("The next scheduled times of a deployment", ListRunTimesResponse, query=ListRunTimesQuery)
    @web.authenticated
    @authorized
    async def get(self, deployment_id: str) -> None:
        n = self.query(ListRunTimesQuery).n
        service = self.services.orchestration
        times = await self.blocking(service.next_run_times, deployment_id, n)
        self.reply(ListRunTimesResponse(items=times))


class SchedulePreviewHandler(FlowsAPIHandler):
    @doc(
        "The next times of a schedule (cron or interval)",
        ListRunTimesResponse,
        body=SchedulePreview,
        action="read",
    )
    @web.authenticated
    @authorized(action="read")  # computes, changes nothing
    async def post(self) -> None:
        body = self.body(SchedulePreview)
        times = await self.blocking(self.services.orchestration.preview_schedule, body)
        self.reply(ListRunTimesResponse(items=times))


class NotebookParametersHandler(FlowsAPIHandler):
    @doc(
        "A notebook's parameters (from its cell tagged 'parameters')",
        NotebookParametersResponse,
        body=ReadNotebookParameters,
        action="read",
    )
    @web.authenticated
    @authorized(action="read")  # reads a notebook, changes nothing
    async def post(self) -> None:
        body = self.body(ReadNotebookParameters)
        found = await self.blocking(self.services.orchestration.notebook_parameters, body.path)
        self.reply(NotebookParametersResponse(parameters=found))


ROUTES: list[tuple[str, type[FlowsAPIHandler]]] = [
    ("deployments", DeploymentsHandler),
    ("deployments/{deployment_id}", DeploymentHandler),
    ("deployments/{deployment_id}/pause", DeploymentPauseHandler),
    ("deployments/{deployment_id}/resume", DeploymentResumeHandler),
    ("deployments/{deployment_id}/run", DeploymentRunHandler),
    ("deployments/{deployment_id}/next_runs", DeploymentNextRunsHandler),
    ("schedules/preview", SchedulePreviewHandler),
    ("notebooks/parameters", NotebookParametersHandler),
]
