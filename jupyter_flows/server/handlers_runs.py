"""Runs: health, flows, flow runs (list, detail, graph, logs, report, output, cancel), task runs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from jupyter_server.auth.decorator import authorized
from tornado import web

from .._version import __version__
from ..exceptions import NotFound
from ..orchestration.schemas import DescribeRunState
from ..store.db import mask_url
from ..store.schemas import (
    DescribeFlowRun,
    DescribeTaskRun,
    ListFlowRunsQuery,
    ListFlowRunsResponse,
)
from .handlers import FlowsAPIHandler, FlowsServices
from .openapi import doc
from .schemas import (
    DescribeGraph,
    DescribeHealth,
    ListFlowsResponse,
    ListLogsQuery,
    ListLogsResponse,
    ReadOutputQuery,
    ReadReportQuery,
)

__all__ = ["ROUTES"]


class HealthHandler(FlowsAPIHandler):
    @doc("Status of the server extension", DescribeHealth)
    @web.authenticated
    @authorized
    async def get(self) -> None:
        services = self.services
        health = DescribeHealth(
            version=__version__,
            db_url=mask_url(services.db_url),
            scheduler=services.scheduler is not None,
            embedded_worker=services.worker is not None,
            automations=services.event_reader is not None,
        )
        self.reply(health)


class OpenAPIHandler(FlowsAPIHandler):
    @doc("This OpenAPI document")
    @web.authenticated
    @authorized
    async def get(self) -> None:
        self.finish(self.services.openapi)


class FlowsHandler(FlowsAPIHandler):
    @doc("Flows that have runs", ListFlowsResponse)
    @web.authenticated
    @authorized
    async def get(self) -> None:
        flows = await self.blocking(self.services.runs.read_flows)
        self.reply(ListFlowsResponse(items=flows))


class FlowRunsHandler(FlowsAPIHandler):
    @doc("List flow runs, newest first", ListFlowRunsResponse, query=ListFlowRunsQuery)
    @web.authenticated
    @authorized
    async def get(self) -> None:
        query = self.query(ListFlowRunsQuery)
        self.reply(await self.blocking(self.services.runs.read_flow_runs, query))


class FlowRunHandler(FlowsAPIHandler):
    @doc("A flow run with its task runs, states, logs and edges", DescribeFlowRun)
    @web.authenticated
    @authorized
    async def get(self, flow_run_id: str) -> None:
        self.reply(await self.blocking(self.services.runs.read_flow_run, flow_run_id))


def _graph(store: Any, flow_run_id: str) -> DescribeGraph:
    from ..core.layout import layout_graph

    graph = store.flow_run_graph(flow_run_id)
    layout = layout_graph(graph)
    for node in layout["nodes"]:
        if node["count"] == 1:
            attrs = graph.nodes[node["id"]]
            node["details"] = {
                "task_name": attrs.get("task_name"),
                "message": attrs.get("state_message"),
                "run_count": attrs.get("run_count"),
                "start": attrs.get("start"),
                "end": attrs.get("end"),
                "subflow_run_id": attrs.get("subflow_run_id"),
            }
    return DescribeGraph.model_validate(layout)


class FlowRunGraphHandler(FlowsAPIHandler):
    @doc("The run's DAG, laid out for drawing", DescribeGraph)
    @web.authenticated
    @authorized
    async def get(self, flow_run_id: str) -> None:
        self.reply(await self.blocking(_graph, self.services.runs, flow_run_id))


def _logs(store: Any, flow_run_id: str, query: ListLogsQuery) -> ListLogsResponse:
    store.read_flow_run(flow_run_id)  # NotFound for an unknown run
    logs = store.read_logs(flow_run_id, query.task_run_id)
    return ListLogsResponse(items=[log for log in logs if log.id > query.after_id][: query.limit])


class FlowRunLogsHandler(FlowsAPIHandler):
    @doc("Logs of a flow run (tail-follow with after_id)", ListLogsResponse, query=ListLogsQuery)
    @web.authenticated
    @authorized
    async def get(self, flow_run_id: str) -> None:
        query = self.query(ListLogsQuery)
        self.reply(await self.blocking(_logs, self.services.runs, flow_run_id, query))


def _report(store: Any, flow_run_id: str, format: str) -> str:
    # rendered from the server's own store: ``reports.report`` would open the process
    # recorder, which the server never sets up
    from ..reports import render_html, render_markdown

    run = store.read_flow_run(flow_run_id)
    subflows = [store.read_flow_run(t.subflow_run_id) for t in run.task_runs if t.subflow_run_id]
    return str(render_html(run, subflows) if format == "html" else render_markdown(run, subflows))


class FlowRunReportHandler(FlowsAPIHandler):
    @doc(
        "The run report as a download",
        query=ReadReportQuery,
        content=("text/html", "text/markdown"),
    )
    @web.authenticated
    @authorized
    async def get(self, flow_run_id: str) -> None:
        fmt = self.query(ReadReportQuery).format
        text = await self.blocking(_report, self.services.runs, flow_run_id, fmt)
        kind = "text/html" if fmt == "html" else "text/markdown"
        name = f"flow-run-{flow_run_id}.{fmt}"
        self.send_file(text, f"{kind}; charset=UTF-8", f'attachment; filename="{name}"')


def output_notebook(services: FlowsServices, flow_run_id: str) -> Path:
    """The executed notebook of a notebook run: under the outputs dir or the server root."""
    run = services.runs.read_flow_run(flow_run_id)
    candidates = sorted((services.outputs_dir / run.id).glob("*.ipynb"))
    message = run.state_message or ""
    if message.startswith("output: "):  # written by the worker that ran it
        candidates.insert(0, Path(message[len("output: ") :]))
    allowed = (services.outputs_dir.resolve(), services.root_dir.resolve())
    for candidate in candidates:
        path = candidate.resolve()
        inside = any(base == path or base in path.parents for base in allowed)
        if inside and path.suffix == ".ipynb" and path.is_file():
            return path
    raise NotFound(f"flow run {flow_run_id} has no output notebook")


def _output(services: FlowsServices, flow_run_id: str, fmt: str) -> tuple[Path, bytes]:
    path = output_notebook(services, flow_run_id)
    if fmt == "html":
        from ..execution.notebook import render_html

        path = render_html(path)
    return path, path.read_bytes()


class FlowRunOutputHandler(FlowsAPIHandler):
    @doc(
        "The executed notebook of a notebook run (format=html renders it)",
        query=ReadOutputQuery,
        content=("application/x-ipynb+json", "text/html"),
    )
    @web.authenticated
    @authorized
    async def get(self, flow_run_id: str) -> None:
        fmt = self.query(ReadOutputQuery).format
        path, data = await self.blocking(_output, self.services, flow_run_id, fmt)
        kind = "text/html; charset=UTF-8" if fmt == "html" else "application/x-ipynb+json"
        self.send_file(data, kind, f'inline; filename="{path.name}"')


class FlowRunCancelHandler(FlowsAPIHandler):
    @doc(
        "Cancel a flow run: Cancelled if not started, else Cancelling until its worker or"
        " process stops it",
        DescribeRunState,
        action="execute",
    )
    @web.authenticated
    @authorized(action="execute")
    async def post(self, flow_run_id: str) -> None:
        service = self.services.orchestration
        self.reply(await self.blocking(service.cancel_flow_run, flow_run_id))


class TaskRunHandler(FlowsAPIHandler):
    @doc("A task run", DescribeTaskRun)
    @web.authenticated
    @authorized
    async def get(self, task_run_id: str) -> None:
        self.reply(await self.blocking(self.services.runs.read_task_run, task_run_id))


ROUTES: list[tuple[str, type[FlowsAPIHandler]]] = [
    ("health", HealthHandler),
    ("openapi.json", OpenAPIHandler),
    ("flows", FlowsHandler),
    ("flow_runs", FlowRunsHandler),
    ("flow_runs/{flow_run_id}", FlowRunHandler),
    ("flow_runs/{flow_run_id}/graph", FlowRunGraphHandler),
    ("flow_runs/{flow_run_id}/logs", FlowRunLogsHandler),
    ("flow_runs/{flow_run_id}/report", FlowRunReportHandler),
    ("flow_runs/{flow_run_id}/output", FlowRunOutputHandler),
    ("flow_runs/{flow_run_id}/cancel", FlowRunCancelHandler),
    ("task_runs/{task_run_id}", TaskRunHandler),
]
