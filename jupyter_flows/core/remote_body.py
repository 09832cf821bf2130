"""Task bodies that run in another process, with their run logs shipped back.

``remote_body(fn, args, kwargs)`` captures the current task run (its ids, name and
``log_prints``) into a picklable ``RemoteBody``. Called in a worker process (a process pool's
or a Dask worker's), it runs the body inside a task run context whose recorder only
collects: ``get_run_logger()`` records, captured ``print`` lines, and anything a nested task
or flow call reports. It returns bytes holding the value or the exception plus those records;
``unwrap_outcome`` (in the flow's process) replays the records into the run's recorder, in
order and with their original level and time, then returns the value or raises the exception.
"""

from __future__ import annotations

import logging
import os
import pickle
import threading
import traceback
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from .context import FlowRunContext, TaskRunContext, flow_run_context, task_run_context
from .records import FlowRunInfo, LogInfo, TaskRunInfo
from .run_logging import get_run_logger, install_print_capture, log_prints_var
from .states import State

__all__ = ["RemoteBody", "remote_body", "run_payload", "unwrap_outcome", "init_worker"]

logger = logging.getLogger(__name__)
_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@dataclass
class _RunSnapshot:
    """What the remote body needs of the task run that sent it (all picklable)."""

    task_run: TaskRunInfo
    flow_run: FlowRunInfo | None
    flow_persist_result: bool | None
    parameters: dict[str, Any]
    log_prints: bool
    run_count: int


class _Collector:
    """A ``RunRecorder`` that keeps every event, in order, to be replayed elsewhere."""

    def __init__(self) -> None:
        self.events: list[tuple[str, tuple[Any, ...]]] = []
        self._lock = threading.Lock()

    def _add(self, method: str, *args: Any) -> None:
        with self._lock:
            self.events.append((method, args))

    def flow_run_created(self, run: Any) -> None:
        self._add("flow_run_created", run)

    def task_run_created(self, run: Any) -> None:
        self._add("task_run_created", run)

    def set_state(self, kind: Any, run_id: str, state: State, run_count: int) -> None:
        self._add("set_state", kind, run_id, state, run_count)

    def log(self, record: LogInfo) -> None:
        self._add("log", record)

    def result_stored(self, info: Any) -> None:
        self._add("result_stored", info)

    def artifact_saved(self, info: Any) -> None:
        self._add("artifact_saved", info)

    def flush(self) -> None:
        pass


class RemoteBody:
    """``fn(*args, **kwargs)`` plus the task run it belongs to; calling it returns bytes."""

    def __init__(
        self,
        fn: Callable[..., Any],
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        run: _RunSnapshot | None,
    ):
        self.fn = fn
        self.args = args
        self.kwargs = kwargs
        self.run = run

    def dumps(self) -> bytes:
        """This body as cloudpickle bytes (functions of ``__main__`` or a notebook too)."""
        import cloudpickle

        try:
            return bytes(cloudpickle.dumps(self))
        except Exception as exc:  # noqa: BLE001 - say what could not be sent
            raise TypeError(
                f"cannot send the body of {self.name!r} or its arguments to another "
                f"process: {type(exc).__name__}: {exc}"
            ) from exc

    @property
    def name(self) -> str:
        """The task run's name (``add-0``), or the function's outside a task run."""
        return self.run.task_run.name if self.run else str(getattr(self.fn, "__name__", "?"))

    def __call__(self) -> bytes:
        collector = _Collector()
        tokens: list[Any] = []
        try:
            self._enter(collector, tokens)
            outcome = (True, self.fn(*self.args, **self.kwargs))
        except BaseException as exc:  # noqa: BLE001 - shipped back, raised in the flow's process
            outcome = (False, exc)
        finally:
            for var, token in reversed(tokens):
                var.reset(token)
        return _dump_outcome(*outcome, collector.events)

    def _enter(self, collector: _Collector, tokens: list[Any]) -> None:
        """Set the run contexts of the body; ``tokens`` collects what to reset."""
        snap = self.run
        if snap is None:
            return
        from .flows import Flow
        from .runners import SequentialTaskRunner
        from .tasks import Task

        frc = None
        if snap.flow_run is not None:  # a stand-in of the flow run: nested calls record here
            stand_in = Flow(
                _no_flow_body,
                name=snap.flow_run.flow_name,
                persist_result=snap.flow_persist_result,
                log_prints=snap.log_prints,
                task_runner=SequentialTaskRunner(),
            )
            frc = FlowRunContext(stand_in, snap.flow_run, collector, SequentialTaskRunner(), {})
            frc.log_prints = snap.log_prints
        task = Task(self.fn, name=snap.task_run.task_name)
        trc = TaskRunContext(task, snap.task_run, snap.parameters, frc, snap.log_prints)
        trc.run_count = snap.run_count
        tokens.append((flow_run_context, flow_run_context.set(frc)))
        tokens.append((task_run_context, task_run_context.set(trc)))
        tokens.append((log_prints_var, log_prints_var.set(snap.log_prints)))
        if snap.log_prints:
            install_print_capture()


def _no_flow_body() -> None:
    """The function of the stand-in flow of a remote body (never called)."""


def remote_body(
    fn: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]
) -> RemoteBody:
    """Wrap a task body with the current task run, to be run in another process."""
    trc = task_run_context.get()
    if trc is None:
        return RemoteBody(fn, args, kwargs, None)
    frc = trc.flow_run_context
    snap = _RunSnapshot(
        task_run=trc.task_run,
        flow_run=frc.flow_run if frc is not None else None,
        flow_persist_result=frc.flow.persist_result if frc is not None else None,
        parameters=trc.parameters,
        log_prints=bool(log_prints_var.get()),
        run_count=trc.run_count,
    )
    return RemoteBody(fn, args, kwargs, snap)


def run_payload(payload: bytes) -> bytes:
    """In a worker process: load a ``RemoteBody.dumps()`` payload and run it."""
    import cloudpickle

    try:
        body = cloudpickle.loads(payload)
    except BaseException as exc:  # noqa: BLE001 - e.g. a module the worker cannot import
        return _dump_outcome(False, exc, [])
    result: bytes = body()
    return result


def init_worker() -> None:
    """Initializer of pool worker processes: record nothing here, echo nothing twice."""
    from .records import NullRecorder
    from .run_logging import set_console_echo
    from .settings import set_recorder

    set_console_echo(False)  # the flow's process echoes the replayed records
    set_recorder(NullRecorder())  # records reach the run's recorder through the flow's process


# ----------------------------------------------------------------------------- outcomes


def _remote_traceback(exc: BaseException) -> str:
    frames = [
        f
        for f in traceback.extract_tb(exc.__traceback__)
        if not f.filename.startswith(_PACKAGE_DIR)
    ]
    return "".join(traceback.format_list(frames))


def _dump_outcome(ok: bool, value: Any, events: list[tuple[str, tuple[Any, ...]]]) -> bytes:
    """``(ok, pickled value or exception, error info, pickled events, pid)`` as bytes."""
    import cloudpickle

    error: tuple[str, str, str] | None = None
    if not ok:
        error = (type(value).__qualname__, str(value), _remote_traceback(value))
    try:
        data: bytes | None = cloudpickle.dumps(value)
    except Exception as exc:  # noqa: BLE001
        if ok:
            ok, data = False, None
            error = (
                "TypeError",
                f"the return value of the task body cannot be sent back to the flow's "
                f"process: {type(exc).__name__}: {exc}",
                "",
            )
        else:
            data = None  # rebuilt from ``error`` in the flow's process
    return pickle.dumps((ok, data, error, _dump_events(events), os.getpid()))


def _dump_events(events: list[tuple[str, tuple[Any, ...]]]) -> bytes:
    import cloudpickle

    try:
        return bytes(cloudpickle.dumps(events))
    except Exception:  # noqa: BLE001 - drop what cannot travel (state data), keep the rest
        slim = [
            (m, tuple(replace(a, data=None) if isinstance(a, State) else a for a in args))
            for m, args in events
        ]
        try:
            return bytes(cloudpickle.dumps(slim))
        except Exception:  # noqa: BLE001
            return bytes(cloudpickle.dumps([e for e in slim if e[0] == "log"]))


def unwrap_outcome(data: bytes) -> Any:
    """In the flow's process: replay the body's records, then return its value or raise."""
    import cloudpickle

    ok, value_bytes, error, events_bytes, pid = pickle.loads(data)
    _replay(cloudpickle.loads(events_bytes))
    if ok:
        try:
            return cloudpickle.loads(value_bytes)
        except Exception as exc:  # noqa: BLE001
            raise TypeError(
                f"the return value of the task body cannot be loaded in the flow's process: "
                f"{type(exc).__name__}: {exc}"
            ) from None
    raised = _load_exception(value_bytes, error)
    if error[2] and hasattr(raised, "add_note"):  # Python >= 3.11
        raised.add_note(f"Raised in process {pid}:\n{error[2].rstrip()}")
    raise raised


def _load_exception(value_bytes: bytes | None, error: tuple[str, str, str]) -> BaseException:
    import cloudpickle

    if value_bytes is not None:
        try:
            exc = cloudpickle.loads(value_bytes)
            if isinstance(exc, BaseException):
                return exc
        except Exception:  # noqa: BLE001 - e.g. an exception class with a custom __init__
            logger.debug("exception %s could not be unpickled", error[0], exc_info=True)
    return RuntimeError(f"{error[0]}: {error[1]}")


def _replay(events: list[tuple[str, tuple[Any, ...]]]) -> None:
    """Send the records to the current run's recorder; logs also echo as local ones do."""
    trc = task_run_context.get()
    frc = trc.flow_run_context if trc is not None else flow_run_context.get()
    if frc is not None:
        recorder: Any = frc.recorder
    else:
        from .settings import get_recorder

        recorder = get_recorder()
    run_logger = get_run_logger()  # sets the run loggers up
    for method, args in events:
        if method != "log":
            getattr(recorder, method)(*args)
            continue
        info: LogInfo = args[0]
        same_run = trc is not None and info.task_run_id == trc.task_run.id
        extra = {
            "flow_run_id": info.flow_run_id,
            "task_run_id": info.task_run_id,
            "recorder": recorder,
            "run_label": (run_logger.extra or {}).get("run_label", "") if same_run else "",
        }
        target = logging.getLogger(info.logger)
        record = target.makeRecord(
            info.logger, info.level, "(remote)", 0, info.message, (), None, extra=extra
        )
        created = info.timestamp.timestamp()
        record.created, record.msecs = created, (created - int(created)) * 1000
        target.handle(record)


class ContextCall:
    """``with_context(fn)``: ``fn`` with the run context of where it was wrapped.

    Picklable (with ``multiprocessing`` the function must be importable, i.e. defined at
    module level). Called in a child process, it restores the flow and task run so that
    ``get_run_logger()`` and ``print`` (with ``log_prints``) record into the same run, through
    that process's recorder (the run database, or the server for a worker's run process).
    """

    def __init__(self, fn: Callable[..., Any]):
        self.fn = fn
        trc = task_run_context.get()
        frc = trc.flow_run_context if trc is not None else flow_run_context.get()
        self.flow_run = frc.flow_run if frc is not None else None
        self.flow_name = frc.flow.name if frc is not None else None
        self.task_run = trc.task_run if trc is not None else None
        self.task_name = trc.task.name if trc is not None else None
        self.parameters = trc.parameters if trc is not None else (frc.parameters if frc else {})
        self.log_prints = bool(log_prints_var.get())

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        from .flows import Flow
        from .runners import SequentialTaskRunner
        from .settings import get_recorder
        from .tasks import Task

        recorder = get_recorder()
        frc = None
        if self.flow_run is not None:
            stand_in = Flow(_no_flow_body, name=self.flow_name, log_prints=self.log_prints)
            frc = FlowRunContext(
                stand_in, self.flow_run, recorder, SequentialTaskRunner(), self.parameters
            )
            frc.log_prints = self.log_prints
        trc = None
        if self.task_run is not None:
            task = Task(self.fn, name=self.task_name)
            trc = TaskRunContext(task, self.task_run, self.parameters, frc, self.log_prints)
        tokens: list[tuple[Any, Any]] = [
            (flow_run_context, flow_run_context.set(frc)),
            (task_run_context, task_run_context.set(trc)),
            (log_prints_var, log_prints_var.set(self.log_prints)),
        ]
        if self.log_prints:
            install_print_capture()
        try:
            return self.fn(*args, **kwargs)
        finally:
            for var, token in reversed(tokens):
                var.reset(token)
            recorder.flush()


def with_context(fn: Callable[..., Any]) -> ContextCall:
    """Prefect's ``with_context``: carry the current run context into a child process."""
    return ContextCall(fn)
