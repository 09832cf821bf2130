"""Checks and normalisation of ``@flow``/``@task`` options, shared by both definitions."""

from __future__ import annotations

import inspect
import random
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from ..exceptions import FlowDefinitionError

__all__ = [
    "RetryDelay",
    "check_retries",
    "check_timeout",
    "check_hooks",
    "normalize_retry_delays",
    "jittered",
    "exponential_backoff",
    "description_from",
]

RetryDelay = float | int | Sequence[float] | Callable[[int], Iterable[float]] | None


def check_retries(owner: str, retries: int | None) -> int:
    if retries is None:
        return 0
    if isinstance(retries, bool) or not isinstance(retries, int) or retries < 0:
        raise FlowDefinitionError(f"{owner}: retries must be an integer >= 0, got {retries!r}")
    return retries


def check_timeout(owner: str, timeout: float | None) -> float | None:
    if timeout is None:
        return None
    if isinstance(timeout, bool) or not isinstance(timeout, int | float) or timeout <= 0:
        raise FlowDefinitionError(f"{owner}: timeout_seconds must be > 0, got {timeout!r}")
    return float(timeout)


def check_hooks(owner: str, kind: str, hooks: Any) -> tuple[Callable[..., Any], ...]:
    if hooks is None:
        return ()
    items = tuple(hooks) if isinstance(hooks, list | tuple) else (hooks,)
    for hook in items:
        if not callable(hook):
            raise FlowDefinitionError(f"{owner}: {kind} hooks must be callables, got {hook!r}")
    return items


def normalize_retry_delays(owner: str, retries: int, delay: RetryDelay) -> tuple[float, ...]:
    """One delay per retry: a number, a list (last value repeats), or ``f(retries) -> list``."""
    if delay is None:
        return (0.0,) * retries
    if callable(delay):
        delay = list(delay(retries))
    if isinstance(delay, int | float) and not isinstance(delay, bool):
        values: list[float] = [float(delay)] * retries
    elif isinstance(delay, Sequence) and not isinstance(delay, str):
        values = [float(d) for d in delay]
        if retries and not values:
            raise FlowDefinitionError(f"{owner}: retry_delay_seconds list is empty")
        values = (values + [values[-1]] * retries)[:retries] if values else []
    else:
        raise FlowDefinitionError(
            f"{owner}: retry_delay_seconds must be a number, a list or a callable, got {delay!r}"
        )
    if any(v < 0 for v in values):
        raise FlowDefinitionError(f"{owner}: retry_delay_seconds must be >= 0, got {delay!r}")
    return tuple(values)


def jittered(delay: float, jitter_factor: float | None) -> float:
    """A delay stretched by up to ``jitter_factor`` (0.5 -> between 1x and 1.5x)."""
    if not jitter_factor or delay <= 0:
        return delay
    return delay * (1.0 + random.uniform(0.0, jitter_factor))


def exponential_backoff(backoff_factor: float) -> Callable[[int], list[float]]:
    """Delays ``factor * 2**n`` for each retry, as in Prefect.

    Use as ``retry_delay_seconds=exponential_backoff(2)``.
    """
    if backoff_factor < 0:
        raise FlowDefinitionError("backoff_factor must be >= 0")

    def delays(retries: int) -> list[float]:
        return [backoff_factor * 2**n for n in range(retries)]

    return delays


def description_from(fn: Callable[..., Any], description: str | None) -> str | None:
    if description is not None:
        return description
    doc = inspect.getdoc(fn)
    return doc or None
