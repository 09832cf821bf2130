"""Prefect's ``prefect.task_worker``: ``serve(*tasks)`` and ``TaskWorker`` for background tasks.

``Task.delay()`` queues a run in the run database; a task worker started with
``serve(add, multiply)`` (or ``jupyter flows task-worker tasks:add tasks:multiply``) runs it.
The functions below are what ``Task.delay`` and its futures use (registered by the package
root, so that the core never imports the store).
"""

from __future__ import annotations

from typing import Any

from .core.background import PrefectDistributedFuture
from .core.records import TaskRunInfo
from .core.states import State
from .store import background as _queue
from .store.api import run_store
from .workers.task_worker import StopTaskWorker, TaskWorker, serve

__all__ = ["serve", "TaskWorker", "StopTaskWorker", "PrefectDistributedFuture"]


def _over_http() -> bool:
    from .core.run_environment import RunEnvironment

    return RunEnvironment.current().records_over_http()


def enqueue(info: TaskRunInfo, queue_key: str, **fields: Any) -> None:
    """Queue a background task run in the default run database (through the server, for
    a run process that reaches only the server)."""
    if _over_http():
        from .client import background

        background.enqueue(info, queue_key, **fields)
        return
    _queue.enqueue(run_store().engine, info, queue_key, **fields)


def read_state(task_run_id: str) -> State:
    """A task run's current state; ``.result()`` reads its persisted result."""
    if _over_http():
        from .client import background

        return background.read_state(task_run_id)
    state = run_store().read_task_run(task_run_id).state
    if state is None:  # a row is always written with its first state
        raise RuntimeError(f"task run {task_run_id} has no state")
    return state


def read_error(task_run_id: str) -> BaseException | None:
    """The exception a failed background run raised, as its task worker persisted it."""
    if _over_http():
        from .client import background

        return background.read_error(task_run_id)
    from .exceptions import MissingResult
    from .store.results import result_ref

    ref = result_ref(task_run_id)
    if ref is None:
        return None
    try:
        value = ref.load_result()
    except MissingResult:
        return None
    return value if isinstance(value, BaseException) else None
