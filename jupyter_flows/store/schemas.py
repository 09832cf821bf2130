"""What the read API returns: pydantic models named by verb (``DescribeX``, ``ListXQuery``...)."""

from __future__ import annotations

import logging
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from jupyter_flows.core.states import STATE_NAMES, State, StateType

from .limits import DbBigInt, DbDateTime, ShortText

if TYPE_CHECKING:
    import networkx as nx

__all__ = [
    "DescribeFlow",
    "DescribeState",
    "DescribeLog",
    "DescribeEdge",
    "DescribeTaskRun",
    "DescribeFlowRunItem",
    "DescribeFlowRun",
    "DescribeFlowRunDetail",
    "DescribeTaskGroup",
    "DescribeTaskGroupEdge",
    "DescribeTaskGroups",
    "DescribeResultRecord",
    "build_run_graph",
    "ListFlowRunsQuery",
    "RunKind",
    "run_kind",
    "ListFlowRunsResponse",
    "ListTaskRunsQuery",
    "ListTaskRunsResponse",
    "DescribeBackgroundTaskRun",
    "ListBackgroundTaskRunsQuery",
    "ListBackgroundTaskRunsResponse",
]

logger = logging.getLogger(__name__)


class _Schema(BaseModel):
    model_config = ConfigDict(from_attributes=True, frozen=True)


class DescribeFlow(_Schema):
    id: str
    name: str
    description: str | None = None
    created: datetime


class DescribeState(_Schema):
    """One state of a run's history (ordered by ``id``)."""

    id: int
    run_id: str
    run_kind: Literal["flow", "task"]
    flow_run_id: str | None = None
    type: StateType
    name: str
    timestamp: datetime
    message: str | None = None


class DescribeLog(_Schema):
    id: int
    flow_run_id: str | None = None
    task_run_id: str | None = None
    level: int
    logger: str
    message: str
    timestamp: datetime


class DescribeEdge(_Schema):
    """``upstream_id`` feeds ``downstream_id`` (as ``parameter`` for ``kind="data"``)."""

    upstream_id: str
    downstream_id: str
    kind: Literal["data", "wait_for"]
    parameter: str | None = None


class _RunColumns(_Schema):
    id: str
    name: str
    tags: list[str] = Field(default_factory=list)
    state_type: StateType | None = None
    state_name: str | None = None
    state_message: str | None = None
    created: datetime
    start_time: datetime | None = None
    end_time: datetime | None = None
    expected_start_time: datetime | None = None
    run_count: int = 0
    total_run_time: float = 0.0

    @property
    def state(self) -> State | None:
        """The run's current state; ``.result()`` reads its persisted result, in any process."""
        if self.state_type is None:
            return None
        from .results import StoredResult

        return State(
            StateType(self.state_type),
            self.state_name or "",
            self.end_time or self.start_time or self.created,
            self.state_message,
            StoredResult(self.id),
            run_id=self.id,
        )


class DescribeTaskRun(_RunColumns):
    flow_run_id: str | None = None
    task_key: str
    task_name: str
    dynamic_key: int = 0
    cache_key: str | None = None
    description: str | None = None
    version: str | None = None
    subflow_run_id: str | None = None


#: how a flow run came about (``DescribeFlowRunItem.kind``)
RunKind = Literal["interactive", "scheduled", "manual", "subflow"]
#: the tag the scheduler puts on the runs it creates (``orchestration.retention``)
AUTO_SCHEDULED_TAG = "auto-scheduled"


def run_kind(parent_flow_run_id: str | None, deployment_id: str | None, tags: list[str]) -> str:
    """The one rule for a run's kind: a parent makes a subflow; a deployment run is scheduled
    when the scheduler made it (its ``auto-scheduled`` tag), else manual; the rest ran in a
    kernel or script (interactive)."""
    if parent_flow_run_id:
        return "subflow"
    if deployment_id:
        return "scheduled" if AUTO_SCHEDULED_TAG in tags else "manual"
    return "interactive"


class DescribeFlowRunItem(_RunColumns):
    """A flow run's own row: what a run list shows (no task runs, states or logs)."""

    flow_name: str
    flow_version: str | None = None
    parameters: dict[str, Any] = Field(default_factory=dict)
    parent_flow_run_id: str | None = None
    parent_task_run_id: str | None = None
    deployment_id: str | None = None
    work_pool: str | None = None
    worker: str | None = None
    heartbeat: datetime | None = None
    output_path: str | None = Field(
        default=None, description="a notebook run's executed notebook, where its worker wrote it"
    )
    retry_of: str | None = Field(
        default=None, description="the failed run this one retries (reusing its completed tasks)"
    )
    kind: RunKind = Field(
        default="interactive",
        description="interactive, scheduled, manual (a deployment run asked for) or subflow;"
        " derived from the parent, deployment and tags",
    )
    subflow_count: int = Field(
        default=0, description="child flow runs (filled in run list pages; 0 elsewhere)"
    )

    @model_validator(mode="before")
    @classmethod
    def _derive_kind(cls, data: Any) -> Any:
        if not isinstance(data, dict):  # a row or record object (from_attributes)
            data = {k: getattr(data, k) for k in cls.model_fields if hasattr(data, k)}
        data = dict(data)
        data["kind"] = run_kind(
            data.get("parent_flow_run_id"), data.get("deployment_id"), data.get("tags") or []
        )
        return data


class DescribeFlowRun(DescribeFlowRunItem):
    """A flow run; ``read_flow_run`` also fills its task runs, states, logs and edges."""

    task_runs: list[DescribeTaskRun] = Field(default_factory=list)
    states: list[DescribeState] = Field(default_factory=list)
    task_states: list[DescribeState] = Field(default_factory=list)
    logs: list[DescribeLog] = Field(default_factory=list)
    edges: list[DescribeEdge] = Field(default_factory=list)

    @property
    def graph(self) -> nx.DiGraph[str]:
        """The run's DAG (from ``task_runs`` and ``edges``); see ``build_run_graph``."""
        return build_run_graph(self.id, self.name, self.task_runs, self.edges)


def build_run_graph(
    flow_run_id: str, name: str, task_runs: list[DescribeTaskRun], edges: list[DescribeEdge]
) -> nx.DiGraph[str]:
    """Task run ids as nodes, edges upstream -> downstream.

    Node attributes: ``name, task_name, task_key, state_type, state_name, state_message,
    start, end, run_count, subflow_run_id``; edge attributes: ``kind`` and ``parameter``.
    """
    import networkx as nx  # only here: it takes ~0.1 s to import

    graph: nx.DiGraph[str] = nx.DiGraph(flow_run_id=flow_run_id, name=name)
    for run in task_runs:
        graph.add_node(
            run.id,
            name=run.name,
            task_name=run.task_name,
            task_key=run.task_key,
            state_type=run.state_type.value if run.state_type else None,
            state_name=run.state_name,
            state_message=run.state_message,
            start=run.start_time,
            end=run.end_time,
            run_count=run.run_count,
            subflow_run_id=run.subflow_run_id,
        )
    for edge in edges:
        if edge.upstream_id in graph and edge.downstream_id in graph:
            graph.add_edge(
                edge.upstream_id, edge.downstream_id, kind=edge.kind, parameter=edge.parameter
            )
    return graph


class DescribeFlowRunDetail(DescribeFlowRunItem):
    """What a run view reads first: the run, its own state history, its task runs counted.

    ``task_runs`` (and ``edges``) list every task run while there are at most
    ``DETAIL_TASK_RUNS`` (100) of them (``task_runs_complete``); larger runs leave them
    empty: page them with ``RunStore.read_task_run_page``. Logs are paged too
    (``read_log_page``).
    """

    states: list[DescribeState] = Field(default_factory=list)
    task_run_total: int = 0
    task_run_counts: dict[str, int] = Field(
        default_factory=dict,
        description="task runs by state type; runs without a state yet under NONE",
    )
    log_total: int = 0
    task_runs: list[DescribeTaskRun] = Field(default_factory=list)
    edges: list[DescribeEdge] = Field(
        default_factory=list, description="with task_runs: the edges between them"
    )
    task_runs_complete: bool = True


class DescribeTaskGroup(_Schema):
    """The task runs of one task (``task_key``) in a flow run, counted by state name."""

    task_key: str
    task_name: str
    count: int
    states: dict[str, int]
    first_created: datetime


class DescribeTaskGroupEdge(_Schema):
    """``count`` task runs of ``upstream_key`` feed task runs of ``downstream_key``."""

    upstream_key: str
    downstream_key: str
    count: int


class DescribeTaskGroups(_Schema):
    """A flow run's graph aggregated by task: groups in order of their first task run."""

    flow_run_id: str
    name: str
    groups: list[DescribeTaskGroup]
    edges: list[DescribeTaskGroupEdge]


class DescribeResultRecord(_Schema):
    key: str
    task_run_id: str
    flow_run_id: str | None = None
    location: str
    serializer: str
    created: datetime
    expires: datetime | None = None


def _utc(value: datetime | None) -> datetime | None:
    """Naive datetimes are local time (as ``datetime.astimezone`` takes them)."""
    return None if value is None else value.astimezone(timezone.utc)


class ListFlowRunsQuery(_Schema):
    """Filters and page of ``RunStore.read_flow_runs``; newest runs first.

    ``state`` matches a state type or name, case-insensitively (any of several);
    ``tags`` must all be present; ``since``/``until`` bound ``created`` (until exclusive).
    """

    flow_name: str | None = None
    state: list[str] | None = None
    tags: list[str] | None = None
    deployment_id: str | None = None
    since: DbDateTime | None = None
    until: DbDateTime | None = None
    name: ShortText | None = Field(
        default=None, description="runs whose name or flow name contains this (any case)"
    )
    parent_flow_run_id: ShortText | None = Field(
        default=None, description="only the subflow runs of this flow run"
    )
    top_level: bool = Field(default=False, description="only runs that are not subflows")
    kind: list[RunKind] | None = Field(default=None, description="only runs of these kinds")
    limit: int = Field(default=50, ge=1, le=1000)
    offset: Annotated[DbBigInt, Field(ge=0)] = 0

    @field_validator("state", "tags", "kind", mode="before")
    @classmethod
    def _listify(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value

    @field_validator("state")
    @classmethod
    def _known_states(cls, value: list[str] | None) -> list[str] | None:
        known = {t.value.lower() for t in StateType} | {n.lower() for n in STATE_NAMES}
        unknown = [s for s in value or () if s.lower() not in known]
        if unknown:
            raise ValueError(f"unknown state {unknown[0]!r}")
        return value

    @field_validator("since", "until")
    @classmethod
    def _to_utc(cls, value: datetime | None) -> datetime | None:
        return _utc(value)


class ListFlowRunsResponse(_Schema):
    items: list[DescribeFlowRunItem]
    total: int
    limit: int
    offset: int


class ListTaskRunsQuery(_Schema):
    """One page of a flow run's task runs (``RunStore.read_task_run_page``), oldest first.

    ``state`` matches a state type or name, case-insensitively (any of several);
    ``with_states`` adds the state histories of the page's task runs.
    """

    model_config = ConfigDict(from_attributes=True, frozen=True, extra="forbid")

    state: list[str] | None = None
    task_key: str | None = None
    limit: int = Field(default=100, ge=1, le=500)
    offset: Annotated[DbBigInt, Field(ge=0)] = 0
    with_states: bool = False

    @field_validator("state", mode="before")
    @classmethod
    def _listify(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value


class ListTaskRunsResponse(_Schema):
    items: list[DescribeTaskRun]
    total: int = Field(description="task runs matching the filters")
    limit: int
    offset: int
    states: list[DescribeState] = Field(
        default_factory=list, description="with_states: the states of these task runs"
    )


class DescribeBackgroundTaskRun(DescribeTaskRun):
    """A task run made by ``Task.delay()``, with its place in the queue."""

    parameters: dict[str, Any] | None = Field(
        default=None, description="the arguments, when they are plain JSON (else pickled)"
    )
    parameters_pickled: bool = False
    origin_flow_run_id: str | None = Field(
        default=None, description="the flow run that called .delay(), if any"
    )
    worker: str | None = Field(default=None, description="the task worker that claimed it")
    claims: int = 0
    lease_expires: datetime | None = None


class ListBackgroundTaskRunsQuery(_Schema):
    """Background task runs, newest first; ``state`` matches a type or name (any of
    several), ``task_name`` the task's name."""

    model_config = ConfigDict(from_attributes=True, frozen=True, extra="forbid")

    state: list[str] | None = None
    task_name: str | None = None
    limit: int = Field(default=50, ge=1, le=1000)
    offset: Annotated[DbBigInt, Field(ge=0)] = 0

    @field_validator("state", mode="before")
    @classmethod
    def _listify(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value


class ListBackgroundTaskRunsResponse(_Schema):
    items: list[DescribeBackgroundTaskRun]
    total: int
    limit: int
    offset: int
