"""Request and response models of the orchestration API, named by verb."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from ..store.schemas import DescribeFlowRun

__all__ = [
    "ScheduleSpec",
    "CreateDeployment",
    "UpdateDeployment",
    "DescribeDeployment",
    "ListDeploymentsQuery",
    "ListDeploymentsResponse",
    "CreateDeploymentRun",
    "SchedulePreview",
    "CreateWorkPool",
    "UpdateWorkPool",
    "DescribeWorkPool",
    "DescribeWorker",
    "WorkerHeartbeat",
    "ClaimRuns",
    "ClaimedRun",
    "UpdateRunState",
    "DescribeRunState",
    "RefusedRun",
    "RecordsVerdict",
    "AppendLogs",
    "NotebookParameter",
    "EventTrigger",
    "AutomationAction",
    "CreateAutomation",
    "UpdateAutomation",
    "DescribeAutomation",
    "ListAutomationsResponse",
    "CreateEvent",
    "DescribeEvent",
    "ListEventsQuery",
    "ListEventsResponse",
]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ScheduleSpec(_Model):
    """Exactly one of ``cron``, ``interval_seconds`` or ``date``."""

    id: str | None = None
    cron: str | None = None
    interval_seconds: float | None = Field(default=None, gt=0)
    anchor_date: datetime | None = None
    date: datetime | None = None
    timezone: str = "UTC"
    active: bool = True

    @model_validator(mode="after")
    def _one_kind(self) -> ScheduleSpec:
        kinds = [k for k in (self.cron, self.interval_seconds, self.date) if k is not None]
        if len(kinds) != 1:
            raise ValueError("a schedule needs exactly one of cron, interval_seconds or date")
        return self


class CreateDeployment(_Model):
    name: str = Field(min_length=1, max_length=200)
    entrypoint: str = Field(min_length=1)
    parameters: dict[str, Any] = Field(default_factory=dict)
    tags: list[str] = Field(default_factory=list)
    description: str | None = None
    version: str | None = None
    work_pool: str = "default"
    schedules: list[ScheduleSpec] = Field(default_factory=list)
    missed_runs: Literal["skip", "run_once"] = "skip"
    paused: bool = False
    priority: int = Field(default=0, description="higher runs first when a pool is busy")


class UpdateDeployment(_Model):
    parameters: dict[str, Any] | None = None
    tags: list[str] | None = None
    description: str | None = None
    version: str | None = None
    work_pool: str | None = None
    schedules: list[ScheduleSpec] | None = None
    missed_runs: Literal["skip", "run_once"] | None = None
    paused: bool | None = None
    priority: int | None = None


class DescribeDeployment(BaseModel):
    id: str
    name: str
    entrypoint: str
    kind: Literal["notebook", "python"]
    parameters: dict[str, Any]
    parameter_schema: dict[str, Any]
    tags: list[str]
    description: str | None = None
    version: str | None = None
    work_pool: str
    schedules: list[ScheduleSpec]
    missed_runs: str
    paused: bool
    priority: int = 0
    created: datetime
    updated: datetime
    next_run_time: datetime | None = None


class ListDeploymentsQuery(_Model):
    work_pool: str | None = None
    paused: bool | None = None
    limit: int = Field(default=100, ge=1, le=1000)
    offset: int = Field(default=0, ge=0)


class ListDeploymentsResponse(BaseModel):
    items: list[DescribeDeployment]
    total: int


class CreateDeploymentRun(_Model):
    parameters: dict[str, Any] = Field(default_factory=dict)
    tags: list[str] = Field(default_factory=list)
    message: str | None = Field(
        default=None, max_length=500, description="why it runs (the Scheduled state's message)"
    )


class SchedulePreview(_Model):
    cron: str | None = None
    interval_seconds: float | None = Field(default=None, gt=0)
    timezone: str = "UTC"
    n: int = Field(default=5, ge=1, le=100)


class CreateWorkPool(_Model):
    name: str = Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_.-]+$")
    type: str = "process"
    concurrency_limit: int | None = Field(default=None, ge=1)
    paused: bool = False
    description: str | None = None


class UpdateWorkPool(_Model):
    concurrency_limit: int | None = Field(default=None, ge=1)
    paused: bool | None = None
    description: str | None = None


class DescribeWorkPool(BaseModel):
    name: str
    type: str
    concurrency_limit: int | None
    paused: bool
    description: str | None
    created: datetime


class DescribeWorker(BaseModel):
    name: str
    work_pool: str
    last_heartbeat: datetime
    status: Literal["online", "offline"]
    #: the server's: a worker silent this long is offline and its active runs end Crashed
    heartbeat_timeout: float | None = None


class WorkerHeartbeat(_Model):
    worker: str = Field(min_length=1)


class ClaimRuns(_Model):
    worker: str = Field(min_length=1)
    limit: int = Field(default=1, ge=1, le=100)


class ClaimedRun(BaseModel):
    flow_run: DescribeFlowRun
    deployment: DescribeDeployment


class UpdateRunState(_Model):
    type: Literal["PENDING", "RUNNING", "COMPLETED", "FAILED", "CANCELLED", "CRASHED"]
    name: str
    message: str | None = None
    worker: str | None = None


class DescribeRunState(BaseModel):
    """The light state view of a flow run (what workers and run processes poll)."""

    id: str
    state_type: str | None
    state_name: str | None
    state_message: str | None = None
    worker: str | None = None
    heartbeat: datetime | None = None
    #: for a proposed state: ``accept`` (recorded) or ``ignore`` (the run is already there)
    decision: Literal["accept", "ignore"] | None = None


class RefusedRun(BaseModel):
    """A run whose proposed states were refused: the state it is in instead."""

    type: str
    name: str | None = None


class RecordsVerdict(BaseModel):
    """What became of posted records: the runs (by id) whose states were refused.

    Their run process must stop them: they ended or are being cancelled elsewhere.
    """

    rejected: dict[str, RefusedRun] = {}


class LogLine(_Model):
    level: int = 20
    message: str
    timestamp: datetime | None = None
    task_run_id: str | None = None


class AppendLogs(_Model):
    items: list[LogLine]


class NotebookParameter(BaseModel):
    name: str
    type: str
    default: Any = None


_EVENT_NAME = r"^[A-Za-z0-9_.:*?\[\]-]+$"


class EventTrigger(_Model):
    """Events named like ``event`` (a glob: ``flow-run.*``) whose payload has ``match``.

    ``match`` compares payload keys with values (a list in the payload, like ``tags``, matches
    when it contains the value). It fires on the ``threshold``-th matching event; with
    ``within_seconds``, only events that close together count.
    """

    event: str = Field(min_length=1, max_length=200, pattern=_EVENT_NAME)
    match: dict[str, Any] = Field(default_factory=dict)
    threshold: int = Field(default=1, ge=1, le=10_000)
    within_seconds: float | None = Field(default=None, gt=0)


class AutomationAction(_Model):
    """Run, pause or resume a deployment.

    ``parameters`` of a run may take values from the event: ``"{{ event.path }}"`` is the
    payload's ``path``.
    """

    type: Literal["run-deployment", "pause-deployment", "resume-deployment"]
    deployment: str = Field(min_length=1)
    parameters: dict[str, Any] = Field(default_factory=dict)
    tags: list[str] = Field(default_factory=list)


class CreateAutomation(_Model):
    name: str = Field(min_length=1, max_length=200)
    description: str | None = None
    enabled: bool = True
    trigger: EventTrigger
    action: AutomationAction


class UpdateAutomation(_Model):
    description: str | None = None
    enabled: bool | None = None
    trigger: EventTrigger | None = None
    action: AutomationAction | None = None


class DescribeAutomation(BaseModel):
    id: str
    name: str
    description: str | None = None
    enabled: bool
    trigger: EventTrigger
    action: AutomationAction
    fired_count: int = 0
    last_fired: datetime | None = None
    created: datetime
    updated: datetime


class ListAutomationsResponse(BaseModel):
    items: list[DescribeAutomation]


class CreateEvent(_Model):
    event: str = Field(min_length=1, max_length=200, pattern=r"^[A-Za-z0-9_.:-]+$")
    resource: str | None = None
    payload: dict[str, Any] = Field(default_factory=dict)


class DescribeEvent(BaseModel):
    id: int
    event: str
    resource: str | None = None
    payload: dict[str, Any]
    occurred: datetime


class ListEventsQuery(_Model):
    event: str | None = Field(default=None, description="a name or glob, e.g. flow-run.*")
    after_id: int | None = Field(default=None, ge=0)
    limit: int = Field(default=100, ge=1, le=1000)


class ListEventsResponse(BaseModel):
    items: list[DescribeEvent]
