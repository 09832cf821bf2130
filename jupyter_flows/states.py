"""Prefect's ``prefect.states``: run states and their constructors."""

from __future__ import annotations

from typing import Any

from .core.states import (
    TERMINAL_TYPES,
    AwaitingConcurrencySlot,
    AwaitingRetry,
    Cached,
    Cancelled,
    Cancelling,
    Completed,
    Crashed,
    Failed,
    Late,
    Paused,
    Pending,
    Retrying,
    Running,
    Scheduled,
    State,
    StateType,
    Suspended,
    TimedOut,
)
from .exceptions import run_not_completed

__all__ = [
    "State",
    "StateType",
    "TERMINAL_TYPES",
    "Scheduled",
    "Late",
    "AwaitingRetry",
    "AwaitingConcurrencySlot",
    "Pending",
    "Running",
    "Retrying",
    "Paused",
    "Suspended",
    "Completed",
    "Cached",
    "Failed",
    "TimedOut",
    "Crashed",
    "Cancelling",
    "Cancelled",
    "is_state",
    "get_state_exception",
    "raise_state_exception",
]


def is_state(obj: Any) -> bool:
    return isinstance(obj, State)


def get_state_exception(state: State) -> BaseException:
    """The exception of a failed, crashed or cancelled state (a wrapper if it holds none)."""
    if not (state.is_failed() or state.is_crashed() or state.is_cancelled()):
        raise ValueError(f"Expected failed or crashed state got {state!r}.")
    data = state.data
    if isinstance(data, BaseException):
        return data
    if isinstance(data, State):
        return get_state_exception(data)
    return run_not_completed(state)


def raise_state_exception(state: State) -> None:
    """Raise the exception of a failed, crashed or cancelled state; nothing otherwise."""
    if state.is_failed() or state.is_crashed() or state.is_cancelled():
        raise get_state_exception(state)
