"""Tables of the orchestration side: deployments, work pools, workers, events, automations,
variables, concurrency limits and their leases, block documents, source bundles."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
)
from sqlmodel import Field, SQLModel

from .types import UTCDateTime

__all__ = [
    "DeploymentRecord",
    "WorkPoolRecord",
    "WorkerRecord",
    "EventRecord",
    "AutomationRecord",
    "AutomationActionRecord",
    "CursorRecord",
    "ServerKeyRecord",
    "VariableRecord",
    "ConcurrencyLimitRecord",
    "ConcurrencyLeaseRecord",
    "BlockDocumentRecord",
    "SourceBundleRecord",
]

_SERIAL = BigInteger().with_variant(Integer(), "sqlite")


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
    #: overrides of its pool's base job template variables
    job_variables: dict[str, Any] = Field(
        default_factory=dict, sa_type=JSON, sa_column_kwargs={"server_default": "{}"}
    )
    #: the sha256 of its uploaded source bundle (``orchestration.sources``), if any
    source_digest: str | None = None
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
    #: Prefect's shape: {"job_configuration": {...}, "variables": {JSON schema}}
    base_job_template: dict[str, Any] = Field(
        default_factory=dict, sa_type=JSON, sa_column_kwargs={"server_default": "{}"}
    )
    created: datetime = Field(sa_type=UTCDateTime)


class WorkerRecord(SQLModel, table=True):
    """A worker of a pool and its last heartbeat."""

    __tablename__ = "worker"

    name: str = Field(primary_key=True)
    work_pool: str = Field(primary_key=True)
    last_heartbeat: datetime = Field(sa_type=UTCDateTime)


class EventRecord(SQLModel, table=True):
    """Something that happened: a flow run's state change, or an event a user emitted."""

    __tablename__ = "event"
    __table_args__ = (Index("ix_event_resource", "resource"),)

    id: int | None = Field(default=None, primary_key=True, sa_type=_SERIAL)
    event: str = Field(index=True)
    resource: str | None = None
    payload: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    occurred: datetime = Field(sa_type=UTCDateTime, index=True)
    #: Prefect's event id (a UUID: the sender's, or made when stored)
    uuid: str | None = None
    #: the resource's labels besides its id (``resource``)
    resource_labels: dict[str, str] | None = Field(default=None, sa_type=JSON)
    #: other resources involved: labels with ``prefect.resource.id`` and ``.role`` each
    related: list[dict[str, str]] | None = Field(default=None, sa_type=JSON)
    #: the uuid of the event this one is known to follow
    follows: str | None = None


class AutomationRecord(SQLModel, table=True):
    """When events match ``trigger`` (``threshold`` of them ``within`` a window), do ``action``."""

    __tablename__ = "automation"

    id: str = Field(primary_key=True)
    name: str = Field(unique=True)
    description: str | None = None
    enabled: bool = True
    trigger: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    action: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    #: the trigger's counts and waits, by ``for_each`` key (``orchestration.triggers``; a
    #: list of times in rows from before 0012)
    pending: Any = Field(default_factory=dict, sa_type=JSON)
    fired_count: int = 0
    last_fired: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created: datetime = Field(sa_type=UTCDateTime)
    updated: datetime = Field(sa_type=UTCDateTime)
    #: actions that failed after every attempt, and why the last one did
    failed_actions: int = 0
    last_error: str | None = Field(default=None, sa_type=Text)
    last_error_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class AutomationActionRecord(SQLModel, table=True):
    """An action an automation fired, to do (again) from ``due`` on: the queue of actions.

    Claiming one moves ``due`` past a lease (a conditional update: one server wins); done
    or failed for good, the row goes and an event says so.
    """

    __tablename__ = "automation_action"
    __table_args__ = (Index("ix_automation_action_due", "due"),)

    id: int | None = Field(default=None, primary_key=True, sa_type=_SERIAL)
    automation_id: str = Field(index=True)
    automation: str  # its name when it fired
    action: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    #: the event that fired it (``orchestration.triggers.fact``)
    cause: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    attempts: int = 0
    due: datetime = Field(sa_type=UTCDateTime)
    last_error: str | None = Field(default=None, sa_type=Text)
    created: datetime = Field(sa_type=UTCDateTime)


class CursorRecord(SQLModel, table=True):
    """How far a background reader got in a table (advanced with compare-and-set)."""

    __tablename__ = "cursor"

    name: str = Field(primary_key=True)
    position: int = Field(sa_type=_SERIAL)


class ServerKeyRecord(SQLModel, table=True):
    """A secret the servers of one database share (the key that signs worker and run
    tokens), made by the first server that needs it."""

    __tablename__ = "server_key"

    name: str = Field(primary_key=True)
    value: str


class VariableRecord(SQLModel, table=True):
    """A named JSON value for flows to read (Prefect's variables): configuration, not secrets."""

    __tablename__ = "variable"

    name: str = Field(primary_key=True)
    value: Any = Field(default=None, sa_type=JSON, nullable=True)
    tags: list[str] = Field(default_factory=list, sa_type=JSON)
    created: datetime = Field(sa_type=UTCDateTime)
    updated: datetime = Field(sa_type=UTCDateTime)


class ConcurrencyLimitRecord(SQLModel, table=True):
    """A global concurrency limit (Prefect's): at most ``limit`` slots held at once, or with
    ``slot_decay_per_second`` a rate limit. Task tag limits are the ones named ``tag:TAG``.

    ``active_slots`` is the count the one conditional ``UPDATE`` of an acquisition checks
    (``active_slots + n <= limit``); it decays from ``decayed_at`` (seconds since the epoch,
    a float on every database so the decay is plain arithmetic in SQL).
    """

    __tablename__ = "concurrency_limit"

    name: str = Field(primary_key=True)
    limit: int
    active: bool = True
    active_slots: int = 0
    denied_slots: int = 0
    slot_decay_per_second: float = 0.0
    decayed_at: float = 0.0
    created: datetime = Field(sa_type=UTCDateTime)
    updated: datetime = Field(sa_type=UTCDateTime)


class ConcurrencyLeaseRecord(SQLModel, table=True):
    """Slots of one limit held by one holder until ``expires`` (renewed while held): a
    holder killed without releasing frees them when the lease expires."""

    __tablename__ = "concurrency_lease"
    __table_args__ = (Index("ix_concurrency_lease_limit_expires", "limit_name", "expires"),)

    lease_id: str = Field(primary_key=True)
    limit_name: str = Field(
        sa_column=Column(
            String,
            ForeignKey("concurrency_limit.name", ondelete="CASCADE"),
            primary_key=True,
        )
    )
    slots: int
    holder_type: str
    holder_id: str
    holder_name: str | None = None
    acquired: datetime = Field(sa_type=UTCDateTime)
    expires: datetime = Field(sa_type=UTCDateTime)


class BlockDocumentRecord(SQLModel, table=True):
    """The values of a block (Prefect's block document), one per block type and name.

    ``data`` is the Fernet token of the document's JSON (secrets included), encrypted with
    the key of ``store.encryption`` (a file, never in this database); ``key_fingerprint``
    names that key. ``secret_fields`` (plain) says which fields to mask when it is shown.
    """

    __tablename__ = "block_document"
    __table_args__ = (Index("ux_block_document_type_name", "block_type_slug", "name", unique=True),)

    id: str = Field(primary_key=True)
    name: str
    block_type_slug: str
    data: str = Field(sa_type=Text)
    secret_fields: list[str] = Field(default_factory=list, sa_type=JSON)
    key_fingerprint: str
    created: datetime = Field(sa_type=UTCDateTime)
    updated: datetime = Field(sa_type=UTCDateTime)


class SourceBundleRecord(SQLModel, table=True):
    """A deployment's uploaded source bundle (``orchestration.sources``), in the database so
    that every server of it can serve what one of them was sent."""

    __tablename__ = "source_bundle"

    digest: str = Field(primary_key=True)
    size: int = Field(sa_type=BigInteger)
    content: bytes = Field(sa_type=LargeBinary)
    created: datetime = Field(sa_type=UTCDateTime)
