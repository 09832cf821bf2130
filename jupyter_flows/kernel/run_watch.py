"""Whether a flow run of this kernel was stopped elsewhere (Cancel in the panel, a crash).

The server cancels a run by setting it ``Cancelling`` in the run database; it cannot reach
into the kernel. ``RunWatch`` reads the run's recorded state (one primary-key read,
``store.api.read_state_on``, on the recorder's own database engine: on SQLite a deferred
read, which never takes the write lock), and once the run is Cancelling or already ended
it sets the run's cancel event: task cells that have not started end Cancelled, a retry
wait stops. A cell that is running is not interrupted (that is the kernel's own
interrupt). Recorders without a database (HTTP, null) give no answer: their runs are not
watched.
"""

from __future__ import annotations

import logging
import threading
from types import TracebackType
from typing import Any

from ..core.open_runs import OpenFlowRun
from ..core.records import RunRecorder
from ..core.state_policy import must_stop
from ..core.states import StateType

__all__ = ["RunWatch", "recorded_state", "STOPPED", "POLL_INTERVAL_S"]

logger = logging.getLogger(__name__)

#: Recorded states of a flow run whose cells must not (go on to) run (``must_stop``).
STOPPED = frozenset(t.value for t in StateType if must_stop(t))
#: Seconds between two reads of a running flow run's state.
POLL_INTERVAL_S = 1.0


def _engine(recorder: RunRecorder) -> Any:
    """The database engine ``recorder`` writes to (a ``SqlRecorder``'s), or None."""
    primary = getattr(recorder, "primary", recorder)  # a TeeRecorder feeding live widgets
    engine = getattr(primary, "engine", None)
    return engine if hasattr(engine, "raw_connection") else None


def recorded_state(recorder: RunRecorder, flow_run_id: str) -> tuple[str, str | None] | None:
    """``(state_type, state_name)`` of the flow run as recorded, or None if unknown here."""
    engine = _engine(recorder)
    if engine is None:
        return None
    from ..store.api import read_state_on

    try:
        row = read_state_on(engine, flow_run_id)
    except Exception as exc:  # noqa: BLE001 - the run goes on; the next poll tries again
        logger.debug("cannot read the state of flow run %s: %s", flow_run_id, exc)
        return None
    if row is None or row[0] is None:
        return None
    return str(row[0]), row[1]


class RunWatch:
    """Polls ``run``'s recorded state while it runs; cancels it once it was stopped elsewhere.

    Use as a context manager around the run's cells (a daemon thread polls every
    ``interval`` seconds), and call ``check()`` where a synchronous answer is wanted, e.g.
    before each cell of ``%flow run``.
    """

    def __init__(self, run: OpenFlowRun, interval: float = POLL_INTERVAL_S):
        self.run = run
        self.interval = interval
        #: The recorded state name that stopped the run (e.g. ``"Cancelling"``), if any.
        self.stopped: str | None = None
        self._done = threading.Event()
        self._thread: threading.Thread | None = None

    def check(self) -> bool:
        """True if the run was stopped elsewhere (and its cancel event is now set)."""
        if self.stopped is None:
            state = recorded_state(self.run.recorder, self.run.id)
            if state is not None and state[0] in STOPPED:
                self.stopped = state[1] or state[0].title()
                logger.info("flow run %s is %s: its cells stop", self.run.id, self.stopped)
                self.run.context.cancel_event.set()
        return self.stopped is not None

    def _poll(self) -> None:
        while not self._done.wait(self.interval):
            if self.check():
                return

    def __enter__(self) -> RunWatch:
        if _engine(self.run.recorder) is not None:
            self._thread = threading.Thread(
                target=self._poll, name=f"jupyter-flows-watch-{self.run.id[:8]}", daemon=True
            )
            self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._done.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
