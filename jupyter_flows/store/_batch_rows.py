"""What ``Batcher`` holds between two writes: queued events, and what it knows of each run."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from jupyter_flows.core.records import ArtifactInfo, FlowRunInfo, LogInfo, ResultInfo, TaskRunInfo
from jupyter_flows.core.states import State, StateType

from .types import clean_text

__all__ = ["Events", "StateEvent", "TrackedRun"]

_TYPE_TEXT = {t: t.value for t in StateType}
StateEvent = tuple[str, str, State, int]  # (kind, run_id, state, run_count)


@dataclass(slots=True)
class Events:
    """What the recorder queued since the last drain, in submission order per kind."""

    flow_runs: list[tuple[FlowRunInfo, str]] = field(default_factory=list)  # (info, params JSON)
    task_runs: list[TaskRunInfo] = field(default_factory=list)
    states: list[StateEvent] = field(default_factory=list)
    logs: list[LogInfo] = field(default_factory=list)
    results: list[ResultInfo] = field(default_factory=list)
    artifacts: list[ArtifactInfo] = field(default_factory=list)


class TrackedRun:
    """What the writer knows of one run: its identity row and latest derived columns."""

    __slots__ = (
        "kind",
        "id",
        "flow_run_id",
        "row",
        "inserted",
        "dirty",
        "state",
        "run_count",
        "start",
        "end",
        "expected",
        "running_since",
        "total",
        "written_total",
    )

    def __init__(self, kind: str, run_id: str, flow_run_id: str | None, row: tuple[Any, ...]):
        self.kind = kind
        self.id = run_id
        self.flow_run_id = flow_run_id
        self.row = row  # identity columns, converted; empty for a run created elsewhere
        self.inserted = not row
        self.dirty = False
        self.state: State | None = None
        self.run_count = 0
        self.start: Any = None
        self.end: Any = None
        self.expected: Any = None
        self.running_since: datetime | None = None
        self.total = 0.0
        self.written_total = 0.0

    def mutable(self) -> tuple[Any, ...]:
        state = self.state
        if state is None:
            return (None, None, None, self.run_count, self.start, self.end, self.expected)
        return (
            _TYPE_TEXT[state.type],
            state.name,
            None if state.message is None else clean_text(state.message),
            self.run_count,
            self.start,
            self.end,
            self.expected,
        )
