"""Work pools, workers, and the worker protocol (heartbeat, claim, run state, log lines,
records of run processes without database access)."""

from __future__ import annotations

from typing import Any

from jupyter_server.auth.decorator import authorized
from tornado import web

from ..orchestration.record_scope import foreign_records
from ..orchestration.schemas import (
    AppendLogs,
    ClaimRuns,
    CreateWorkPool,
    DescribeRunState,
    DescribeWorker,
    DescribeWorkerToken,
    DescribeWorkPool,
    DroppedRecordReply,
    RecordsVerdict,
    RefusedRun,
    UpdateRunState,
    UpdateWorkPool,
    WorkerHeartbeat,
)
from .handlers import FlowsAPIHandler
from .openapi import doc
from .schemas import (
    AppendRecords,
    ClaimRunsResponse,
    ListWorkersQuery,
    ListWorkersResponse,
    ListWorkPoolsResponse,
)
from .scoped_auth import check_run, check_worker, grant_of

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

    @doc(
        "Delete a work pool and its workers (409: the 'default' pool, or deployments use it)",
        status=204,
    )
    @web.authenticated
    @authorized
    async def delete(self, name: str) -> None:
        await self.blocking(self.services.orchestration.delete_work_pool, name)
        self.no_content()


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
        check_worker(self, name, body.worker)
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
        check_worker(self, name, body.worker)
        service = self.services.orchestration
        claimed = await self.blocking(
            service.claim_runs, name, body.worker, body.limit, body.outputs_dir
        )
        tokens = self.services.tokens
        for run in claimed:  # its run process records with this, never the worker's token
            run.run_token = tokens.run_token(run.flow_run.id, name, body.worker)
        self.reply(ClaimRunsResponse(items=claimed))


class WorkerTokenHandler(FlowsAPIHandler):
    @doc(
        "A token for one worker of the pool: it may heartbeat, claim, and report and record"
        " the runs it claimed, nothing else (give it to `jupyter flows worker --token`)",
        DescribeWorkerToken,
        body=WorkerHeartbeat,
        status=201,
        action="execute",
    )
    @web.authenticated
    @authorized(action="execute")
    async def post(self, name: str) -> None:
        body = self.body(WorkerHeartbeat)
        await self.blocking(self.services.orchestration.read_work_pool, name)  # 404 if none
        token = self.services.tokens.worker_token(name, body.worker)
        self.reply(DescribeWorkerToken(pool=name, worker=body.worker, token=token), status=201)


class RunStateHandler(FlowsAPIHandler):
    @doc("The light state view of a flow run (what workers poll)", DescribeRunState)
    @web.authenticated
    @authorized
    async def get(self, flow_run_id: str) -> None:
        service = self.services.orchestration
        state = await self.blocking(service.read_run_state, flow_run_id)
        check_run(self, flow_run_id, state.worker)
        self.reply(state)

    @doc(
        "A worker proposes a run's state: accepted or ignored (decision), 409 if the state"
        " policy refuses it (the run ended, is being cancelled, or is another worker's)",
        DescribeRunState,
        body=UpdateRunState,
        action="execute",
    )
    @web.authenticated
    @authorized(action="execute")
    async def post(self, flow_run_id: str) -> None:
        body = self.body(UpdateRunState)
        service = self.services.orchestration
        grant = grant_of(self)
        if grant is not None:  # a worker speaks for itself: its name is the token's
            check_worker(self, grant.pool, body.worker or grant.worker)
            body = body.model_copy(update={"worker": grant.worker})
            state = await self.blocking(service.read_run_state, flow_run_id)
            check_run(self, flow_run_id, state.worker)
        self.reply(await self.blocking(service.set_run_state, flow_run_id, body))


class RunLogsAppendHandler(FlowsAPIHandler):
    @doc("A worker appends log lines of a run", body=AppendLogs, status=204, action="execute")
    @web.authenticated
    @authorized(action="execute")
    async def post(self, flow_run_id: str) -> None:
        body = self.body(AppendLogs)
        if grant_of(self) is not None:
            state = await self.blocking(self.services.orchestration.read_run_state, flow_run_id)
            check_run(self, flow_run_id, state.worker)
        await self.blocking(self.services.orchestration.append_logs, flow_run_id, body)
        self.no_content()


def _replay(recorder: Any, items: list[Any]) -> RecordsVerdict:
    from ..core.record_codec import replay

    before = recorder.dropped_total
    replay(items, recorder)
    recorder.flush()
    rejected: dict[str, RefusedRun] = {}
    mine: set[str] = set()
    for item in items:
        info = item.get("info") or {}
        run_id = item.get("run_id") or info.get("id") or info.get("flow_run_id")
        if not isinstance(run_id, str):
            continue
        mine.add(run_id)
        refused = recorder.rejected(run_id)
        if refused is not None:
            rejected[run_id] = RefusedRun(type=refused[0], name=refused[1])
    dropped = [
        DroppedRecordReply(what=d.what, run_id=d.run_id, reason=d.reason)
        for d in recorder.dropped
        if d.seq > before and d.run_id in mine
    ]
    return RecordsVerdict(rejected=rejected, dropped=dropped)


class RecordsHandler(FlowsAPIHandler):
    @doc(
        "Run processes without database access record flow and task runs, states and logs;"
        " the answer names the runs whose states the state policy refused",
        RecordsVerdict,
        body=AppendRecords,
        action="execute",
    )
    @web.authenticated
    @authorized(action="execute")
    async def post(self) -> None:
        body = self.body(AppendRecords)
        grant = grant_of(self)
        if grant is not None:  # a run's records, or its worker's runs', and nothing else
            scope = {"root_run": grant.run_id} if grant.kind == "run" else {"worker": grant.worker}
            engine = self.services.engine
            problems = await self.blocking(foreign_records, engine, body.items, **scope)
            if problems:
                message = "; ".join(problems[:5]) + (" ..." if len(problems) > 5 else "")
                raise web.HTTPError(403, message, reason=message[:300])
        self.reply(await self.blocking(_replay, self.services.recorder, body.items))


ROUTES: list[tuple[str, type[FlowsAPIHandler]]] = [
    ("records", RecordsHandler),
    ("work_pools", WorkPoolsHandler),
    ("work_pools/{name}", WorkPoolHandler),
    ("work_pools/{name}/pause", WorkPoolPauseHandler),
    ("work_pools/{name}/resume", WorkPoolResumeHandler),
    ("work_pools/{name}/workers/heartbeat", HeartbeatHandler),
    ("work_pools/{name}/claim", ClaimHandler),
    ("work_pools/{name}/worker_token", WorkerTokenHandler),
    ("workers", WorkersHandler),
    ("flow_runs/{flow_run_id}/state", RunStateHandler),
    ("flow_runs/{flow_run_id}/logs/append", RunLogsAppendHandler),
]
