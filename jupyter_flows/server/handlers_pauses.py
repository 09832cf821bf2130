"""Pausing and resuming flow runs, and their keyed inputs (Prefect's flow run inputs).

``GET flow_runs/{id}/pause`` says what a paused run waits for (the panel's form);
``POST flow_runs/{id}/resume`` (execute: the run's code goes on) resumes it with an input.
A run's token may read and write its own run's inputs (what ``pause_flow_run`` does in a
remote run process), nothing else here.
"""

from __future__ import annotations

from jupyter_server.auth.decorator import authorized
from tornado import web

from ..orchestration.pauses import DescribePause, DescribeRunInput, ResumeFlowRun, SetRunInput
from ..orchestration.schemas import DescribeRunState
from .handlers import FlowsAPIHandler
from .openapi import doc
from .scoped_auth import check_run

__all__ = ["ROUTES"]


class FlowRunPauseHandler(FlowsAPIHandler):
    @doc("What a Paused run waits for: the JSON schema of its input (404 if not paused)",
         DescribePause)  # fmt: skip
    @web.authenticated
    @authorized
    async def get(self, flow_run_id: str) -> None:
        self.reply(await self.blocking(self.services.orchestration.read_pause, flow_run_id))


class FlowRunResumeHandler(FlowsAPIHandler):
    @doc(
        "Resume a Paused run with an input its pause's schema takes (400 naming the field;"
        " 409 if it is not paused)",
        DescribeRunState,
        body=ResumeFlowRun,
        action="execute",
    )
    @web.authenticated
    @authorized(action="execute")
    async def post(self, flow_run_id: str) -> None:
        body = self.body(ResumeFlowRun)
        service = self.services.orchestration
        self.reply(await self.blocking(service.resume_flow_run, flow_run_id, body))


class FlowRunInputHandler(FlowsAPIHandler):
    async def _check(self, flow_run_id: str) -> None:
        state = await self.blocking(self.services.orchestration.read_run_state, flow_run_id)
        check_run(self, flow_run_id, state.worker)

    @doc("A keyed input of a flow run (404 if it has none)", DescribeRunInput)
    @web.authenticated
    @authorized
    async def get(self, flow_run_id: str, key: str) -> None:
        await self._check(flow_run_id)
        service = self.services.orchestration
        self.reply(await self.blocking(service.read_run_input, flow_run_id, key))

    @doc("Set a keyed input of a flow run", DescribeRunInput, body=SetRunInput)
    @web.authenticated
    @authorized
    async def put(self, flow_run_id: str, key: str) -> None:
        await self._check(flow_run_id)
        body = self.body(SetRunInput)
        service = self.services.orchestration
        self.reply(await self.blocking(service.set_run_input, flow_run_id, key, body))


ROUTES: list[tuple[str, type[FlowsAPIHandler]]] = [
    ("flow_runs/{flow_run_id}/pause", FlowRunPauseHandler),
    ("flow_runs/{flow_run_id}/resume", FlowRunResumeHandler),
    ("flow_runs/{flow_run_id}/inputs/{key}", FlowRunInputHandler),
]
