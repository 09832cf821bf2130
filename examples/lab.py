"""``make run``: JupyterLab on the example notebooks, with the Flows panel, the embedded
worker, and one example deployment that runs every minute.

Starts ``jupyter lab`` in ``notebooks/`` (on 127.0.0.1, with a token it prints in the URL),
then creates the deployment ``example-every-minute`` (``flows/etl.py:etl``, an interval of
60 s) if it does not exist, so that a scheduled run shows in the Flows panel within a
minute. Ctrl-C stops the server. ``make quickstart`` runs the script example instead.
"""

from __future__ import annotations

import argparse
import os
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1] / "notebooks"
DEPLOYMENT = {
    "name": "example-every-minute",
    "entrypoint": "flows/etl.py:etl",
    "parameters": {"n": 10},
    "schedules": [{"interval_seconds": 60}],
    "description": "made by `make run`: the example flow, every minute",
    "tags": ["example"],
}


def _wait_for(url: str, token: str, process: subprocess.Popen[bytes], seconds: float) -> None:
    from jupyter_flows.client.http import ClientError, FlowsClient

    deadline = time.monotonic() + seconds
    client = FlowsClient(url, token, timeout=5)
    while time.monotonic() < deadline:
        if process.poll() is not None:
            sys.exit(f"jupyter lab exited with code {process.returncode}")
        try:
            client.list_work_pools()
            return
        except (ClientError, OSError):
            time.sleep(0.5)
    sys.exit(f"jupyter lab did not answer at {url} within {seconds:.0f} s")


def _ensure_deployment(url: str, token: str) -> str:
    from jupyter_flows.client.http import FlowsClient

    client = FlowsClient(url, token, timeout=30)
    if any(d.name == DEPLOYMENT["name"] for d in client.list_deployments()):
        return "exists"
    client.create_deployment(DEPLOYMENT)
    return "created"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8888)
    parser.add_argument("--no-browser", action="store_true", help="only print the URL")
    args = parser.parse_args()
    token = secrets.token_urlsafe(24)
    command = [
        sys.executable, "-m", "jupyter", "lab", f"--ServerApp.root_dir={ROOT}",
        "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={args.port}",
        f"--IdentityProvider.token={token}",
    ]  # fmt: skip
    if args.no_browser:
        command.append("--no-browser")
    if hasattr(os, "geteuid") and os.geteuid() == 0:  # a container or a CI machine
        command.append("--allow-root")
    process = subprocess.Popen(command)
    try:
        # the port Jupyter chose (the next free one if --port was taken) is in its runtime file
        url = _server_url(process, args.port)
        _wait_for(url, token, process, 120)
        made = _ensure_deployment(url, token)
        print(
            f"\njupyter-flows: deployment {DEPLOYMENT['name']!r} {made}: a run every minute "
            f"(see the Flows panel, left sidebar)\n  open {url}lab?token={token}\n",
            flush=True,
        )
        process.wait()
    except KeyboardInterrupt:
        process.send_signal(signal.SIGINT)
        process.send_signal(signal.SIGINT)  # Jupyter asks to confirm the first one
        process.wait(timeout=30)


def _server_url(process: subprocess.Popen[bytes], port: int) -> str:
    """The URL of the server ``process`` started (its port may not be ``port``)."""
    from jupyter_flows.client.discovery import discover_server

    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            sys.exit(f"jupyter lab exited with code {process.returncode}")
        url, _token = discover_server(pid=process.pid)
        if url:
            return url
        time.sleep(0.5)
    return f"http://127.0.0.1:{port}/"


if __name__ == "__main__":
    main()
