"""``DaskWorker``: the worker of a ``dask`` work pool runs each claimed run on a Dask cluster.

It claims, heartbeats and reports as ``Worker`` does (it is one); what differs is where a
run's process runs: each claimed run is one Dask task (``execution.dask_runs``, submitted
to the scheduler at the job configuration's ``address`` with its ``resources``) that starts
the same ``python -m jupyter_flows.workers.execute_run ...`` the process worker starts, on
the Dask worker, with the run's environment (its own run token when it records over HTTP)
and the pool's ``env``. The run process records its states and logs itself (into the
database, or to the server with its run token); what it prints comes back through a Dask
queue and this worker records it as the run's logs.

- Cancellation and ``timeout_seconds``: the task is told to stop the run process (TERM,
  then KILL after ``grace``), then the future is cancelled; the run ends Cancelled (or
  Failed, "TimedOut"), as with the process worker.
- Crashes: the Dask worker running a run dies (its run process stops itself: its
  ``RunGuard`` sees its parent gone). Dask runs the task again; that attempt runs the run
  again only while the job variable ``retries`` allows (also passed as Dask's ``retries``),
  else the run ends Crashed. A ``KilledWorker`` (the scheduler gave up) ends it Crashed.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from ..orchestration.schemas import ClaimedRun
from .run_guard import EXIT_FENCED
from .worker import EXIT_CRASHED, Worker, _Child

__all__ = ["DaskWorker"]

logger = logging.getLogger(__name__)
_CODES = {"stopped": EXIT_FENCED, "crashed": EXIT_CRASHED}


class DaskWorker(Worker):
    """A worker of a ``dask`` pool: each run is a task on the cluster at the job
    configuration's ``address`` (default: ``address`` here)."""

    def __init__(self, *args: Any, address: str | None = None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.address = address
        self._dask_clients: dict[str, Any] = {}

    def dask_client(self, address: str) -> Any:
        """This worker's ``distributed.Client`` of the scheduler at ``address``."""
        if address not in self._dask_clients:
            from ..execution.dask_runs import connect

            self._dask_clients[address] = connect(address)
        return self._dask_clients[address]

    def run_arguments(self, claimed: ClaimedRun, root: Any = None) -> list[str]:
        """As the process worker's; a deployment's source bundle is fetched by the run
        process itself, on the Dask worker (``--source-digest``), with its run token."""
        arguments = super().run_arguments(claimed, root)
        digest = claimed.deployment.source_digest
        return [*arguments, "--source-digest", digest] if digest else arguments

    def _start(self, claimed: ClaimedRun) -> None:
        from ..execution.dask_runs import DaskRun

        run_id = claimed.flow_run.id
        config = claimed.job_configuration
        address = config.get("address") or self.address
        if not address:
            message = "no Dask scheduler address (job variable address, or worker --address)"
            self._report(run_id, "FAILED", "Failed", message)
            return
        env = self.run_env_of(claimed).to_env()
        env.update(config.get("env") or {})
        run = DaskRun.submit(
            self.dask_client(address),
            run_id,
            self.run_arguments(claimed),
            env,
            retries=int(config.get("retries") or 0),
            resources=config.get("resources") or None,
            grace=self.grace,
            codes=_CODES,
        )
        child = _Child(run_id, run)
        child.timeout = config.get("timeout_seconds")
        child.deadline = time.monotonic() + child.timeout if child.timeout else None
        self.children[run_id] = child
        run.future.add_done_callback(lambda _: self._wake.set())  # reap it at once
        logger.info("worker %s submitted run %s to %s", self.name, run_id, address)

    def _drain(self, child: _Child) -> None:
        try:
            child.lines.extend(child.process.drain())
        except Exception as exc:  # noqa: BLE001 - the scheduler is away: next round
            logger.warning("run %s: could not read its output: %s", child.run_id, exc)

    def _exit_code(self, child: _Child) -> int | None:
        run = child.process
        self._drain(child)
        status, value = run.outcome()
        if status == "running":
            return None
        self._drain(child)
        where = f" ({run.workers[-1]})" if run.workers else ""
        if status == "finished":
            if value == EXIT_CRASHED:
                child.crash = f"{run.crash or 'its Dask worker died'}{where}"
            return int(value)
        if status == "cancelled":
            child.crash = "its Dask task was cancelled (the scheduler lost it)"
        elif status == "killed":
            child.crash = f"the Dask workers running it died: {value}"
        else:
            child.lines.append(f"its Dask task failed: {type(value).__name__}: {value}")
            return 2
        return EXIT_CRASHED

    def _finish(self, child: _Child) -> None:
        """The task ended: forget its future, queue, stop event and attempt counter."""
        try:
            child.process.release()
        except Exception as exc:  # noqa: BLE001 - a scheduler that is gone holds nothing
            logger.info("run %s: could not clean up on the scheduler: %s", child.run_id, exc)

    def _terminate(self, child: _Child) -> None:
        """Have the task stop the run process (TERM, KILL after ``grace``), then cancel
        its future (a task that is not running yet is just dropped)."""
        run = child.process
        try:
            run.request_stop()
            deadline = time.monotonic() + self.grace + 5
            while run.outcome()[0] == "running" and time.monotonic() < deadline:
                self._drain(child)
                time.sleep(0.2)
            self._drain(child)
            run.cancel()
        except Exception as exc:  # noqa: BLE001 - the scheduler is gone: so is the task
            logger.warning("run %s: could not stop its Dask task: %s", child.run_id, exc)
        self._finish(child)

    def _shutdown(self) -> None:
        try:
            super()._shutdown()
        finally:
            for client in self._dask_clients.values():
                client.close()
            self._dask_clients.clear()
