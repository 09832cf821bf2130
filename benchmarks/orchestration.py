"""Orchestration benchmarks: schedule-to-start latency, REST list latency, notebook overhead,
event processing for automations.

Usage: ``python benchmarks/orchestration.py [--quick]``. Prints a table; figures are
medians/percentiles of one run, with ratios taken in the same run.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import datetime, timedelta, timezone
from pathlib import Path

TOKEN = "bench"


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def notebook(path: Path, body: str) -> None:
    path.write_text(
        json.dumps(
            {
                "nbformat": 4,
                "nbformat_minor": 5,
                "metadata": {
                    "kernelspec": {
                        "name": "python3",
                        "display_name": "Python 3",
                        "language": "python",
                    }
                },
                "cells": [
                    {
                        "cell_type": "code",
                        "id": "p",
                        "metadata": {"tags": ["parameters"]},
                        "source": "n = 1",
                        "outputs": [],
                        "execution_count": None,
                    },
                    {
                        "cell_type": "code",
                        "id": "b",
                        "metadata": {},
                        "source": body,
                        "outputs": [],
                        "execution_count": None,
                    },
                ],
            }
        )
    )


def schedule_latency(tmp: Path, deployments: int, seconds: float) -> dict[str, float]:
    """100 active interval schedules; a claiming loop stands for the worker's start."""
    from jupyter_flows.orchestration.schemas import CreateDeployment, ScheduleSpec
    from jupyter_flows.orchestration.service import OrchestrationService
    from jupyter_flows.scheduling.scheduler import FlowsScheduler
    from jupyter_flows.store.db import open_store

    root = tmp / "root"
    root.mkdir()
    notebook(root / "nb.ipynb", "pass")
    service = OrchestrationService(open_store(f"sqlite:///{tmp / 'sched.sqlite'}"), root, tmp)
    for i in range(deployments):
        service.create_deployment(
            CreateDeployment(
                name=f"d{i}", entrypoint="nb.ipynb", schedules=[ScheduleSpec(interval_seconds=2)]
            )
        )
    scheduler = FlowsScheduler(service)
    scheduler.start()
    starts: list[float] = []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        for claimed in service.claim_runs("default", "bench", 100):
            expected = claimed.flow_run.expected_start_time
            assert expected is not None
            starts.append((datetime.now(timezone.utc) - expected).total_seconds())
        time.sleep(0.05)
    scheduler.shutdown()
    return {"runs": len(starts), "p50": pct(starts, 0.5), "p99": pct(starts, 0.99)}


def event_throughput(tmp: Path, events: int) -> dict[str, float]:
    """Flow-run states -> events -> 20 automations (one matches each 100th event): events/s."""
    from jupyter_flows.orchestration._tables import FLOW_RUN, STATE
    from jupyter_flows.orchestration.schemas import CreateAutomation, CreateDeployment
    from jupyter_flows.orchestration.service import OrchestrationService
    from jupyter_flows.store.db import open_store

    root = tmp / "events-root"
    root.mkdir()
    notebook(root / "nb.ipynb", "pass")
    service = OrchestrationService(open_store(f"sqlite:///{tmp / 'events.sqlite'}"), root, tmp)
    service.create_deployment(CreateDeployment(name="target", entrypoint="nb.ipynb"))
    for i in range(20):
        service.create_automation(
            CreateAutomation.model_validate(
                {
                    "name": f"a{i}",
                    "trigger": {"event": "flow-run.Failed", "match": {"flow_name": f"f{i}"}},
                    "action": {"type": "run-deployment", "deployment": "target"},
                }
            )
        )
    service.start_cursors()
    now = datetime.now(timezone.utc)
    runs, states = [], []
    for i in range(events // 2):  # each run: Running, then Completed (every 100th: Failed)
        run_id = f"{i:032x}"
        failed = i % 100 == 0
        runs.append(
            {"id": run_id, "name": f"r{i}", "flow_name": f"f{i % 20}", "parameters": {},
             "tags": [], "state_type": "FAILED" if failed else "COMPLETED",
             "state_name": "Failed" if failed else "Completed", "created": now, "run_count": 1,
             "total_run_time": 0.0}
        )  # fmt: skip
        for type_, name in (
            ("RUNNING", "Running"),
            (("FAILED", "Failed") if failed else ("COMPLETED", "Completed")),
        ):
            states.append(
                {"run_id": run_id, "run_kind": "flow", "flow_run_id": run_id, "type": type_,
                 "name": name, "timestamp": now}
            )  # fmt: skip
    with service.engine.begin() as conn:
        conn.execute(FLOW_RUN.insert(), runs)
        conn.execute(STATE.insert(), states)
    started = time.perf_counter()
    while service.process_events(500) == 500:
        pass
    elapsed = time.perf_counter() - started
    fired = sum(a.fired_count for a in service.list_automations().items)
    return {"events": events, "per_s": events / elapsed, "fired": fired}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def rest_list(tmp: Path, runs: int, requests: int) -> dict[str, float]:
    from jupyter_flows.store.db import open_store
    from jupyter_flows.store.models import FlowRunRecord

    url = f"sqlite:///{tmp / 'rest.sqlite'}"
    engine = open_store(url)
    now = datetime.now(timezone.utc)
    rows = [
        {
            "id": f"{i:032x}",
            "name": f"run-{i}",
            "flow_name": f"flow{i % 20}",
            "parameters": {},
            "tags": ["bench"] if i % 2 else [],
            "state_type": "COMPLETED" if i % 7 else "FAILED",
            "state_name": "Completed" if i % 7 else "Failed",
            "created": now - timedelta(seconds=i),
            "run_count": 1,
            "total_run_time": 0.1,
        }
        for i in range(runs)
    ]
    with engine.begin() as conn:
        conn.execute(FlowRunRecord.__table__.insert(), rows)  # type: ignore[attr-defined]
    engine.dispose()
    port = free_port()
    env = dict(os.environ, JUPYTER_FLOWS_DB_URL=url)
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "jupyter_server",
            "--no-browser",
            "--allow-root",
            "--ServerApp.ip=127.0.0.1",
            f"--port={port}",
            f"--IdentityProvider.token={TOKEN}",
            f"--ServerApp.root_dir={tmp}",
            "--ServerApp.jpserver_extensions=jupyter_flows=True",
            f"--FlowsApp.db_url={url}",
            "--FlowsApp.embedded_worker=False",
            "--FlowsApp.scheduler_enabled=False",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}/jupyter-flows/api/"

    def get(path: str) -> float:
        request = urllib.request.Request(base + path)
        request.add_header("Authorization", f"token {TOKEN}")
        t0 = time.perf_counter()
        with urllib.request.urlopen(request, timeout=60) as response:
            response.read()
        return time.perf_counter() - t0

    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                get("health")
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        queries = [
            "flow_runs?limit=50",
            "flow_runs?limit=50&offset=5000",
            "flow_runs?flow_name=flow3&limit=50",
            "flow_runs?state=failed&limit=50",
            "flow_runs?tags=bench&limit=50&offset=100",
        ]
        times = [get(queries[i % len(queries)]) * 1000 for i in range(requests)]
    finally:
        server.terminate()
        server.wait(timeout=30)
    return {"p50": pct(times, 0.5), "p99": pct(times, 0.99), "runs": runs}


def notebook_overhead(tmp: Path, repeats: int) -> dict[str, float]:
    root = tmp / "nbroot"
    root.mkdir()
    notebook(root / "tiny.ipynb", "x = n + 1")
    url = f"sqlite:///{tmp / 'nb.sqlite'}"
    env = dict(os.environ, JUPYTER_FLOWS_DB_URL=url)
    from jupyter_flows.store.db import open_store

    open_store(url).dispose()
    bare, ours = [], []
    for i in range(repeats):
        t0 = time.perf_counter()
        subprocess.run(  # papermill's own CLI: also a fresh process
            [
                sys.executable,
                "-m",
                "papermill",
                str(root / "tiny.ipynb"),
                str(tmp / f"bare{i}.ipynb"),
                "-p",
                "n",
                "2",
                "-k",
                "python3",
                "--no-progress-bar",
            ],
            env=env,
            check=True,
            capture_output=True,
        )
        bare.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        subprocess.run(
            [
                sys.executable,
                "-m",
                "jupyter_flows.workers.execute_run",
                "--flow-run-id",
                f"{i:032x}",
                "--entrypoint",
                "tiny.ipynb",
                "--parameters",
                json.dumps({"n": 2}),
                "--root",
                str(root),
                "--output",
                str(tmp / "out"),
            ],
            env=env,
            check=True,
            capture_output=True,
        )
        ours.append(time.perf_counter() - t0)
    b, o = statistics.median(bare), statistics.median(ours)
    return {"bare_s": b, "ours_s": o, "overhead_pct": (o / b - 1) * 100}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        os.environ["JUPYTER_FLOWS_HOME"] = str(tmp / "home")
        sched = schedule_latency(tmp, 100, 8 if args.quick else 30)
        rest = rest_list(tmp, 100_000, 100 if args.quick else 500)
        nb = notebook_overhead(tmp, 3 if args.quick else 7)
        events = event_throughput(tmp, 5_000 if args.quick else 50_000)
    print("jupyter-flows orchestration benchmarks")
    print(
        f"schedule -> start, 100 active schedules : p50 {sched['p50'] * 1000:.0f} ms, "
        f"p99 {sched['p99'] * 1000:.0f} ms ({sched['runs']:.0f} runs)"
    )
    print(
        f"REST list of flow runs, 100,000 in DB   : p50 {rest['p50']:.1f} ms, "
        f"p99 {rest['p99']:.1f} ms (paginated, filtered)"
    )
    print(
        f"notebook run vs bare papermill          : {nb['ours_s']:.2f} s vs {nb['bare_s']:.2f} s "
        f"({nb['overhead_pct']:+.0f}%; both fresh processes)"
    )
    print(
        f"flow-run states -> automations          : {events['per_s']:,.0f} states/s "
        f"({events['events']:,.0f} states, 20 automations, {events['fired']:.0f} runs started)"
    )


if __name__ == "__main__":
    main()
