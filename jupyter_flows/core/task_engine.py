"""The task half of the one engine: create, run, retry, cache and record a task run."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from dataclasses import replace
from typing import Any

from ..exceptions import ResultPersistenceError, RunCancelled, TaskTimeout
from .annotations import allow_failure
from .caching import DEFAULT
from .calls import call_function
from .context import FlowRunContext, TaskRunContext, flow_run_context, task_run_context
from .futures import TaskFuture
from .inputs import UpstreamFailed, resolve_inputs, visit_inputs
from .records import ResultInfo, RunRecorder, TaskInput, TaskRunInfo, new_id
from .results import ResultRef, ResultStore
from .returned import returned_state
from .run_logging import get_run_logger, install_print_capture, log_prints_var
from .settings import get_recorder
from .states import (
    AwaitingRetry,
    Cached,
    Cancelled,
    Crashed,
    Failed,
    Pending,
    Retrying,
    Running,
    State,
    TimedOut,
    now,
)
from .tag_limits import hold_tag_slots
from .tags import current_tags
from .tasks import Task
from .transactions import Transaction, get_transaction

__all__ = ["create_task_run", "execute_task_run", "run_hooks", "collect_inputs"]

logger = logging.getLogger(__name__)
_result_store: ResultStore | None = None


def result_store() -> ResultStore:
    global _result_store
    if _result_store is None:
        _result_store = ResultStore()
    return _result_store


def collect_inputs(
    inputs: dict[str, Any], frc: FlowRunContext | None
) -> tuple[list[TaskInput], bool]:
    """Upstream edges of a call's arguments, and whether any argument must be resolved."""
    edges: list[TaskInput] = []
    resolve = False
    for param, value in inputs.items():
        if type(value) in (int, float, str, bool, type(None)) and frc is None:
            continue
        resolve = visit_inputs(value, param, frc, edges) or resolve
    return edges, resolve


def _wait_for_edges(wait_for: Iterable[Any] | None) -> list[TaskInput]:
    """Edges of ``wait_for``: futures, states, ``allow_failure`` of those (values are ignored)."""
    edges = []
    for item in wait_for or ():
        inner = item.value if isinstance(item, allow_failure) else item
        run_id = getattr(inner, "task_run_id", None) or getattr(inner, "run_id", None)
        if isinstance(inner, TaskFuture | State) and run_id:
            edges.append(TaskInput(run_id, "wait_for"))
    return edges


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
    edges.extend(_wait_for_edges(wait_for))
    key = frc.next_dynamic_key(task.task_key) if frc is not None else 0
    extra_tags = current_tags()
    adopted = None
    if frc is not None and frc.prior is not None:  # a resumed run: its own task run
        adopted = frc.prior.adopt(frc.flow_run.id, task.task_key, key)
    info = TaskRunInfo(
        adopted or new_id(),
        frc.flow_run.id if frc is not None else None,
        task.task_key,
        task.name,
        f"{task.name}-{key}",
        sorted(task.tags | extra_tags) if extra_tags else sorted(task.tags),
        now(),
        edges,
        None,
        key,
        task.description,
        task.version,
        subflow_run_id,
    )
    if task.task_run_name is not None:
        info.name = _task_run_name(task, info, frc, inputs)
    if adopted is None:  # (an adopted task run is recorded, and stays as it ended)
        recorder.task_run_created(info)
        recorder.set_state("task", info.id, Pending(), 0)
    return info, has_futures


def _task_run_name(
    task: Task[..., Any], info: TaskRunInfo, frc: FlowRunContext | None, inputs: dict[str, Any]
) -> str:
    from .run_names import format_run_name

    token = task_run_context.set(TaskRunContext(task, info, inputs, frc))
    try:
        return format_run_name(task.task_run_name, inputs, f"task {task.name!r}")  # type: ignore[arg-type]
    finally:
        task_run_context.reset(token)


def run_hooks(hooks: Iterable[Callable[..., Any]], *args: Any) -> None:
    """Call each hook; a hook that raises is logged and never changes the run's outcome."""
    for hook in hooks:
        try:
            hook(*args)
        except Exception:  # noqa: BLE001 - hooks never mask the run's state
            get_run_logger().exception(
                "hook %s raised; the run's state is unchanged", getattr(hook, "__name__", hook)
            )


def _upstream_problem(wait_for: Iterable[Any] | None) -> str | None:
    for item in wait_for or ():
        allowed = isinstance(item, allow_failure)
        inner = item.value if allowed else item
        if isinstance(inner, TaskFuture):
            state = inner.wait()
            name = inner.task_name
        elif isinstance(inner, State):
            state, name = inner, "upstream"
        else:
            continue  # a plain value: nothing to wait for
        if not allowed and (state is None or not state.is_completed()):
            return f"upstream task run {name!r} ended {state}"
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

    problem = _upstream_problem(wait_for)
    if problem is None and has_futures:
        try:
            args = resolve_inputs(args)
            kwargs = resolve_inputs(kwargs)
            inputs = resolve_inputs(inputs)
        except UpstreamFailed as exc:
            problem = str(exc)
        except BaseException as exc:  # noqa: BLE001 - the upstream's failure, not ours
            problem = f"upstream task failed: {type(exc).__name__}: {exc}"
    if problem is not None:
        state = Failed(RuntimeError(problem), message=problem)
        set_state(state, 0)
        run_hooks(task.on_failure_hooks, task, info, state)
        return state.of_run(info.id)
    if frc is not None and frc.cancel_event.is_set():
        state = Cancelled(RunCancelled("flow run cancelled"), message="flow run cancelled")
        set_state(state, 0)
        return state.of_run(info.id)

    if frc is not None and frc.prior is not None:
        reused = _reuse(task, info, frc, set_state)
        if reused is not None:
            return reused
    release = None
    if info.tags:  # tag limits: only tagged task runs pay for them
        held = hold_tag_slots(info, frc.cancel_event if frc is not None else None, set_state)
        if isinstance(held, State):
            if held.is_failed():
                run_hooks(task.on_failure_hooks, task, info, held)
            return held.of_run(info.id)
        release = held
    log_prints = task.log_prints if task.log_prints is not None else None
    trc = TaskRunContext(task, info, inputs, frc, bool(log_prints))
    token = task_run_context.set(trc)
    prints_token = log_prints_var.set(log_prints) if log_prints is not None else None
    if log_prints:
        install_print_capture()
    try:
        return _run_attempts(task, info, trc, frc, args, kwargs, inputs, set_state).of_run(info.id)
    finally:
        if prints_token is not None:
            log_prints_var.reset(prints_token)
        task_run_context.reset(token)
        if release is not None:
            release()


def _reuse(
    task: Task[..., Any],
    info: TaskRunInfo,
    frc: FlowRunContext,
    set_state: Callable[[State, int], None],
) -> State | None:
    """A retry from failure: the earlier run's result of this task run, if it completed
    there with a persisted result (``core.prior_runs``); recorded ``Cached``."""
    found = frc.prior.result_of(task.task_key, info.dynamic_key)
    if found is None:
        return None
    old_task_run, value, ref = found
    if old_task_run == info.id:  # a resumed run's own task run (adopted): recorded as it
        frc.track_result(info.id, value)  # ended; the caller learns its body did not run
        return Cached(value, message="completed before the run was suspended").of_run(info.id)
    state = Cached(value, message=f"reused from run {frc.prior.run_id} (task run {old_task_run})")
    set_state(state, 0)
    location = ref.location
    if not location:  # read through the server: this task run's own copy, there too
        try:
            copied = ref.copy_to(info.id)
        except Exception as exc:  # noqa: BLE001 - the run goes on; a later retry reruns it
            logger.warning("cannot keep reused result %s as %s: %s", ref.key, info.id, exc)
            copied = None
        location = copied.location if copied is not None else None
    if location:  # the same file is this task run's result too (a retry of the retry)
        current_recorder(frc).result_stored(
            ResultInfo(
                info.id, info.id, info.flow_run_id, location, task.result_serializer.name, now()
            )  # fmt: skip
        )
    frc.track_result(info.id, value)
    run_hooks(task.on_completion_hooks, task, info, state)
    return state.of_run(info.id)


def _persists(task: Task[..., Any], frc: FlowRunContext | None) -> bool:
    """Whether the task's result is persisted: its own option, else its flow's (as Prefect)."""
    persist = task.persist_result
    if persist is None and frc is not None:
        persist = frc.flow.persist_result
    return bool(persist)


def _cache_key(
    task: Task[..., Any], trc: TaskRunContext, inputs: dict[str, Any], persist: bool
) -> str | None:
    """The run's cache key. Without persistence nothing is cached; with it, a task without a
    policy uses ``DEFAULT`` (inputs, source and flow run), as in Prefect."""
    if not persist:
        return None
    try:
        if task.cache_key_fn is not None:
            return task.cache_key_fn(trc, inputs)
        policy = task.cache_policy if task.cache_policy is not None else DEFAULT
        return policy.compute_key(trc, inputs)
    except Exception:  # noqa: BLE001 - a broken key function disables caching, loudly
        get_run_logger().exception("cache key of task %r could not be computed", task.name)
        return None


def _storage_key(task: Task[..., Any], trc: TaskRunContext) -> str | None:
    """``result_storage_key`` formatted with ``parameters``, ``flow_run`` and ``task_run``."""
    if task.result_storage_key is None:
        return None
    from types import SimpleNamespace

    frc = trc.flow_run_context
    flow_run = SimpleNamespace(
        id=frc.flow_run.id if frc else None,
        name=frc.flow_run.name if frc else None,
        flow_name=frc.flow_run.flow_name if frc else None,
        parameters=frc.parameters if frc else {},
    )
    task_run = SimpleNamespace(
        id=trc.task_run.id, name=trc.task_run.name, task_name=task.name, parameters=trc.parameters
    )
    return task.result_storage_key.format(
        parameters=trc.parameters, flow_run=flow_run, task_run=task_run
    )


def _store_of(task: Task[..., Any]) -> ResultStore:
    if task.result_storage is not None:
        return task.result_storage  # type: ignore[no-any-return]
    storage = getattr(task.cache_policy, "key_storage", None)
    return storage if storage is not None else result_store()


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
    persist = _persists(task, frc)
    key = _cache_key(task, trc, inputs, persist)
    parent = get_transaction()
    if key is None and not persist and parent is None and not task.on_commit_hooks:
        return _attempts(task, info, trc, frc, args, kwargs, set_state)  # the common, light path
    store = _store_of(task)
    try:
        txn_key = _storage_key(task, trc) or key or (info.id if persist else None)
        if txn_key is not None:
            store.path(txn_key)  # a key that escapes the storage is refused here
    except Exception as exc:  # noqa: BLE001 - a bad template fails the run, naming it
        message = f"task {task.name!r}: result_storage_key: {type(exc).__name__}: {exc}"
        state = Failed(ValueError(message), message=message)
        set_state(state, 0)
        return state
    isolation = getattr(task.cache_policy, "isolation_level", None)
    with Transaction(
        txn_key,
        store,
        isolation_level=isolation,
        overwrite=task.refresh_cache,
        write_on_commit=persist,
        serializer=task.result_serializer,
    ) as txn:
        txn.expires_in = task.cache_expiration
        cacheable = key is not None or task.result_storage_key is not None
        if cacheable and txn.is_committed():
            value = txn.read()
            state = Cached(value, message=f"cache hit {txn_key[:12] if txn_key else ''}")
            set_state(state, 0)
            if frc is not None:
                frc.track_result(info.id, value)
            run_hooks(task.on_completion_hooks, task, info, state)
            return state
        state = _attempts(task, info, trc, frc, args, kwargs, set_state, txn)
        if not state.is_completed():
            txn.rollback()
    return state


def _stage(
    task: Task[..., Any],
    info: TaskRunInfo,
    frc: FlowRunContext | None,
    txn: Transaction,
    state: State,
) -> State:
    """Stage a completed run's result in its transaction; commit now unless nested."""
    value = state.data
    recorder = current_recorder(frc)

    def record(stored: Any) -> None:
        recorder.result_stored(
            ResultInfo(
                txn.key or info.id,
                info.id,
                info.flow_run_id,
                stored.location,
                task.result_serializer.name,
                now(),
                stored.expires,
            )
        )

    txn.stage(value, task.on_commit_hooks, task.on_rollback_hooks, record)
    if txn.parent is None:
        try:
            txn.commit()
        except ResultPersistenceError as exc:
            message = f"task {task.name!r}: {exc}"
            return Failed(ResultPersistenceError(message), message=message)
    if not task.cache_result_in_memory and txn.key is not None and txn.store is not None:
        return replace(state, data=ResultRef(txn.key, str(txn.store.root)))
    return state


def _attempts(
    task: Task[..., Any],
    info: TaskRunInfo,
    trc: TaskRunContext,
    frc: FlowRunContext | None,
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    set_state: Callable[[State, int], None],
    txn: Transaction | None = None,
) -> State:
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
        returned = False
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
            state, returned = returned_state(value)
            if state.is_completed() and txn is not None:
                state = _stage(task, info, frc, txn, state)
        if state.is_completed():
            if frc is not None and task.cache_result_in_memory:
                frc.track_result(info.id, state.data)
            set_state(state, attempt)
            run_hooks(task.on_completion_hooks, task, info, state)
            return state
        retry = (
            not returned
            and attempt <= task.retries
            and not state.is_cancelled()
            and not cancel.is_set()
        )
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
            hooks = task.on_failure_hooks if state.is_failed() or state.is_crashed() else ()
            run_hooks(hooks, task, info, state)
            return state
        from .options import jittered

        delay = jittered(task.retry_delays[attempt - 1], task.retry_jitter_factor)
        set_state(AwaitingRetry(delay, message=state.message), attempt)
        if cancel.wait(delay) if delay > 0 else cancel.is_set():
            state = Cancelled(RunCancelled("flow run cancelled"), message="flow run cancelled")
            set_state(state, attempt)
            return state


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
