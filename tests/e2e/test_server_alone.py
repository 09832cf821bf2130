"""End to end, a `jupyter server` process and nothing else: the extension installs and lists OK,
its scheduler and embedded worker run a notebook deployment on its interval, the outputs are
served, and stopping the server (SIGTERM) stops the worker's runs instead of orphaning them.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import psutil
import pytest

from tests.helpers import free_port, wait, write_notebook

REPO = Path(__file__).resolve().parents[2]
TOKEN = "alone-token"


class Server:
    def __init__(self, tmp: Path):
        self.tmp = tmp
        self.root = tmp / "root"
        self.root.mkdir()
        self.outputs = tmp / "outputs"
        self.db_url = f"sqlite:///{tmp / 'alone.sqlite'}"
        self.env = dict(
            os.environ,
            JUPYTER_RUNTIME_DIR=str(tmp / "runtime"),
            JUPYTER_CONFIG_DIR=str(tmp / "config"),
            JUPYTER_FLOWS_HOME=str(tmp / "home"),
        )
        self.env.pop("JUPYTER_FLOWS_DB_URL", None)
        self.proc: subprocess.Popen[bytes] | None = None
        self.url = ""

    def start(self) -> None:
        port = free_port()
        self.url = f"http://127.0.0.1:{port}"
        log = (self.tmp / f"server-{port}.log").open("wb")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "jupyter_server", "--no-browser", "--allow-root"]
            + ["--ServerApp.ip=127.0.0.1", f"--port={port}", f"--IdentityProvider.token={TOKEN}"]
            + [f"--ServerApp.root_dir={self.root}"]
            + ["--ServerApp.jpserver_extensions=jupyter_flows=True"]
            + [f"--FlowsApp.db_url={self.db_url}", f"--FlowsApp.outputs_dir={self.outputs}"],
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=log,
        )
        log.close()  # the child has its own handle
        wait(lambda: self.call("health") is not None, 90, "the server")

    def call(self, path: str, body: Any = None, method: str | None = None) -> Any:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(
            f"{self.url}/jupyter-flows/api/{path}", data=data, method=method
        )
        request.add_header("Authorization", f"token {TOKEN}")
        request.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                text = response.read()
        except urllib.error.HTTPError:
            raise
        except OSError:
            return None
        return json.loads(text) if text else {}

    def runs(self, deployment_id: str) -> list[dict[str, Any]]:
        page = self.call(f"flow_runs?deployment_id={deployment_id}&limit=1000")
        return list(page["items"]) if page else []

    def stop(self) -> int:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout=90)


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    srv = Server(tmp_path)
    try:
        yield srv
    finally:
        if srv.proc is not None and srv.proc.poll() is None:
            srv.proc.kill()
            srv.proc.wait(timeout=30)
        for proc in psutil.process_iter(["cmdline"]):  # run processes and kernels left over
            if str(tmp_path) in " ".join(proc.info["cmdline"] or []):
                proc.kill()


class TestInstall:
    def test_extension_list_shows_the_extension_ok(self, tmp_path: Path) -> None:
        """The shipped jupyter-config JSON alone enables the extension, and it validates."""
        config = tmp_path / "config"
        shutil.copytree(
            REPO / "jupyter-config" / "server-config", config / "jupyter_server_config.d"
        )
        shipped = json.loads((REPO / "jupyter-config/server-config/jupyter_flows.json").read_text())
        assert shipped == {"ServerApp": {"jpserver_extensions": {"jupyter_flows": True}}}
        env = dict(os.environ, JUPYTER_CONFIG_DIR=str(config))
        listed = subprocess.run(
            [sys.executable, "-m", "jupyter_server", "extension", "list"],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        )
        out = listed.stdout + listed.stderr
        assert "jupyter_flows" in out
        line = next(x for x in out.splitlines() if "jupyter_flows" in x and "OK" in x)
        assert "0." in line or "1." in line  # "jupyter_flows <version> OK"


class TestServerAlone:
    def test_schedule_embedded_worker_outputs_and_shutdown(self, server: Server) -> None:
        write_notebook(server.root / "quick.ipynb", "n = 1", "result = n * 2\nprint(result)")
        write_notebook(server.root / "slow.ipynb", "n = 1", "import time\ntime.sleep(300)")
        server.start()

        def started() -> bool:  # the extension starts its parts just after the server answers
            health = server.call("health")
            return bool(health["scheduler"] and health["embedded_worker"])

        wait(started, 60, "the scheduler and the embedded worker to start")
        body = {
            "name": "every2",
            "entrypoint": "quick.ipynb",
            "parameters": {"n": 21},
            "schedules": [{"interval_seconds": 2}],
        }
        dep = server.call("deployments", body)

        def completed() -> list[dict[str, Any]]:
            return [r for r in server.runs(dep["id"]) if r["state_name"] == "Completed"]

        done = wait(lambda: len(completed()) >= 2 and completed(), 180, "two completed runs")
        # every run is for one due time of the schedule's 2 s grid, each only once
        due = sorted(
            datetime.fromisoformat(r["expected_start_time"]) for r in server.runs(dep["id"])
        )
        gaps = [(b - a).total_seconds() for a, b in zip(due, due[1:], strict=False)]
        assert gaps and all(g > 0 and g % 2 == pytest.approx(0, abs=1e-3) for g in gaps), gaps
        for run in done:
            started = datetime.fromisoformat(run["start_time"])
            assert started >= datetime.fromisoformat(run["expected_start_time"])
            assert run["worker"].startswith("embedded-") and run["parameters"] == {"n": 21}
        output = server.call(f"flow_runs/{done[0]['id']}/output")
        sources = ["".join(c["source"]) for c in output["cells"]]
        assert any("n = 21" in s for s in sources)  # papermill's injected parameters
        assert any("42" in json.dumps(c.get("outputs")) for c in output["cells"])
        assert (server.outputs / done[0]["id"] / "quick.ipynb").exists()

        server.call(f"deployments/{dep['id']}/pause", {}, "POST")
        slow = server.call("deployments", {"name": "slow", "entrypoint": "slow.ipynb"})
        run = server.call(f"deployments/{slow['id']}/run", {}, "POST")
        wait(
            lambda: server.call(f"flow_runs/{run['id']}")["state_name"] == "Running",
            120,
            "the slow notebook to run",
        )
        assert server.stop() == 0  # SIGTERM: stop_extension ends the worker and its runs
        server.start()
        ended = server.call(f"flow_runs/{run['id']}")
        assert ended["state_name"] == "Crashed" and "shut down" in ended["state_message"]
