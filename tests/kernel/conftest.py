"""A real IPython kernel (the venv's python3 kernelspec) recording into a temp database."""

from __future__ import annotations

import os
import queue
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from jupyter_client.manager import KernelManager


@dataclass
class Result:
    status: str = ""
    stdout: str = ""
    stderr: str = ""
    value: str | None = None
    ename: str | None = None
    evalue: str | None = None
    traceback: str = ""
    outputs: list[dict[str, Any]] = field(default_factory=list)


class KernelSession:
    """Runs code on a real kernel and collects what it sends back."""

    def __init__(self, env: dict[str, str], extra_arguments: list[str] | None = None):
        self.env = env
        self.km = KernelManager(kernel_name="python3")
        self.km.start_kernel(env=env, extra_arguments=extra_arguments or [])
        self.kc = self.km.client()
        self.kc.start_channels()
        self.kc.wait_for_ready(timeout=60)

    def run(self, code: str, metadata: dict[str, Any] | None = None, timeout: float = 60) -> Result:
        content = {
            "code": code,
            "silent": False,
            "store_history": True,
            "user_expressions": {},
            "allow_stdin": False,
            "stop_on_error": True,
        }
        msg = self.kc.session.msg("execute_request", content, metadata=metadata or {})
        self.kc.shell_channel.send(msg)
        msg_id = msg["header"]["msg_id"]
        result = Result()
        while True:
            try:
                reply = self.kc.get_iopub_msg(timeout=timeout)
            except queue.Empty:
                raise TimeoutError(f"no reply from the kernel within {timeout} s") from None
            if reply["parent_header"].get("msg_id") != msg_id:
                continue
            kind, data = reply["msg_type"], reply["content"]
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
            elif kind == "status" and data["execution_state"] == "idle":
                break
        shell = self.kc.get_shell_msg(timeout=timeout)
        result.status = shell["content"]["status"]
        return result

    def ok(self, code: str, **kwargs: Any) -> Result:
        result = self.run(code, **kwargs)
        assert result.status == "ok", f"{result.ename}: {result.evalue}\n{result.traceback}"
        return result

    def restart(self) -> None:
        self.kc.stop_channels()
        self.km.restart_kernel(now=False, newports=False)
        self.kc = self.km.client()
        self.kc.start_channels()
        self.kc.wait_for_ready(timeout=60)

    def shutdown(self) -> None:
        self.kc.stop_channels()
        self.km.shutdown_kernel(now=False)


@pytest.fixture
def kernel_env(tmp_path: Path) -> dict[str, str]:
    env = dict(os.environ)
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
