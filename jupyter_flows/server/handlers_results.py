"""Results uploaded by run processes without a database (``orchestration.uploaded_results``).

``PUT results/{key}`` keeps a result file for the runs of the uploading run's deployment,
``GET results/{key}`` reads it back, and ``GET flow_runs/{id}/results`` lists what a retry
or a resumed run reuses. A run's token reaches its own deployment's results only; a user
names the run with ``?flow_run_id=``.
"""

from __future__ import annotations

from jupyter_server.auth.decorator import authorized
from pydantic import BaseModel, Field
from tornado import web

from ..orchestration.uploaded_results import (
    DescribeUploadedResult,
    ListTaskResultsResponse,
    UploadedResults,
)
from .handlers import FlowsAPIHandler
from .openapi import doc
from .scoped_auth import grant_of

__all__ = ["ROUTES"]


class ResultQuery(BaseModel):
    flow_run_id: str | None = Field(
        default=None,
        description="the run whose deployment's results to reach (a run's token: its own)",
    )


def _refuse(message: str) -> web.HTTPError:
    return web.HTTPError(403, message, reason=message)


class _ResultsHandler(FlowsAPIHandler):
    @property
    def results(self) -> UploadedResults:
        return self.services.uploaded_results  # type: ignore[no-any-return]

    def run_of_request(self) -> str:
        """The flow run whose deployment's results this request reaches."""
        asked = self.query(ResultQuery).flow_run_id
        grant = grant_of(self)
        if grant is not None:
            if grant.kind != "run" or grant.run_id is None:
                raise _refuse(f"this token is {grant.subject}'s: results are for run tokens")
            if asked is not None and asked != grant.run_id:
                raise _refuse(f"this token is {grant.subject}'s, not flow run {asked}'s")
            return grant.run_id
        if asked is None:
            message = "query argument 'flow_run_id' is required: the run whose results these are"
            raise web.HTTPError(400, message, reason=message)
        return asked


class ResultHandler(_ResultsHandler):
    def body_limit(self) -> tuple[int, str]:
        return self.results.max_size, "max_result_size"

    @doc(
        "Keep a persisted result file (header line + payload) for the runs of a deployment"
        " (413 beyond FlowsApp.max_result_size; 400 if not a result file)",
        DescribeUploadedResult,
        query=ResultQuery,
        action="execute",
        other_statuses=(413,),
    )
    @web.authenticated
    @authorized(action="execute")  # other runs unpickle it: it is code that runs
    async def put(self, key: str) -> None:
        run_id = self.run_of_request()
        content = self.raw_body()
        self.reply(await self.blocking(self.results.write, run_id, key, content))

    @doc(
        "A result file a run of the same deployment stored (404 if none)",
        query=ResultQuery,
        content=("application/octet-stream",),
    )
    @web.authenticated
    @authorized
    async def get(self, key: str) -> None:
        run_id = self.run_of_request()
        data = await self.blocking(self.results.read, run_id, key)
        self.send_file(data, "application/octet-stream", "attachment")


class FlowRunResultsHandler(_ResultsHandler):
    @doc(
        "The Completed task runs of a flow run with a persisted result (what its retry"
        " reuses); a run's token: runs of its own deployment only",
        ListTaskResultsResponse,
    )
    @web.authenticated
    @authorized
    async def get(self, flow_run_id: str) -> None:
        grant = grant_of(self)
        if grant is not None:
            if grant.kind != "run" or grant.run_id is None:
                raise _refuse(f"this token is {grant.subject}'s: results are for run tokens")
            ours, theirs = await self.blocking(
                lambda: (
                    self.results.namespace(str(grant.run_id)),
                    self.results.namespace(flow_run_id),
                )
            )
            if ours != theirs:
                raise _refuse(f"flow run {flow_run_id} is not of {grant.subject}'s deployment")
        self.reply(await self.blocking(self.results.task_results, flow_run_id))


ROUTES: list[tuple[str, type[FlowsAPIHandler]]] = [
    ("results/{key}", ResultHandler),
    ("flow_runs/{flow_run_id}/results", FlowRunResultsHandler),
]
