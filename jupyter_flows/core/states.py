"""Run states: a frozen value object plus PascalCase constructors (as in Prefect)."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta, timezone
from typing import Any

__all__ = [
    "StateType",
    "State",
    "TERMINAL_TYPES",
    "Scheduled",
    "Late",
    "Pending",
    "Running",
    "Retrying",
    "AwaitingRetry",
    "Completed",
    "Cached",
    "Failed",
    "TimedOut",
    "Cancelled",
    "Cancelling",
    "Crashed",
    "Paused",
    "now",
]


def now() -> datetime:
    """Current time, timezone-aware UTC."""
    return datetime.now(timezone.utc)


class StateType(str, enum.Enum):
    """The coarse kind of a state; ``State.name`` refines it (e.g. ``Cached`` is COMPLETED)."""

    SCHEDULED = "SCHEDULED"
    PENDING = "PENDING"
    RUNNING = "RUNNING"
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"
    CANCELLED = "CANCELLED"
    CRASHED = "CRASHED"
    PAUSED = "PAUSED"
    CANCELLING = "CANCELLING"


TERMINAL_TYPES = frozenset(
    {StateType.COMPLETED, StateType.FAILED, StateType.CANCELLED, StateType.CRASHED}
)


@dataclass(frozen=True, slots=True)
class State:
    """One state of a flow or task run.

    ``data`` holds the result (completed) or the exception (failed); it is never persisted
    by the state itself.
    """

    type: StateType
    name: str
    timestamp: datetime = field(default_factory=now)
    message: str | None = None
    data: Any = field(default=None, repr=False, compare=False)
    scheduled_time: datetime | None = None
    run_id: str | None = field(default=None, compare=False)

    def is_scheduled(self) -> bool:
        return self.type is StateType.SCHEDULED

    def is_pending(self) -> bool:
        return self.type is StateType.PENDING

    def is_running(self) -> bool:
        return self.type is StateType.RUNNING

    def is_completed(self) -> bool:
        return self.type is StateType.COMPLETED

    def is_failed(self) -> bool:
        return self.type is StateType.FAILED

    def is_crashed(self) -> bool:
        return self.type is StateType.CRASHED

    def is_cancelled(self) -> bool:
        return self.type is StateType.CANCELLED

    def is_paused(self) -> bool:
        return self.type is StateType.PAUSED

    def is_final(self) -> bool:
        return self.type in TERMINAL_TYPES

    def result(self, raise_on_failure: bool = True) -> Any:
        """The run's return value; re-raises the run's exception for a failed state."""
        if isinstance(self.data, BaseException):
            if raise_on_failure:
                raise self.data
            return self.data
        if self.type in TERMINAL_TYPES and not self.is_completed() and raise_on_failure:
            from jupyter_flows.exceptions import RunNotCompleted

            raise RunNotCompleted(self.name, self.message)
        return self.data

    def with_data(self, data: Any) -> State:
        return replace(self, data=data)

    def __str__(self) -> str:
        return f"{self.name}({self.message!r})" if self.message else self.name


def _state(type_: StateType, name: str, message: str | None, data: Any = None) -> State:
    return State(type_, name, now(), message, data)


def Scheduled(scheduled_time: datetime | None = None, message: str | None = None) -> State:  # noqa: N802
    return State(StateType.SCHEDULED, "Scheduled", now(), message, None, scheduled_time or now())


def Late(scheduled_time: datetime | None = None, message: str | None = None) -> State:  # noqa: N802
    return State(StateType.SCHEDULED, "Late", now(), message, None, scheduled_time)


def Pending(message: str | None = None) -> State:  # noqa: N802
    return _state(StateType.PENDING, "Pending", message)


def Running(message: str | None = None) -> State:  # noqa: N802
    return _state(StateType.RUNNING, "Running", message)


def Retrying(message: str | None = None) -> State:  # noqa: N802
    return _state(StateType.RUNNING, "Retrying", message)


def AwaitingRetry(  # noqa: N802
    delay_seconds: float = 0.0, message: str | None = None
) -> State:
    at = now()
    return State(
        StateType.SCHEDULED,
        "AwaitingRetry",
        at,
        message,
        None,
        at + timedelta(seconds=delay_seconds),
    )


def Completed(data: Any = None, message: str | None = None) -> State:  # noqa: N802
    return _state(StateType.COMPLETED, "Completed", message, data)


def Cached(data: Any = None, message: str | None = None) -> State:  # noqa: N802
    return _state(StateType.COMPLETED, "Cached", message, data)


def Failed(data: Any = None, message: str | None = None) -> State:  # noqa: N802
    return _state(StateType.FAILED, "Failed", message, data)


def TimedOut(data: Any = None, message: str | None = None) -> State:  # noqa: N802
    return _state(StateType.FAILED, "TimedOut", message, data)


def Cancelled(data: Any = None, message: str | None = None) -> State:  # noqa: N802
    return _state(StateType.CANCELLED, "Cancelled", message, data)


def Cancelling(message: str | None = None) -> State:  # noqa: N802
    return _state(StateType.CANCELLING, "Cancelling", message)


def Crashed(data: Any = None, message: str | None = None) -> State:  # noqa: N802
    return _state(StateType.CRASHED, "Crashed", message, data)


def Paused(message: str | None = None) -> State:  # noqa: N802
    return _state(StateType.PAUSED, "Paused", message)
