"""``make run`` (examples/lab.py) as a new user meets it: JupyterLab on the example
notebooks answers with the printed token, the example deployment exists and is scheduled,
and a second start does not make it twice. Ctrl-C stops the server."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _start(home: Path, port: int) -> tuple[subprocess.Popen[str], str, str]:
    env = {
        **os.environ,
        "HOME": str(home),
        "JUPYTER_FLOWS_HOME": str(home / "flows"),
        "JUPYTER_RUNTIME_DIR": str(home / "runtime"),
        "JUPYTER_CONFIG_DIR": str(home / "cfg"),
    }
    process = subprocess.Popen(
        [sys.executable, str(ROOT / "examples" / "lab.py"), "--port", str(port), "--no-browser"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env,
    )  # fmt: skip
    assert process.stdout is not None
    deadline = time.monotonic() + 180
    lines = []
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line and process.poll() is not None:
            break
        lines.append(line)
        found = re.search(r"open (http://\S+/)lab\?token=(\S+)", line)
        if found:
            return process, found.group(1), found.group(2)
    _stop(process)
    raise AssertionError(f"no URL printed: {''.join(lines)[-2000:]}")


def _stop(process: subprocess.Popen[str]) -> None:
    process.send_signal(signal.SIGINT)
    try:
        process.wait(timeout=60)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)
    finally:
        if process.stdout is not None:
            process.stdout.close()


def _deployments(url: str, token: str) -> list[dict]:
    request = urllib.request.Request(f"{url}jupyter-flows/api/deployments")
    request.add_header("Authorization", f"token {token}")
    with urllib.request.urlopen(request, timeout=30) as reply:
        return list(json.loads(reply.read())["items"])


def test_make_run_opens_lab_with_a_scheduled_example(tmp_path: Path) -> None:
    port = _free_port()
    process, url, token = _start(tmp_path, port)
    try:
        assert url.startswith("http://127.0.0.1:")
        (deployment,) = _deployments(url, token)
        assert deployment["name"] == "example-every-minute"
        assert deployment["entrypoint"] == "flows/etl.py:etl"
        assert deployment["schedules"][0]["interval_seconds"] == 60
        assert deployment["next_run_time"] is not None and not deployment["paused"]
        with urllib.request.urlopen(f"{url}lab?token={token}", timeout=30) as page:
            assert page.status == 200
    finally:
        _stop(process)
    assert process.returncode is not None
    again, url, token = _start(tmp_path, _free_port())  # the same data dir: found, not made
    try:
        assert [d["name"] for d in _deployments(url, token)] == ["example-every-minute"]
    finally:
        _stop(again)
