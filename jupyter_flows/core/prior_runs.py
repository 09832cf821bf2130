"""Retry from failure: a retry reuses the completed task runs of the run it repeats; a
suspended run that was resumed reuses its own (``flow_runs.suspend_flow_run``).

A worker runs a retry (a new flow run with ``retry_of``) with ``RunEnvironment.retry_of``
set. The engine then asks, for each task run it is about to run in that flow run, whether
the earlier run has a Completed task run of the same task at the same place (task key and
dynamic key: ``load-0``, ``load-1``...) with a persisted result: if so the result is read
back and the new task run is recorded ``Cached`` ("reused from ..."), its body not run.
Failed task runs, and those downstream of them (their inputs change), run again.

The earlier run's task runs are read once, on the first question, through the loader the
package root registers (the store: the core never imports it).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from .results import ResultRef
from .run_environment import RunEnvironment

__all__ = ["PriorRun", "prior_run_for", "set_prior_run_loader"]

logger = logging.getLogger(__name__)

#: ``loader(flow_run_id)`` -> {(task key, dynamic key): (task run id, where its result is)}
Loader = Callable[[str], dict[tuple[str, int], tuple[str, ResultRef]]]
_loader: Loader | None = None


def set_prior_run_loader(loader: Loader | None) -> None:
    global _loader
    _loader = loader


class PriorRun:
    """The completed, persisted task runs of the run ``run_id`` (read on first use)."""

    def __init__(self, run_id: str):
        self.run_id = run_id
        self._found: dict[tuple[str, int], tuple[str, ResultRef]] | None = None
        self._values: dict[tuple[str, int], Any] = {}  # results read (by adopt)
        self._lock = threading.Lock()

    def _load(self) -> dict[tuple[str, int], tuple[str, ResultRef]]:
        with self._lock:
            if self._found is None:
                try:
                    self._found = _loader(self.run_id) if _loader is not None else {}
                except Exception:  # noqa: BLE001 - a retry that cannot reuse runs everything
                    logger.exception("cannot read the task runs of %s: running all", self.run_id)
                    self._found = {}
                logger.info("retry of %s: %d completed task runs to reuse",
                            self.run_id, len(self._found))  # fmt: skip
            return self._found

    def result_of(self, task_key: str, dynamic_key: int) -> tuple[str, Any, ResultRef] | None:
        """``(task run id, its result, where it is)`` of the same task run in the earlier
        run, or None (none completed there, or its result cannot be read: it runs again)."""
        found = self._load().get((task_key, dynamic_key))
        if found is None:
            return None
        task_run_id, ref = found
        if (task_key, dynamic_key) in self._values:
            return task_run_id, self._values.pop((task_key, dynamic_key)), ref
        try:
            return task_run_id, ref.load_result(), ref
        except Exception as exc:  # noqa: BLE001 - gone or unreadable: run it again
            logger.warning("cannot reuse task run %s of %s (%s): running it again",
                           task_run_id, self.run_id, exc)  # fmt: skip
            return None

    def adopt(self, flow_run_id: str, task_key: str, dynamic_key: int) -> str | None:
        """A resumed run's own completed task run at this place, if its result reads back:
        the resumed run goes on with it (no second task run), else None."""
        if flow_run_id != self.run_id:
            return None
        found = self.result_of(task_key, dynamic_key)
        if found is None:
            return None
        self._values[(task_key, dynamic_key)] = found[1]  # for the result_of that follows
        return found[0]


def prior_run_for(flow_run_id: str) -> PriorRun | None:
    """The run whose completed task runs flow run ``flow_run_id`` (the deployment run this
    process runs: only the engine's adopted runs ask) reuses: itself when it is a suspended
    run resumed (its task runs include what a retry reused, with their results), else the
    run it retries, when this process runs a retry."""
    env = RunEnvironment.current()
    if env.resumed:  # set for a resumed run's process only
        return PriorRun(flow_run_id)
    retry_of = env.retry_of  # set for a retry's run process only
    if retry_of and retry_of != flow_run_id:
        return PriorRun(retry_of)
    return None
