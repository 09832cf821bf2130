"""The one engine: runs flows (and their tasks, via ``task_engine``) and records every state.

There is a single, synchronous engine. Async functions are run to completion by it
(``calls.run_coroutine_sync``); an async flow's ``__call__`` only wraps the engine in an
awaitable, so ``await my_flow()`` works in a notebook without a second engine.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Iterable
from dataclasses import replace
from typing import Any

from ..exceptions import FlowsError, ParameterValidationError, RunCancelled, TaskTimeout
from .annotations import BaseAnnotation, allow_failure, unmapped
from .calls import _has_running_loop, call_function
from .context import FlowRunContext, flow_run_context, task_run_context
from .flows import Flow
from .futures import PrefectFutureList, TaskFuture
from .names import generate_run_name
from .records import FlowRunInfo, ResultInfo, RunRecorder, TaskInput, new_id
from .returned import returned_state
from .run_logging import flow_run_logger, get_run_logger, install_print_capture, log_prints_var
from .settings import get_recorder
from .states import (
    AwaitingRetry,
    Cancelled,
    Crashed,
    Failed,
    Pending,
    Retrying,
    Running,
    State,
    StateType,
    TimedOut,
    now,
)
from .tags import current_tags
from .task_engine import collect_inputs, create_task_run, execute_task_run, run_hooks
from .tasks import Task
from .visualize import tracer as _viz_tracer

__all__ = [
    "call_flow",
    "run_flow",
    "call_task",
    "submit_task",
    "map_task",
    "cancel_flow_run",
    "active_flow_runs",
]

logger = logging.getLogger(__name__)
_active: dict[str, FlowRunContext] = {}
_active_lock = threading.Lock()
_standalone_runner: Any = None


# ----------------------------------------------------------------------------- tasks


def call_task(task: Task[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    """``task(...)``: run now in this thread; an awaitable for async tasks inside a loop."""
    viz = _viz_tracer.get()
    if viz is not None:
        return viz.call(task, args, kwargs)
    return_state = bool(kwargs.pop("return_state", False))
    wait_for = kwargs.pop("wait_for", None)
    if task.isasync and _has_running_loop() and _caller_can_await():

        async def awaitable() -> Any:
            return await asyncio.to_thread(_call_task, task, args, kwargs, wait_for, return_state)

        return awaitable()
    return _call_task(task, args, kwargs, wait_for, return_state)


def _caller_can_await() -> bool:
    """False in the body of a sync flow or task: it gets the value, never a coroutine."""
    trc = task_run_context.get()
    frc = flow_run_context.get()
    if trc is not None and trc.flow_run_context is frc:
        return trc.task.isasync
    return frc is None or frc.flow.isasync


def _call_task(
    task: Task[..., Any],
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    wait_for: Iterable[Any] | None,
    return_state: bool,
) -> Any:
    frc = flow_run_context.get()
    recorder = frc.recorder if frc is not None else get_recorder()
    if task.validate_parameters:
        args, kwargs = _validated_task_args(task, args, kwargs)
    inputs = task.bind_inputs(args, kwargs)
    info, has_futures = create_task_run(task, frc, inputs, wait_for, recorder)
    state = execute_task_run(task, info, frc, args, kwargs, inputs, has_futures, wait_for, recorder)
    if frc is None:
        recorder.flush()
    if return_state:
        return state
    return state.result()


def _validated_task_args(
    task: Task[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]
) -> tuple[tuple[Any, ...], dict[str, Any]]:
    from .parameters import ParameterSchema

    schema = getattr(task, "_schema", None)
    if schema is None:
        schema = ParameterSchema(task.fn, f"task {task.name!r}")
        task._schema = schema  # type: ignore[attr-defined]
    params = schema.validate(schema.bind(args, kwargs))
    return schema.to_call(params)


def submit_task(
    task: Task[..., Any],
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    wait_for: Iterable[Any] | None,
    extra_inputs: Iterable[TaskInput] = (),
) -> TaskFuture[Any]:
    """``task.submit(...)``: create the run now (Pending), execute it on the task runner."""
    global _standalone_runner
    viz = _viz_tracer.get()
    if viz is not None:
        return viz.submit(task, args, kwargs, wait_for)  # type: ignore[no-any-return]
    frc = flow_run_context.get()
    if frc is not None:
        recorder, runner = frc.recorder, frc.task_runner
    else:  # outside a flow: a shared thread pool, like calling outside a flow just runs it
        from .runners import ThreadPoolTaskRunner

        if _standalone_runner is None:
            _standalone_runner = ThreadPoolTaskRunner()
        recorder, runner = get_recorder(), _standalone_runner
    if task.validate_parameters:
        args, kwargs = _validated_task_args(task, args, kwargs)
    wait_for = list(wait_for) if wait_for is not None else None
    inputs = task.bind_inputs(args, kwargs)
    info, has_futures = create_task_run(
        task, frc, inputs, wait_for, recorder, extra_inputs=extra_inputs
    )
    handle_box: list[TaskFuture[Any]] = []

    def run() -> State:
        return execute_task_run(
            task,
            info,
            frc,
            args,
            kwargs,
            inputs,
            has_futures,
            wait_for,
            recorder,
            handle_box[0] if handle_box else None,
        )

    future: TaskFuture[Any] = TaskFuture(info.id, info.name, runner.submit(run))
    handle_box.append(future)
    if frc is not None:
        frc.futures.append(future)
    return future


def map_task(
    task: Task[..., Any],
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    wait_for: Iterable[Any] | None,
) -> PrefectFutureList:
    """``task.map(...)``: one submitted run per element; ``unmapped(x)`` and scalars repeat."""
    viz = _viz_tracer.get()
    if viz is not None:
        return viz.map(task, args, kwargs, wait_for)  # type: ignore[no-any-return]

    def expand(value: Any) -> list[Any] | None:
        if isinstance(value, allow_failure):
            inner = expand(value.value)
            return None if inner is None else [allow_failure(v) for v in inner]
        if isinstance(value, BaseAnnotation) or isinstance(value, str | bytes | dict):
            return None
        if isinstance(value, TaskFuture):
            value = value.result()
        try:
            return list(value)
        except TypeError:
            return None

    # edges to the producers of the mapped-over collections (their elements lose the link)
    frc = flow_run_context.get()
    named = task.bind_inputs(args, kwargs)
    upstream = [
        TaskInput(edge.upstream_id, "data", edge.parameter)
        for edge in collect_inputs(
            {
                k: v
                for k, v in named.items()
                if isinstance(v, TaskFuture)
                or (frc is not None and frc.result_owner(v) is not None)
            },
            frc,
        )[0]
    ]
    expanded_args = [expand(a) for a in args]
    expanded_kwargs = {k: expand(v) for k, v in kwargs.items()}
    lengths = {len(v) for v in (*expanded_args, *expanded_kwargs.values()) if v is not None}
    if not lengths:
        raise TypeError(f"{task.name}.map() needs at least one iterable argument")
    if len(lengths) > 1:
        raise ValueError(f"{task.name}.map() got iterables of different lengths {sorted(lengths)}")
    n = lengths.pop()
    wait_for = list(wait_for) if wait_for is not None else None

    def pick(raw: Any, exp: list[Any] | None, i: int) -> Any:
        if exp is not None:
            return exp[i]
        return raw.value if isinstance(raw, unmapped) else raw

    return PrefectFutureList(
        submit_task(
            task,
            tuple(pick(a, e, i) for a, e in zip(args, expanded_args, strict=True)),
            {k: pick(kwargs[k], e, i) for k, e in expanded_kwargs.items()},
            wait_for,
            upstream,
        )
        for i in range(n)
    )


# ----------------------------------------------------------------------------- flows


def call_flow(flow: Flow[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    """``flow(...)``: run it; async flows return an awaitable that runs it off the loop."""
    viz = _viz_tracer.get()
    if viz is not None:  # a subflow called while its parent is traced
        return viz.subflow(flow, args, kwargs)
    return_state = bool(kwargs.pop("return_state", False))
    wait_for = kwargs.pop("wait_for", None)
    if wait_for is not None:  # a subflow that waits for task runs of its parent
        from .task_engine import _upstream_problem

        problem = _upstream_problem(wait_for)
        if problem is not None:
            state = Failed(RuntimeError(problem), message=problem)
            return _outcome(state, return_state)
    if flow.isasync:

        async def awaitable() -> Any:
            return await asyncio.to_thread(run_flow, flow, args, kwargs, return_state)

        return awaitable()
    return run_flow(flow, args, kwargs, return_state)


def cancel_flow_run(flow_run_id: str) -> bool:
    """Ask a flow run of this process to stop: tasks not yet started end Cancelled."""
    with _active_lock:
        frc = _active.get(flow_run_id)
    if frc is None:
        return False
    frc.cancel_event.set()
    return True


def active_flow_runs() -> list[str]:
    with _active_lock:
        return list(_active)


def _jsonable(params: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in params.items():
        if value is None or isinstance(value, bool | int | float | str):
            out[key] = value
        elif isinstance(value, list | tuple) and len(value) <= 100:
            out[key] = [v if isinstance(v, bool | int | float | str) else repr(v) for v in value]
        else:
            out[key] = repr(value)[:1000]
    return out


def run_flow(
    flow: Flow[..., Any],
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    return_state: bool = False,
    *,
    flow_run_id: str | None = None,
    flow_run_name: str | None = None,
    deployment_id: str | None = None,
) -> Any:
    """Run ``flow`` to a final state, recording everything; flushes before returning.

    ``flow_run_id`` and ``flow_run_name`` name a run made elsewhere (a deployment's run,
    claimed by a worker) that this call runs.
    """
    parent = flow_run_context.get()
    recorder = parent.recorder if parent is not None else get_recorder()
    error: FlowsError | None = None
    try:
        params = flow.parameters.bind(args, kwargs)
    except ParameterValidationError as exc:
        params, error = dict(kwargs), exc
    extra_tags = current_tags()
    info = FlowRunInfo(
        flow_run_id or new_id(),
        flow_run_name or generate_run_name(),
        flow.name,
        flow.version,
        flow.description,
        sorted(flow.tags | extra_tags) if extra_tags else sorted(flow.tags),
        _jsonable(flow.recorded_parameters(params)),
        now(),
        parent.flow_run.id if parent is not None else None,
        None,
        deployment_id,
    )
    if flow.flow_run_name is not None and flow_run_name is None and error is None:
        try:
            info.name = _flow_run_name(flow, info, recorder, params)
        except FlowsError as exc:
            error = exc
    parent_task = None
    if parent is not None:  # a subflow: a task run in the parent stands for it
        parent_task = _subflow_task(flow, parent, info, recorder, params)
        info.parent_task_run_id = parent_task
    recorder.flow_run_created(info)
    recorder.set_state("flow", info.id, Pending(), 0)
    if error is None and flow.validate_parameters:
        try:
            params = flow.parameters.validate(params)
        except ParameterValidationError as exc:
            error = exc
    if error is not None:
        state = Failed(error, message=str(error))
        _finish(flow, info, recorder, state, 0, parent_task)
        return _outcome(state, return_state)
    frc = FlowRunContext(flow, info, recorder, flow.task_runner.duplicate(), params)
    frc.log_prints = bool(flow.log_prints)
    token = flow_run_context.set(frc)
    prints_token = log_prints_var.set(frc.log_prints)
    if frc.log_prints:
        install_print_capture()
    with _active_lock:
        _active[info.id] = frc
    state, attempt = Failed(message="not started"), 0
    try:
        frc.task_runner.start()
        try:
            state, attempt = _run_attempts(flow, info, frc, recorder, params)
        finally:
            if state.name == "TimedOut":  # don't wait for task runs still going: never hang
                threading.Thread(target=frc.task_runner.shutdown, daemon=True).start()
            else:
                frc.task_runner.shutdown()
    except BaseException as exc:  # KeyboardInterrupt, SystemExit: the run crashed
        state = Crashed(exc, message=f"{type(exc).__name__}: {exc}")
        _finish(flow, info, recorder, state, attempt, parent_task)
        raise
    finally:
        with _active_lock:
            _active.pop(info.id, None)
        log_prints_var.reset(prints_token)
        flow_run_context.reset(token)
    _finish(flow, info, recorder, state, attempt, parent_task)
    if parent is not None and parent_task is not None and state.is_completed():
        parent.track_result(parent_task, state.data)  # passing it on records an edge
    return _outcome(replace(state, run_id=info.id), return_state)


def _flow_run_name(
    flow: Flow[..., Any], info: FlowRunInfo, recorder: RunRecorder, params: dict[str, Any]
) -> str:
    from .run_names import format_run_name

    named = flow.recorded_parameters(params)
    frc = FlowRunContext(flow, info, recorder, flow.task_runner, named)
    token = flow_run_context.set(frc)
    try:
        return format_run_name(flow.flow_run_name, named, f"flow {flow.name!r}")  # type: ignore[arg-type]
    finally:
        flow_run_context.reset(token)


def _subflow_task(
    flow: Flow[..., Any],
    parent: FlowRunContext,
    info: FlowRunInfo,
    recorder: RunRecorder,
    params: dict[str, Any],
) -> str:
    stand_in = Task(flow.fn, name=flow.name, description=flow.description, tags=flow.tags)
    stand_in.task_key = "flow:" + flow.name
    task_info, _ = create_task_run(stand_in, parent, params, None, recorder, subflow_run_id=info.id)
    recorder.set_state("task", task_info.id, Running(), 1)
    return task_info.id


def _run_attempts(
    flow: Flow[..., Any],
    info: FlowRunInfo,
    frc: FlowRunContext,
    recorder: RunRecorder,
    params: dict[str, Any],
) -> tuple[State, int]:
    call_args, call_kwargs = flow.parameters.to_call(params)
    log = get_run_logger()
    attempt = 0
    while True:
        attempt += 1
        frc.run_count = attempt
        running = Running() if attempt == 1 else Retrying()
        recorder.set_state("flow", info.id, running, attempt)
        log.info("Beginning flow run %r for flow %r", info.name, flow.name)
        run_hooks(flow.on_running_hooks, flow, info, running)
        try:
            result = call_function(
                flow.fn,
                call_args,
                call_kwargs,
                is_async=flow.isasync,
                timeout=flow.timeout_seconds,
                name=flow.name,
            )
            for future in list(frc.futures):
                future.wait()
            state, _ = returned_state(result)
            if state.is_completed():
                state = _persist_flow_result(flow, info, recorder, state)
        except TaskTimeout as exc:
            frc.cancel_event.set()
            state = TimedOut(exc, message=str(exc))
        except RunCancelled as exc:
            state = Cancelled(exc, message=str(exc) or "cancelled")
        except Exception as exc:  # noqa: BLE001 - becomes the Failed state
            state = Failed(exc, message=f"{type(exc).__name__}: {exc}")
        if frc.cancel_event.is_set() and not state.is_failed():
            state = Cancelled(RunCancelled("flow run cancelled"), message="flow run cancelled")
        if state.is_completed() or state.is_cancelled():
            return state, attempt
        retry = attempt <= flow.retries
        log.error(
            "Flow run failed: %s (attempt %d of %d)%s",
            state.message,
            attempt,
            flow.retries + 1,
            "; retrying" if retry else "",
            exc_info=state.data if isinstance(state.data, Exception) and not retry else None,
        )
        if not retry:
            return state, attempt
        frc.cancel_event.clear()
        delay = flow.retry_delays[attempt - 1]
        recorder.set_state("flow", info.id, AwaitingRetry(delay, message=state.message), attempt)
        if delay > 0:
            threading.Event().wait(delay)


def _persist_flow_result(
    flow: Flow[..., Any], info: FlowRunInfo, recorder: RunRecorder, state: State
) -> State:
    """Write a persisting flow's result under its run id (``state.result()`` reads it back)."""
    if not flow.persist_result:
        return state
    from .results import ResultRef
    from .task_engine import result_store

    store = flow.result_storage or result_store()
    try:
        stored = store.write(info.id, state.data, flow.result_serializer)
    except FlowsError as exc:
        return Failed(exc, message=f"flow {flow.name!r}: {exc}")
    recorder.result_stored(
        ResultInfo(
            info.id, None, info.id, stored.location, flow.result_serializer.name, now(), None
        )
    )
    if not flow.cache_result_in_memory:
        return replace(state, data=ResultRef(info.id, str(store.root)))
    return state


def _finish(
    flow: Flow[..., Any],
    info: FlowRunInfo,
    recorder: RunRecorder,
    state: State,
    attempt: int,
    parent_task: str | None,
) -> None:
    recorder.set_state("flow", info.id, state, attempt)
    if parent_task is not None:
        recorder.set_state("task", parent_task, replace(state, data=None), 1)
    hooks = {
        StateType.COMPLETED: flow.on_completion_hooks,
        StateType.FAILED: flow.on_failure_hooks,
        StateType.CANCELLED: flow.on_cancellation_hooks,
        StateType.CRASHED: flow.on_crashed_hooks,
    }.get(state.type, ())
    run_hooks(hooks, flow, info, state)
    flow_run_logger(info, recorder).info("Finished in state %s", state)
    recorder.flush()


def _outcome(state: State, return_state: bool) -> Any:
    if return_state:
        return state
    return state.result()
