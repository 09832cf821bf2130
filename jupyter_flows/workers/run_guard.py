"""``RunGuard``: a run process stops itself when its run is no longer its own to run.

A worker starts each run process in its own process group. The guard, a daemon thread of
that process, checks every ``interval`` seconds that

- its worker (the parent process) is alive: a run process that outlives a killed worker
  would go on writing after the server has ended its run Crashed;
- its run is not final or Cancelling, read from the light state view (database or server),
  or refused by the state policy when this process recorded a state.

Otherwise it stops everything the run started (TERM, then KILL after ``grace``) and exits
the process with ``EXIT_FENCED``: nothing more is recorded for the run.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
from collections.abc import Callable

from ..core.records import refusal
from ..core.state_policy import must_stop
from ..core.states import StateType

__all__ = ["RunGuard", "EXIT_FENCED", "EXIT_SUSPENDED"]

logger = logging.getLogger(__name__)

#: The exit code of a run process that stopped because its run ended elsewhere.
EXIT_FENCED = 3
#: The exit code of a run process whose run suspended (``suspend_flow_run``): no final state.
EXIT_SUSPENDED = 4


class RunGuard:
    """Fences a run process: stops it once its run is not its own to run any more.

    Parameters
    ----------
    flow_run_id
        The run this process runs.
    read_state
        Returns the run's current state type (a string), or raises ``Exception`` when it
        cannot tell (the guard then tries again next time).
    recorder
        The process recorder; a state it had refused stops the run at once.
    """

    def __init__(
        self,
        flow_run_id: str,
        read_state: Callable[[], str | None],
        recorder: object,
        interval: float = 1.0,
        grace: float = 5.0,
        exit: Callable[[int], object] = os._exit,
    ):
        self.flow_run_id = flow_run_id
        self.read_state = read_state
        self.recorder = recorder
        self.interval = interval
        self.grace = grace
        self._exit = exit
        self._parent = os.getppid()
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="jupyter-flows-guard", daemon=True)
        self.reason: str | None = None

    def start(self) -> RunGuard:
        self._thread.start()
        return self

    def stop(self) -> None:
        """The run ended here: stop guarding."""
        self._done.set()

    def check(self) -> str | None:
        """Why this process must stop now, or ``None``."""
        if os.getppid() != self._parent:
            return f"its worker (pid {self._parent}) is gone"
        refused = refusal(self.recorder, self.flow_run_id)
        if refused is not None and must_stop(StateType(refused[0]) if refused[0] else None):
            return f"the run is {refused[1] or refused[0]}"
        try:
            state = self.read_state()
        except Exception as exc:  # noqa: BLE001 - the server or database is away: try later
            logger.debug("cannot read the state of %s: %s", self.flow_run_id, exc)
            return None
        if state and must_stop(StateType(state)):
            return f"the run is {state.title()}"
        return None

    def _loop(self) -> None:
        while not self._done.wait(self.interval):
            try:
                reason = self.check()
            except Exception as exc:  # noqa: BLE001 - the guard must never die silently
                reason = f"its guard failed: {exc}"
            if reason is not None:
                self.reason = reason
                self._fence(reason)
                return

    def _fence(self, reason: str) -> None:
        try:  # stderr is the worker's pipe: gone with the worker
            print(
                f"jupyter-flows: stopping flow run {self.flow_run_id}: {reason}",
                file=sys.stderr,
                flush=True,
            )
        except (OSError, ValueError):
            pass
        try:
            stop_descendants(self.grace)
        finally:
            self._exit(EXIT_FENCED)


def stop_descendants(grace: float) -> None:
    """TERM every process this one started (papermill's kernel...), KILL what is left."""
    import psutil

    try:
        children = psutil.Process().children(recursive=True)
    except psutil.Error:
        return
    for child in children:
        try:
            child.terminate()
        except psutil.Error:
            pass
    _, alive = psutil.wait_procs(children, timeout=grace)
    for child in alive:
        try:
            child.kill()
        except psutil.Error:
            pass
