"""Prefect's ``prefect.futures``: handles of submitted task runs."""

from __future__ import annotations

from typing import Any

from .core.background import PrefectDistributedFuture
from .core.futures import (
    DoneAndNotDone,
    PrefectFuture,
    PrefectFutureList,
    TaskFuture,
    as_completed,
    wait,
)
from .core.returned import resolve_to_states

__all__ = [
    "PrefectFuture",
    "PrefectConcurrentFuture",
    "PrefectDistributedFuture",
    "PrefectFutureList",
    "TaskFuture",
    "DoneAndNotDone",
    "wait",
    "as_completed",
    "resolve_futures_to_states",
    "resolve_futures_to_results",
]

PrefectConcurrentFuture = TaskFuture


def resolve_futures_to_states(value: Any) -> Any:
    """``value`` with its futures (alone or in a list/tuple/set) replaced by their states."""
    return resolve_to_states(value)


def resolve_futures_to_results(value: Any) -> Any:
    """``value`` with its futures (also nested in containers) replaced by their results."""
    from .core.inputs import resolve_inputs

    return resolve_inputs(value)
