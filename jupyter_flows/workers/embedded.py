"""The server's own worker for the ``default`` pool (a thread, in-process client).

Each server process's embedded worker has its own name (``embedded-<host>-<pid>-<random>``):
with several servers on one database, the runs of one that dies stop heart-beating and end
Crashed, whatever the others do.
"""

from __future__ import annotations

import os
import socket
import threading
from pathlib import Path
from typing import Any

from ..core.run_environment import RunEnvironment
from .clients import LocalClient
from .worker import Worker

__all__ = ["EmbeddedWorker", "embedded_worker_name"]


def embedded_worker_name() -> str:
    """A name no other server process has: host, pid and a random suffix."""
    return f"embedded-{socket.gethostname()}-{os.getpid()}-{os.urandom(3).hex()}"


class EmbeddedWorker:
    """Runs ``Worker`` on a daemon thread against the server's ``OrchestrationService``."""

    def __init__(
        self,
        service: Any,
        root_dir: Path,
        outputs_dir: Path,
        limit: int = 2,
        run_env: RunEnvironment | None = None,
        poll_interval: float = 1.0,
    ):
        self.worker = Worker(
            LocalClient(service),
            "default",
            name=embedded_worker_name(),
            limit=limit,
            root_dir=root_dir,
            outputs_dir=outputs_dir,
            run_env=run_env,
            poll_interval=poll_interval,
            heartbeat_interval=min(5.0, poll_interval * 5),
        )
        self.thread = threading.Thread(
            target=self.worker.run, name="jupyter-flows-worker", daemon=True
        )

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.worker.stop()
        self.thread.join(timeout=self.worker.grace + 5)

    @property
    def problem(self) -> str | None:
        """Why it is not working now (its thread ended, or its last round failed), or ``None``."""
        if not self.thread.is_alive():
            return "its thread has stopped"
        return self.worker.last_error
