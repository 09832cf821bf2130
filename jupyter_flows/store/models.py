"""The tables of the run database (SQLModel), indexed for the UI's queries.

There are no foreign keys between run tables on purpose: the recorder writes in batches
from several processes, and one orphan row (a log of a run another process has not
written yet) must not make a whole batch fail forever. The migrations in
``store/migrations`` create exactly these tables (a test compares them).
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Index, Integer, LargeBinary
from sqlmodel import Field, SQLModel

from .types import UTCDateTime

__all__ = [
    "FlowRecord",
    "FlowRunRecord",
    "TaskRunRecord",
    "TaskRunInputRecord",
    "RunStateRecord",
    "RunLogRecord",
    "ResultRecord",
    "BackgroundTaskRunRecord",
    "RunOutputRecord",
    "TABLE_NAMES",
]

logger = logging.getLogger(__name__)

# 64-bit ids for the append-only tables; SQLite needs INTEGER for a rowid (autoincrement) key.
_SERIAL = BigInteger().with_variant(Integer(), "sqlite")


class FlowRecord(SQLModel, table=True):
    """A flow seen by any run (one row per flow name)."""

    __tablename__ = "flow"

    id: str = Field(primary_key=True)
    name: str = Field(unique=True, index=True)
    description: str | None = None
    created: datetime = Field(sa_type=UTCDateTime)


class FlowRunRecord(SQLModel, table=True):
    """One run of a flow; its state columns mirror the latest ``run_state`` row."""

    __tablename__ = "flow_run"
    __table_args__ = (
        Index("ix_flow_run_flow_name_created", "flow_name", "created"),
        Index("ix_flow_run_state_type_created", "state_type", "created"),
        # one scheduled run per deployment and scheduled time, even with several servers
        Index(
            "ux_flow_run_deployment_expected", "deployment_id", "expected_start_time", unique=True
        ),
    )

    id: str = Field(primary_key=True)
    name: str
    flow_name: str
    flow_version: str | None = None
    parameters: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    tags: list[str] = Field(default_factory=list, sa_type=JSON)
    state_type: str | None = None
    state_name: str | None = None
    state_message: str | None = None
    created: datetime = Field(sa_type=UTCDateTime, index=True)
    start_time: datetime | None = Field(default=None, sa_type=UTCDateTime)
    end_time: datetime | None = Field(default=None, sa_type=UTCDateTime)
    expected_start_time: datetime | None = Field(default=None, sa_type=UTCDateTime)
    run_count: int = 0
    total_run_time: float = 0.0
    parent_flow_run_id: str | None = Field(default=None, index=True)
    parent_task_run_id: str | None = None
    deployment_id: str | None = Field(default=None, index=True)
    retry_of: str | None = Field(default=None, index=True)  # the run this one retries
    work_pool: str | None = None
    worker: str | None = None
    heartbeat: datetime | None = Field(default=None, sa_type=UTCDateTime)
    #: a notebook run's executed notebook, where its worker wrote it
    output_path: str | None = None
    #: a deployment run's own job variables (over its deployment's)
    job_variables: dict[str, Any] = Field(
        default_factory=dict, sa_type=JSON, sa_column_kwargs={"server_default": "{}"}
    )


class TaskRunRecord(SQLModel, table=True):
    """One run of a task inside a flow run (``flow_run_id`` is empty outside a flow)."""

    __tablename__ = "task_run"
    # a run's task runs in creation order (its pages), and its task runs at all
    __table_args__ = (Index("ix_task_run_flow_run_created", "flow_run_id", "created", "id"),)

    id: str = Field(primary_key=True)
    flow_run_id: str | None = None
    task_key: str
    task_name: str
    name: str
    tags: list[str] = Field(default_factory=list, sa_type=JSON)
    dynamic_key: int = 0
    cache_key: str | None = None
    description: str | None = None
    version: str | None = None
    state_type: str | None = None
    state_name: str | None = None
    state_message: str | None = None
    created: datetime = Field(sa_type=UTCDateTime)
    start_time: datetime | None = Field(default=None, sa_type=UTCDateTime)
    end_time: datetime | None = Field(default=None, sa_type=UTCDateTime)
    expected_start_time: datetime | None = Field(default=None, sa_type=UTCDateTime)
    run_count: int = 0
    total_run_time: float = 0.0
    subflow_run_id: str | None = None


class TaskRunInputRecord(SQLModel, table=True):
    """An edge of the run graph: ``upstream_id`` feeds ``task_run_id``."""

    __tablename__ = "task_run_input"

    id: int | None = Field(default=None, primary_key=True, sa_type=_SERIAL)
    task_run_id: str = Field(index=True)
    upstream_id: str
    kind: str  # "data" | "wait_for"
    parameter: str | None = None


class RunStateRecord(SQLModel, table=True):
    """Every state a flow or task run went through, in order of ``id``."""

    __tablename__ = "run_state"

    id: int | None = Field(default=None, primary_key=True, sa_type=_SERIAL)
    run_id: str = Field(index=True)
    run_kind: str  # "flow" | "task"
    flow_run_id: str | None = Field(default=None, index=True)
    type: str
    name: str
    timestamp: datetime = Field(sa_type=UTCDateTime)
    message: str | None = None


class RunLogRecord(SQLModel, table=True):
    """One log line of a flow or task run."""

    __tablename__ = "run_log"

    id: int | None = Field(default=None, primary_key=True, sa_type=_SERIAL)
    flow_run_id: str | None = Field(default=None, index=True)
    task_run_id: str | None = Field(default=None, index=True)
    level: int
    logger: str
    message: str
    timestamp: datetime = Field(sa_type=UTCDateTime)


class FlowRunInputRecord(SQLModel, table=True):
    """A keyed JSON value of a flow run (Prefect's flow run inputs): what a paused run waits
    for (its schema, under ``__pause__``) and what resumed it."""

    __tablename__ = "flow_run_input"

    flow_run_id: str = Field(primary_key=True)
    key: str = Field(primary_key=True)
    value: Any = Field(default=None, sa_type=JSON, nullable=True)
    created: datetime = Field(sa_type=UTCDateTime)


class ResultRecord(SQLModel, table=True):
    """Where a persisted task result lives (the bytes are in result storage)."""

    __tablename__ = "result_record"

    key: str = Field(primary_key=True)
    task_run_id: str | None = None  # None: a flow run's result
    flow_run_id: str | None = None
    location: str
    serializer: str
    created: datetime = Field(sa_type=UTCDateTime)
    expires: datetime | None = Field(default=None, sa_type=UTCDateTime)


class LockRecord(SQLModel, table=True):
    """A lock on a key, held by one transaction (``locking.database.DatabaseLockManager``)."""

    __tablename__ = "lock"

    key: str = Field(primary_key=True)
    holder: str
    acquired: datetime = Field(sa_type=UTCDateTime)
    expires: datetime | None = Field(default=None, sa_type=UTCDateTime)


class ArtifactRecord(SQLModel, table=True):
    """Something a run shows people (Prefect's artifacts): markdown, a table, a link, an
    image or a progress value; artifacts with the same ``key`` are versions of one."""

    __tablename__ = "artifact"
    __table_args__ = (Index("ix_artifact_key_created", "key", "created"),)

    id: str = Field(primary_key=True)
    key: str | None = None
    type: str
    description: str | None = None
    data: Any = Field(default=None, sa_type=JSON, nullable=True)
    flow_run_id: str | None = Field(default=None, index=True)
    task_run_id: str | None = Field(default=None, index=True)
    created: datetime = Field(sa_type=UTCDateTime, index=True)
    updated: datetime = Field(sa_type=UTCDateTime)


class BackgroundTaskRunRecord(SQLModel, table=True):
    """A task run made by ``Task.delay()``: the queue task workers claim from.

    Its state lives in its ``task_run`` row (``Scheduled`` until a task worker claims it).
    ``queue_key`` is the task's name and a hash of its code, as Prefect's task key, so that a
    worker importing ``tasks:add`` serves runs delayed from a script that defined ``add`` in
    ``__main__``. A claim holds ``lease_expires``; a claim past it is taken back.
    """

    __tablename__ = "background_task_run"
    __table_args__ = (Index("ix_background_task_run_queue", "queue_key", "worker", "created"),)

    task_run_id: str = Field(primary_key=True)
    queue_key: str
    #: the arguments when they are plain JSON; else ``parameters_location`` (a pickle file)
    parameters: dict[str, Any] | None = Field(default=None, sa_type=JSON)
    parameters_location: str | None = None
    wait_for: list[str] = Field(default_factory=list, sa_type=JSON)
    #: the flow run that called ``.delay()``, if any (the task run does not belong to it)
    origin_flow_run_id: str | None = Field(default=None, index=True)
    created: datetime = Field(sa_type=UTCDateTime)
    worker: str | None = None
    claims: int = 0
    lease_expires: datetime | None = Field(default=None, sa_type=UTCDateTime)


class RunOutputRecord(SQLModel, table=True):
    """The executed notebook a remote notebook run uploaded: in the database, so that every
    server of it serves the run's output (each keeps a copy under its outputs dir)."""

    __tablename__ = "run_output"

    flow_run_id: str = Field(primary_key=True)
    name: str
    content: bytes = Field(sa_type=LargeBinary)
    created: datetime = Field(sa_type=UTCDateTime)


TABLE_NAMES = (
    "flow",
    "flow_run",
    "task_run",
    "task_run_input",
    "run_state",
    "run_log",
    "result_record",
    "deployment",
    "work_pool",
    "worker",
    "event",
    "automation",
    "automation_action",
    "cursor",
    "server_key",
    "lock",
    "variable",
    "artifact",
    "concurrency_limit",
    "concurrency_lease",
    "block_document",
    "flow_run_input",
    "background_task_run",
    "source_bundle",
    "run_output",
)


from . import orchestration_models  # noqa: E402,F401  (registers the orchestration tables)
