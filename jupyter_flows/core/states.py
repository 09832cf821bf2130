"""Run states: a frozen value object plus PascalCase constructors (as in Prefect)."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta, timezone
from typing import Any

from .redaction import redact

__all__ = [
    "StateType",
    "State",
    "TERMINAL_TYPES",
    "STATE_NAMES",
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
    "Suspended",
    "AwaitingConcurrencySlot",
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


#: the names of the states the constructors below make (``State.name`` refines the type)
STATE_NAMES = (
    "Scheduled", "Late", "AwaitingConcurrencySlot", "Pending", "Running", "Retrying",
    "AwaitingRetry", "Completed", "Cached", "Failed", "TimedOut", "Cancelled", "Cancelling",
    "Crashed", "Paused", "Suspended",
)  # fmt: skip

_FIELDS = ("type", "name", "timestamp", "message", "data", "scheduled_time", "run_id")


@dataclass(frozen=True, slots=True)
class State:
    """One state of a flow or task run.

    ``data`` holds the result (completed) or the exception (failed); it is never persisted
    by the state itself.
    """

    type: StateType
    name: str = ""
    timestamp: datetime = field(default_factory=now)
    message: str | None = None
    data: Any = field(default=None, repr=False, compare=False)
    scheduled_time: datetime | None = None
    run_id: str | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        if not self.name:  # ``State(type=StateType.COMPLETED)``: named after its type
            object.__setattr__(self, "name", self.type.value.capitalize())
        if self.message:  # (an exception's text may hold a secret this process loaded)
            object.__setattr__(self, "message", redact(self.message))

    def without_data(self) -> State:
        """This state without its result or exception (what a recorder keeps until it has
        written it: holding every result until then would hold them all)."""
        return self if self.data is None else self._copy("data", None)

    def of_run(self, run_id: str) -> State:
        """This state, as the state of the run ``run_id`` (``dataclasses.replace``, faster)."""
        return self if self.run_id == run_id else self._copy("run_id", run_id)

    def _copy(self, field_name: str, value: Any) -> State:
        copy = object.__new__(State)
        for name in _FIELDS:
            object.__setattr__(copy, name, getattr(self, name))
        object.__setattr__(copy, field_name, value)
        return copy

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
        """The run's return value; re-raises the run's exception for a failed state.

        A failed, crashed or cancelled state without an exception raises Prefect's
        ``FailedRun`` / ``CrashedRun`` / ``CancelledRun`` with the state's message. A result
        persisted by another process (``ResultRef``) is read from its storage.
        """
        data = self.data
        if hasattr(data, "load_result"):  # persisted elsewhere: only a completed run has one
            data = data.load_result() if self.type is StateType.COMPLETED else None
        if isinstance(data, BaseException):
            if raise_on_failure:
                raise data
            return data
        if self.type in TERMINAL_TYPES and not self.is_completed() and raise_on_failure:
            from jupyter_flows.exceptions import run_not_completed

            raise run_not_completed(self)
        return data

    def with_data(self, data: Any) -> State:
        return replace(self, data=data)

    def __str__(self) -> str:
        return f"{self.name}({self.message!r})" if self.message else self.name


def _state(
    type_: StateType,
    default_name: str,
    message: str | None,
    data: Any = None,
    name: str | None = None,
    scheduled_time: datetime | None = None,
) -> State:
    return State(type_, name or default_name, now(), message, data, scheduled_time)


# Prefect's constructors take keywords (``Completed(message=..., name="Skipped")``); ours also
# take ``data`` first positionally. ``name`` gives a custom-named state of the same type.


def Scheduled(  # noqa: N802
    scheduled_time: datetime | None = None, message: str | None = None, name: str | None = None
) -> State:
    return _state(StateType.SCHEDULED, "Scheduled", message, None, name, scheduled_time or now())


def Late(  # noqa: N802
    scheduled_time: datetime | None = None, message: str | None = None, name: str | None = None
) -> State:
    return _state(StateType.SCHEDULED, "Late", message, None, name, scheduled_time)


def AwaitingConcurrencySlot(  # noqa: N802
    scheduled_time: datetime | None = None, message: str | None = None
) -> State:
    return _state(
        StateType.SCHEDULED, "AwaitingConcurrencySlot", message, None, None, scheduled_time or now()
    )


def Pending(message: str | None = None, name: str | None = None) -> State:  # noqa: N802
    return _state(StateType.PENDING, "Pending", message, None, name)


def Running(message: str | None = None, name: str | None = None) -> State:  # noqa: N802
    return _state(StateType.RUNNING, "Running", message, None, name)


def Retrying(message: str | None = None) -> State:  # noqa: N802
    return _state(StateType.RUNNING, "Retrying", message)


def AwaitingRetry(  # noqa: N802
    delay_seconds: float = 0.0,
    message: str | None = None,
    scheduled_time: datetime | None = None,
) -> State:
    at = now()
    return State(
        StateType.SCHEDULED,
        "AwaitingRetry",
        at,
        message,
        None,
        scheduled_time or at + timedelta(seconds=delay_seconds),
    )


def Completed(  # noqa: N802
    data: Any = None, message: str | None = None, name: str | None = None
) -> State:
    return _state(StateType.COMPLETED, "Completed", message, data, name)


def Cached(data: Any = None, message: str | None = None) -> State:  # noqa: N802
    return _state(StateType.COMPLETED, "Cached", message, data)


def Failed(  # noqa: N802
    data: Any = None, message: str | None = None, name: str | None = None
) -> State:
    return _state(StateType.FAILED, "Failed", message, data, name)


def TimedOut(data: Any = None, message: str | None = None) -> State:  # noqa: N802
    return _state(StateType.FAILED, "TimedOut", message, data)


def Cancelled(  # noqa: N802
    data: Any = None, message: str | None = None, name: str | None = None
) -> State:
    return _state(StateType.CANCELLED, "Cancelled", message, data, name)


def Cancelling(message: str | None = None) -> State:  # noqa: N802
    return _state(StateType.CANCELLING, "Cancelling", message)


def Crashed(  # noqa: N802
    data: Any = None, message: str | None = None, name: str | None = None
) -> State:
    return _state(StateType.CRASHED, "Crashed", message, data, name)


def Paused(message: str | None = None, name: str | None = None) -> State:  # noqa: N802
    return _state(StateType.PAUSED, "Paused", message, None, name)


def Suspended(message: str | None = None) -> State:  # noqa: N802
    return _state(StateType.PAUSED, "Suspended", message)
