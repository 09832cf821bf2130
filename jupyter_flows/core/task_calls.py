"""Task calls: ``task(...)``, ``task.submit(...)`` and ``task.map(...)``, in or out of a flow.

They create the task run and hand it to ``task_engine`` (in this thread, or on the flow's
task runner); an awaited async call runs the engine off the event loop.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextvars
import functools
from collections.abc import Iterable
from typing import Any

from .annotations import BaseAnnotation, allow_failure, unmapped
from .calls import _has_running_loop
from .context import flow_run_context, task_run_context
from .context import visualize_tracer as _viz_tracer
from .futures import PrefectFutureList, TaskFuture
from .records import TaskInput
from .settings import get_recorder
from .states import State
from .task_engine import collect_inputs, create_task_run, execute_task_run
from .tasks import Task

__all__ = ["call_task", "submit_task", "map_task", "off_loop"]

_standalone_runner: Any = None

_async_pool: concurrent.futures.ThreadPoolExecutor | None = None


async def off_loop(fn: Any, *args: Any) -> Any:
    """Run the engine for an awaited call off the event loop (up to 256 at once, as
    ``asyncio.gather`` of many async tasks expects; the default executor has only a few)."""
    global _async_pool
    if _async_pool is None:
        _async_pool = concurrent.futures.ThreadPoolExecutor(256, "jupyter-flows-await")
    ctx = contextvars.copy_context()
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(_async_pool, functools.partial(ctx.run, fn, *args))


def call_task(task: Task[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    """``task(...)``: run now in this thread; an awaitable for async tasks inside a loop."""
    viz = _viz_tracer.get()
    if viz is not None:
        return viz.call(task, args, kwargs)
    return_state = bool(kwargs.pop("return_state", False))
    wait_for = kwargs.pop("wait_for", None)
    if task.isgenerator and not return_state:  # yields the values as the task run makes them
        from .generators import stream_run, with_body

        return stream_run(
            lambda body: _call_task(with_body(task, body), args, kwargs, wait_for, False),
            task.fn,
        )
    if task.isasync and _has_running_loop() and _caller_can_await():

        async def awaitable() -> Any:
            return await off_loop(_call_task, task, args, kwargs, wait_for, return_state)

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
    deferred: bool = False,
) -> PrefectFutureList:
    """``task.map(...)``: one submitted run per element; ``unmapped(x)`` and scalars repeat.

    ``deferred``: each element is a background run (``task.apply_async``) instead."""
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

    calls = [
        (
            tuple(pick(a, e, i) for a, e in zip(args, expanded_args, strict=True)),
            {k: pick(kwargs[k], e, i) for k, e in expanded_kwargs.items()},
        )
        for i in range(n)
    ]
    if deferred:
        from .background import apply_async

        return PrefectFutureList(apply_async(task, a, k, wait_for) for a, k in calls)
    return PrefectFutureList(submit_task(task, a, k, wait_for, upstream) for a, k in calls)
