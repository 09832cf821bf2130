"""A ``%%task`` cell's printed output, line by line, into its run's logs while it runs.

While task cells run, ``sys.stdout`` and ``sys.stderr`` are wrapped: every write still goes
to the notebook unchanged, and each complete line written from inside a task run (the
engine's ``task_run_context``, which follows the cell into timeout and parallel threads) is
sent at once to the run recorder as a log line: INFO for stdout, WARNING for stderr. Text
after the last newline is sent when the task run ends. jupyter-flows' own console echo of
run-logger records is not sent again: those records are already stored.
"""

from __future__ import annotations

import contextlib
import logging
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from ..core.context import TaskRunContext, task_run_context
from ..core.records import LogInfo, RunRecorder

__all__ = ["captured_output", "end_output", "STDOUT_LOGGER", "STDERR_LOGGER"]

logger = logging.getLogger(__name__)

STDOUT_LOGGER = "jupyter_flows.cell.stdout"
STDERR_LOGGER = "jupyter_flows.cell.stderr"
#: A line without a newline (a progress bar's ``\r`` updates) is sent once this long.
MAX_LINE = 8192
_EMIT = logging.StreamHandler.emit.__code__


@dataclass
class _Partial:
    flow_run_id: str | None
    task_run_id: str
    recorder: RunRecorder
    text: str = ""


def _recorder(trc: TaskRunContext) -> RunRecorder:
    if trc.flow_run_context is not None:
        return trc.flow_run_context.recorder
    from ..core.settings import get_recorder

    return get_recorder()


def _echo_of_a_run_log(frame: Any) -> bool:
    """Is this write jupyter-flows' console echo of a log record it already stored?"""
    if frame is None or frame.f_code is not _EMIT:
        return False
    handler = frame.f_locals.get("self")
    return type(handler).__module__.startswith("jupyter_flows.")


class _LineStream:
    """A text stream that passes writes through and logs the task runs' complete lines."""

    def __init__(self, stream: Any, level: int, logger_name: str):
        self.stream = stream
        self.level = level
        self.logger_name = logger_name
        self._partial: dict[str, _Partial] = {}
        self._lock = threading.Lock()

    def write(self, text: Any) -> Any:
        written = self.stream.write(text)
        if isinstance(text, str) and text:
            trc = task_run_context.get()
            if trc is not None and not _echo_of_a_run_log(sys._getframe(1)):
                self._forward(trc, text)
        return written

    def _forward(self, trc: TaskRunContext, text: str) -> None:
        run = trc.task_run
        with self._lock:
            partial = self._partial.pop(run.id, None) or _Partial(
                run.flow_run_id, run.id, _recorder(trc)
            )
            *lines, rest = (partial.text + text).split("\n")
            if len(rest) >= MAX_LINE:
                lines.append(rest)
                rest = ""
            if rest:
                partial.text = rest
                self._partial[run.id] = partial
        for line in lines:
            self._send(partial, line)

    def _send(self, partial: _Partial, line: str) -> None:
        line = line.rstrip("\r")
        if not line.strip():
            return
        try:
            partial.recorder.log(
                LogInfo(
                    partial.flow_run_id,
                    partial.task_run_id,
                    self.level,
                    self.logger_name,
                    line,
                    datetime.now(timezone.utc),
                )
            )
        except Exception:  # noqa: BLE001 - printing must never break a cell
            logger.debug("cannot log a line of task run %s", partial.task_run_id, exc_info=True)

    def end(self, task_run_id: str) -> None:
        """Send the text after the last newline written by ``task_run_id``."""
        with self._lock:
            partial = self._partial.pop(task_run_id, None)
        if partial is not None:
            self._send(partial, partial.text)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.stream, name)


_lock = threading.Lock()
_depth = 0
_streams: tuple[_LineStream, _LineStream] | None = None


@contextlib.contextmanager
def captured_output() -> Iterator[None]:
    """Wrap ``sys.stdout``/``sys.stderr`` while task cells run (re-entrant, thread-safe)."""
    global _depth, _streams
    with _lock:
        if _depth == 0:
            _streams = (
                _LineStream(sys.stdout, logging.INFO, STDOUT_LOGGER),
                _LineStream(sys.stderr, logging.WARNING, STDERR_LOGGER),
            )
            sys.stdout, sys.stderr = _streams  # type: ignore[assignment]
        _depth += 1
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0 and _streams is not None:
                out, err = _streams
                if sys.stdout is out:  # unless the cell replaced it for good
                    sys.stdout = out.stream
                if sys.stderr is err:
                    sys.stderr = err.stream
                _streams = None


def end_output(task_run_id: str | None) -> None:
    """Send what ``task_run_id`` printed after its last newline (call when it ends)."""
    streams = _streams
    if streams is None or task_run_id is None:
        return
    for stream in streams:
        stream.end(task_run_id)
