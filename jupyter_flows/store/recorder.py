"""``SqlRecorder``: the engine's ``RunRecorder``, writing to the run database in batches.

The recorder methods only append to in-memory queues (lock-free ``deque.append``, well
under a microsecond). A daemon writer thread wakes when the first record of a batch
arrives, waits ``flush_interval`` seconds for more, and writes the batch in one
transaction (see ``_batch``). ``flush()`` writes whatever is queued in the calling thread
and returns once it is committed, or raises ``StoreError`` keeping the records for a retry.
"""

from __future__ import annotations

import atexit
import logging
import os
import threading
import time
import weakref
from collections import deque
from typing import Any

from sqlalchemy.engine import URL, Engine

from jupyter_flows.core.records import (
    ArtifactInfo,
    FlowRunInfo,
    LogInfo,
    ResultInfo,
    RunKind,
    TaskRunInfo,
)
from jupyter_flows.core.states import State
from jupyter_flows.exceptions import StoreError

from ._bad_records import DroppedRecord
from ._batch import Batcher, Events
from .db import mask_url, open_store
from .types import to_json

__all__ = ["SqlRecorder", "open_recorder"]

logger = logging.getLogger(__name__)

_live: weakref.WeakSet[SqlRecorder] = weakref.WeakSet()

#: The writer thread does not wait for the end of ``flush_interval`` past this many events.
MAX_BATCH = 20_000
_POLL_S = 0.01


class SqlRecorder:
    """A thread-safe ``RunRecorder`` that batches records into the run database.

    Parameters
    ----------
    engine
        Engine of a database at the current schema (see ``open_store``).
    flush_interval
        Seconds the writer thread waits for more records before writing a batch.
    owns_engine
        Dispose of ``engine`` on ``close()``.
    """

    def __init__(
        self, engine: Engine, *, flush_interval: float = 0.05, owns_engine: bool = False
    ) -> None:
        self.engine = engine
        self.flush_interval = flush_interval
        self._owns_engine = owns_engine
        self._batcher = Batcher(engine)
        self._closed = False
        self._last_error: str | None = None
        self._setup_process()
        _live.add(self)

    @classmethod
    def from_url(cls, url: str | URL | None = None, **kwargs: Any) -> SqlRecorder:
        """A recorder on its own engine for ``url`` (default: ``default_db_url()``)."""
        return cls(open_store(url), owns_engine=True, **kwargs)

    @classmethod
    def from_default_url(cls, **kwargs: Any) -> SqlRecorder:
        """A recorder for ``default_db_url()`` (what the package installs per process)."""
        return cls.from_url(None, **kwargs)

    def _setup_process(self) -> None:
        """(Re)create everything that must not be shared with a forked parent."""
        self._pid = os.getpid()
        self._flow_q: deque[tuple[FlowRunInfo, str]] = deque()
        self._task_q: deque[TaskRunInfo] = deque()
        self._state_q: deque[tuple[str, str, State, int]] = deque()
        self._log_q: deque[LogInfo] = deque()
        self._result_q: deque[ResultInfo] = deque()
        self._artifact_q: deque[ArtifactInfo] = deque()
        self._write_lock = threading.Lock()
        self._start_lock = threading.Lock()
        self._wake_event = threading.Event()
        self._stop_event = threading.Event()
        self._thread: threading.Thread | None = None
        self._idle = True

    def _after_fork(self) -> None:
        # The parent writes its own queued records; the child starts empty, with no
        # writer thread and without the parent's pooled connections.
        self._setup_process()
        self._batcher.reset()
        self.engine.dispose(close=False)

    # -- RunRecorder: the hot path ------------------------------------------------------

    def flow_run_created(self, run: FlowRunInfo) -> None:
        # Parameters are serialized now: the caller may mutate them while the flow runs.
        self._flow_q.append((run, to_json(run.parameters)))
        if self._idle:
            self._wake()

    def task_run_created(self, run: TaskRunInfo) -> None:
        self._task_q.append(run)
        if self._idle:
            self._wake()

    def set_state(self, kind: RunKind, run_id: str, state: State, run_count: int) -> None:
        self._state_q.append((kind, run_id, state.without_data(), run_count))
        if self._idle:
            self._wake()

    def log(self, record: LogInfo) -> None:
        self._log_q.append(record)
        if self._idle:
            self._wake()

    def result_stored(self, info: ResultInfo) -> None:
        self._result_q.append(info)
        if self._idle:
            self._wake()

    def artifact_saved(self, info: ArtifactInfo) -> None:
        self._artifact_q.append(info)
        if self._idle:
            self._wake()

    def rejected(self, run_id: str) -> tuple[str, str | None] | None:
        """``(state type, name)`` the run is in, if the state policy refused a state of it.

        Its process should stop the run: it ended (Crashed, Cancelled...) or is being
        cancelled elsewhere.
        """
        return self._batcher.rejected.get(run_id)

    # -- writing --------------------------------------------------------------------------

    @property
    def dropped(self) -> list[DroppedRecord]:
        """Records the database refused (a value it cannot store), left out so that the
        others are written; the newest last."""
        return list(self._batcher.dropped)

    @property
    def dropped_total(self) -> int:
        """How many records were dropped so far (``DroppedRecord.seq`` of the newest)."""
        return self._batcher.dropped_total

    def flush(self) -> None:
        """Block until every record submitted so far is committed.

        Raises ``StoreError`` if the database write fails; the records stay queued and
        the next ``flush`` (or the writer thread) retries them.
        """
        if self._pid != os.getpid():
            self._after_fork()
        with self._write_lock:
            self._write()

    def close(self) -> None:
        """Flush, stop the writer thread, and dispose of an owned engine."""
        if self._closed:
            return
        try:
            self.flush()
        finally:
            self._closed = True
            _live.discard(self)
            self._stop_event.set()
            self._wake_event.set()
            thread = self._thread
            if thread is not None and thread is not threading.current_thread():
                thread.join(timeout=5)
            if self._owns_engine:
                self.engine.dispose()

    def _queued(self) -> int:
        return len(self._state_q) + len(self._task_q) + len(self._log_q)

    def _drain(self) -> Events:
        # Count the states first: a run's creation is queued before its first state, so
        # every state counted here has its creation in the queues drained next.
        n_states = len(self._state_q)
        events = Events()
        pop_flow, pop_task = self._flow_q.popleft, self._task_q.popleft
        events.flow_runs = [pop_flow() for _ in range(len(self._flow_q))]
        events.task_runs = [pop_task() for _ in range(len(self._task_q))]
        pop_state = self._state_q.popleft
        events.states = [pop_state() for _ in range(n_states)]
        pop_log, pop_result = self._log_q.popleft, self._result_q.popleft
        events.logs = [pop_log() for _ in range(len(self._log_q))]
        events.results = [pop_result() for _ in range(len(self._result_q))]
        pop_artifact = self._artifact_q.popleft
        events.artifacts = [pop_artifact() for _ in range(len(self._artifact_q))]
        return events

    def _write(self) -> None:
        """Drain and commit; the caller holds ``_write_lock``."""
        try:
            self._batcher.write(self._drain())
        except StoreError as e:
            message = str(e)
            if message != self._last_error:
                logger.warning("%s (records kept for retry)", message)
                self._last_error = message
            raise
        if self._last_error is not None:
            logger.info("run records written to %s again", mask_url(self.engine.url))
            self._last_error = None

    def _wake(self) -> None:
        self._idle = False
        if self._thread is None or self._pid != os.getpid():
            self._start_writer()
        self._wake_event.set()

    def _start_writer(self) -> None:
        with self._start_lock:
            if self._pid != os.getpid():
                self._after_fork()
            if self._thread is not None or self._closed:
                return
            self._thread = threading.Thread(
                target=_writer_loop,
                args=(weakref.ref(self), self._wake_event, self._stop_event),
                name="jupyter-flows-recorder",
                daemon=True,
            )
            self._thread.start()
            weakref.finalize(self, _signal_stop, self._wake_event, self._stop_event)

    def _background_write(self) -> bool:
        """One writer-thread cycle; returns False if the write failed."""
        self._wake_event.clear()
        self._idle = True  # set before draining: anything queued later wakes us again
        try:
            with self._write_lock:
                self._write()
        except StoreError:
            return False
        except Exception:  # never let the writer thread die
            logger.exception("unexpected error writing run records")
            return False
        return True


def _writer_loop(
    ref: weakref.ref[SqlRecorder], wake: threading.Event, stop: threading.Event
) -> None:
    retry_delay = 0.0
    while not stop.is_set():
        if retry_delay:
            stop.wait(retry_delay)
        else:
            wake.wait()
            _gather(ref, stop)
        recorder = ref()
        if recorder is None or stop.is_set():
            return
        ok = recorder._background_write()
        del recorder
        retry_delay = 0.0 if ok else min(max(retry_delay * 2, 0.5), 10.0)


def _signal_stop(wake: threading.Event, stop: threading.Event) -> None:
    stop.set()
    wake.set()


def _gather(ref: weakref.ref[SqlRecorder], stop: threading.Event) -> None:
    """Let a batch grow for ``flush_interval`` seconds, or until it is large."""
    recorder = ref()
    if recorder is None:
        return
    deadline = time.monotonic() + recorder.flush_interval
    while recorder._queued() < MAX_BATCH:
        remaining = deadline - time.monotonic()
        if remaining <= 0 or stop.wait(min(remaining, _POLL_S)):
            return


def open_recorder(url: str | URL | None = None) -> SqlRecorder:
    """The recorder the package installs as the process recorder (default DB URL)."""
    return SqlRecorder.from_url(url)


def _flush_all_at_exit() -> None:
    for recorder in list(_live):
        if recorder._pid != os.getpid():
            continue
        try:
            recorder.flush()
        except StoreError as e:
            logger.error("run records lost at exit: %s", e)


def _after_fork_in_child() -> None:
    for recorder in list(_live):
        recorder._after_fork()


atexit.register(_flush_all_at_exit)
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)
