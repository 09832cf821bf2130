"""Tables of the orchestration side: deployments, work pools and workers."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON
from sqlmodel import Field, SQLModel

from .types import UTCDateTime

__all__ = ["DeploymentRecord", "WorkPoolRecord", "WorkerRecord"]


class DeploymentRecord(SQLModel, table=True):
    """What to run (a notebook or a ``module:flow``), where (a pool), when and with what."""

    __tablename__ = "deployment"

    id: str = Field(primary_key=True)
    name: str = Field(unique=True)
    entrypoint: str
    kind: str
    parameters: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    parameter_schema: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    tags: list[str] = Field(default_factory=list, sa_type=JSON)
    description: str | None = None
    version: str | None = None
    work_pool: str = "default"
    schedules: list[dict[str, Any]] = Field(default_factory=list, sa_type=JSON)
    missed_runs: str = "skip"
    paused: bool = False
    priority: int = 0
    created: datetime = Field(sa_type=UTCDateTime)
    updated: datetime = Field(sa_type=UTCDateTime)


class WorkPoolRecord(SQLModel, table=True):
    """A queue of runs that workers poll, with an optional concurrency limit."""

    __tablename__ = "work_pool"

    name: str = Field(primary_key=True)
    type: str = "process"
    concurrency_limit: int | None = None
    paused: bool = False
    description: str | None = None
    created: datetime = Field(sa_type=UTCDateTime)


class WorkerRecord(SQLModel, table=True):
    """A worker of a pool and its last heartbeat."""

    __tablename__ = "worker"

    name: str = Field(primary_key=True)
    work_pool: str = Field(primary_key=True)
    last_heartbeat: datetime = Field(sa_type=UTCDateTime)
