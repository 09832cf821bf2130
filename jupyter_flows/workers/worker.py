"""``Worker``: polls a work pool, runs each claimed flow run in a subprocess, reports back.

Heartbeats keep its runs alive on the server (a silent worker's runs end Crashed).
Each run process is in its own process group; its ``RunGuard`` stops it if this worker dies.
Cancellation: a run the server marks Cancelling has its process group terminated (TERM,
then KILL after ``grace``), then it ends Cancelled; a run the server ended (Crashed) is
stopped the same way. ``stop()`` (SIGTERM for ``jupyter flows worker``) stops claiming,
gives running runs ``grace`` seconds, then terminates them and reports them Crashed. A
server that refuses the worker's token stops it with ``AuthError``.
Suspension: a run process whose run suspended itself exits (``EXIT_SUSPENDED``) and is
reported nothing (its slot is free; resumed, it is Scheduled and claimed again, as a run
that reuses its own completed task runs); a run the server suspended has its process
stopped as for a cancellation, and nothing reported either.
"""

from __future__ import annotations

import json
import logging
import os
import re
import shlex
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..client.http import AuthError, ClientError, StateConflict
from ..core.run_environment import RunEnvironment
from ..core.state_policy import FINAL_VALUES as FINAL
from ..execution.source_bundle import BundleError
from ..orchestration.schemas import ClaimedRun
from .clients import WorkerClient
from .run_guard import EXIT_FENCED, EXIT_SUSPENDED
from .source_cache import SourceCache, default_cache_dir, holds

__all__ = ["Worker", "run_environment", "EXIT_CRASHED"]

logger = logging.getLogger(__name__)
#: Log lines sent per request (every line is sent, in order, in batches of this size).
LOG_BATCH = 1000
#: Lines of a run's output kept while they cannot be sent; beyond, the run waits for them.
MAX_PENDING_LINES = 100_000
#: Longest wait between two rounds while they fail (the server or its database is away).
MAX_BACKOFF = 30.0
#: The exit code a run's handle gives when what ran it died (a Dask worker): Crashed.
EXIT_CRASHED = 70

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


def run_environment(base: RunEnvironment | None = None) -> RunEnvironment:
    """What a worker's run processes receive of its own environment: where to record (and
    its data directory and secrets key file), nothing else of it (not its server URL and
    token)."""
    mine = base or RunEnvironment.current()
    return RunEnvironment(
        db_url=mine.db_url,
        record_url=mine.record_url,
        record_token=mine.record_token,
        record=mine.record,
        home=mine.home,
        secrets_key_file=mine.secrets_key_file,  # a path (a run with the database reads it)
    )


@dataclass
class _Child:
    run_id: str
    #: the run process (``subprocess.Popen``), or what else runs it (see ``DaskWorker``)
    process: Any
    lines: list[str] = field(default_factory=list)
    reader: threading.Thread | None = None
    #: when the run was first seen in a final state while its process still ran
    ended_at: float | None = None
    #: its process exited: read what is left in the pipe without waiting for room
    draining: bool = False
    #: its output is recorded as the run's logs (job variable ``stream_output``)
    stream_output: bool = True
    #: (monotonic) when it is stopped and ends Failed (job variable ``timeout_seconds``)
    deadline: float | None = None
    timeout: float | None = None
    #: why it crashed (exit code ``EXIT_CRASHED``)
    crash: str | None = None


class Worker:
    """Runs the flow runs of one work pool, ``limit`` at a time."""

    def __init__(
        self,
        client: WorkerClient,
        pool: str = "default",
        name: str | None = None,
        limit: int = 1,
        poll_interval: float = 1.0,
        heartbeat_interval: float = 5.0,
        root_dir: Path | None = None,
        outputs_dir: Path | None = None,
        grace: float = 10.0,
        run_env: RunEnvironment | None = None,
        source_cache: Path | None = None,
    ):
        self.client = client
        self.pool = pool
        self.name = name or f"{socket.gethostname()}-{os.getpid()}"
        self.limit = limit
        self.poll_interval = poll_interval
        self.heartbeat_interval = heartbeat_interval
        self.root_dir = Path(root_dir or Path.cwd())
        self.outputs_dir = Path(outputs_dir or self.root_dir / ".jupyter-flows-outputs").absolute()
        self.grace = grace
        #: what each run process receives (never this worker's own server token)
        self.run_env = run_env or run_environment()
        #: the deployments' source bundles this worker fetched (one folder per digest)
        self.sources = SourceCache(
            source_cache or default_cache_dir(), lambda digest: self.client.fetch_source(digest)
        )
        self.children: dict[str, _Child] = {}
        self._stop = threading.Event()
        #: set when a run process exits (or stop() is called): claim again at once
        self._wake = threading.Event()
        self._last_heartbeat = -float("inf")
        self._beat_lock = threading.Lock()
        self._auth_error: AuthError | None = None
        #: why the last round failed (``None``: it did not)
        self.last_error: str | None = None

    @classmethod
    def over_http(cls, url: str, token: str, pool: str = "default", **kwargs: Any) -> Worker:
        """A worker of the server at ``url`` (``Authorization: token TOKEN``)."""
        from ..client.http import FlowsClient

        return cls(FlowsClient(url, token), pool, **kwargs)

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()

    def run(self) -> None:
        """Poll until ``stop()``; then wind down the running runs.

        Heartbeats go from a thread of their own, so that a slow round (stopping a run,
        sending many log lines) never lets the server think this worker is gone.
        """
        logger.info("worker %s polls pool %r", self.name, self.pool)
        beating = threading.Thread(target=self._beat, name="jupyter-flows-heartbeat", daemon=True)
        try:
            try:
                self._heartbeat_if_due()  # a refused token stops the worker here, at once
            except AuthError:
                raise
            except Exception as exc:  # noqa: BLE001 - the server may come (back) later
                logger.warning("worker %s: heartbeat: %s", self.name, exc)
            beating.start()
            failures = 0
            while not self._stop.is_set():
                if self._auth_error is not None:
                    raise self._auth_error
                try:
                    self.tick()
                except AuthError:
                    raise
                except Exception as exc:  # noqa: BLE001 - a worker outlives a bad round
                    failures += 1
                    self.last_error = f"{type(exc).__name__}: {exc}"
                    if isinstance(exc, ClientError):
                        logger.warning("worker %s: %s", self.name, exc)
                    else:  # e.g. the embedded worker's database is away
                        logger.exception("worker %s: round failed", self.name)
                else:
                    failures, self.last_error = 0, None
                if failures:  # back off while rounds fail: 1, 2, 4... poll intervals, <= 30 s
                    backoff = min(self.poll_interval * 2 ** min(failures, 10), MAX_BACKOFF)
                    self._stop.wait(max(self.poll_interval, backoff))
                else:  # until the next poll, or a run process exits (its slot is free)
                    self._wake.wait(self.poll_interval)
                self._wake.clear()
        except AuthError as exc:
            logger.error("worker %s stops: %s", self.name, exc)
            raise
        finally:
            self._shutdown()

    def _beat(self) -> None:
        while not self._stop.wait(min(1.0, self.heartbeat_interval / 2)):
            try:
                self._heartbeat_if_due()
            except AuthError as exc:
                self._auth_error = exc
                return
            except Exception as exc:  # noqa: BLE001 - keep beating once the server is back
                logger.warning("worker %s: heartbeat: %s", self.name, exc)

    def _heartbeat_if_due(self) -> None:
        """Heartbeat if one is due; at least four per the server's heartbeat timeout."""
        with self._beat_lock:
            now = time.monotonic()
            if now - self._last_heartbeat < self.heartbeat_interval:
                return
            reply = self.client.heartbeat(self.pool, self.name)
            self._last_heartbeat = now
            timeout = reply.heartbeat_timeout
            if timeout and self.heartbeat_interval > timeout / 4:
                self.heartbeat_interval = timeout / 4
                logger.info("worker %s heartbeats every %.2g s", self.name, timeout / 4)

    def tick(self) -> None:
        """One round: heartbeat (if due), reap finished children, cancel, claim new runs."""
        self._heartbeat_if_due()
        self._reap()
        self._timed_out()
        self._cancel_requested()
        free = self.limit - len(self.children)
        if free > 0 and not self._stop.is_set():
            claims = self.client.claim(self.pool, self.name, free, str(self.outputs_dir))
            for claimed in claims:
                self._start(claimed)

    def root_of(self, claimed: ClaimedRun) -> Path:
        """Where ``claimed``'s entrypoint is: this worker's root when it has no source
        bundle, or has the bundle's files as they were deployed (so that the files next to
        them are there too); else the bundle (fetched once per digest)."""
        digest = claimed.deployment.source_digest
        if not digest:
            return self.root_dir
        bundle = self.sources.path(digest)
        return self.root_dir if holds(self.root_dir, bundle, digest) else bundle

    def run_arguments(self, claimed: ClaimedRun, root: Path | None = None) -> list[str]:
        """The arguments of ``execute_run`` for ``claimed`` (after its command)."""
        run, deployment = claimed.flow_run, claimed.deployment
        return [
            "--flow-run-id",
            run.id,
            "--flow-run-name",
            run.name or "",
            "--entrypoint",
            deployment.entrypoint,
            "--parameters",
            json.dumps(run.parameters or {}, default=str),
            "--root",
            str(root or self.root_dir),
            "--output",
            str(self.outputs_dir),
        ]

    def run_env_of(self, claimed: ClaimedRun) -> RunEnvironment:
        """What the run process of ``claimed`` is handed: where to record, which run it is,
        and its own run token (never this worker's)."""
        run, deployment = claimed.flow_run, claimed.deployment
        run_env = self.run_env.but(  # which run it is, for jupyter_flows.runtime
            flow_run_id=run.id,
            flow_run_name=run.name,
            flow_name=run.flow_name,
            tags=list(run.tags),
            parameters=run.parameters or {},
            scheduled_start_time=run.expected_start_time,
            deployment_id=deployment.id,
            deployment_name=deployment.name,
            deployment_version=deployment.version,
            retry_of=run.retry_of,
            resumed=_was_suspended(run),
        )
        if claimed.run_token and run_env.records_over_http():  # its own, not this worker's
            run_env = run_env.but(record_token=claimed.run_token)
        return run_env

    def _start(self, claimed: ClaimedRun) -> None:
        run_id = claimed.flow_run.id
        config = claimed.job_configuration
        python = config.get("python") or sys.executable
        command = config.get("command")
        head = shlex.split(command) if command else [python, "-m", _EXECUTE_RUN]
        env = self.run_env_of(claimed).child_env()
        env.update(config.get("env") or {})
        try:
            root = self.root_of(claimed)
        except (ClientError, BundleError, OSError) as exc:
            self._report(run_id, "FAILED", "Failed", f"could not fetch its source: {exc}")
            return
        cwd = root / (config.get("working_dir") or ".")
        try:
            process = subprocess.Popen(
                head + self.run_arguments(claimed, root),
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
                cwd=str(cwd),
                env=env,
                start_new_session=True,  # its own process group: papermill and its kernel
            )
        except OSError as exc:  # a job configuration's interpreter, command or directory
            message = f"could not start the run process: {exc}"
            self._report(run_id, "FAILED", "Failed", message)
            return
        child = _Child(
            run_id, process, stream_output=config.get("stream_output", True) is not False
        )
        child.timeout = config.get("timeout_seconds")
        child.deadline = time.monotonic() + child.timeout if child.timeout else None
        child.reader = threading.Thread(target=self._read, args=(child,), daemon=True)
        child.reader.start()
        self.children[run_id] = child
        logger.info("worker %s started run %s (pid %s)", self.name, run_id, process.pid)

    def _read(self, child: _Child) -> None:
        stream = child.process.stdout
        assert stream is not None
        try:
            for line in stream:
                # back-pressure: while this many lines wait to be sent (the server is away),
                # stop reading, so the run blocks on its full pipe instead of lines piling up
                while len(child.lines) >= MAX_PENDING_LINES and not (
                    child.draining or self._stop.is_set()
                ):
                    time.sleep(0.05)
                child.lines.append(line.rstrip("\n"))
        finally:
            stream.close()
            try:  # its output ended: it exits now (or closed stdout and lives on)
                child.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                pass
            self._wake.set()  # reap it and claim the next run now, not at the next poll

    def _send_logs(self, child: _Child) -> None:
        """Send every line the run printed since the last call, in order (kept on failure)."""
        taken = len(child.lines)
        if not taken:
            return
        if not child.stream_output:  # job variable stream_output: false
            del child.lines[:taken]
            return
        lines = child.lines[:taken]
        records = [r for r in map(log_line, lines) if r is not None]
        for i in range(0, len(records), LOG_BATCH):
            try:
                self.client.append_logs(child.run_id, records[i : i + LOG_BATCH])
            except ClientError as exc:
                logger.warning("could not send logs of %s (kept): %s", child.run_id, exc)
                kept = [r["message"] for r in records[i:]]
                del child.lines[:taken]
                child.lines[:0] = kept
                return
        del child.lines[:taken]

    def _report(self, run_id: str, type_: str, name: str, message: str | None) -> None:
        """Propose a state; the state policy refusing it (the run ended) is no error."""
        body = {"type": type_, "name": name, "message": message, "worker": self.name}
        try:
            self.client.set_state(run_id, body)
        except StateConflict as exc:
            logger.info("run %s: %s not recorded: %s", run_id, name, exc)
        except ClientError as exc:
            logger.warning("could not report %s for %s: %s", name, run_id, exc)

    def _reap(self) -> None:
        for run_id, child in list(self.children.items()):
            code = self._exit_code(child)
            self._send_logs(child)
            if code is None:
                continue
            self._finish(child)
            self._send_logs(child)
            del self.children[run_id]
            if code == 0:
                self._report(run_id, "COMPLETED", "Completed", None)
                continue
            if code == EXIT_CRASHED:
                self._report(run_id, "CRASHED", "Crashed", child.crash or "the run crashed")
                continue
            view = self._state_view(run_id)
            state = view.state_type if view is not None else None
            if _suspended(view):  # it waits to be resumed: no final state
                logger.info("run %s suspended (its process exited with %s)", run_id, code)
            elif code == EXIT_SUSPENDED:  # (the server did not record the suspension)
                self._report(run_id, "FAILED", "Failed", "the run could not be suspended")
            elif code == EXIT_FENCED or state == "CANCELLING":
                self._report(run_id, "CANCELLED", "Cancelled", "cancelled")
            else:
                message = f"run process exited with code {code}"
                self._report(run_id, "FAILED", "Failed", message)

    def _exit_code(self, child: _Child) -> int | None:
        """The exit code of the run's process, ``None`` while it runs."""
        code: int | None = child.process.poll()
        return code

    def _finish(self, child: _Child) -> None:
        """After the run's process exited: read the rest of its output, stop what is left."""
        child.draining = True
        if child.reader is not None:
            child.reader.join(timeout=5)
        self._signal(child, signal.SIGKILL)  # whatever of its group is left (a kernel)

    def _timed_out(self) -> None:
        """Stop the runs past their ``timeout_seconds``; they end Failed."""
        at = time.monotonic()
        for run_id, child in list(self.children.items()):
            if child.deadline is None or at < child.deadline:
                continue
            self._terminate(child)
            del self.children[run_id]
            self._send_logs(child)
            message = f"Flow run exceeded timeout of {child.timeout:g} second(s)"
            logger.warning("run %s: %s", run_id, message)
            self._report(run_id, "FAILED", "TimedOut", message)

    def _state_view(self, run_id: str) -> Any:
        try:
            return self.client.read_run_state(run_id)
        except ClientError:
            return None

    def _state_of(self, run_id: str) -> str | None:
        view = self._state_view(run_id)
        return view.state_type if view is not None else None

    def _cancel_requested(self) -> None:
        """Stop the runs the server is cancelling (then Cancelled) or has ended (Crashed).

        A run in a final state whose process still runs is most often one that recorded its
        own end and is exiting: it gets ``grace`` seconds to do so before it is stopped.
        """
        for run_id, child in list(self.children.items()):
            view = self._state_view(run_id)
            state = view.state_type if view is not None else None
            suspended = _suspended(view)
            if state in FINAL or suspended:  # most often: its process is exiting by itself
                child.ended_at = child.ended_at or time.monotonic()
                if time.monotonic() - child.ended_at < self.grace:
                    continue
            if suspended:  # the server suspended it: stop its process, report nothing
                self._terminate(child)
                del self.children[run_id]
                self._send_logs(child)
                logger.info("run %s was suspended: its process is stopped", run_id)
            elif state == "CANCELLING" or state in FINAL:
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
        child.draining = True
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


_EXECUTE_RUN = "jupyter_flows.workers.execute_run"


def _suspended(view: Any) -> bool:
    """Whether a run's state view says it is Suspended (its process must not run it)."""
    return view is not None and view.state_type == "PAUSED" and view.state_name == "Suspended"


def _was_suspended(run: Any) -> bool:
    """Whether a claimed run ran before (suspended, then resumed: Scheduled again): its run
    process reuses its own completed task runs."""
    return bool(run.run_count)
