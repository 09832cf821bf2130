"""The one engine: runs flows (and their tasks, via ``task_engine``) and records every state.

There is a single, synchronous engine. Async functions are run to completion by it
(``calls.run_coroutine_sync``); an async flow's ``__call__`` only wraps the engine in an
awaitable, so ``await my_flow()`` works in a notebook without a second engine.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import replace
from typing import Any

from ..exceptions import FlowsError, ParameterValidationError, Pause, RunCancelled, TaskTimeout
from .calls import call_function
from .context import FlowRunContext, flow_run_context
from .context import visualize_tracer as _viz_tracer
from .flows import Flow
from .names import generate_run_name
from .prior_runs import prior_run_for
from .records import FlowRunInfo, ResultInfo, RunRecorder, new_id
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
    Suspended,
    TimedOut,
    now,
)
from .tags import current_tags
from .task_calls import call_task, map_task, off_loop, submit_task
from .task_engine import create_task_run, run_hooks
from .tasks import Task

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
    if flow.isgenerator and not return_state:  # yields the values as the flow run makes them
        from .generators import stream_run, with_body

        return stream_run(
            lambda body: run_flow(with_body(flow, body), args, kwargs, False), flow.fn
        )
    if flow.isasync:

        async def awaitable() -> Any:
            return await off_loop(run_flow, flow, args, kwargs, return_state)

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
    if flow_run_id is not None:  # a deployment's run: maybe a retry from failure
        frc.prior = prior_run_for(flow_run_id)
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
    except Pause as signal:  # suspend_flow_run: Suspended is recorded, nothing ends
        suspended = signal.state if isinstance(signal.state, State) else Suspended()
        flow_run_logger(info, recorder).info("Suspended: the run goes on when it is resumed")
        recorder.flush()
        if return_state:
            return suspended.of_run(info.id)
        raise
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
    return _outcome(state.of_run(info.id), return_state)


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
        recorder.set_state("task", parent_task, state.without_data(), 1)
    hooks = {
        StateType.COMPLETED: flow.on_completion_hooks,
        StateType.FAILED: flow.on_failure_hooks,
        StateType.CANCELLED: flow.on_cancellation_hooks,
        StateType.CRASHED: flow.on_crashed_hooks,
    }.get(state.type, ())
    run_hooks(hooks, flow, info, state)
    flow_run_logger(info, recorder).info("Finished in state %s", state)
    if parent_task is None:  # a subflow's records go with its parent's (reads flush first)
        recorder.flush()


def _outcome(state: State, return_state: bool) -> Any:
    if return_state:
        return state
    return state.result()
