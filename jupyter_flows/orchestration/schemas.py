"""Request and response models of the orchestration API, named by verb."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic.json_schema import SkipJsonSchema

from ..store.limits import (
    MAX_LOG_LENGTH,
    MAX_LOG_LINES,
    MAX_NAME_LENGTH,
    MAX_SECONDS,
    MAX_TAGS,
    MIN_INTERVAL_SECONDS,
    DbBigInt,
    DbDateTime,
    DbInt,
    JsonObject,
    LogText,
    Name,
    PathText,
    ShortText,
    Tags,
    Text,
    check_json_size,
    check_values,
)
from ..store.schemas import DescribeFlowRunItem
from .automation_schemas import (
    AutomationAction,
    CreateAutomation,
    DescribeAutomation,
    EventTrigger,
    ListAutomationsResponse,
    UpdateAutomation,
)
from .event_models import RESOURCE_ID, labels_of, related_resources

__all__ = [
    "ScheduleSpec",
    "DescribeWorkerToken",
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


class _Request(_Model):
    """A request body or query, never a stored row: its bounds are ``store.limits``'."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


#: a number of seconds between two runs of a schedule
Interval = Annotated[float, Field(ge=MIN_INTERVAL_SECONDS, le=MAX_SECONDS)]


class ScheduleSpec(_Model):
    """Exactly one of ``cron``, ``interval_seconds``, ``rrule`` (RFC 5545, as Prefect's
    ``RRule``: ``FREQ=WEEKLY;BYDAY=MO,WE;BYHOUR=9``, an optional ``DTSTART``) or ``date``.

    A request gives ``interval_seconds`` between 1 s and ten years, dates between 1970 and
    9000, and a cron that fires; stored schedules are read back as they are.
    """

    id: str | None = None
    cron: str | None = None
    interval_seconds: float | None = Field(default=None, gt=0)
    rrule: str | None = None
    anchor_date: datetime | None = None
    date: datetime | None = None
    timezone: str = "UTC"
    active: bool = True

    @model_validator(mode="after")
    def _one_kind(self) -> ScheduleSpec:
        kinds = [
            k for k in (self.cron, self.interval_seconds, self.rrule, self.date) if k is not None
        ]
        if len(kinds) != 1:
            raise ValueError(
                "a schedule needs exactly one of cron, interval_seconds, rrule or date"
            )
        return self


def _check_fires(spec: ScheduleSpec) -> None:
    """``ValueError`` for a cron that never fires (``0 0 31 2 *``).

    A cron or zone that is not valid at all is left to the service, which raises
    ``ScheduleError`` naming it.
    """
    from ..exceptions import ScheduleError
    from ..scheduling.triggers import fires_at_all

    try:
        fires = fires_at_all(spec)
    except ScheduleError:
        return
    if not fires:
        what = f"cron: {spec.cron!r}" if spec.cron is not None else f"rrule: {spec.rrule!r}"
        raise ValueError(f"{what} never fires")


def _new_schedule(spec: ScheduleSpec) -> ScheduleSpec:
    """A schedule as a request may give it (``store.limits``)."""
    check_values(spec)
    for name in ("id", "cron", "timezone", "rrule"):
        value = getattr(spec, name)
        if value is not None and len(value) > MAX_NAME_LENGTH:
            raise ValueError(f"{name}: at most {MAX_NAME_LENGTH} characters")
    seconds = spec.interval_seconds
    if seconds is not None and not MIN_INTERVAL_SECONDS <= seconds <= MAX_SECONDS:
        raise ValueError(
            f"interval_seconds: must lie between {MIN_INTERVAL_SECONDS:g} and"
            f" {MAX_SECONDS:g} (got {seconds:g})"
        )
    if spec.cron is not None or spec.rrule is not None:
        _check_fires(spec)
    return spec


#: a schedule in a request body
NewSchedule = Annotated[ScheduleSpec, AfterValidator(_new_schedule)]


#: a source bundle's sha256 (``orchestration.sources``)
SourceDigest = Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]


class CreateDeployment(_Request):
    name: Name
    entrypoint: Annotated[PathText, Field(min_length=1)]
    parameters: JsonObject = Field(default_factory=dict)
    tags: Tags = Field(default_factory=list)
    description: Text | None = None
    version: ShortText | None = None
    work_pool: Name = "default"
    schedules: list[NewSchedule] = Field(default_factory=list, max_length=100)
    missed_runs: Literal["skip", "run_once"] = "skip"
    paused: bool = False
    priority: DbInt = Field(default=0, description="higher runs first when a pool is busy")
    job_variables: JsonObject = Field(
        default_factory=dict, description="overrides of the pool's base job template variables"
    )
    source_digest: SourceDigest | None = Field(
        default=None,
        description="the sha256 of its uploaded source bundle (PUT sources/{digest}); the "
        "entrypoint is then relative to the bundle's root",
    )


class UpdateDeployment(_Request):
    parameters: JsonObject | None = None
    tags: Tags | None = None
    description: Text | None = None
    version: ShortText | None = None
    work_pool: Name | None = None
    schedules: list[NewSchedule] | None = Field(default=None, max_length=100)
    missed_runs: Literal["skip", "run_once"] | None = None
    paused: bool | None = None
    priority: DbInt | None = None
    job_variables: JsonObject | None = None
    source_digest: SourceDigest | None = None


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
    job_variables: dict[str, Any] = Field(default_factory=dict)
    source_digest: str | None = Field(
        default=None, description="its uploaded source bundle; None: a path on the server"
    )
    created: datetime
    updated: datetime
    next_run_time: datetime | None = None


class ListDeploymentsQuery(_Request):
    work_pool: ShortText | None = None
    paused: bool | None = None
    limit: int = Field(default=100, ge=1, le=1000)
    offset: Annotated[DbBigInt, Field(ge=0)] = 0


class ListDeploymentsResponse(BaseModel):
    items: list[DescribeDeployment]
    total: int


class CreateDeploymentRun(_Request):
    parameters: JsonObject = Field(default_factory=dict)
    tags: Tags = Field(default_factory=list)
    message: Annotated[Text, Field(max_length=500)] | None = Field(
        default=None, description="why it runs (the Scheduled state's message)"
    )
    job_variables: JsonObject = Field(
        default_factory=dict, description="overrides of the deployment's job variables"
    )


class SchedulePreview(_Request):
    cron: ShortText | None = None
    interval_seconds: Interval | None = None
    timezone: ShortText = "UTC"
    n: int = Field(default=5, ge=1, le=100)

    @model_validator(mode="after")
    def _fires(self) -> SchedulePreview:
        if self.cron is not None and self.interval_seconds is None:
            _check_fires(ScheduleSpec(cron=self.cron, timezone=self.timezone))
        return self


def _no_default(schema: dict[str, Any]) -> None:
    """A field that may be omitted but not null has no default in the JSON schema."""
    schema.pop("default", None)


#: a pool's concurrency limit: at least one run
ConcurrencyLimit = Annotated[DbInt, Field(ge=1)]


class CreateWorkPool(_Request):
    name: str = Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_.-]+$")
    type: Name = Field(default="process", description="process or dask")
    concurrency_limit: ConcurrencyLimit | None = None
    paused: bool = False
    description: Text | None = None
    base_job_template: JsonObject = Field(
        default_factory=dict,
        description='{"job_configuration": {...}, "variables": {JSON schema}}; '
        "omitted: the type's default",
    )


class UpdateWorkPool(_Request):
    """Only the fields given change; ``concurrency_limit: null`` removes the limit."""

    concurrency_limit: ConcurrencyLimit | None = None
    paused: bool | SkipJsonSchema[None] = Field(
        default=None, description="omit to keep it", json_schema_extra=_no_default
    )
    description: Text | None = None
    base_job_template: JsonObject | None = None

    @field_validator("paused")
    @classmethod
    def _not_null(cls, value: bool | None) -> bool:
        if value is None:  # given as null (an omitted field is not validated)
            raise ValueError("must be true or false (omit it to keep the pool's)")
        return value


class DescribeWorkPool(BaseModel):
    name: str
    type: str
    concurrency_limit: int | None
    paused: bool
    description: str | None
    base_job_template: dict[str, Any] = Field(default_factory=dict)
    created: datetime


class DescribeWorker(BaseModel):
    name: str
    work_pool: str
    last_heartbeat: datetime
    status: Literal["online", "offline"]
    #: the server's: a worker silent this long is offline and its active runs end Crashed
    heartbeat_timeout: float | None = None
    #: the type of its pool (``process``, ``dask``): which kind of worker runs its runs
    pool_type: str | None = None


class WorkerHeartbeat(_Request):
    worker: Name


class ClaimRuns(_Request):
    worker: Name
    limit: int = Field(default=1, ge=1, le=100)
    outputs_dir: PathText | None = Field(
        default=None,
        description="where this worker writes executed notebooks (it becomes their runs' "
        "output_path)",
    )


class ClaimedRun(BaseModel):
    """A run a worker claimed: its own row (no task runs, states or logs) and deployment."""

    flow_run: DescribeFlowRunItem
    deployment: DescribeDeployment
    run_token: str | None = Field(
        default=None,
        description="a token for this run only: its run process records and reads its state "
        "with it (never with the worker's token)",
    )
    job_configuration: dict[str, Any] = Field(
        default_factory=dict,
        description="the pool's job configuration filled in with the run's effective job "
        "variables (template defaults < deployment < run)",
    )


class DescribeWorkerToken(BaseModel):
    """A worker's own credential: heartbeat, claim, report and record its runs; no more."""

    pool: str
    worker: str
    token: str


class UpdateRunState(_Request):
    type: Literal["PENDING", "RUNNING", "COMPLETED", "FAILED", "CANCELLED", "CRASHED"]
    name: Name
    message: LogText | None = Field(
        default=None, description="NUL characters are kept escaped as \\x00, as in logs"
    )
    worker: Name | None = None


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


class DroppedRecordReply(BaseModel):
    """A posted record the database refused (a value it cannot store): left out."""

    what: str = Field(description="flow, flow_run, task_run, input, state, log or result")
    run_id: str | None = None
    reason: str


class RecordsVerdict(BaseModel):
    """What became of posted records: the runs (by id) whose states were refused, and the
    records the database refused (the others were written).

    The runs' process must stop them: they ended or are being cancelled elsewhere.
    """

    rejected: dict[str, RefusedRun] = {}
    dropped: list[DroppedRecordReply] = []


class LogLine(_Request):
    level: Annotated[DbInt, Field(ge=0, le=100)] = 20
    message: LogText = Field(description="NUL characters are kept escaped as \\x00")
    timestamp: DbDateTime | None = Field(default=None, description="naive: UTC")
    task_run_id: ShortText | None = None

    @field_validator("timestamp")
    @classmethod
    def _aware(cls, value: datetime | None) -> datetime | None:
        if value is not None and value.utcoffset() is None:
            return value.replace(tzinfo=timezone.utc)
        return value


class AppendLogs(_Request):
    """Log lines of a run; one longer than ``MAX_LOG_LENGTH`` becomes several, in order."""

    items: list[LogLine] = Field(max_length=MAX_LOG_LINES)

    @field_validator("items", mode="before")
    @classmethod
    def _split_long_lines(cls, items: Any) -> Any:
        if not isinstance(items, list):
            return items
        out: list[Any] = []
        for item in items:
            message = item.get("message") if isinstance(item, dict) else None
            if isinstance(message, str) and len(message) > MAX_LOG_LENGTH:
                for start in range(0, len(message), MAX_LOG_LENGTH):
                    out.append({**item, "message": message[start : start + MAX_LOG_LENGTH]})
            else:
                out.append(item)
        return out


class NotebookParameter(BaseModel):
    name: str
    type: str
    default: Any = None


#: a resource's labels (Prefect's resource dict): text keys and values
ResourceLabels = Annotated[dict[ShortText, Text], Field(max_length=MAX_TAGS)]


def _own_labels(labels: dict[str, str]) -> dict[str, str]:
    labels = labels_of(labels, "resource_labels")
    if RESOURCE_ID in labels:
        raise ValueError(f"resource_labels: the resource's id ({RESOURCE_ID}) is `resource`")
    check_json_size(labels, "resource_labels")
    return labels


def _related(related: list[dict[str, str]]) -> list[dict[str, str]]:
    found = related_resources(related)
    check_json_size(found, "related")
    return found


class CreateEvent(_Request):
    """An event; ``resource`` is the id of the resource it is about (Prefect's
    ``prefect.resource.id``), ``resource_labels`` the resource's other labels."""

    event: str = Field(min_length=1, max_length=200, pattern=r"^[A-Za-z0-9_.:-]+$")
    resource: Text | None = None
    resource_labels: Annotated[ResourceLabels, AfterValidator(_own_labels)] = Field(
        default_factory=dict
    )
    related: Annotated[
        list[ResourceLabels], Field(max_length=MAX_TAGS), AfterValidator(_related)
    ] = Field(
        default_factory=list,
        description="other resources involved, each with prefect.resource.id and "
        "prefect.resource.role",
    )
    payload: JsonObject = Field(default_factory=dict)
    occurred: DbDateTime | None = Field(default=None, description="default: when it is stored")
    uuid: UUID | None = Field(default=None, description="the sender's id of it (default: new)")
    follows: UUID | None = Field(default=None, description="the uuid of an event it follows")


class DescribeEvent(BaseModel):
    id: int
    uuid: str | None = Field(default=None, description="Prefect's event id")
    event: str
    resource: str | None = None
    resource_labels: dict[str, str] = Field(default_factory=dict)
    related: list[dict[str, str]] = Field(default_factory=list)
    payload: dict[str, Any]
    occurred: datetime
    follows: str | None = None

    @field_validator("resource_labels", "related", mode="before")
    @classmethod
    def _empty_when_null(cls, value: Any, info: Any) -> Any:
        if value is None:  # rows from before these columns
            return {} if info.field_name == "resource_labels" else []
        return value


class ListEventsQuery(_Request):
    event: ShortText | None = Field(default=None, description="a name or glob, e.g. flow-run.*")
    resource: ShortText | None = Field(
        default=None,
        description="the resource's id (flow-run/ID), or a glob of it (flow-run/*); also "
        "matches a bare run id: flow-run/ID or task-run/ID",
    )
    since: datetime | None = Field(default=None, description="occurred at or after")
    until: datetime | None = Field(default=None, description="occurred before")
    after_id: Annotated[DbBigInt, Field(ge=0)] | None = None
    before_id: Annotated[DbBigInt, Field(ge=1)] | None = Field(
        default=None, description="only events with a smaller id (the next page, newest first)"
    )
    limit: int = Field(default=100, ge=1, le=1000)

    @field_validator("since", "until")
    @classmethod
    def _aware_time(cls, value: datetime | None) -> datetime | None:
        if value is not None and value.utcoffset() is None:
            raise ValueError("needs a time zone (e.g. Z or +00:00)")
        return value

    @field_validator("until")
    @classmethod
    def _after_since(cls, value: datetime | None, info: ValidationInfo) -> datetime | None:
        since = info.data.get("since")
        if value is not None and since is not None and value <= since:
            raise ValueError("must be after since")
        return value


class ListEventsResponse(BaseModel):
    items: list[DescribeEvent]
