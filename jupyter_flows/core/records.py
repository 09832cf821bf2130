"""What the engine tells a recorder: plain records, and the ``RunRecorder`` protocol.

The engine never talks to a database. It hands these records to a ``RunRecorder``
(implemented by ``jupyter_flows.store``), which must make everything durable by the time
``flush()`` returns.
"""

from __future__ import annotations

import os
import random
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, Protocol

from .states import State

__all__ = [
    "RunKind",
    "FlowRunInfo",
    "TaskRunInfo",
    "TaskInput",
    "LogInfo",
    "ResultInfo",
    "ArtifactInfo",
    "RunRecorder",
    "NullRecorder",
    "TeeRecorder",
    "new_id",
    "refusal",
]

RunKind = Literal["flow", "task"]


#: the random part of ids: a generator seeded from the OS once per process (and again in a
#: forked child), so that an id costs no system call (``os.urandom`` under GIL contention
#: cost ~17 us a call); ids are names, never secrets (tokens are made elsewhere)
_random = random.Random(os.urandom(32))
os.register_at_fork(after_in_child=lambda: _random.seed(os.urandom(32)))


def new_id() -> str:
    """A 32-hex-digit run id: 12 digits of milliseconds, then 20 random ones.

    Time-ordered ids append to the end of database indexes instead of random pages.
    """
    return f"{time.time_ns() // 1_000_000:012x}{_random.getrandbits(80):020x}"


@dataclass(slots=True)
class TaskInput:
    """An edge of the run graph: ``upstream_id`` feeds the task run (as ``parameter``)."""

    upstream_id: str
    kind: Literal["data", "wait_for"]
    parameter: str | None = None


@dataclass(slots=True)
class FlowRunInfo:
    """Identity and metadata of a flow run, known when it starts."""

    id: str
    name: str
    flow_name: str
    flow_version: str | None
    flow_description: str | None
    tags: list[str]
    parameters: dict[str, Any]
    created: datetime
    parent_flow_run_id: str | None = None
    parent_task_run_id: str | None = None
    deployment_id: str | None = None

    @property
    def expected_start_time(self) -> datetime:
        """Prefect's field: when the run was created (a scheduled run's start was planned)."""
        return self.created

    @property
    def start_time(self) -> datetime:
        return self.created

    @property
    def job_variables(self) -> dict[str, Any]:
        """Prefect's infrastructure overrides of a run: none here (a worker starts a process)."""
        return {}


@dataclass(slots=True)
class TaskRunInfo:
    """Identity and metadata of a task run, known when it is created."""

    id: str
    flow_run_id: str | None
    task_key: str
    task_name: str
    name: str
    tags: list[str]
    created: datetime
    inputs: list[TaskInput] = field(default_factory=list)
    cache_key: str | None = None
    dynamic_key: int = 0
    description: str | None = None
    version: str | None = None
    subflow_run_id: str | None = None


@dataclass(slots=True)
class LogInfo:
    """One log line of a run."""

    flow_run_id: str | None
    task_run_id: str | None
    level: int
    logger: str
    message: str
    timestamp: datetime


@dataclass(slots=True)
class ResultInfo:
    """Metadata of a persisted result (the bytes live in result storage, not the DB).

    ``task_run_id`` is None for a flow run's own result.
    """

    key: str
    task_run_id: str | None
    flow_run_id: str | None
    location: str
    serializer: str
    created: datetime
    expires: datetime | None = None


@dataclass(slots=True)
class ArtifactInfo:
    """An artifact, as made or updated: saving one with a known ``id`` replaces its
    ``data``, ``description`` and ``updated`` (a progress artifact's update)."""

    id: str
    type: str
    key: str | None
    description: str | None
    data: Any
    flow_run_id: str | None
    task_run_id: str | None
    created: datetime
    updated: datetime


class RunRecorder(Protocol):
    """Where the engine sends what happens. Implementations must be thread-safe."""

    def flow_run_created(self, run: FlowRunInfo) -> None: ...

    def task_run_created(self, run: TaskRunInfo) -> None: ...

    def set_state(self, kind: RunKind, run_id: str, state: State, run_count: int) -> None: ...

    def log(self, record: LogInfo) -> None: ...

    def result_stored(self, info: ResultInfo) -> None: ...

    def artifact_saved(self, info: ArtifactInfo) -> None: ...

    def flush(self) -> None:
        """Block until everything sent so far is committed."""
        ...


def refusal(recorder: object, run_id: str) -> tuple[str, str | None] | None:
    """``(state type, name)`` a run is in if ``recorder`` had a state of it refused, else None.

    A recorder that writes through the state policy (``SqlRecorder``, ``HttpRecorder``)
    answers ``rejected(run_id)``; the others never refuse.
    """
    rejected = getattr(recorder, "rejected", None)
    return rejected(run_id) if rejected is not None else None


class TeeRecorder:
    """Sends every event to a primary recorder, then to observers (e.g. a live widget).

    An observer that raises is ignored: watching a run never breaks it.
    """

    def __init__(self, primary: RunRecorder, observers: list[RunRecorder]):
        self.primary = primary
        self.observers = observers

    def _fan(self, method: str, *args: object) -> None:
        for observer in self.observers:
            try:
                getattr(observer, method)(*args)
            except Exception:  # noqa: BLE001 - observers never break a run
                pass

    def flow_run_created(self, run: FlowRunInfo) -> None:
        self.primary.flow_run_created(run)
        self._fan("flow_run_created", run)

    def task_run_created(self, run: TaskRunInfo) -> None:
        self.primary.task_run_created(run)
        self._fan("task_run_created", run)

    def set_state(self, kind: RunKind, run_id: str, state: State, run_count: int) -> None:
        self.primary.set_state(kind, run_id, state, run_count)
        self._fan("set_state", kind, run_id, state, run_count)

    def log(self, record: LogInfo) -> None:
        self.primary.log(record)
        self._fan("log", record)

    def result_stored(self, info: ResultInfo) -> None:
        self.primary.result_stored(info)

    def artifact_saved(self, info: ArtifactInfo) -> None:
        self.primary.artifact_saved(info)
        self._fan("artifact_saved", info)

    def rejected(self, run_id: str) -> tuple[str, str | None] | None:
        return refusal(self.primary, run_id)

    def flush(self) -> None:
        self.primary.flush()
        self._fan("flush")


class NullRecorder:
    """Records nothing (``JUPYTER_FLOWS_RECORD=0`` or a plain function call outside a flow)."""

    def flow_run_created(self, run: FlowRunInfo) -> None:
        pass

    def task_run_created(self, run: TaskRunInfo) -> None:
        pass

    def set_state(self, kind: RunKind, run_id: str, state: State, run_count: int) -> None:
        pass

    def log(self, record: LogInfo) -> None:
        pass

    def result_stored(self, info: ResultInfo) -> None:
        pass

    def artifact_saved(self, info: ArtifactInfo) -> None:
        pass

    def flush(self) -> None:
        pass
