"""The task worker: runs background task runs (``Task.delay``) of some tasks from the queue.

It polls the run database (there is no websocket push), claims runs atomically (see
``store.background``), runs each through the one task engine in a thread of its own (at
most ``limit`` at once) with results persisted, and renews its claims while they run; a
task worker that dies has its claims taken back by the others, or by the server.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import threading
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from ..core.background import call_arguments, queue_key
from ..core.records import ResultInfo, RunRecorder, TaskRunInfo
from ..core.results import PickleSerializer, read_result_file
from ..core.settings import get_recorder
from ..core.states import Failed, State, StateType, now
from ..core.task_engine import _store_of, execute_task_run
from ..core.tasks import Task
from ..store import background as queue
from ..store.api import run_store

__all__ = ["TaskWorker", "StopTaskWorker", "serve"]

logger = logging.getLogger(__name__)


class StopTaskWorker(Exception):
    """Prefect's name: raised in a task worker's loop to stop it."""


class _KeepErrors:
    """The worker's recorder: persists a background run's exception before its final state,
    so that ``future.result()`` in another process raises it."""

    def __init__(self, primary: RunRecorder, task: Task[..., Any], run_id: str):
        self._primary, self._task, self._run_id = primary, task, run_id

    def __getattr__(self, name: str) -> Any:
        return getattr(self._primary, name)

    def set_state(self, kind: Any, run_id: str, state: State, run_count: int) -> None:
        error = state.data
        if run_id == self._run_id and state.is_failed() and isinstance(error, BaseException):
            key = f"errors/{run_id}"
            try:
                stored = _store_of(self._task).write(key, error, PickleSerializer())
            except Exception:  # noqa: BLE001 - then the future raises FailedRun(message)
                logger.debug("the exception of task run %s does not pickle", run_id)
            else:
                self._primary.result_stored(
                    ResultInfo(key, run_id, None, stored.location, "pickle", now())
                )
        self._primary.set_state(kind, run_id, state, run_count)


class TaskWorker:
    """Serve ``tasks``: run their background runs, ``limit`` at a time (None: no limit).

    ``lease_seconds``: how long a claim holds without renewal (renewed every third of
    it); ``poll_interval``: seconds between looks at the queue.
    """

    def __init__(
        self,
        *tasks: Task[..., Any],
        limit: int | None = 10,
        lease_seconds: float = 30.0,
        poll_interval: float = 0.5,
        name: str | None = None,
    ):
        if not tasks:
            raise ValueError("a task worker needs at least one task to serve")
        self.tasks: dict[str, Task[..., Any]] = {}
        for task in tasks:
            if not isinstance(task, Task):
                raise TypeError(f"serve() takes tasks (@task functions), got {task!r}")
            # as Prefect: a background run's result is persisted, for its future
            self.tasks[queue_key(task)] = task.with_options(persist_result=True)
        if limit is not None and limit < 1:
            raise ValueError("limit must be at least 1 (or None: no limit)")
        self.limit = limit
        self.lease_seconds = lease_seconds
        self.poll_interval = poll_interval
        self.name = name or f"{socket.gethostname()}-{os.getpid()}-{os.urandom(2).hex()}"
        self.engine = run_store().engine
        self.finished = 0
        self._in_flight: dict[str, threading.Thread] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()

    @property
    def task_keys(self) -> list[str]:
        return sorted(self.tasks)

    def stop(self) -> None:
        """Stop claiming (the runs in flight finish first)."""
        self._stop.set()

    def in_flight(self) -> list[str]:
        with self._lock:
            return list(self._in_flight)

    def start(self, timeout: float | None = None) -> None:
        """Serve until ``stop()``, Ctrl-C, SIGTERM or ``timeout`` seconds; then wait for the
        runs in flight (a second Ctrl-C/SIGTERM ends them Crashed and returns at once)."""
        restore = _on_sigterm(self.stop)
        names = " | ".join(t.name for t in self.tasks.values())
        logger.info("task worker %s serving %s (limit %s)", self.name, names, self.limit)
        deadline = None if timeout is None else time.monotonic() + timeout
        try:
            try:
                self._loop(deadline)
            except (KeyboardInterrupt, StopTaskWorker):
                pass
            self._stop.set()
            waiting = len(self.in_flight())
            logger.info("task worker %s stopping; waiting for %d runs", self.name, waiting)
            try:
                self._drain()
            except KeyboardInterrupt:
                self._abandon()
        finally:
            restore()
        logger.info("task worker %s stopped after %d runs", self.name, self.finished)

    def _loop(self, deadline: float | None) -> None:
        next_renew = next_sweep = 0.0
        while not self._stop.is_set():
            if deadline is not None and time.monotonic() >= deadline:
                return
            clock = time.monotonic()
            if clock >= next_renew:
                self._renew()
                next_renew = clock + self.lease_seconds / 3
            if clock >= next_sweep:
                self._sweep()
                next_sweep = clock + min(self.lease_seconds / 2, 5.0)
            self._claim()
            self._stop.wait(self.poll_interval)

    def _drain(self) -> None:
        """Wait for the runs in flight, renewing their claims; SIGTERM again: abandon them."""
        self._stop.clear()
        restore = _on_sigterm(lambda: self._stop.set())
        try:
            while self.in_flight():
                if self._stop.is_set():
                    raise KeyboardInterrupt
                self._renew()
                self._stop.wait(min(self.lease_seconds / 3, 1.0))
        finally:
            restore()
            self._stop.set()

    def _abandon(self) -> None:
        runs = self.in_flight()
        if runs:
            logger.warning("task worker %s abandons %d runs: Crashed", self.name, len(runs))
            queue.abandon(self.engine, self.name, runs, f"task worker {self.name} was stopped")

    def _renew(self) -> None:
        runs = self.in_flight()
        try:
            queue.renew(self.engine, self.name, runs, self.lease_seconds)
        except Exception:  # the database may be back next time
            logger.exception("task worker %s could not renew its claims", self.name)

    def _sweep(self) -> None:
        try:
            queue.sweep(self.engine)
        except Exception:  # the database may be back next time
            logger.exception("task worker %s could not sweep expired claims", self.name)

    def _claim(self) -> None:
        with self._lock:
            free = (self.limit or 100) - len(self._in_flight)
        if free <= 0:
            return
        try:
            won = queue.claim(self.engine, self.name, self.task_keys, free, self.lease_seconds)
        except Exception:  # the database may be back next time
            logger.exception("task worker %s could not claim runs", self.name)
            return
        for claimed in won:
            logger.info("received task run %s - %s", claimed.task_run_id, claimed.name)
            thread = threading.Thread(
                target=self._run, args=(claimed,), name=f"task-run-{claimed.name}", daemon=True
            )
            with self._lock:
                self._in_flight[claimed.task_run_id] = thread
            thread.start()

    def _run(self, claimed: queue.ClaimedTaskRun) -> None:
        run_id = claimed.task_run_id
        try:
            self._execute(claimed)
        except BaseException:  # noqa: BLE001 - the engine records what it can; keep serving
            logger.exception("background task run %s ended with an error", run_id)
        finally:
            try:
                queue.finish(self.engine, self.name, run_id)
            except Exception:  # the lease then expires; the run's state is already final
                logger.exception("task worker %s could not release %s", self.name, run_id)
            with self._lock:
                self._in_flight.pop(run_id, None)
                self.finished += 1

    def _execute(self, claimed: queue.ClaimedTaskRun) -> State:
        task = self.tasks[claimed.queue_key]
        run_id = claimed.task_run_id
        recorder = _KeepErrors(get_recorder(), task, run_id)
        info = TaskRunInfo(
            run_id, None, task.task_key, task.name, claimed.name, sorted(task.tags), now()
        )
        try:
            params = _parameters(claimed)
            problem = self._upstream_problem(claimed.wait_for)
        except Exception as exc:  # noqa: BLE001 - the run fails, naming why
            params, problem = {}, f"its parameters could not be read: {type(exc).__name__}: {exc}"
        if problem is not None:
            state = Failed(RuntimeError(problem), message=problem)
            recorder.set_state("task", run_id, state, 0)
        else:
            args, kwargs = call_arguments(task, params)
            inputs = task.bind_inputs(args, kwargs)
            state = execute_task_run(
                task,
                info,
                None,
                args,
                kwargs,
                inputs,
                False,
                None,
                recorder,  # type: ignore[arg-type]
            )
        recorder.flush()
        return state

    def _upstream_problem(self, wait_for: list[str]) -> str | None:
        for upstream in wait_for:
            found = queue.read_state(self.engine, upstream)
            if found is None or found[0] != StateType.COMPLETED.value:
                ended = found[1] if found is not None else "missing"
                return f"upstream task run {upstream} ended {ended}"
        return None


def _parameters(claimed: queue.ClaimedTaskRun) -> dict[str, Any]:
    if claimed.parameters_location is None:
        return dict(claimed.parameters or {})
    hit, value = read_result_file(Path(claimed.parameters_location))
    if not hit:
        raise FileNotFoundError(f"no parameters at {claimed.parameters_location}")
    return dict(value)


def _on_sigterm(handler: Any) -> Any:
    """Call ``handler`` on SIGTERM (main thread only); returns what restores the old one."""
    if threading.current_thread() is not threading.main_thread():
        return lambda: None
    previous = signal.signal(signal.SIGTERM, lambda *_: handler())
    return lambda: signal.signal(signal.SIGTERM, previous)


def serve(
    *tasks: Task[..., Any],
    limit: int | None = 10,
    timeout: float | None = None,
    **options: Any,
) -> None:
    """Serve ``tasks`` from this process until Ctrl-C/SIGTERM (or ``timeout`` seconds):
    Prefect's ``prefect.task_worker.serve``. ``options``: lease_seconds, poll_interval, name."""
    if options.pop("status_server_port", None) is not None:
        logger.warning("status_server_port is not supported here; serving without it")
    TaskWorker(*tasks, limit=limit, **options).start(timeout=timeout)


def tasks_in(objects: Iterable[Any]) -> list[Task[..., Any]]:
    """The tasks among ``objects`` (a module's values, for ``--module``)."""
    return [o for o in objects if isinstance(o, Task)]
