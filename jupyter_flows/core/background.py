"""Background task runs: ``Task.delay``/``apply_async`` and the future that follows them.

``delay`` stores the call's arguments and queues a ``Scheduled`` task run in the run
database (through the queue the package root registers: the core never imports the store);
a task worker (``jupyter_flows.task_worker.serve``) runs it. Arguments that are plain JSON
are kept in the database (visible in the REST API); any other value is pickled with
cloudpickle into result storage, as Prefect stores a deferred run's parameters. A value
that neither can store fails ``delay`` and queues nothing.
"""

from __future__ import annotations

import inspect
import json
import logging
import time
from collections.abc import Iterable
from typing import Any, Generic, TypeVar

from ..exceptions import UnstorableParameter
from .context import flow_run_context
from .hashing import _code_bytes, stable_hash
from .records import TaskInput, TaskRunInfo, new_id
from .settings import background_api
from .states import State, StateType, now
from .tasks import Task

__all__ = ["PrefectDistributedFuture", "apply_async", "queue_key", "call_arguments"]

logger = logging.getLogger(__name__)
R = TypeVar("R")
_FINAL = frozenset({StateType.COMPLETED, StateType.FAILED, StateType.CANCELLED, StateType.CRASHED})


def queue_key(task: Task[..., Any]) -> str:
    """The key task workers match runs on: the function's qualified name and a hash of its
    code (as Prefect's task key), the same whether it was imported or run as ``__main__``."""
    fn = task.fn
    code = getattr(fn, "__code__", None)
    digest = stable_hash(*_code_bytes(code))[:12] if code is not None else "nocode"
    return f"{getattr(fn, '__qualname__', task.name)}-{digest}"


def _plain_json(value: Any) -> bool:
    """Whether ``value`` comes back from JSON exactly as it is (no tuple, set, int key...)."""
    try:
        return bool(json.loads(json.dumps(value, allow_nan=False)) == value)
    except (TypeError, ValueError):
        return False


def _encode(task: Task[..., Any], run_id: str, params: dict[str, Any]) -> tuple[Any, str | None]:
    """``(JSON parameters, None)`` or ``(None, location of the pickled parameters)``."""
    if _plain_json(params):
        return params, None
    from ..exceptions import ResultPersistenceError
    from .results import PickleSerializer
    from .task_engine import _store_of

    try:  # nothing is written when the value does not pickle
        stored = _store_of(task).write(f"parameters/{run_id}", params, PickleSerializer())
    except ResultPersistenceError as exc:
        import cloudpickle

        for name, value in params.items():  # name the parameter that cannot be pickled
            try:
                cloudpickle.dumps(value, protocol=4)
            except Exception as inner:  # noqa: BLE001
                raise UnstorableParameter(
                    task.name, name, f"{type(inner).__name__}: {inner}"
                ) from inner
        raise UnstorableParameter(task.name, "*", str(exc)) from exc
    return None, stored.location


def call_arguments(
    task: Task[..., Any], params: dict[str, Any]
) -> tuple[tuple[Any, ...], dict[str, Any]]:
    """``(args, kwargs)`` to call the task's function with bound ``params`` (worker side)."""
    args: list[Any] = []
    kwargs: dict[str, Any] = {}
    for p in inspect.signature(task.fn).parameters.values():
        if p.name not in params:
            continue
        value = params[p.name]
        if p.kind is p.POSITIONAL_ONLY:
            args.append(value)
        elif p.kind is p.VAR_POSITIONAL:
            args.extend(value)
        elif p.kind is p.VAR_KEYWORD:
            kwargs.update(value)
        else:
            kwargs[p.name] = value
    return tuple(args), kwargs


def _wait_for_ids(wait_for: Iterable[Any] | None) -> list[str]:
    ids = []
    for item in wait_for or ():
        run_id = item if isinstance(item, str) else getattr(item, "task_run_id", None)
        run_id = run_id or getattr(item, "run_id", None)
        if not run_id:
            raise TypeError(f"wait_for takes futures, states or task run ids, not {item!r}")
        ids.append(run_id)
    return ids


def apply_async(
    task: Task[..., Any],
    args: tuple[Any, ...] = (),
    kwargs: dict[str, Any] | None = None,
    wait_for: Iterable[Any] | None = None,
) -> PrefectDistributedFuture[Any]:
    """Queue a background run of ``task`` (``Scheduled``) and return its future."""
    kwargs = dict(kwargs or {})
    try:
        bound = inspect.signature(task.fn).bind(*args, **kwargs)
    except TypeError as exc:
        raise TypeError(f"{task.name}.delay(): {exc}") from None
    params = dict(bound.arguments)
    if task.validate_parameters:
        from .task_calls import _validated_task_args

        v_args, v_kwargs = _validated_task_args(task, args, kwargs)
        params = dict(inspect.signature(task.fn).bind(*v_args, **v_kwargs).arguments)
    upstream = _wait_for_ids(wait_for)
    frc = flow_run_context.get()
    info = TaskRunInfo(
        new_id(),
        None,
        task.task_key,
        task.name,
        task.name,
        sorted(task.tags),
        now(),
        [TaskInput(u, "wait_for") for u in upstream],
        description=task.description,
        version=task.version,
    )
    info.name = f"{task.name}-{info.id[-6:]}"
    if task.task_run_name is not None:
        from .task_engine import _task_run_name

        info.name = _task_run_name(task, info, None, task.bind_inputs(args, kwargs))
    json_params, location = _encode(task, info.id, params)
    background_api().enqueue(
        info,
        queue_key(task),
        parameters=json_params,
        parameters_location=location,
        wait_for=upstream,
        origin_flow_run_id=frc.flow_run.id if frc is not None else None,
    )
    logger.info("queued background task run %s (%s)", info.name, info.id)
    return PrefectDistributedFuture(info.id)


class PrefectDistributedFuture(Generic[R]):
    """A background task run, followed through the run database (from any process).

    ``state`` reads it now; ``wait(timeout)`` polls until it ends (its final state, or None
    on timeout); ``result(timeout)`` returns its persisted result or raises its exception.
    """

    __slots__ = ("task_run_id", "_final")

    poll_interval = 0.1

    def __init__(self, task_run_id: str):
        self.task_run_id = task_run_id
        self._final: State | None = None

    @property
    def state(self) -> State:
        """The run's current state, read from the database."""
        if self._final is not None:
            return self._final
        state: State = background_api().read_state(self.task_run_id)
        if state.type in _FINAL:
            self._final = state
        return state

    def done(self) -> bool:
        return self.state.type in _FINAL

    def wait(self, timeout: float | None = None) -> State | None:
        """Wait until the run ends; its final state, or None if ``timeout`` s passed first."""
        deadline = None if timeout is None else time.monotonic() + timeout
        delay = self.poll_interval
        while True:
            state = self.state
            if state.type in _FINAL:
                return state
            if deadline is not None and time.monotonic() >= deadline:
                return None
            pause = delay if deadline is None else min(delay, deadline - time.monotonic())
            time.sleep(max(pause, 0.0))
            delay = min(delay * 1.5, 1.0)

    def result(self, timeout: float | None = None, raise_on_failure: bool = True) -> R:
        """The run's return value (persisted by its task worker); raises its exception."""
        state = self.wait(timeout)
        if state is None:
            raise TimeoutError(
                f"background task run {self.task_run_id} did not finish in {timeout} s"
            )
        if not state.is_completed() and state.data is not None:
            error = background_api().read_error(self.task_run_id)
            if error is not None:
                if raise_on_failure:
                    raise error
                return error  # type: ignore[no-any-return]
        value: R = state.result(raise_on_failure=raise_on_failure)
        return value

    def __repr__(self) -> str:
        return f"PrefectDistributedFuture({self.task_run_id!r})"
