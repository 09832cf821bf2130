"""Builders of the records the engine sends to a recorder, with sensible defaults."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from jupyter_flows.core.records import FlowRunInfo, TaskInput, TaskRunInfo, new_id
from jupyter_flows.core.states import State, StateType

T0 = datetime(2026, 1, 2, 3, 4, 5, 123456, tzinfo=timezone.utc)


def at(seconds: float) -> datetime:
    """``T0`` plus ``seconds``."""
    return T0 + timedelta(seconds=seconds)


def flow_run(flow_name: str = "etl", **fields: Any) -> FlowRunInfo:
    values: dict[str, Any] = {
        "id": new_id(),
        "name": f"{flow_name}-run",
        "flow_name": flow_name,
        "flow_version": "1",
        "flow_description": f"The {flow_name} flow.",
        "tags": [],
        "parameters": {},
        "created": T0,
    }
    values.update(fields)
    return FlowRunInfo(**values)


def task_run(flow_run_id: str | None, name: str = "task", **fields: Any) -> TaskRunInfo:
    values: dict[str, Any] = {
        "id": new_id(),
        "flow_run_id": flow_run_id,
        "task_key": f"tests.{name}",
        "task_name": name,
        "name": f"{name}-0",
        "tags": [],
        "created": T0,
    }
    values.update(fields)
    return TaskRunInfo(**values)


def state(type_: StateType, name: str, seconds: float, message: str | None = None) -> State:
    """A state at ``at(seconds)``."""
    return State(type_, name, at(seconds), message)


def data(upstream: TaskRunInfo, parameter: str) -> TaskInput:
    return TaskInput(upstream.id, "data", parameter)


def wait_for(upstream: TaskRunInfo) -> TaskInput:
    return TaskInput(upstream.id, "wait_for")


def now_plus(seconds: float) -> datetime:
    """The current time plus ``seconds`` (for states recorded next to the server's)."""
    return datetime.now(timezone.utc) + timedelta(seconds=seconds / 1000)
