"""A flow run as one task on a ``dask.distributed`` cluster (what ``DaskWorker`` submits).

``DaskRun.submit`` sends ``run_in_dask_task`` to the scheduler: on a Dask worker it starts
``python -m jupyter_flows.workers.execute_run ARGS`` (the run process a process worker
starts), sends what it prints to a Dask queue, and stops it (TERM, then KILL after
``grace``) when a Dask event is set. Each attempt counts itself in a Dask variable: Dask
runs a task again when the Dask worker running it dies, and an attempt beyond
``attempts_allowed`` runs nothing and says so (``crashed``).
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from typing import Any

__all__ = ["DaskRun", "run_in_dask_task", "connect"]

logger = logging.getLogger(__name__)
#: how often the task sends the run's output and looks for a stop request (seconds)
TICK = 0.2


def run_in_dask_task(
    arguments: list[str],
    env: dict[str, str],
    names: dict[str, str],
    attempts_allowed: int,
    grace: float,
    codes: dict[str, int],
) -> int:
    """The Dask task of one flow run; the run process's exit code (``codes["stopped"]``
    once stopped, ``codes["crashed"]`` for an attempt beyond ``attempts_allowed``)."""
    from distributed import Event, Queue, Variable, get_worker

    from ..core.run_environment import PREFIX

    queue, stop, attempts = Queue(names["queue"]), Event(names["stop"]), Variable(names["attempts"])
    attempt = int(attempts.get(timeout=30) or 0) + 1
    attempts.set(attempt)
    address = get_worker().address
    queue.put({"attempt": attempt, "worker": address})
    if attempt > attempts_allowed:
        died = f"its Dask worker died (attempts allowed: {attempts_allowed})"
        queue.put({"crashed": died})
        return codes["crashed"]
    child_env = {k: v for k, v in os.environ.items() if not k.startswith(PREFIX)}
    child_env.update(env)
    process = subprocess.Popen(
        [sys.executable, "-m", "jupyter_flows.workers.execute_run", *arguments],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=child_env,
        start_new_session=True,  # its own process group: papermill and its kernel
    )
    lines: list[str] = []
    lock = threading.Lock()

    def read() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            with lock:
                lines.append(line.rstrip("\n"))

    def flush() -> None:
        with lock:
            batch = lines[:]
            del lines[:]
        if batch:
            queue.put({"lines": batch})

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    stopping_since: float | None = None
    while process.poll() is None:
        flush()
        if stopping_since is None and stop.is_set():
            stopping_since = time.monotonic()
            _kill_group(process.pid, signal.SIGTERM)
        elif stopping_since is not None and time.monotonic() - stopping_since > grace:
            _kill_group(process.pid, signal.SIGKILL)
        time.sleep(TICK)
    reader.join(timeout=5)
    _kill_group(process.pid, signal.SIGKILL)  # whatever of its group is left (a kernel)
    flush()
    return codes["stopped"] if stopping_since is not None else process.returncode


def _kill_group(pid: int, sig: int) -> None:
    try:
        os.killpg(pid, sig)
    except (ProcessLookupError, PermissionError):
        pass


@dataclass
class DaskRun:
    """A submitted run: its future, and the names of its queue, stop event and counter."""

    future: Any
    names: dict[str, str]
    #: the Dask workers its attempts ran on, in order
    workers: list[str] = field(default_factory=list)
    #: what its last attempt said of a crash
    crash: str | None = None

    @classmethod
    def submit(
        cls,
        client: Any,
        run_id: str,
        arguments: list[str],
        env: dict[str, str],
        *,
        retries: int,
        resources: dict[str, float] | None,
        grace: float,
        codes: dict[str, int],
    ) -> DaskRun:
        """Submit the run to ``client``'s cluster (a ``distributed.Client``)."""
        from distributed import Variable

        names = {k: f"jupyter-flows-{k}-{run_id}" for k in ("queue", "stop", "attempts")}
        Variable(names["attempts"], client=client).set(0)
        future = client.submit(
            run_in_dask_task,
            arguments,
            env,
            names,
            retries + 1,
            grace,
            codes,
            key=f"jupyter-flows-run-{run_id}",
            pure=False,
            retries=retries,
            resources=resources or None,
        )
        return cls(future, names)

    def drain(self) -> list[str]:
        """The lines its task printed since the last call (and which attempt runs where)."""
        from distributed import Queue

        messages = Queue(self.names["queue"], client=self.future.client).get(batch=True)
        lines: list[str] = []
        for message in messages:
            lines.extend(message.get("lines", ()))
            if "worker" in message:
                self.workers.append(message["worker"])
                if message["attempt"] > 1:
                    lines.append(f"attempt {message['attempt']} on {message['worker']}")
            if "crashed" in message:
                self.crash = message["crashed"]
        return lines

    def outcome(self) -> tuple[str, Any]:
        """``("running", None)``, ``("finished", exit code)``, ``("cancelled", None)``,
        ``("killed", error)`` (``KilledWorker``) or ``("error", error)``."""
        future = self.future
        if not future.done():
            return "running", None
        if future.status == "finished":
            return "finished", int(future.result())
        if future.status == "cancelled":
            return "cancelled", None
        error = future.exception()
        return ("killed" if type(error).__name__ == "KilledWorker" else "error"), error

    def request_stop(self) -> None:
        from distributed import Event

        Event(self.names["stop"], client=self.future.client).set()

    def cancel(self) -> None:
        self.future.cancel()

    def release(self) -> None:
        """Forget its future, queue, stop event and counter on the scheduler."""
        from distributed import Event, Queue, Variable

        client = self.future.client
        self.future.release()
        Queue(self.names["queue"], client=client).close()
        Variable(self.names["attempts"], client=client).delete()
        Event(self.names["stop"], client=client).clear()


def connect(address: str) -> Any:
    """A ``distributed.Client`` of the scheduler at ``address`` (not the default client)."""
    from distributed import Client

    return Client(address, set_as_default=False, timeout=30)
