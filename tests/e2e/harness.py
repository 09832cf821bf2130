"""The end-to-end harness: a real `jupyter server` process, worker processes, the CLI, HTTP."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import urllib.request
from pathlib import Path
from typing import Any

import psutil

from tests.helpers import free_port, wait, write_notebook

__all__ = ["TOKEN", "PY", "Env", "stop_all"]

TOKEN = "e2e-token"
PY = sys.executable


class Env:
    def __init__(self, tmp: Path, db_url: str | None = None, root: Path | None = None):
        self.root = root or tmp / "root"
        self.root.mkdir(exist_ok=True)
        write_notebook(self.root / "quick.ipynb", "n = 1", "result = n * 2")
        write_notebook(self.root / "slow.ipynb", "n = 1", "import time\ntime.sleep(120)")
        (self.root / "etl.py").write_text(
            "from jupyter_flows import flow\n@flow\ndef etl(n: int) -> int:\n    return n * 2\n"
        )
        self.db_url = db_url or f"sqlite:///{tmp / 'e2e.sqlite'}"
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = dict(
            os.environ,
            JUPYTER_FLOWS_DB_URL=self.db_url,
            JUPYTER_FLOWS_HOME=str(tmp / "home"),
            JUPYTER_RUNTIME_DIR=str(tmp / "runtime"),
        )
        self.procs: list[subprocess.Popen[Any]] = []
        self.log = tmp / "server.log"
        tmp.mkdir(parents=True, exist_ok=True)
        self.server: subprocess.Popen[bytes] | None = None

    def start_server(self, *options: str, embedded_worker: bool = False) -> None:
        with self.log.open("ab") as log:
            self.server = subprocess.Popen(
                [
                    PY,
                    "-m",
                    "jupyter_server",
                    "--no-browser",
                    "--allow-root",
                    "--ServerApp.ip=127.0.0.1",
                    f"--port={self.port}",
                    f"--IdentityProvider.token={TOKEN}",
                    f"--ServerApp.root_dir={self.root}",
                    "--ServerApp.jpserver_extensions=jupyter_flows=True",
                    f"--FlowsApp.db_url={self.db_url}",
                    f"--FlowsApp.embedded_worker={embedded_worker}",
                    "--FlowsApp.heartbeat_timeout=4",
                    "--FlowsApp.crash_check_interval=1",
                    *options,
                ],
                env=self.env,
                stdout=subprocess.DEVNULL,
                stderr=log,  # for the eyes of whoever debugs a failure
            )
        self.procs.append(self.server)
        wait(lambda: self.get("health") is not None, 60, "the server")

    def stop_server(self) -> None:
        assert self.server is not None
        self.server.send_signal(signal.SIGTERM)
        self.server.wait(timeout=30)

    def start_worker(
        self, token: str = TOKEN, name: str = "w1", *options: str, **popen: Any
    ) -> subprocess.Popen[Any]:
        worker = subprocess.Popen(
            [
                PY,
                "-m",
                "jupyter_flows.cli.app",
                "worker",
                "--url",
                self.url,
                "--token",
                token,
                "--poll-interval",
                "0.5",
                "--root",
                str(self.root),
                "--name",
                name,
                "--grace",
                "1",
                *options,
            ],
            **(
                {"env": self.env, "stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
                | popen
            ),
        )
        self.procs.append(worker)
        return worker

    def get(self, path: str) -> Any:
        request = urllib.request.Request(f"{self.url}/jupyter-flows/api/{path}")
        request.add_header("Authorization", f"token {TOKEN}")
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return json.loads(response.read())
        except OSError:
            return None

    def get_text(self, path: str) -> str:
        request = urllib.request.Request(f"{self.url}/jupyter-flows/api/{path}")
        request.add_header("Authorization", f"token {TOKEN}")
        with urllib.request.urlopen(request, timeout=60) as response:
            return str(response.read().decode())

    def cli(self, *args: str, input: str | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [PY, "-m", "jupyter_flows.cli.app", *args, "--url", self.url, "--token", TOKEN],
            env=self.env,
            input=input,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )

    def runs(self, deployment: str) -> list[dict[str, Any]]:
        page = self.get(f"flow_runs?deployment_id={deployment}&limit=1000")
        return list(page["items"]) if page else []

    def state(self, run_id: str) -> str | None:
        run = self.get(f"flow_runs/{run_id}")
        return run["state_name"] if run else None


def stop_all(env: Env, tmp_path: Path) -> None:
    """Kill what a test started, and run processes orphaned under ``tmp_path``."""
    for proc in env.procs:
        if proc.poll() is None:
            for child in psutil.Process(proc.pid).children(recursive=True):
                child.kill()
            proc.kill()
            proc.wait(timeout=30)
    for proc in psutil.process_iter(["cmdline"]):
        if str(tmp_path) in " ".join(proc.info["cmdline"] or []):
            proc.kill()
