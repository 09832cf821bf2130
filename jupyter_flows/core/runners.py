"""Task runners: where submitted task runs execute.

A runner has two jobs. ``submit`` runs the engine's per-task-run procedure concurrently
(states, retries, caching stay in this process); ``call`` runs the user's function body,
which a runner may send elsewhere (``ProcessPoolTaskRunner`` to worker processes,
``DaskTaskRunner`` to a Dask cluster; see ``remote_body``).
"""

from __future__ import annotations

import concurrent.futures
import contextvars
import logging
import os
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable
from types import TracebackType
from typing import Any, TypeVar

__all__ = ["TaskRunner", "ThreadPoolTaskRunner", "SequentialTaskRunner", "ProcessPoolTaskRunner"]

logger = logging.getLogger(__name__)
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


class ProcessPoolTaskRunner(TaskRunner):
    """Runs task bodies in worker processes (spawned), for CPU-bound work.

    As Prefect's ``ProcessPoolTaskRunner``: bodies, their arguments and results travel with
    cloudpickle (functions of a notebook or ``__main__`` work). States, retries, caching and
    timeouts stay in the flow's process; logs and ``log_prints`` lines of a body are shipped
    back with its result. A worker process that dies (``os._exit``, a signal, out of memory)
    fails the bodies that ran in the pool at that moment with ``BrokenProcessPool``, and the
    pool is started again for the next ones. Async task bodies run in the flow's process.
    In a script, call the flow under ``if __name__ == "__main__":`` (workers import the script).

    Parameters
    ----------
    max_workers
        Worker processes; default ``os.cpu_count()``.
    """

    def __init__(self, max_workers: int | None = None):
        if max_workers is not None and max_workers < 1:
            raise ValueError("max_workers must be at least 1")
        self.max_workers = max_workers or os.cpu_count() or 1
        self._threads: concurrent.futures.ThreadPoolExecutor | None = None
        self._pool: concurrent.futures.ProcessPoolExecutor | None = None
        self._lock = threading.Lock()
        self._in_flight: set[concurrent.futures.Future[bytes]] = set()

    def duplicate(self) -> ProcessPoolTaskRunner:
        return type(self)(self.max_workers)

    def start(self) -> None:
        pass  # processes are spawned on first use

    def submit(self, fn: Callable[..., T], *args: Any) -> concurrent.futures.Future[T]:
        with self._lock:
            if self._threads is None:  # task runs waiting on upstreams hold a thread, not a process
                self._threads = concurrent.futures.ThreadPoolExecutor(
                    max(64, self.max_workers), thread_name_prefix="jupyter-flows-process"
                )
            threads = self._threads
        ctx = contextvars.copy_context()
        return threads.submit(ctx.run, fn, *args)

    def call(self, fn: Callable[..., T], args: tuple[Any, ...], kwargs: dict[str, Any]) -> T:
        from concurrent.futures.process import BrokenProcessPool

        from .remote_body import remote_body, run_payload, unwrap_outcome

        body = remote_body(fn, args, kwargs)
        payload = body.dumps()
        for _attempt in range(2):  # a pool broken by an earlier body is replaced once
            pool = self._process_pool()
            try:
                future = pool.submit(run_payload, payload)
                break
            except BrokenProcessPool:
                self._discard(pool)
        else:
            raise BrokenProcessPool("the process pool could not be started again")
        with self._lock:
            self._in_flight.add(future)
        future.add_done_callback(self._landed)
        try:
            data = _wait(future)
        except BrokenProcessPool:
            self._discard(pool)
            raise BrokenProcessPool(
                f"the worker process running the body of {body.name!r} ended abruptly "
                "(os._exit(), a signal such as kill -9, or out of memory); bodies running in "
                "the pool at that moment fail too, and the pool is started again"
            ) from None
        except BaseException:  # a timeout or an interrupt: the body is left behind
            future.cancel()
            raise
        result: T = unwrap_outcome(data)
        return result

    def _landed(self, future: concurrent.futures.Future[bytes]) -> None:
        with self._lock:
            self._in_flight.discard(future)

    def _process_pool(self) -> concurrent.futures.ProcessPoolExecutor:
        import multiprocessing

        from .remote_body import init_worker

        with self._lock:
            if self._pool is None:
                self._pool = concurrent.futures.ProcessPoolExecutor(
                    self.max_workers,
                    mp_context=multiprocessing.get_context("spawn"),
                    initializer=init_worker,
                )
            return self._pool

    def _discard(self, pool: concurrent.futures.ProcessPoolExecutor) -> None:
        with self._lock:
            if self._pool is pool:
                self._pool = None
                logger.info("a worker process died; starting a new process pool")
        pool.shutdown(wait=False, cancel_futures=True)

    def shutdown(self) -> None:
        with self._lock:
            threads, self._threads = self._threads, None
        if threads is not None:
            threads.shutdown(wait=True)
        with self._lock:
            pool, self._pool = self._pool, None
            left = [f for f in self._in_flight if not f.done()]
        if pool is None:
            return
        if left:  # every task run has ended: these bodies timed out; stop, don't wait
            logger.info("stopping %d worker process(es) of abandoned task bodies", len(left))
            _kill_workers(pool)
        pool.shutdown(wait=True, cancel_futures=True)

    def __repr__(self) -> str:
        return f"ProcessPoolTaskRunner(max_workers={self.max_workers})"


def _wait(future: concurrent.futures.Future[bytes]) -> bytes:
    """The future's result, waited for in short steps so the thread stays interruptible."""
    while not future.done():
        concurrent.futures.wait((future,), timeout=0.2)
    return future.result()


def _kill_workers(pool: concurrent.futures.ProcessPoolExecutor) -> None:
    kill = getattr(pool, "kill_workers", None)  # Python >= 3.14
    if kill is not None:
        kill()
        return
    for process in list((getattr(pool, "_processes", None) or {}).values()):
        process.kill()
