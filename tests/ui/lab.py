"""A real ``jupyter lab`` process for the UI tests, and page helpers.

The lab runs on a temporary root, run database, settings and workspace directory. Every wait
is bounded.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

TOKEN = "flows-ui-token"
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
PY = sys.executable
#: the checkout these tests belong to: its Python package and its built lab extension are
#: the ones the lab and its kernels load (not those of whichever checkout the venv points to)
CHECKOUT = Path(__file__).resolve().parents[2]

#: a deployable notebook: a ``parameters`` cell and a body
QUICK_NOTEBOOK = {
    "nbformat": 4,
    "nbformat_minor": 5,
    "metadata": {
        "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}
    },
    "cells": [
        {
            "cell_type": "code",
            "id": "params",
            "metadata": {"tags": ["parameters"]},
            "source": "n = 3\nlabel = 'hello'",
            "outputs": [],
            "execution_count": None,
        },
        {
            "cell_type": "code",
            "id": "body",
            "metadata": {},
            "source": "result = n * 2\nprint(label, result)",
            "outputs": [],
            "execution_count": None,
        },
    ],
}

#: a notebook whose cell runs a flow in the lab's kernel
FLOW_NOTEBOOK = {
    **QUICK_NOTEBOOK,
    "cells": [
        {
            "cell_type": "code",
            "id": "flow",
            "metadata": {},
            "source": (
                "from jupyter_flows import flow, task\n\n"
                "@task\ndef double(x: int) -> int:\n    return 2 * x\n\n"
                "@flow\ndef from_notebook(n: int = 21) -> int:\n    return double(n)\n\n"
                "from_notebook()"
            ),
            "outputs": [],
            "execution_count": None,
        }
    ],
}

#: a notebook that runs long enough to be cancelled
SLOW_NOTEBOOK = {
    **QUICK_NOTEBOOK,
    "cells": [
        {
            "cell_type": "code",
            "id": "body",
            "metadata": {},
            "source": "import time\ntime.sleep(120)",
            "outputs": [],
            "execution_count": None,
        }
    ],
}

#: flows recorded into the lab's database by a separate Python process
FLOWS_SCRIPT = """
from jupyter_flows import flow, get_run_logger, task

@task
def extract(n: int) -> list[int]:
    get_run_logger().info("extracting %d rows", n)
    return list(range(n))

@task
def square(x: int) -> int:
    return x * x

@task
def load(values: list[int]) -> int:
    return sum(values)

@flow
def etl(n: int = 4) -> int:
    return load(square.map(extract(n)))

@task
def check_source() -> None:
    raise ValueError("the source table is empty")

@flow
def broken() -> None:
    check_source()

@flow
def child_report(total: int) -> str:
    return f"{total} rows"

@flow
def nightly() -> str:
    return child_report(square(3))

etl(n=4)
nightly()
try:
    broken()
except ValueError:
    pass
"""


def wait_for(predicate: Callable[[], Any], timeout: float, what: str) -> Any:
    """Poll ``predicate`` until it returns something truthy; fail after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.25)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Lab:
    """One ``jupyter lab`` process and REST helpers for its jupyter-flows API."""

    def __init__(self, tmp: Path, server_extension: bool = True) -> None:
        self.tmp = tmp
        self.root = tmp / "root"
        self.root.mkdir()
        (self.root / "quick.ipynb").write_text(json.dumps(QUICK_NOTEBOOK))
        (self.root / "slow.ipynb").write_text(json.dumps(SLOW_NOTEBOOK))
        (self.root / "flow_in_notebook.ipynb").write_text(json.dumps(FLOW_NOTEBOOK))
        settings = tmp / "settings" / "@jupyterlab" / "apputils-extension"
        settings.mkdir(parents=True)
        # the "Jupyter news" toast would cover the screenshots
        (settings / "notification.jupyterlab-settings").write_text(
            json.dumps({"fetchNews": "false", "checkForUpdates": False})
        )
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}/"
        self.env = dict(
            os.environ,
            JUPYTER_FLOWS_DB_URL=f"sqlite:///{tmp / 'flows.sqlite'}",
            JUPYTER_FLOWS_HOME=str(tmp / "home"),
            JUPYTER_RUNTIME_DIR=str(tmp / "runtime"),
            JUPYTERLAB_SETTINGS_DIR=str(tmp / "settings"),
        )
        self.env["PYTHONPATH"] = os.pathsep.join(
            [str(CHECKOUT), *filter(None, [os.environ.get("PYTHONPATH")])]
        )
        built = CHECKOUT / "jupyter_flows" / "labextension"
        if (built / "package.json").is_file():
            # JUPYTER_PATH comes first in the labextensions path: this build wins
            data = tmp / "jupyter-path"
            (data / "labextensions").mkdir(parents=True)
            (data / "labextensions" / "jupyter-flows").symlink_to(built)
            self.env["JUPYTER_PATH"] = os.pathsep.join(
                [str(data), *filter(None, [os.environ.get("JUPYTER_PATH")])]
            )
        config = tmp / "config"
        config.mkdir()
        self.env["JUPYTER_CONFIG_DIR"] = str(config)
        if not server_extension:
            # what a user sees when only the lab half of the package is enabled
            (config / "jupyter_server_config.json").write_text(
                json.dumps({"ServerApp": {"jpserver_extensions": {"jupyter_flows": False}}})
            )
        self.log_path = tmp / "lab.log"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        workspaces = self.tmp / "workspaces"
        workspaces.mkdir()
        with open(self.log_path, "wb") as log:
            self.proc = subprocess.Popen(
                [
                    PY, "-m", "jupyterlab", "--allow-root", "--no-browser",
                    "--ServerApp.ip=127.0.0.1", f"--port={self.port}",
                    f"--IdentityProvider.token={TOKEN}", f"--ServerApp.root_dir={self.root}",
                    f"--LabApp.workspaces_dir={workspaces}",
                ],
                env=self.env, stdout=log, stderr=subprocess.STDOUT, cwd=self.tmp,
            )  # fmt: skip

        def ready() -> bool:
            assert self.proc is not None
            if self.proc.poll() is not None:
                raise AssertionError(f"jupyter lab exited:\n{self.log()}")
            try:
                return self.get("/api/status") is not None
            except (OSError, urllib.error.URLError):
                return False

        wait_for(ready, 60, "jupyter lab to answer")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-5000:]

    def request(self, method: str, path: str, body: Any = None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.url.rstrip("/") + path, data=data, method=method)
        req.add_header("Authorization", f"token {TOKEN}")
        req.add_header("Content-Type", "application/json")
        with urllib.request.urlopen(req, timeout=15) as reply:
            text = reply.read()
        return json.loads(text) if text else None

    def get(self, path: str) -> Any:
        return self.request("GET", path)

    def api(self, method: str, route: str, body: Any = None) -> Any:
        return self.request(method, f"/jupyter-flows/api/{route}", body)

    def record_flows(self) -> None:
        """Run ``etl``, ``nightly`` (with subflow ``child_report``) and a failing ``broken`` flow
        in a separate process, into the lab's database."""
        subprocess.run(
            [PY, "-c", FLOWS_SCRIPT], env=self.env, cwd=self.root, check=True,
            capture_output=True, timeout=120,
        )  # fmt: skip

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        try:
            self.request("POST", "/api/shutdown")
        except (OSError, urllib.error.URLError):
            pass
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=10)


def open_panel(page: Any) -> None:
    """Show the Flows side panel (its tab is in the left sidebar)."""
    page.wait_for_selector("li[data-id='jupyter-flows-panel']", timeout=60_000)
    panel = page.locator("#jupyter-flows-panel")
    for _ in range(5):  # the tab toggles: a panel JupyterLab restores meanwhile closes again
        if panel.is_visible():
            break
        page.click("li[data-id='jupyter-flows-panel']")
        try:
            panel.wait_for(state="visible", timeout=3_000)
        except Exception:  # noqa: BLE001 - closed by the restore racing the click: again
            continue
    page.wait_for_selector("#jupyter-flows-panel .jp-Flows-section", timeout=15_000)


def screenshot(page: Any, name: str, dismiss_toasts: bool = True) -> Path:
    """Save a screenshot to ``tests/artifacts/`` (toasts dismissed first, by default)."""
    for close in page.locator(".jp-Notification-Toast-Close").all() if dismiss_toasts else []:
        try:
            close.click(timeout=1000)
        except Exception:  # noqa: BLE001 - a toast may close by itself meanwhile
            pass
    page.wait_for_timeout(400)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / name
    page.screenshot(path=str(path))
    return path


def panel_screenshot(page: Any, name: str, focus: Any = None) -> Path:
    """Save a screenshot of the Flows side panel alone (at its default width) to
    ``tests/artifacts/``, ``focus`` (a locator) scrolled into view first."""
    if focus is not None:
        focus.scroll_into_view_if_needed()
    page.wait_for_timeout(300)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / name
    page.locator("#jupyter-flows-panel").screenshot(path=str(path))
    return path
