"""``TaskFuture``: the handle ``task.submit()`` returns, over a ``concurrent.futures.Future``."""

from __future__ import annotations

import concurrent.futures
import time
from collections.abc import Iterable, Iterator
from typing import Any, Generic, NamedTuple, TypeVar

from .annotations import unmapped
from .states import Pending, State

__all__ = [
    "TaskFuture",
    "PrefectFuture",
    "PrefectFutureList",
    "wait",
    "as_completed",
    "unmapped",
    "DoneAndNotDone",
]

R = TypeVar("R")


class TaskFuture(Generic[R]):
    """A submitted task run. ``result()`` waits and returns its value (or raises its error)."""

    __slots__ = ("task_run_id", "task_name", "_future", "_state")

    def __init__(self, task_run_id: str, task_name: str, future: concurrent.futures.Future[State]):
        self.task_run_id = task_run_id
        self.task_name = task_name
        self._future = future
        self._state: State = Pending()

    @property
    def state(self) -> State:
        """The latest known state (final once the run finished)."""
        if self._future.done():
            return self._future.result()
        return self._state

    def _set_state(self, state: State) -> None:
        self._state = state

    def wait(self, timeout: float | None = None) -> State | None:
        """Wait for the run to finish; returns its final state, or None on timeout."""
        try:
            return self._future.result(timeout)
        except concurrent.futures.TimeoutError:
            return None

    def done(self) -> bool:
        return self._future.done()

    def result(self, timeout: float | None = None, raise_on_failure: bool = True) -> R:
        """The task's return value; raises the task's exception if it failed."""
        state = self._future.result(timeout)
        value: R = state.result(raise_on_failure=raise_on_failure)
        return value

    def add_done_callback(self, fn: Any) -> None:
        self._future.add_done_callback(lambda _f: fn(self))

    def __repr__(self) -> str:
        return f"TaskFuture({self.task_name!r}, state={self.state.name})"


PrefectFuture = TaskFuture  # Prefect's name


class DoneAndNotDone(NamedTuple):
    done: set[TaskFuture[Any]]
    not_done: set[TaskFuture[Any]]


def wait(futures: Iterable[TaskFuture[Any]], timeout: float | None = None) -> DoneAndNotDone:
    """Wait for several futures, like ``concurrent.futures.wait``.

    Background runs' futures (``PrefectDistributedFuture``) are waited for one by one, within
    the same ``timeout``.
    """
    futures = list(futures)
    by_inner = {f._future: f for f in futures if hasattr(f, "_future")}
    deadline = None if timeout is None else time.monotonic() + timeout
    done, not_done = concurrent.futures.wait(by_inner, timeout=timeout)
    result = DoneAndNotDone({by_inner[f] for f in done}, {by_inner[f] for f in not_done})
    for other in (f for f in futures if not hasattr(f, "_future")):
        left = None if deadline is None else max(deadline - time.monotonic(), 0.0)
        (result.done if other.wait(left) is not None else result.not_done).add(other)
    return result


class PrefectFutureList(list):  # type: ignore[type-arg]
    """What ``task.map()`` returns: a list of futures that can wait and collect as one."""

    def wait(self, timeout: float | None = None) -> None:
        """Wait for every future (at most ``timeout`` seconds in all)."""
        wait(self, timeout=timeout)

    def result(self, timeout: float | None = None, raise_on_failure: bool = True) -> list[Any]:
        """The results in order; raises the first failure's exception (``raise_on_failure``)."""
        done, not_done = wait(self, timeout=timeout)
        if not_done:
            raise TimeoutError(f"{len(not_done)} of {len(self)} futures did not finish in time")
        return [f.result(raise_on_failure=raise_on_failure) for f in self]


def as_completed(
    futures: Iterable[TaskFuture[Any]], timeout: float | None = None
) -> Iterator[TaskFuture[Any]]:
    """Yield the futures as they finish, like ``concurrent.futures.as_completed``."""
    by_inner = {f._future: f for f in futures}
    for inner in concurrent.futures.as_completed(by_inner, timeout=timeout):
        yield by_inner[inner]
