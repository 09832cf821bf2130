"""Task runners: where submitted task runs execute.

A runner has two jobs. ``submit`` runs the engine's per-task-run procedure concurrently
(states, retries, caching stay in this process); ``call`` runs the user's function body,
which a runner may send elsewhere (``DaskTaskRunner`` sends it to a Dask cluster).
"""

from __future__ import annotations

import concurrent.futures
import contextvars
import os
from abc import ABC, abstractmethod
from collections.abc import Callable
from types import TracebackType
from typing import Any, TypeVar

__all__ = ["TaskRunner", "ThreadPoolTaskRunner", "SequentialTaskRunner"]

T = TypeVar("T")


class TaskRunner(ABC):
    """Base class: a context manager that accepts submitted work and returns futures."""

    @abstractmethod
    def duplicate(self) -> TaskRunner:
        """A fresh, unstarted runner with the same settings (one per flow run)."""

    @abstractmethod
    def submit(self, fn: Callable[..., T], *args: Any) -> concurrent.futures.Future[T]:
        """Run ``fn(*args)`` concurrently (with the caller's contextvars)."""

    def call(self, fn: Callable[..., T], args: tuple[Any, ...], kwargs: dict[str, Any]) -> T:
        """Run the task's function body; by default in the calling thread."""
        return fn(*args, **kwargs)

    def start(self) -> None:  # noqa: B027 - optional hook
        """Acquire resources (threads, a cluster connection)."""

    def shutdown(self) -> None:  # noqa: B027 - optional hook
        """Release resources; waits for submitted work."""

    def __enter__(self) -> TaskRunner:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.shutdown()


class ThreadPoolTaskRunner(TaskRunner):
    """Runs submitted tasks on a bounded thread pool (the default)."""

    def __init__(self, max_workers: int | None = None):
        if max_workers is not None and max_workers < 1:
            raise ValueError("max_workers must be at least 1")
        self.max_workers = max_workers or min(32, (os.cpu_count() or 1) + 4)
        self._pool: concurrent.futures.ThreadPoolExecutor | None = None

    def duplicate(self) -> ThreadPoolTaskRunner:
        return type(self)(self.max_workers)

    def start(self) -> None:
        pass  # the pool is created on first submit: most flows never submit

    def submit(self, fn: Callable[..., T], *args: Any) -> concurrent.futures.Future[T]:
        if self._pool is None:
            self._pool = concurrent.futures.ThreadPoolExecutor(
                self.max_workers, thread_name_prefix="jupyter-flows-task"
            )
        ctx = contextvars.copy_context()
        return self._pool.submit(ctx.run, fn, *args)

    def shutdown(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None

    def __repr__(self) -> str:
        return f"ThreadPoolTaskRunner(max_workers={self.max_workers})"


class SequentialTaskRunner(TaskRunner):
    """Runs each submitted task immediately, in the submitting thread."""

    def duplicate(self) -> SequentialTaskRunner:
        return type(self)()

    def submit(self, fn: Callable[..., T], *args: Any) -> concurrent.futures.Future[T]:
        future: concurrent.futures.Future[T] = concurrent.futures.Future()
        try:
            future.set_result(fn(*args))
        except BaseException as exc:  # noqa: BLE001 - delivered through the future
            future.set_exception(exc)
        return future
