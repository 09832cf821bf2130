"""Work pools, workers, and the worker protocol (heartbeat, claim, run state, log lines,
records of run processes without database access)."""

from __future__ import annotations

from typing import Any

from jupyter_server.auth.decorator import authorized
from tornado import web

from ..orchestration.schemas import (
    AppendLogs,
    ClaimRuns,
    CreateWorkPool,
    DescribeWorker,
    DescribeWorkPool,
    UpdateRunState,
    UpdateWorkPool,
    WorkerHeartbeat,
)
from ..store.schemas import DescribeFlowRun
from .handlers import FlowsAPIHandler
from .openapi import doc
from .schemas import (
    AppendRecords,
    ClaimRunsResponse,
    ListWorkersQuery,
    ListWorkersResponse,
    ListWorkPoolsResponse,
)

__all__ = ["ROUTES"]


class WorkPoolsHandler(FlowsAPIHandler):
    @doc("List work pools (the 'default' pool always exists)", ListWorkPoolsResponse)
    @web.authenticated
    @authorized
    async def get(self) -> None:
        pools = await self.blocking(self.services.orchestration.list_work_pools)
        self.reply(ListWorkPoolsResponse(items=pools))

    @doc("Create a work pool", DescribeWorkPool, body=CreateWorkPool, status=201)
    @web.authenticated
    @authorized
    async def post(self) -> None:
        body = self.body(CreateWorkPool)
        pool = await self.blocking(self.services.orchestration.create_work_pool, body)
        self.reply(pool, status=201)


class WorkPoolHandler(FlowsAPIHandler):
    @doc("A work pool", DescribeWorkPool)
    @web.authenticated
    @authorized
    async def get(self, name: str) -> None:
        self.reply(await self.blocking(self.services.orchestration.read_work_pool, name))

    @doc(
        "Update a work pool (concurrency limit, pause, description)",
        DescribeWorkPool,
        body=UpdateWorkPool,
    )
    @web.authenticated
    @authorized
    async def patch(self, name: str) -> None:
        body = self.body(UpdateWorkPool)
        service = self.services.orchestration
        self.reply(await self.blocking(service.update_work_pool, name, body))


class WorkPoolPauseHandler(FlowsAPIHandler):
    paused = True

    @doc("Pause (or resume) a work pool: its workers claim nothing while paused", DescribeWorkPool)
    @web.authenticated
    @authorized
    async def post(self, name: str) -> None:
        service = self.services.orchestration
        self.reply(await self.blocking(service.set_work_pool_paused, name, self.paused))


class WorkPoolResumeHandler(WorkPoolPauseHandler):
    paused = False


class WorkersHandler(FlowsAPIHandler):
    @doc("Workers with their last heartbeat", ListWorkersResponse, query=ListWorkersQuery)
    @web.authenticated
    @authorized
    async def get(self) -> None:
        pool = self.query(ListWorkersQuery).work_pool
        workers = await self.blocking(self.services.orchestration.list_workers, pool)
        self.reply(ListWorkersResponse(items=workers))


class HeartbeatHandler(FlowsAPIHandler):
    @doc("A worker's heartbeat", DescribeWorker, body=WorkerHeartbeat, action="execute")
    @web.authenticated
    @authorized(action="execute")
    async def post(self, name: str) -> None:
        body = self.body(WorkerHeartbeat)
        service = self.services.orchestration
        self.reply(await self.blocking(service.heartbeat, name, body.worker))


class ClaimHandler(FlowsAPIHandler):
    @doc(
        "Claim due runs of the pool (atomic: two workers never get the same run)",
        ClaimRunsResponse,
        body=ClaimRuns,
        action="execute",
    )
    @web.authenticated
    @authorized(action="execute")
    async def post(self, name: str) -> None:
        body = self.body(ClaimRuns)
        service = self.services.orchestration
        claimed = await self.blocking(service.claim_runs, name, body.worker, body.limit)
        self.reply(ClaimRunsResponse(items=claimed))


class RunStateHandler(FlowsAPIHandler):
    @doc(
        "A worker reports a run's state (409 once the run is final)",
        DescribeFlowRun,
        body=UpdateRunState,
        action="execute",
    )
    @web.authenticated
    @authorized(action="execute")
    async def post(self, flow_run_id: str) -> None:
        body = self.body(UpdateRunState)
        service = self.services.orchestration
        self.reply(await self.blocking(service.set_run_state, flow_run_id, body))


class RunLogsAppendHandler(FlowsAPIHandler):
    @doc("A worker appends log lines of a run", body=AppendLogs, status=204, action="execute")
    @web.authenticated
    @authorized(action="execute")
    async def post(self, flow_run_id: str) -> None:
        body = self.body(AppendLogs)
        await self.blocking(self.services.orchestration.append_logs, flow_run_id, body)
        self.no_content()


def _replay(recorder: Any, items: list[Any]) -> None:
    from ..core.record_codec import replay

    replay(items, recorder)
    recorder.flush()


class RecordsHandler(FlowsAPIHandler):
    @doc(
        "Run processes without database access record flow and task runs, states and logs",
        body=AppendRecords,
        status=204,
        action="execute",
    )
    @web.authenticated
    @authorized(action="execute")
    async def post(self) -> None:
        body = self.body(AppendRecords)
        await self.blocking(_replay, self.services.recorder, body.items)
        self.no_content()


ROUTES: list[tuple[str, type[FlowsAPIHandler]]] = [
    ("records", RecordsHandler),
    ("work_pools", WorkPoolsHandler),
    ("work_pools/{name}", WorkPoolHandler),
    ("work_pools/{name}/pause", WorkPoolPauseHandler),
    ("work_pools/{name}/resume", WorkPoolResumeHandler),
    ("work_pools/{name}/workers/heartbeat", HeartbeatHandler),
    ("work_pools/{name}/claim", ClaimHandler),
    ("workers", WorkersHandler),
    ("flow_runs/{flow_run_id}/state", RunStateHandler),
    ("flow_runs/{flow_run_id}/logs/append", RunLogsAppendHandler),
]
