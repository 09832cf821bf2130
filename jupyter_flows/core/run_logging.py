"""Run loggers: ``get_run_logger()``, per-run log records, and ``log_prints`` capture.

The run loggers (``jupyter_flows.flow_runs``, ``jupyter_flows.task_runs``) store each record
with its run and propagate it, so that the application's handlers (and pytest's ``caplog``)
see run lines too. They print it on stderr themselves only when no handler above them
already prints it on the console: each line shows once, with or without
``logging.basicConfig()``. Nothing here configures logging beyond these two loggers.
"""

from __future__ import annotations

import builtins
import logging
import os
import sys
import threading
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime, timezone
from typing import Any

from .context import flow_run_context, task_run_context
from .records import FlowRunInfo, LogInfo, RunRecorder
from .redaction import has_secrets, redact

__all__ = [
    "get_run_logger",
    "get_logger",
    "disable_run_logger",
    "flow_run_logger",
    "RunLogHandler",
    "install_print_capture",
    "log_prints_var",
    "set_console_echo",
]

FLOW_LOGGER = "jupyter_flows.flow_runs"
TASK_LOGGER = "jupyter_flows.task_runs"
NO_RUN_LOGGER = "jupyter_flows.no_run"
NULL_LOGGER = "jupyter_flows.null"
log_prints_var: ContextVar[bool] = ContextVar("jupyter_flows_log_prints", default=False)

_setup_lock = threading.Lock()
_setup_done = False
_original_print = builtins.print


class RunLogHandler(logging.Handler):
    """Sends records of the run loggers to the recorder of the current run."""

    def emit(self, record: logging.LogRecord) -> None:
        flow_run_id = getattr(record, "flow_run_id", None)
        task_run_id = getattr(record, "task_run_id", None)
        recorder = getattr(record, "recorder", None)
        if recorder is None:
            return
        try:
            message = record.getMessage()
            if record.exc_info and record.exc_info[1] is not None:
                message += "\n" + format_user_traceback(record.exc_info[1])
            message = redact(message)  # (the filter did the message; this, the traceback)
            recorder.log(
                LogInfo(
                    flow_run_id,
                    task_run_id,
                    record.levelno,
                    record.name,
                    message,
                    datetime.fromtimestamp(record.created, timezone.utc),
                )
            )
        except Exception:  # noqa: BLE001 - logging must never break a run
            self.handleError(record)


class _RedactSecrets(logging.Filter):
    """Replaces the secret values this process knows (``core.redaction``) in a run logger's
    record before any handler sees it: the stored run logs, the console, the application's
    handlers."""

    def filter(self, record: logging.LogRecord) -> bool:
        if has_secrets():
            record.msg, record.args = redact(record.getMessage()), None
            if record.exc_info and not record.exc_text:
                record.exc_text = logging.Formatter().formatException(record.exc_info)
            if record.exc_text:
                record.exc_text = redact(record.exc_text)
        return True


def _on_console(handler: logging.Handler) -> bool:
    """Does ``handler`` print on this process's stderr or stdout?"""
    if not isinstance(handler, logging.StreamHandler) or isinstance(handler, logging.FileHandler):
        return False
    stream = getattr(handler, "stream", None)
    consoles = (sys.stderr, sys.stdout, sys.__stderr__, sys.__stdout__)
    return stream is not None and any(stream is c for c in consoles)


def _printed_above(name: str, level: int) -> bool:
    """Does a handler above the logger ``name`` print a record of ``level`` on the console
    (the application's ``logging.basicConfig()``, say)?"""
    current = logging.getLogger(name)
    while current.propagate and current.parent is not None:
        current = current.parent
        if any(_on_console(h) and level >= h.level for h in current.handlers):
            return True
    return False


class _StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever ``sys.stderr`` is now (Jupyter and pytest swap it), unless a
    handler the record propagates to prints it on the console already."""

    echo = True

    def emit(self, record: logging.LogRecord) -> None:
        if not _StderrHandler.echo or _printed_above(record.name, record.levelno):
            return
        self.stream = sys.stderr
        super().emit(record)


def set_console_echo(on: bool) -> None:
    """Also print run log lines on stderr (the default), or only record them.

    A worker's run process turns it off: the worker stores what the process prints as
    run logs too, so an echoed line would be stored twice.
    """
    _StderrHandler.echo = on


_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def format_user_traceback(exc: BaseException) -> str:
    """The exception's traceback without jupyter-flows' own frames."""
    frames = [
        f
        for f in traceback.extract_tb(exc.__traceback__)
        if not f.filename.startswith(_PACKAGE_DIR)
    ]
    lines = ["Traceback (most recent call last):\n", *traceback.format_list(frames)]
    lines.extend(traceback.format_exception_only(type(exc), exc))
    return "".join(lines).rstrip()


class _ConsoleFormatter(logging.Formatter):
    """One line per record on the console; tracebacks go to the stored logs only."""

    def format(self, record: logging.LogRecord) -> str:
        record.run_label = getattr(record, "run_label", "")
        saved = record.exc_info, record.exc_text
        record.exc_info, record.exc_text = None, None
        try:
            return super().format(record)
        finally:
            record.exc_info, record.exc_text = saved


def _setup_loggers() -> None:
    global _setup_done
    with _setup_lock:
        if _setup_done:
            return
        handler = RunLogHandler()
        console = _StderrHandler()
        console.setFormatter(
            _ConsoleFormatter(
                "%(asctime)s.%(msecs)03d | %(levelname)-7s | %(run_label)s - %(message)s",
                "%H:%M:%S",
            )
        )
        for name in (FLOW_LOGGER, TASK_LOGGER):
            logger = logging.getLogger(name)
            logger.addFilter(_RedactSecrets())
            logger.setLevel(logging.INFO)
            logger.addHandler(handler)
            logger.addHandler(console)
            logger.propagate = True  # the application's handlers and caplog see run lines
        _setup_done = True


@contextmanager
def _disabled(name: str) -> Iterator[None]:
    logger = logging.getLogger(name)
    before = logger.disabled
    logger.disabled = True
    try:
        yield
    finally:
        logger.disabled = before


@contextmanager
def disable_run_logger() -> Iterator[None]:
    """Discard what run loggers log until the block ends (Prefect's API).

    Inside it ``get_run_logger()`` works outside any run too, returning a logger that
    discards, so that a task's function can be tested alone: ``my_task.fn(...)``. Like
    Prefect's, it acts on the whole process (the run loggers of every thread).
    """
    with _disabled(FLOW_LOGGER), _disabled(TASK_LOGGER):
        yield


def get_logger(name: str | None = None) -> logging.Logger:
    """A logger under ``jupyter_flows`` (Prefect's ``get_logger``): ``get_logger("etl")`` is
    ``jupyter_flows.etl``; a full name (``jupyter_flows.x``) is kept as it is."""
    if not name:
        return logging.getLogger("jupyter_flows")
    if name == "jupyter_flows" or name.startswith("jupyter_flows."):
        return logging.getLogger(name)
    return logging.getLogger("jupyter_flows." + name)


def get_run_logger(**extra: Any) -> logging.LoggerAdapter[logging.Logger]:
    """A logger whose records are stored with the current flow or task run.

    Outside any run it returns a plain logger that only prints (no error, no surprise);
    inside ``disable_run_logger()``, one that discards.
    """
    _setup_loggers()
    trc = task_run_context.get()
    frc = flow_run_context.get()
    if trc is not None:
        fields = {
            "flow_run_id": trc.task_run.flow_run_id,
            "task_run_id": trc.task_run.id,
            "recorder": trc.flow_run_context.recorder if trc.flow_run_context else None,
            "run_label": f"Task run {trc.task_run.name!r}",
        }
        if fields["recorder"] is None:
            from .settings import get_recorder

            fields["recorder"] = get_recorder()
        return logging.LoggerAdapter(logging.getLogger(TASK_LOGGER), {**fields, **extra})
    if frc is not None:
        fields = {
            "flow_run_id": frc.flow_run.id,
            "task_run_id": None,
            "recorder": frc.recorder,
            "run_label": f"Flow run {frc.flow_run.name!r}",
        }
        return logging.LoggerAdapter(logging.getLogger(FLOW_LOGGER), {**fields, **extra})
    if logging.getLogger(FLOW_LOGGER).disabled and logging.getLogger(TASK_LOGGER).disabled:
        null = logging.getLogger(NULL_LOGGER)  # disable_run_logger(): discard
        null.disabled = True
        return logging.LoggerAdapter(null, {"run_label": "", **extra})
    return logging.LoggerAdapter(logging.getLogger(NO_RUN_LOGGER), {"run_label": "", **extra})


def flow_run_logger(
    info: FlowRunInfo, recorder: RunRecorder
) -> logging.LoggerAdapter[logging.Logger]:
    """The run logger of a flow run, usable after its context has ended."""
    _setup_loggers()
    fields = {
        "flow_run_id": info.id,
        "task_run_id": None,
        "recorder": recorder,
        "run_label": f"Flow run {info.name!r}",
    }
    return logging.LoggerAdapter(logging.getLogger(FLOW_LOGGER), fields)


def _capturing_print(*args: Any, **kwargs: Any) -> None:
    """``print`` that, inside a run with ``log_prints``, logs the line instead (as Prefect)."""
    if log_prints_var.get() and kwargs.get("file") in (None, sys.stdout):
        sep = kwargs.get("sep")
        message = (" " if sep is None else sep).join(str(a) for a in args)
        get_run_logger().info(message)
        return
    _original_print(*args, **kwargs)


def install_print_capture() -> None:
    """Route ``print`` of runs with ``log_prints=True`` to their logs (installed once)."""
    if builtins.print is not _capturing_print:
        builtins.print = _capturing_print
