"""A real IPython kernel (the venv's python3 kernelspec) recording into a temp database.

``KernelSession`` matches every reply to its request: a request waits for the shell reply
whose ``parent_header.msg_id`` is its own msg_id (others, such as a late
``kernel_info_reply`` of ``wait_for_ready``, are discarded) and collects the iopub output
of that msg_id only, until the kernel's ``status: idle`` for it.
"""

from __future__ import annotations

import os
import queue
import sqlite3
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from jupyter_client.manager import KernelManager


@dataclass
class Result:
    """What the kernel sent back for one request."""

    status: str = ""
    reply_type: str = ""
    stdout: str = ""
    stderr: str = ""
    value: str | None = None
    ename: str | None = None
    evalue: str | None = None
    traceback: str = ""
    outputs: list[dict[str, Any]] = field(default_factory=list)
    reply: dict[str, Any] = field(default_factory=dict)


class KernelSession:
    """Runs code on a real kernel and collects what it sends back for each request."""

    def __init__(self, env: dict[str, str], extra_arguments: list[str] | None = None):
        self.env = env
        self.km = KernelManager(kernel_name="python3")
        self.km.start_kernel(env=env, extra_arguments=extra_arguments or [])
        self._connect()

    def _connect(self) -> None:
        self.kc = self.km.client()
        self.kc.start_channels()
        self.kc.wait_for_ready(timeout=60)

    # -- requests -------------------------------------------------------------------------

    def send(
        self, msg_type: str, content: dict[str, Any], metadata: dict[str, Any] | None = None
    ) -> str:
        """Send a shell request without waiting; its msg_id (for ``collect``)."""
        msg = self.kc.session.msg(msg_type, content, metadata=metadata or {})
        self.kc.shell_channel.send(msg)
        return str(msg["header"]["msg_id"])

    def start(self, code: str, metadata: dict[str, Any] | None = None) -> str:
        """Send an execute_request without waiting; its msg_id (for ``collect``)."""
        content = {
            "code": code,
            "silent": False,
            "store_history": True,
            "user_expressions": {},
            "allow_stdin": False,
            "stop_on_error": True,
        }
        return self.send("execute_request", content, metadata)

    def collect(self, msg_id: str, timeout: float = 60) -> Result:
        """The iopub output of request ``msg_id`` until its idle, then its shell reply."""
        deadline = time.monotonic() + timeout
        result = Result()
        while True:
            msg = self._next(self.kc.get_iopub_msg, deadline, timeout)
            if msg["parent_header"].get("msg_id") != msg_id:
                continue  # output of another request
            kind, data = msg["msg_type"], msg["content"]
            if kind == "status":
                if data["execution_state"] == "idle":
                    break
                continue
            result.outputs.append({"type": kind, **data})
            if kind == "stream":
                if data["name"] == "stdout":
                    result.stdout += data["text"]
                else:
                    result.stderr += data["text"]
            elif kind == "execute_result":
                result.value = data["data"].get("text/plain")
            elif kind == "error":
                result.ename, result.evalue = data["ename"], data["evalue"]
                result.traceback = "\n".join(data["traceback"])
        while True:
            reply = self._next(self.kc.get_shell_msg, deadline, timeout)
            if reply["parent_header"].get("msg_id") == msg_id:
                break  # anything else is a reply to another (earlier) request
        result.reply = reply
        result.reply_type = reply["msg_type"]
        result.status = reply["content"].get("status", "")
        if result.status == "error" and result.ename is None:
            result.ename = reply["content"].get("ename")
            result.evalue = reply["content"].get("evalue")
        return result

    @staticmethod
    def _next(get: Any, deadline: float, timeout: float) -> dict[str, Any]:
        left = deadline - time.monotonic()
        try:
            if left <= 0:
                raise queue.Empty
            return dict(get(timeout=left))
        except queue.Empty:
            raise TimeoutError(f"no reply from the kernel within {timeout} s") from None

    def run(self, code: str, metadata: dict[str, Any] | None = None, timeout: float = 60) -> Result:
        """Execute ``code`` and wait for its reply."""
        return self.collect(self.start(code, metadata), timeout)

    def ok(self, code: str, **kwargs: Any) -> Result:
        result = self.run(code, **kwargs)
        assert result.status == "ok", f"{result.ename}: {result.evalue}\n{result.traceback}"
        return result

    # -- lifecycle ------------------------------------------------------------------------

    def restart(self) -> None:
        self.kc.stop_channels()
        self.km.restart_kernel(now=False, newports=False)
        self._connect()

    def shutdown(self) -> None:
        """Shut the kernel down as papermill does (its atexit handlers run); idempotent."""
        if not self.km.has_kernel:
            return
        self.kc.stop_channels()
        self.km.shutdown_kernel(now=False)


@pytest.fixture
def kernel_env(tmp_path: Path) -> dict[str, str]:
    env = dict(os.environ)
    for name in ("JUPYTER_FLOWS_FLOW_RUN_ID", "JUPYTER_FLOWS_PARAMETERS", "JPY_SESSION_NAME"):
        env.pop(name, None)  # interactive use, unless a test says otherwise
    env.update(
        JUPYTER_FLOWS_HOME=str(tmp_path / "home"),
        JUPYTER_FLOWS_DB_URL=f"sqlite:///{tmp_path / 'kernel.sqlite'}",
        JUPYTER_FLOWS_NOTEBOOK="analysis",
    )
    return env


@pytest.fixture
def db_url_of(kernel_env: dict[str, str]) -> str:
    return kernel_env["JUPYTER_FLOWS_DB_URL"]


@pytest.fixture
def kernel(kernel_env: dict[str, str]) -> Iterator[KernelSession]:
    session = KernelSession(kernel_env)
    try:
        session.ok("%load_ext jupyter_flows")
        yield session
    finally:
        session.shutdown()


class RunDatabase:
    """The kernel's run database, seen from outside: as a worker and as the server."""

    def __init__(self, url: str, tmp_path: Path):
        from jupyter_flows.orchestration.service import OrchestrationService
        from jupyter_flows.store.db import open_store

        self.url = url
        self.path = url.removeprefix("sqlite:///")
        self.engine = open_store(url)
        self.service = OrchestrationService(self.engine, tmp_path, tmp_path / "outputs")

    def worker_run(self, flow_name: str = "analysis") -> str:
        """A flow run as a worker's run process has it when papermill starts: Running."""
        from jupyter_flows.core.records import FlowRunInfo, new_id
        from jupyter_flows.core.states import Pending, Running, now
        from jupyter_flows.store.recorder import SqlRecorder

        recorder = SqlRecorder(self.engine)
        run_id = new_id()
        recorder.flow_run_created(
            FlowRunInfo(run_id, "nightly-1", flow_name, None, None, [], {"n": 2}, now())
        )
        recorder.set_state("flow", run_id, Pending(), 0)
        recorder.set_state("flow", run_id, Running(), 1)
        recorder.close()
        return run_id

    def cancel(self, run_id: str) -> None:
        """Cancel in the panel: the server sets a held run Cancelling."""
        self.service.cancel_flow_run(run_id)

    def rows(self, sql: str, *args: Any) -> list[tuple[Any, ...]]:
        """Rows of a plain SQLite read (the kernel may be writing meanwhile)."""
        conn = sqlite3.connect(self.path, timeout=30)
        try:
            return list(conn.execute(sql, args))
        finally:
            conn.close()

    def state(self, run_id: str) -> str | None:
        found = self.rows("SELECT state_name FROM flow_run WHERE id = ?", run_id)
        return found[0][0] if found else None


@pytest.fixture
def runs_db(db_url_of: str, tmp_path: Path) -> Iterator[RunDatabase]:
    db = RunDatabase(db_url_of, tmp_path)
    try:
        yield db
    finally:
        db.engine.dispose()
