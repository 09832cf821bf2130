"""Read-side routes: health, flows, flow runs (list, detail, graph, logs, report), task runs."""

from __future__ import annotations

from typing import Any

from jupyter_server.auth.decorator import authorized
from pydantic import BaseModel, Field
from tornado import web

from .._version import __version__
from ..store.db import mask_url
from ..store.schemas import ListFlowRunsQuery
from .handlers import FlowsAPIHandler

__all__ = ["ROUTES", "ListLogsQuery", "ReportQuery"]


class ListLogsQuery(BaseModel):
    task_run_id: str | None = None
    after_id: int = Field(default=0, ge=0)
    limit: int = Field(default=1000, ge=1, le=10000)


class ReportQuery(BaseModel):
    format: str = Field(default="html", pattern="^(html|md)$")


class HealthHandler(FlowsAPIHandler):
    @web.authenticated
    @authorized
    async def get(self) -> None:
        services = self.services
        self.reply(
            {
                "status": "ok",
                "version": __version__,
                "db_url": mask_url(services["db_url"]),
                "scheduler": services.get("scheduler") is not None,
                "embedded_worker": services.get("worker") is not None,
            }
        )


class FlowsHandler(FlowsAPIHandler):
    @web.authenticated
    @authorized
    async def get(self) -> None:
        flows = await self.blocking(self.services["runs"].read_flows)
        self.reply({"items": [f.model_dump(mode="json") for f in flows]})


class FlowRunsHandler(FlowsAPIHandler):
    @web.authenticated
    @authorized
    async def get(self) -> None:
        query = self.query(ListFlowRunsQuery)
        page = await self.blocking(self.services["runs"].read_flow_runs, query)
        self.reply(page)


class FlowRunHandler(FlowsAPIHandler):
    @web.authenticated
    @authorized
    async def get(self, flow_run_id: str) -> None:
        self.reply(await self.blocking(self.services["runs"].read_flow_run, flow_run_id))


def _graph_layout(store: Any, flow_run_id: str) -> dict[str, Any]:
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
                "start": attrs["start"].isoformat() if attrs.get("start") else None,
                "end": attrs["end"].isoformat() if attrs.get("end") else None,
                "subflow_run_id": attrs.get("subflow_run_id"),
            }
    return layout


class FlowRunGraphHandler(FlowsAPIHandler):
    @web.authenticated
    @authorized
    async def get(self, flow_run_id: str) -> None:
        self.reply(await self.blocking(_graph_layout, self.services["runs"], flow_run_id))


class FlowRunLogsHandler(FlowsAPIHandler):
    @web.authenticated
    @authorized
    async def get(self, flow_run_id: str) -> None:
        query = self.query(ListLogsQuery)
        store = self.services["runs"]
        await self.blocking(store.read_flow_run, flow_run_id)  # 404 for an unknown run
        logs = await self.blocking(store.read_logs, flow_run_id, query.task_run_id)
        items = [log for log in logs if log.id > query.after_id][: query.limit]
        self.reply({"items": [log.model_dump(mode="json") for log in items]})


class FlowRunReportHandler(FlowsAPIHandler):
    @web.authenticated
    @authorized
    async def get(self, flow_run_id: str) -> None:
        query = self.query(ReportQuery)
        from ..reports import report

        text = await self.blocking(
            report, flow_run_id, format=query.format, url=self.services["db_url"]
        )
        kind = "text/html" if query.format == "html" else "text/markdown"
        self.set_header("Content-Type", f"{kind}; charset=utf-8")
        self.set_header(
            "Content-Disposition", f'attachment; filename="flow-run-{flow_run_id}.{query.format}"'
        )
        self.finish(text)


class TaskRunHandler(FlowsAPIHandler):
    @web.authenticated
    @authorized
    async def get(self, task_run_id: str) -> None:
        self.reply(await self.blocking(self.services["runs"].read_task_run, task_run_id))


_ID = r"(?P<{}>[^/]+)"
ROUTES: list[tuple[str, type[FlowsAPIHandler]]] = [
    (r"health", HealthHandler),
    (r"flows", FlowsHandler),
    (r"flow_runs", FlowRunsHandler),
    (rf"flow_runs/{_ID.format('flow_run_id')}", FlowRunHandler),
    (rf"flow_runs/{_ID.format('flow_run_id')}/graph", FlowRunGraphHandler),
    (rf"flow_runs/{_ID.format('flow_run_id')}/logs", FlowRunLogsHandler),
    (rf"flow_runs/{_ID.format('flow_run_id')}/report", FlowRunReportHandler),
    (rf"task_runs/{_ID.format('task_run_id')}", TaskRunHandler),
]


def operations() -> list[Any]:
    """The documented operations of these routes (for the OpenAPI document)."""
    from ..store.schemas import (
        DescribeFlowRun,
        DescribeTaskRun,
        ListFlowRunsResponse,
    )
    from .openapi import Operation

    items = {"type": "object", "properties": {"items": {"type": "array"}}}
    text = {"type": "string"}
    return [
        Operation("health", "GET", "Server extension status", {"type": "object"}),
        Operation("flows", "GET", "Flows that have runs", items),
        Operation(
            "flow_runs", "GET", "List flow runs", ListFlowRunsResponse, query=ListFlowRunsQuery
        ),
        Operation(
            "flow_runs/{flow_run_id}", "GET", "A flow run with its task runs", DescribeFlowRun
        ),
        Operation("flow_runs/{flow_run_id}/graph", "GET", "Run graph layout", {"type": "object"}),
        Operation("flow_runs/{flow_run_id}/logs", "GET", "Logs", items, query=ListLogsQuery),
        Operation("flow_runs/{flow_run_id}/report", "GET", "Run report", text, query=ReportQuery),
        Operation("task_runs/{task_run_id}", "GET", "A task run", DescribeTaskRun),
    ]
