"""Runs: health, flows, flow runs (list, detail, task runs, graph, logs, report, cancel),
task runs (a run's output notebook: ``handlers_sources``; background task runs:
``handlers_background``).

The reads a run view makes are bounded whatever the size of the run: the detail counts the
task runs instead of listing them (above 100), task runs and logs come in pages read in SQL,
and the graph of a run with more than ``GRAPH_GROUP_ABOVE`` task runs is aggregated in SQL
by task. The database reads and the JSON encoding both run off the event loop.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from jupyter_server.auth.decorator import authorized
from tornado import web

from .._version import __version__
from ..orchestration.schemas import DescribeRunState
from ..store.db import mask_url
from ..store.schemas import (
    DescribeFlowRun,
    DescribeFlowRunDetail,
    DescribeTaskGroups,
    ListFlowRunsQuery,
    ListFlowRunsResponse,
    ListTaskRunsQuery,
    ListTaskRunsResponse,
)
from .handlers import FlowsAPIHandler
from .openapi import doc
from .schemas import (
    DescribeGraph,
    DescribeHealth,
    DescribeTaskRunDetail,
    ListFlowsResponse,
    ListLogsQuery,
    ListLogsResponse,
    PrunedRuns,
    PruneRuns,
    ReadReportQuery,
)

__all__ = ["ROUTES", "GRAPH_GROUP_ABOVE"]

#: a run with more task runs than this gets its graph aggregated by task
GRAPH_GROUP_ABOVE = 1000


def _encoded(fn: Callable[..., Any], *args: Any) -> str:
    """``fn(*args)`` as JSON: run in the executor, so big bodies never stall the loop."""
    return str(fn(*args).model_dump_json())


class _ReadHandler(FlowsAPIHandler):
    async def reply_read(self, fn: Callable[..., Any], *args: Any) -> None:
        """Reply with the model ``fn(*args)`` returns, read and JSON-encoded off the loop."""
        self.finish(await self.blocking(_encoded, fn, *args))


class HealthHandler(FlowsAPIHandler):
    @doc("Status of the server extension", DescribeHealth)
    @web.authenticated
    @authorized
    async def get(self) -> None:
        services = self.services
        try:
            await self.blocking(services.runs.ping)
            database = "ok"
        except web.HTTPError as exc:
            database = exc.log_message or "unreachable"
        worker = services.worker
        problem = worker.problem if worker is not None else None
        health = DescribeHealth(
            status="ok" if database == "ok" and problem is None else "degraded",
            version=__version__,
            db_url=mask_url(services.db_url),
            database=database,
            scheduler=services.scheduler is not None,
            embedded_worker=worker is not None and problem is None,
            embedded_worker_problem=problem,
            automations=services.event_reader is not None,
        )
        self.reply(health)


class OpenAPIHandler(FlowsAPIHandler):
    @doc("This OpenAPI document")
    @web.authenticated
    @authorized
    async def get(self) -> None:
        self.finish(self.services.openapi)


def _flows(store: Any) -> ListFlowsResponse:
    return ListFlowsResponse(items=store.read_flows())


class FlowsHandler(_ReadHandler):
    @doc("Flows that have runs", ListFlowsResponse)
    @web.authenticated
    @authorized
    async def get(self) -> None:
        await self.reply_read(_flows, self.services.runs)


class FlowRunsHandler(_ReadHandler):
    @doc(
        "List flow runs, newest first (light items)", ListFlowRunsResponse, query=ListFlowRunsQuery
    )
    @web.authenticated
    @authorized
    async def get(self) -> None:
        query = self.query(ListFlowRunsQuery)
        await self.reply_read(self.services.runs.read_flow_runs, query)


class FlowRunHandler(_ReadHandler):
    @doc(
        "A flow run: its state history and its task runs counted by state (listed up to 100;"
        " page them with task_runs); no logs (page them with logs)",
        DescribeFlowRunDetail,
    )
    @web.authenticated
    @authorized
    async def get(self, flow_run_id: str) -> None:
        await self.reply_read(self.services.runs.read_flow_run_detail, flow_run_id)

    @doc(
        "Delete a flow run that nothing runs (ended, or not started) with its subflow runs,"
        " task runs, states, logs and executed notebook; 409 while it runs",
        status=204,
    )
    @web.authenticated
    @authorized
    async def delete(self, flow_run_id: str) -> None:
        await self.blocking(self.services.orchestration.delete_flow_run, flow_run_id)
        self.no_content()


class FlowRunTaskRunsHandler(_ReadHandler):
    @doc(
        "A page of a flow run's task runs, oldest first (state= and task_key= filter)",
        ListTaskRunsResponse,
        query=ListTaskRunsQuery,
    )
    @web.authenticated
    @authorized
    async def get(self, flow_run_id: str) -> None:
        query = self.query(ListTaskRunsQuery)
        await self.reply_read(self.services.runs.read_task_run_page, flow_run_id, query)


def _group_graph(groups: DescribeTaskGroups, total: int) -> DescribeGraph:
    """One node per task key, laid out like any run graph (a DAG: groups keep the order
    of their first task run, and edges back in that order are left out)."""
    import networkx as nx

    from ..core.layout import _most_urgent, layout_graph

    order = {g.task_key: i for i, g in enumerate(groups.groups)}
    graph: nx.DiGraph[str] = nx.DiGraph()
    for g in groups.groups:
        label = g.task_name if g.count == 1 else f"{g.task_name} ×{g.count}"
        graph.add_node(f"group:{g.task_key}", name=label, task_key=g.task_key)
    for e in groups.edges:
        if order[e.upstream_key] < order[e.downstream_key]:
            graph.add_edge(f"group:{e.upstream_key}", f"group:{e.downstream_key}")
    layout = layout_graph(graph, collapse_threshold=2)  # every node is its own group
    by_id = {f"group:{g.task_key}": g for g in groups.groups}
    for node in layout["nodes"]:
        group = by_id[node["id"]]
        node.update(
            task_key=group.task_key,
            count=group.count,
            states=group.states,
            state=_most_urgent(Counter(group.states)),
            members=[],
        )
    return DescribeGraph.model_validate({**layout, "aggregated": True, "task_run_total": total})


def _graph(store: Any, flow_run_id: str) -> DescribeGraph:
    from ..core.layout import layout_graph

    total = store.count_task_runs(flow_run_id)
    if total > GRAPH_GROUP_ABOVE:
        return _group_graph(store.read_task_groups(flow_run_id), total)
    graph = store.flow_run_graph(flow_run_id)  # NotFound for an unknown run
    layout = layout_graph(graph)
    for node in layout["nodes"]:
        first = graph.nodes[node["members"][0]] if node["members"] else {}
        node["task_key"] = first.get("task_key")
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
    return DescribeGraph.model_validate({**layout, "task_run_total": total})


class FlowRunGraphHandler(_ReadHandler):
    @doc(
        "The run's DAG, laid out for drawing (aggregated by task for a large run)",
        DescribeGraph,
    )
    @web.authenticated
    @authorized
    async def get(self, flow_run_id: str) -> None:
        await self.reply_read(_graph, self.services.runs, flow_run_id)


def _logs(store: Any, flow_run_id: str, query: ListLogsQuery) -> ListLogsResponse:
    items, more = store.read_log_page(flow_run_id, **query.model_dump())
    return ListLogsResponse(items=items, has_more=more)


class FlowRunLogsHandler(_ReadHandler):
    @doc(
        "A page of a flow run's log lines by id: tail-follow with after_id, the latest with"
        " newest=true, page back with before_id",
        ListLogsResponse,
        query=ListLogsQuery,
    )
    @web.authenticated
    @authorized
    async def get(self, flow_run_id: str) -> None:
        query = self.query(ListLogsQuery)
        await self.reply_read(_logs, self.services.runs, flow_run_id, query)


def _report(store: Any, flow_run_id: str, format: str) -> str:
    # rendered from the server's own store: ``reports.report`` would open the process
    # recorder, which the server never sets up
    from ..reports import render_html, render_markdown, run_artifacts

    run = store.read_flow_run(flow_run_id)
    subflows = [store.read_flow_run(t.subflow_run_id) for t in run.task_runs if t.subflow_run_id]
    artifacts = run_artifacts(store.engine, run.id)
    render = render_html if format == "html" else render_markdown
    return str(render(run, subflows, artifacts))


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


class FlowRunRetryHandler(FlowsAPIHandler):
    @doc(
        "Retry a Failed, Crashed or Cancelled deployment run from its failure: a new run"
        " (retry_of: this one) that reuses its completed task runs' persisted results"
        " (201; 409 for a run that did not fail or that no deployment made)",
        DescribeFlowRun,
        status=201,
        action="execute",
    )
    @web.authenticated
    @authorized(action="execute")
    async def post(self, flow_run_id: str) -> None:
        service = self.services.orchestration
        self.reply(await self.blocking(service.retry_flow_run, flow_run_id), status=201)


class PruneRunsHandler(FlowsAPIHandler):
    @doc(
        "Delete ended top-level flow runs by age or beyond the newest N of each flow, with"
        " everything of theirs",
        PrunedRuns,
        body=PruneRuns,
    )
    @web.authenticated
    @authorized
    async def post(self) -> None:
        body = self.body(PruneRuns)
        older = timedelta(days=body.older_than_days) if body.older_than_days is not None else None
        service = self.services.orchestration
        deleted = await self.blocking(service.prune_flow_runs, older, body.keep_per_flow)
        self.reply(PrunedRuns(deleted=deleted))


def _task_run(store: Any, task_run_id: str) -> DescribeTaskRunDetail:
    run = store.read_task_run(task_run_id)  # NotFound for an unknown task run
    return DescribeTaskRunDetail(**run.model_dump(), states=store.read_states(task_run_id))


class TaskRunHandler(_ReadHandler):
    @doc("A task run and its state history", DescribeTaskRunDetail)
    @web.authenticated
    @authorized
    async def get(self, task_run_id: str) -> None:
        await self.reply_read(_task_run, self.services.runs, task_run_id)


ROUTES: list[tuple[str, type[FlowsAPIHandler]]] = [
    ("health", HealthHandler),
    ("openapi.json", OpenAPIHandler),
    ("flows", FlowsHandler),
    ("flow_runs", FlowRunsHandler),
    ("flow_runs/{flow_run_id}", FlowRunHandler),
    ("flow_runs/{flow_run_id}/task_runs", FlowRunTaskRunsHandler),
    ("flow_runs/{flow_run_id}/graph", FlowRunGraphHandler),
    ("flow_runs/{flow_run_id}/logs", FlowRunLogsHandler),
    ("flow_runs/{flow_run_id}/report", FlowRunReportHandler),
    ("flow_runs/{flow_run_id}/cancel", FlowRunCancelHandler),
    ("flow_runs/{flow_run_id}/retry", FlowRunRetryHandler),
    ("task_runs/{task_run_id}", TaskRunHandler),
    ("retention/prune", PruneRunsHandler),
]
