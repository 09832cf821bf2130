"""Background task runs (``Task.delay``): the list, and queueing and following them through
the server for run processes without a database (``orchestration.remote_background``).

A run's token queues background runs of its own run, and reads only those.
"""

from __future__ import annotations

from jupyter_server.auth.decorator import authorized
from tornado import web

from ..orchestration.remote_background import CreateBackgroundTaskRun, RemoteBackground
from ..store.background_pages import read_background_task_runs
from ..store.schemas import (
    DescribeBackgroundTaskRun,
    ListBackgroundTaskRunsQuery,
    ListBackgroundTaskRunsResponse,
)
from .handlers import FlowsAPIHandler
from .openapi import doc
from .scoped_auth import grant_of

__all__ = ["ROUTES"]


def _refuse(message: str) -> web.HTTPError:
    return web.HTTPError(403, message, reason=message)


class _Background(FlowsAPIHandler):
    @property
    def background(self) -> RemoteBackground:
        return RemoteBackground(self.services.runs.engine, self.services.uploaded_results)

    async def check_queued_by(self, task_run_id: str) -> None:
        """A run's token follows the background runs its run queued only."""
        grant = grant_of(self)
        if grant is None:
            return
        origin = await self.blocking(self.background.origin_of, task_run_id)
        if grant.kind != "run" or origin != grant.run_id:
            raise _refuse(f"background task run {task_run_id} is not {grant.subject}'s")


class BackgroundTaskRunsHandler(_Background):
    @doc(
        "Background task runs (made by task.delay), newest first, with the task worker that"
        " claimed each (state= and task_name= filter)",
        ListBackgroundTaskRunsResponse,
        query=ListBackgroundTaskRunsQuery,
    )
    @web.authenticated
    @authorized
    async def get(self) -> None:
        query = self.query(ListBackgroundTaskRunsQuery)
        page = await self.blocking(read_background_task_runs, self.services.runs.engine, query)
        self.reply(page)

    @doc(
        "Queue a background task run (task.delay in a run process without a database; a"
        " run's token queues it for its run)",
        DescribeBackgroundTaskRun,
        body=CreateBackgroundTaskRun,
        status=201,
        action="execute",
    )
    @web.authenticated
    @authorized(action="execute")
    async def post(self) -> None:
        body = self.body(CreateBackgroundTaskRun)
        grant = grant_of(self)
        origin = grant.run_id if grant is not None else None
        self.reply(await self.blocking(self.background.enqueue, body, origin), status=201)


class BackgroundTaskRunHandler(_Background):
    @doc("A background task run and its state", DescribeBackgroundTaskRun)
    @web.authenticated
    @authorized
    async def get(self, task_run_id: str) -> None:
        await self.check_queued_by(task_run_id)
        self.reply(await self.blocking(self.background.read, task_run_id))


class BackgroundTaskRunResultHandler(_Background):
    @doc(
        "The persisted result file of a background task run: its value, or the exception it"
        " raised (404 until it has one)",
        content=("application/octet-stream",),
    )
    @web.authenticated
    @authorized
    async def get(self, task_run_id: str) -> None:
        await self.check_queued_by(task_run_id)
        data = await self.blocking(self.background.result, task_run_id)
        self.send_file(data, "application/octet-stream", "attachment")


ROUTES: list[tuple[str, type[FlowsAPIHandler]]] = [
    ("background_task_runs", BackgroundTaskRunsHandler),
    ("background_task_runs/{task_run_id}", BackgroundTaskRunHandler),
    ("background_task_runs/{task_run_id}/result", BackgroundTaskRunResultHandler),
]
