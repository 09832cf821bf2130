"""The REST API's own request and response models (envelopes around the domain models).

The domain models come from ``store.schemas`` and ``orchestration.schemas``; these wrap them
into the JSON bodies the routes send, so every response has a schema in the OpenAPI document.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from ..orchestration.schemas import ClaimedRun, DescribeWorker, DescribeWorkPool, NotebookParameter
from ..store.limits import DbBigInt, PathText, ShortText
from ..store.schemas import DescribeFlow, DescribeLog, DescribeState, DescribeTaskRun

__all__ = [
    "ErrorReply",
    "DescribeHealth",
    "ListFlowsResponse",
    "ListLogsQuery",
    "ListLogsResponse",
    "ReadReportQuery",
    "ReadOutputQuery",
    "DescribeGraph",
    "GraphNode",
    "GraphNodeDetails",
    "GraphEdge",
    "ListRunTimesQuery",
    "ListRunTimesResponse",
    "ReadNotebookParameters",
    "NotebookParametersResponse",
    "ListWorkPoolsResponse",
    "ListWorkersQuery",
    "ListWorkersResponse",
    "ClaimRunsResponse",
    "PruneRuns",
    "PrunedRuns",
]


class _Query(BaseModel):
    """A query or request body (never a stored row): its bounds are ``store.limits``'."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


class ErrorReply(BaseModel):
    """The body of every error response (rendered by Jupyter's ``APIHandler.write_error``)."""

    message: str = Field(description="what went wrong, naming the field or parameter")
    reason: str | None = None


class DescribeHealth(BaseModel):
    status: Literal["ok", "degraded"] = Field(
        default="ok", description="degraded: the database or the embedded worker has a problem"
    )
    version: str
    db_url: str = Field(description="the run database URL, password masked")
    database: str = Field(default="ok", description="ok, or why the database cannot be reached")
    scheduler: bool
    embedded_worker: bool = Field(description="the embedded worker is running and working")
    embedded_worker_problem: str | None = Field(
        default=None, description="why the embedded worker is not working (its last error)"
    )
    automations: bool = Field(default=False, description="the event reader fires automations")


class ListFlowsResponse(BaseModel):
    items: list[DescribeFlow]


class ListLogsQuery(_Query):
    """A page of a run's log lines, in ``id`` order (``RunStore.read_log_page``)."""

    task_run_id: ShortText | None = None
    after_id: Annotated[DbBigInt, Field(ge=0)] = Field(
        default=0, description="only logs with a larger id (tail-follow)"
    )
    before_id: Annotated[DbBigInt, Field(ge=1)] | None = Field(
        default=None, description="only logs with a smaller id (page back)"
    )
    min_level: int = Field(default=0, ge=0, le=100, description="only this level and above")
    newest: bool = Field(
        default=False, description="the last `limit` matching lines instead of the first"
    )
    limit: int = Field(default=1000, ge=1, le=10000)


class ListLogsResponse(BaseModel):
    items: list[DescribeLog] = Field(description="oldest first")
    has_more: bool = Field(
        default=False,
        description="more lines match: after the last (or, with newest, before the first)",
    )


class ReadReportQuery(_Query):
    format: Literal["html", "md"] = "html"


class ReadOutputQuery(_Query):
    format: Literal["ipynb", "html"] = "ipynb"


class DescribeSource(BaseModel):
    """A stored source bundle: deployments name it as their ``source_digest``."""

    digest: str
    size: int


class GraphNodeDetails(BaseModel):
    task_name: str | None = None
    message: str | None = None
    run_count: int | None = None
    start: datetime | None = None
    end: datetime | None = None
    subflow_run_id: str | None = None


class GraphNode(BaseModel):
    """A task run, or a group of runs of one task (in one layer, unless aggregated)."""

    id: str
    label: str
    task_key: str | None = None
    x: float
    y: float
    layer: int
    state: str
    count: int
    states: dict[str, int]
    members: list[str]
    details: GraphNodeDetails | None = None


class DescribeTaskRunDetail(DescribeTaskRun):
    """A task run with its state history (what the run view's details pane shows)."""

    states: list[DescribeState] = Field(default_factory=list, description="oldest first")


class GraphEdge(BaseModel):
    source: str
    target: str
    points: list[tuple[float, float]] = Field(
        default_factory=list,
        description="the edge's polyline, from the right side of the source box to the left "
        "side of the target box (around the nodes it passes)",
    )


class DescribeGraph(BaseModel):
    """The drawing of a run's DAG (``core.layout.layout_graph``)."""

    nodes: list[GraphNode]
    edges: list[GraphEdge]
    width: float
    height: float
    aggregated: bool = Field(
        default=False,
        description="a large run: one node per task (counts by state), edges between tasks",
    )
    task_run_total: int = 0


class ListRunTimesQuery(_Query):
    n: int = Field(default=5, ge=1, le=100)


class ListRunTimesResponse(BaseModel):
    items: list[datetime]


class ReadNotebookParameters(_Query):
    path: Annotated[PathText, Field(min_length=1)] = Field(
        description="notebook path relative to the server root"
    )


class NotebookParametersResponse(BaseModel):
    parameters: list[NotebookParameter]


class PruneRuns(_Query):
    """Which ended top-level flow runs to delete (with everything of theirs): ended before
    ``older_than_days``, or beyond the ``keep_per_flow`` newest of their flow."""

    older_than_days: float | None = Field(default=None, ge=0, le=36500)
    keep_per_flow: Annotated[int, Field(ge=0, le=1_000_000)] | None = None


class PrunedRuns(BaseModel):
    deleted: int = Field(description="flow runs deleted (their subflow runs included)")


class ListWorkPoolsResponse(BaseModel):
    items: list[DescribeWorkPool]


class ListWorkersQuery(_Query):
    work_pool: ShortText | None = None


class ListWorkersResponse(BaseModel):
    items: list[DescribeWorker]


class ClaimRunsResponse(BaseModel):
    items: list[ClaimedRun]


class AppendRecords(BaseModel):
    """What run processes without database access recorded (``core.record_codec``)."""

    model_config = ConfigDict(extra="forbid")

    items: list[dict[str, Any]] = Field(max_length=10_000)
