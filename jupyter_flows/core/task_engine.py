"""The task half of the one engine: create, run, retry, cache and record a task run."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from dataclasses import replace
from typing import Any

from ..exceptions import ResultPersistenceError, RunCancelled, TaskTimeout
from .calls import call_function
from .context import FlowRunContext, TaskRunContext, flow_run_context, task_run_context
from .futures import TaskFuture, resolve_futures, unmapped
from .records import ResultInfo, RunRecorder, TaskInput, TaskRunInfo, new_id
from .results import ResultStore
from .run_logging import get_run_logger, install_print_capture, log_prints_var
from .settings import get_recorder
from .states import (
    AwaitingRetry,
    Cached,
    Cancelled,
    Completed,
    Crashed,
    Failed,
    Pending,
    Retrying,
    Running,
    State,
    TimedOut,
    now,
)
from .tasks import Task

__all__ = ["create_task_run", "execute_task_run", "run_hooks", "collect_inputs"]

logger = logging.getLogger(__name__)
_MAX_VISIT = 1000
_result_store: ResultStore | None = None


def result_store() -> ResultStore:
    global _result_store
    if _result_store is None:
        _result_store = ResultStore()
    return _result_store


def _visit(value: Any, param: str, frc: FlowRunContext | None, out: list[TaskInput]) -> bool:
    """Add an edge for each future / tracked result in ``value``; True if it holds futures."""
    if isinstance(value, TaskFuture):
        out.append(TaskInput(value.task_run_id, "data", param))
        return True
    if frc is not None:
        owner = frc.result_owner(value)
        if owner is not None:
            out.append(TaskInput(owner, "data", param))
            return False
    t = type(value)
    if t is unmapped:
        return _visit(value.value, param, frc, out)
    if t in (list, tuple, set, frozenset) and len(value) <= _MAX_VISIT:
        found = False
        for item in value:
            found = _visit(item, param, frc, out) or found
        return found
    if t is dict and len(value) <= _MAX_VISIT:
        found = False
        for item in value.values():
            found = _visit(item, param, frc, out) or found
        return found
    return False


def collect_inputs(
    inputs: dict[str, Any], frc: FlowRunContext | None
) -> tuple[list[TaskInput], bool]:
    """Upstream edges of a call's arguments, and whether any argument holds futures."""
    edges: list[TaskInput] = []
    has_futures = False
    for param, value in inputs.items():
        if type(value) in (int, float, str, bool, type(None)) and frc is None:
            continue
        has_futures = _visit(value, param, frc, edges) or has_futures
    return edges, has_futures


def create_task_run(
    task: Task[..., Any],
    frc: FlowRunContext | None,
    inputs: dict[str, Any],
    wait_for: Iterable[Any] | None,
    recorder: RunRecorder,
    subflow_run_id: str | None = None,
    extra_inputs: Iterable[TaskInput] = (),
) -> tuple[TaskRunInfo, bool]:
    """Create and record a Pending task run; returns it and whether inputs hold futures."""
    edges, has_futures = collect_inputs(inputs, frc)
    edges.extend(extra_inputs)
    for item in wait_for or ():
        if not isinstance(item, TaskFuture):
            raise TypeError(
                f"wait_for of task {task.name!r} takes futures (from .submit()), got {item!r}"
            )
        edges.append(TaskInput(item.task_run_id, "wait_for"))
    key = frc.next_dynamic_key(task.task_key) if frc is not None else 0
    info = TaskRunInfo(
        new_id(),
        frc.flow_run.id if frc is not None else None,
        task.task_key,
        task.name,
        f"{task.name}-{key}",
        sorted(task.tags),
        now(),
        edges,
        None,
        key,
        task.description,
        task.version,
        subflow_run_id,
    )
    recorder.task_run_created(info)
    recorder.set_state("task", info.id, Pending(), 0)
    return info, has_futures


def run_hooks(hooks: Iterable[Callable[..., Any]], *args: Any) -> None:
    """Call each hook; a hook that raises is logged and never changes the run's outcome."""
    for hook in hooks:
        try:
            hook(*args)
        except Exception:  # noqa: BLE001 - hooks never mask the run's state
            get_run_logger().exception(
                "hook %s raised; the run's state is unchanged", getattr(hook, "__name__", hook)
            )


def _upstream_problem(wait_for: Iterable[Any] | None, has_futures: bool, inputs: Any) -> str | None:
    for item in wait_for or ():
        state = item.wait()
        if state is None or not state.is_completed():
            return f"upstream task run {item.task_name!r} ended {state}"
    return None


def execute_task_run(
    task: Task[..., Any],
    info: TaskRunInfo,
    frc: FlowRunContext | None,
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    inputs: dict[str, Any],
    has_futures: bool,
    wait_for: Iterable[Any] | None,
    recorder: RunRecorder,
    handle: TaskFuture[Any] | None = None,
) -> State:
    """Run a created task run to a final state (never raises, except on a crash)."""

    def set_state(state: State, run_count: int) -> None:
        recorder.set_state("task", info.id, state, run_count)
        if handle is not None:
            handle._set_state(state)

    problem = _upstream_problem(wait_for, has_futures, inputs)
    if problem is None and has_futures:
        try:
            args = resolve_futures(args)
            kwargs = resolve_futures(kwargs)
            inputs = resolve_futures(inputs)
        except BaseException as exc:  # noqa: BLE001 - the upstream's failure, not ours
            problem = f"upstream task failed: {type(exc).__name__}: {exc}"
    if problem is not None:
        state = Failed(RuntimeError(problem), message=problem)
        set_state(state, 0)
        run_hooks(task.on_failure_hooks, task, info, state)
        return replace(state, run_id=info.id)
    if frc is not None and frc.cancel_event.is_set():
        state = Cancelled(RunCancelled("flow run cancelled"), message="flow run cancelled")
        set_state(state, 0)
        return replace(state, run_id=info.id)

    log_prints = task.log_prints if task.log_prints is not None else None
    trc = TaskRunContext(task, info, inputs, frc, bool(log_prints))
    token = task_run_context.set(trc)
    prints_token = log_prints_var.set(log_prints) if log_prints is not None else None
    if log_prints:
        install_print_capture()
    try:
        return replace(
            _run_attempts(task, info, trc, frc, args, kwargs, inputs, set_state), run_id=info.id
        )
    finally:
        if prints_token is not None:
            log_prints_var.reset(prints_token)
        task_run_context.reset(token)


def _cache_key(task: Task[..., Any], trc: TaskRunContext, inputs: dict[str, Any]) -> str | None:
    try:
        if task.cache_key_fn is not None:
            return task.cache_key_fn(trc, inputs)
        return task.cache_policy.compute_key(trc, inputs) if task.cache_policy else None
    except Exception:  # noqa: BLE001 - a broken key function disables caching, loudly
        get_run_logger().exception("cache key of task %r could not be computed", task.name)
        return None


def _run_attempts(
    task: Task[..., Any],
    info: TaskRunInfo,
    trc: TaskRunContext,
    frc: FlowRunContext | None,
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    inputs: dict[str, Any],
    set_state: Callable[[State, int], None],
) -> State:
    key = _cache_key(task, trc, inputs) if task.caches else None
    if key is not None and not task.refresh_cache:
        hit, value = result_store().read(key)
        if hit:
            state = Cached(value, message=f"cache hit {key[:12]}")
            set_state(state, 0)
            if frc is not None:
                frc.track_result(info.id, value)
            run_hooks(task.on_completion_hooks, task, info, state)
            return state
    runner = frc.task_runner if frc is not None else None
    caller = runner.call if runner is not None and type(runner).call is not _default_call else None
    cancel = frc.cancel_event if frc is not None else threading.Event()
    attempt = 0
    while True:
        attempt += 1
        trc.run_count = attempt
        running = Running() if attempt == 1 else Retrying()
        set_state(running, attempt)
        if task.on_running_hooks:
            run_hooks(task.on_running_hooks, task, info, running)
        try:
            value = call_function(
                task.fn,
                args,
                kwargs,
                is_async=task.isasync,
                timeout=task.timeout_seconds,
                name=task.name,
                caller=caller,
            )
        except TaskTimeout as exc:
            state = TimedOut(exc, message=str(exc))
        except RunCancelled as exc:
            state = Cancelled(exc, message=str(exc) or "cancelled")
        except Exception as exc:  # noqa: BLE001 - becomes the Failed state
            state = Failed(exc, message=f"{type(exc).__name__}: {exc}")
        except BaseException as exc:  # KeyboardInterrupt, SystemExit: record, then re-raise
            set_state(Crashed(exc, message=f"{type(exc).__name__}: {exc}"), attempt)
            raise
        else:
            state = _completed(task, info, key, value, frc)
        if state.is_completed():
            if frc is not None:
                frc.track_result(info.id, state.data)
            set_state(state, attempt)
            run_hooks(task.on_completion_hooks, task, info, state)
            return state
        retry = attempt <= task.retries and not state.is_cancelled() and not cancel.is_set()
        if retry and task.retry_condition_fn is not None:
            try:
                retry = bool(task.retry_condition_fn(task, info, state))
            except Exception:  # noqa: BLE001
                logger.exception("retry_condition_fn of task %r raised; not retrying", task.name)
                retry = False
        get_run_logger().error(
            "%s (attempt %d of %d)%s",
            state.message,
            attempt,
            task.retries + 1,
            "; retrying" if retry else "",
            exc_info=state.data if not retry and isinstance(state.data, Exception) else None,
        )
        if not retry:
            set_state(state, attempt)
            run_hooks(task.on_failure_hooks, task, info, state)
            return state
        from .options import jittered

        delay = jittered(task.retry_delays[attempt - 1], task.retry_jitter_factor)
        set_state(AwaitingRetry(delay, message=state.message), attempt)
        if cancel.wait(delay) if delay > 0 else cancel.is_set():
            state = Cancelled(RunCancelled("flow run cancelled"), message="flow run cancelled")
            set_state(state, attempt)
            return state


def _completed(
    task: Task[..., Any],
    info: TaskRunInfo,
    key: str | None,
    value: Any,
    frc: FlowRunContext | None,
) -> State:
    persist = task.persist_result
    if persist is None and frc is not None:  # tasks inherit the flow's persist_result
        persist = frc.flow.persist_result
    if key is None and not persist:
        return Completed(value)
    store_key = key or info.id
    try:
        stored = result_store().write(
            store_key, value, task.result_serializer, task.cache_expiration
        )
    except ResultPersistenceError as exc:
        message = f"task {task.name!r}: {exc}"
        return Failed(ResultPersistenceError(message), message=message)
    current_recorder(frc).result_stored(
        ResultInfo(
            store_key,
            info.id,
            info.flow_run_id,
            stored.location,
            task.result_serializer.name,
            now(),
            stored.expires,
        )
    )
    return Completed(value)


def _default_call(self: Any, fn: Callable[..., Any], args: Any, kwargs: Any) -> Any:
    return fn(*args, **kwargs)


def _bind_default_call() -> None:
    from .runners import TaskRunner

    global _default_call
    _default_call = TaskRunner.call


_bind_default_call()


def current_recorder(frc: FlowRunContext | None) -> RunRecorder:
    return frc.recorder if frc is not None else get_recorder()


def in_flow() -> FlowRunContext | None:
    return flow_run_context.get()
