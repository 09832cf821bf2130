"""Request and response models of the dashboard (``GET api/dashboard``), named by verb."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationInfo, field_validator

__all__ = [
    "MAX_BUCKETS",
    "MAX_WINDOW",
    "ReadDashboardQuery",
    "DashboardBucket",
    "DashboardSeriesPoint",
    "DashboardGroup",
    "DashboardRun",
    "DashboardPool",
    "DashboardWorker",
    "DescribeDashboard",
]

#: at most this many time buckets in one window
MAX_BUCKETS = 1000
#: the longest window the dashboard aggregates
MAX_WINDOW = timedelta(days=400)


class ReadDashboardQuery(BaseModel):
    """The window ``[since, until)`` cut into buckets of ``bucket`` seconds."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    since: AwareDatetime | None = Field(
        default=None, description="the window's start (default: 24 hours before until)"
    )
    until: AwareDatetime | None = Field(default=None, description="the window's end (default: now)")
    bucket: int | None = Field(
        default=None,
        ge=1,
        le=int(MAX_WINDOW.total_seconds()),
        description="seconds per bucket of the runs-over-time chart (default: the window / 24)",
    )

    @field_validator("until")
    @classmethod
    def _after_since(cls, value: datetime | None, info: ValidationInfo) -> datetime | None:
        since = info.data.get("since")
        if since is not None and value is not None and value <= since:
            raise ValueError("must be after since")
        return value

    @field_validator("bucket")
    @classmethod
    def _few_buckets(cls, value: int | None, info: ValidationInfo) -> int | None:
        since, until = info.data.get("since"), info.data.get("until")
        if value is not None and since is not None and until is not None:
            if (until - since).total_seconds() / value > MAX_BUCKETS:
                raise ValueError(f"the window holds more than {MAX_BUCKETS} buckets of it")
        return value

    def window(self, now: datetime | None = None) -> tuple[datetime, datetime, int]:
        """``(since, until, bucket seconds)`` with the defaults filled in (``ValueError`` for a
        window longer than ``MAX_WINDOW``, naming ``since``)."""
        until = self.until or now or datetime.now(timezone.utc)
        since = self.since or until - timedelta(hours=24)
        if since >= until:
            raise ValueError("invalid query: since: must be before until")
        if until - since > MAX_WINDOW:
            raise ValueError(
                f"invalid query: since: the window is longer than {MAX_WINDOW.days} days"
            )
        seconds = (until - since).total_seconds()
        bucket = self.bucket or max(1, int(-(-seconds // 24)))
        if seconds / bucket > MAX_BUCKETS:
            raise ValueError(f"invalid query: bucket: more than {MAX_BUCKETS} buckets")
        return since, until, bucket


class DashboardBucket(BaseModel):
    start: datetime
    counts: dict[str, int] = Field(description="flow runs created in the bucket, by state type")


class DashboardSeriesPoint(BaseModel):
    start: datetime
    runs: int
    failed: int = Field(description="Failed or Crashed")
    mean_duration: float | None = Field(description="seconds, of the runs that ended")


class DashboardGroup(BaseModel):
    """A flow's or a deployment's runs in the window, and their trend by bucket."""

    key: str = Field(description="the flow name, or the deployment id")
    name: str
    runs: int
    failed: int
    failure_rate: float = Field(description="failed / ended runs (0 when none ended)")
    mean_duration: float | None
    series: list[DashboardSeriesPoint] = Field(description="only the buckets with runs")


class DashboardRun(BaseModel):
    id: str
    name: str
    flow_name: str
    deployment_id: str | None = None
    deployment: str | None = None
    state_type: str | None = None
    state_name: str | None = None
    state_message: str | None = None
    created: datetime
    expected_start_time: datetime | None = None
    end_time: datetime | None = None


class DashboardWorker(BaseModel):
    name: str
    work_pool: str
    last_heartbeat: datetime
    status: str = Field(description="online or offline (by the heartbeat timeout)")


class DashboardPool(BaseModel):
    name: str
    type: str
    paused: bool
    concurrency_limit: int | None = None
    running: int = Field(description="its runs Running or Pending now")
    online: int
    offline: int


class DescribeDashboard(BaseModel):
    since: datetime
    until: datetime
    bucket: int = Field(description="seconds per bucket")
    totals: dict[str, int] = Field(description="flow runs created in the window, by state type")
    total_runs: int
    failed: int
    failure_rate: float
    buckets: list[DashboardBucket] = Field(description="every bucket of the window, oldest first")
    flows: list[DashboardGroup] = Field(description="most runs first (at most 20)")
    deployments: list[DashboardGroup] = Field(description="most runs first (at most 20)")
    late_runs: int = Field(description="scheduled runs whose start is overdue, now")
    late: list[DashboardRun] = Field(description="the most overdue (at most 10)")
    failures: list[DashboardRun] = Field(description="the last failed or crashed runs (<= 10)")
    pools: list[DashboardPool]
    workers: list[DashboardWorker]
