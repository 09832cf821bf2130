"""``Worker``: polls a work pool, runs each claimed flow run in a subprocess, reports back.

Heartbeats keep its runs alive on the server (a silent worker's runs end Crashed).
Each run process is in its own process group; its ``RunGuard`` stops it if this worker dies.
Cancellation: a run the server marks Cancelling has its process group terminated (TERM,
then KILL after ``grace``), then it ends Cancelled; a run the server ended (Crashed) is
stopped the same way. ``stop()`` (SIGTERM for ``jupyter flows worker``) stops claiming,
gives running runs ``grace`` seconds, then terminates them and reports them Crashed. A
server that refuses the worker's token stops it with ``WorkerAuthError``.
"""

from __future__ import annotations

import json
import logging
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..core.state_policy import FINAL_VALUES as FINAL
from .clients import StateConflict, WorkerAuthError, WorkerClientError
from .run_guard import EXIT_FENCED

__all__ = ["Worker"]

logger = logging.getLogger(__name__)
#: Log lines sent per request (every line is sent, in order, in batches of this size).
LOG_BATCH = 1000

_LEVELS = {"DEBUG": 10, "INFO": 20, "WARNING": 30, "WARN": 30, "ERROR": 40, "CRITICAL": 50}
#: "[IPKernelApp] WARNING | ..." (Jupyter apps), "12:00:01.234 | ERROR   | ..." (run logs)
_LEVEL_IN_LINE = re.compile(r"^(?:\[[\w.-]+\]\s+|[\d:.]+\s+\|\s+)(\w+)\s*\|")
#: notices of the kernel papermill starts on 127.0.0.1 that say nothing about the run
_NOISE = ("Kernel is running over TCP without encryption",)


def log_line(line: str) -> dict[str, Any] | None:
    """A line of a run's output as a log record (its level read from the line), or ``None``."""
    if any(noise in line for noise in _NOISE):
        return None
    found = _LEVEL_IN_LINE.match(line)
    level = _LEVELS.get(found.group(1).upper(), 20) if found else 20
    return {"level": level, "message": line}


@dataclass
class _Child:
    run_id: str
    process: subprocess.Popen[str]
    lines: list[str] = field(default_factory=list)
    reader: threading.Thread | None = None


class Worker:
    """Runs the flow runs of one work pool, ``limit`` at a time."""

    def __init__(
        self,
        client: Any,
        pool: str = "default",
        name: str | None = None,
        limit: int = 1,
        poll_interval: float = 1.0,
        heartbeat_interval: float = 5.0,
        root_dir: Path | None = None,
        outputs_dir: Path | None = None,
        grace: float = 10.0,
        env: dict[str, str] | None = None,
    ):
        self.client = client
        self.pool = pool
        self.name = name or f"{socket.gethostname()}-{os.getpid()}"
        self.limit = limit
        self.poll_interval = poll_interval
        self.heartbeat_interval = heartbeat_interval
        self.root_dir = Path(root_dir or Path.cwd())
        self.outputs_dir = Path(outputs_dir or self.root_dir / ".jupyter-flows-outputs")
        self.grace = grace
        self.env = env
        self.children: dict[str, _Child] = {}
        self._stop = threading.Event()
        self._last_heartbeat = -float("inf")
        self._beat_lock = threading.Lock()
        self._auth_error: WorkerAuthError | None = None

    @classmethod
    def over_http(cls, url: str, token: str, pool: str = "default", **kwargs: Any) -> Worker:
        """A worker of the server at ``url`` (``Authorization: token TOKEN``)."""
        from .clients import HttpClient

        return cls(HttpClient(url, token), pool, **kwargs)

    def stop(self) -> None:
        self._stop.set()

    def run(self) -> None:
        """Poll until ``stop()``; then wind down the running runs.

        Heartbeats go from a thread of their own, so that a slow round (stopping a run,
        sending many log lines) never lets the server think this worker is gone.
        """
        logger.info("worker %s polls pool %r", self.name, self.pool)
        beating = threading.Thread(target=self._beat, name="jupyter-flows-heartbeat", daemon=True)
        try:
            self._heartbeat_if_due()  # a refused token stops the worker here, at once
            beating.start()
            while not self._stop.is_set():
                if self._auth_error is not None:
                    raise self._auth_error
                try:
                    self.tick()
                except WorkerAuthError:
                    raise
                except WorkerClientError as exc:
                    logger.warning("worker %s: %s", self.name, exc)
                self._stop.wait(self.poll_interval)
        except WorkerAuthError as exc:
            logger.error("worker %s stops: %s", self.name, exc)
            raise
        finally:
            self._shutdown()

    def _beat(self) -> None:
        while not self._stop.wait(min(1.0, self.heartbeat_interval / 2)):
            try:
                self._heartbeat_if_due()
            except WorkerAuthError as exc:
                self._auth_error = exc
                return
            except WorkerClientError as exc:
                logger.warning("worker %s: heartbeat: %s", self.name, exc)

    def _heartbeat_if_due(self) -> None:
        """Heartbeat if one is due; at least four per the server's heartbeat timeout."""
        with self._beat_lock:
            now = time.monotonic()
            if now - self._last_heartbeat < self.heartbeat_interval:
                return
            reply = self.client.heartbeat(self.pool, self.name)
            self._last_heartbeat = now
            timeout = reply.get("heartbeat_timeout") if isinstance(reply, dict) else None
            if timeout and self.heartbeat_interval > timeout / 4:
                self.heartbeat_interval = timeout / 4
                logger.info("worker %s heartbeats every %.2g s", self.name, timeout / 4)

    def tick(self) -> None:
        """One round: heartbeat (if due), reap finished children, cancel, claim new runs."""
        self._heartbeat_if_due()
        self._reap()
        self._cancel_requested()
        free = self.limit - len(self.children)
        if free > 0 and not self._stop.is_set():
            for claimed in self.client.claim(self.pool, self.name, free):
                self._start(claimed["flow_run"], claimed["deployment"])

    def _start(self, run: dict[str, Any], deployment: dict[str, Any]) -> None:
        run_id = run["id"]
        args = [
            sys.executable,
            "-m",
            "jupyter_flows.workers.execute_run",
            "--flow-run-id",
            run_id,
            "--flow-run-name",
            str(run.get("name") or ""),
            "--entrypoint",
            deployment["entrypoint"],
            "--parameters",
            json.dumps(run.get("parameters") or {}),
            "--root",
            str(self.root_dir),
            "--output",
            str(self.outputs_dir),
        ]
        env = dict(self.env if self.env is not None else os.environ)
        process = subprocess.Popen(
            args,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            cwd=str(self.root_dir),
            env=env,
            start_new_session=True,  # its own process group: papermill and its kernel
        )
        child = _Child(run_id, process)
        child.reader = threading.Thread(target=self._read, args=(child,), daemon=True)
        child.reader.start()
        self.children[run_id] = child
        logger.info("worker %s started run %s (pid %s)", self.name, run_id, process.pid)

    def _read(self, child: _Child) -> None:
        stream = child.process.stdout
        assert stream is not None
        try:
            for line in stream:
                child.lines.append(line.rstrip("\n"))
        finally:
            stream.close()

    def _send_logs(self, child: _Child) -> None:
        """Send every line the run printed since the last call, in order (kept on failure)."""
        taken = len(child.lines)
        if not taken:
            return
        lines = child.lines[:taken]
        records = [r for r in map(log_line, lines) if r is not None]
        for i in range(0, len(records), LOG_BATCH):
            try:
                self.client.append_logs(child.run_id, records[i : i + LOG_BATCH])
            except WorkerClientError as exc:
                logger.warning("could not send logs of %s (kept): %s", child.run_id, exc)
                kept = [r["message"] for r in records[i:]]
                del child.lines[:taken]
                child.lines[:0] = kept
                return
        del child.lines[:taken]

    def _report(self, run_id: str, type_: str, name: str, message: str | None) -> None:
        """Propose a state; the state policy refusing it (the run ended) is no error."""
        try:
            self.client.set_state(
                run_id, {"type": type_, "name": name, "message": message, "worker": self.name}
            )
        except StateConflict as exc:
            logger.info("run %s: %s not recorded: %s", run_id, name, exc)
        except WorkerClientError as exc:
            logger.warning("could not report %s for %s: %s", name, run_id, exc)

    def _reap(self) -> None:
        for run_id, child in list(self.children.items()):
            code = child.process.poll()
            self._send_logs(child)
            if code is None:
                continue
            if child.reader is not None:
                child.reader.join(timeout=5)
            self._signal(child, signal.SIGKILL)  # whatever of its group is left (a kernel)
            self._send_logs(child)
            del self.children[run_id]
            if code == 0:
                self._report(run_id, "COMPLETED", "Completed", None)
            elif code == EXIT_FENCED or self._state_of(run_id) == "CANCELLING":
                self._report(run_id, "CANCELLED", "Cancelled", "cancelled")
            else:
                self._report(run_id, "FAILED", "Failed", f"run process exited with code {code}")

    def _state_of(self, run_id: str) -> str | None:
        try:
            return self.client.read_run_state(run_id).get("state_type")
        except WorkerClientError:
            return None

    def _cancel_requested(self) -> None:
        """Stop the runs the server is cancelling (then Cancelled) or has ended (Crashed)."""
        for run_id, child in list(self.children.items()):
            state = self._state_of(run_id)
            if state == "CANCELLING" or state in FINAL:
                self._terminate(child)
                del self.children[run_id]
                self._send_logs(child)
                if state == "CANCELLING":
                    self._report(run_id, "CANCELLED", "Cancelled", "cancelled")
                else:
                    logger.warning(
                        "run %s ended %s elsewhere: its process is stopped", run_id, state
                    )

    def _terminate(self, child: _Child) -> None:
        """Stop the run's process group (papermill and its kernel): TERM, then KILL."""
        self._signal(child, signal.SIGTERM)
        try:
            child.process.wait(timeout=self.grace)
        except subprocess.TimeoutExpired:
            self._signal(child, signal.SIGKILL)
            child.process.wait(timeout=10)
        self._signal(child, signal.SIGKILL)  # whatever of the group is left (a kernel)
        if child.reader is not None:
            child.reader.join(timeout=2)

    @staticmethod
    def _signal(child: _Child, sig: int) -> None:
        try:
            os.killpg(child.process.pid, sig)
        except (ProcessLookupError, PermissionError):
            pass

    def _shutdown(self) -> None:
        deadline = time.monotonic() + self.grace
        while self.children and time.monotonic() < deadline:
            self._reap()
            time.sleep(0.2)
        for run_id, child in list(self.children.items()):
            self._terminate(child)
            self._report(run_id, "CRASHED", "Crashed", f"worker {self.name} shut down")
            del self.children[run_id]
        logger.info("worker %s stopped", self.name)
