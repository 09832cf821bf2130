"""Faults, each ending in the states a user expects: real processes, real kill -9.

Every test asserts the whole state history of the runs involved, that no process of a
stopped run is left behind, and that nothing committed is lost.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import psutil
import pytest

from tests.e2e.harness import Env, stop_all
from tests.helpers import wait, write_notebook

SLOW_FLOW = """
import time
from datetime import datetime, timezone
from pathlib import Path
from jupyter_flows import flow, task

@task
def nap(seconds: float, marker: str) -> str:
    time.sleep(seconds)
    Path(marker).write_text("finished")
    return marker

@flow
def child(seconds: float, marker: str) -> str:
    return nap(seconds, marker)

@flow
def slow(seconds: float = 60, marker: str = "done.txt") -> str:
    return nap(seconds, marker)

@flow
def parent(seconds: float = 60, marker: str = "done.txt") -> str:
    return child(seconds, marker)
"""


def processes_of(run_id: str) -> list[psutil.Process]:
    """Live run processes (``execute_run --flow-run-id RUN``) of a run."""
    found = []
    for proc in psutil.process_iter(["cmdline", "status"]):
        cmdline = proc.info["cmdline"] or []
        if run_id in cmdline and proc.info["status"] != psutil.STATUS_ZOMBIE:
            found.append(proc)
    return found


def alive(pids: list[int]) -> bool:
    """Any of ``pids`` is still running (not a zombie)."""
    for pid in pids:
        try:
            if psutil.Process(pid).status() != psutil.STATUS_ZOMBIE:
                return True
        except psutil.NoSuchProcess:
            continue
    return False


def tasks(env: Env, run_id: str) -> dict[str, str]:
    """Task name -> state name of the run's task runs."""
    return {t["task_name"]: t["state_name"] for t in env.get(f"flow_runs/{run_id}")["task_runs"]}


def history(env: Env, run_id: str) -> list[str]:
    return [s["name"] for s in env.get(f"flow_runs/{run_id}")["states"]]


def deploy_and_run(env: Env, entrypoint: str, name: str, **params: Any) -> str:
    args = [f"--param={k}={v}" for k, v in params.items()]
    deployed = env.cli("deploy", entrypoint, "--name", name, *args)
    assert deployed.returncode == 0, deployed.stderr
    started = env.cli("run", name)
    assert started.returncode == 0, started.stderr
    deployment = env.get(f"deployments/{name}")["id"]
    return str(env.runs(deployment)[0]["id"])


@pytest.fixture
def faults(tmp_path: Path) -> Any:
    env = Env(tmp_path)
    (env.root / "slow.py").write_text(SLOW_FLOW)
    write_notebook(
        env.root / "cells.ipynb",
        "n = 1",
        "%load_ext jupyter_flows",
        "%%task quick\nvalue = n + 1",
        "%%task sleepy\nimport time\ntime.sleep(120)",
    )
    try:
        yield env
    finally:
        stop_all(env, tmp_path)


class TestWorkerKilled:
    def test_kill_9_mid_python_run(self, faults: Env) -> None:
        faults.start_server()
        worker = faults.start_worker()
        marker = faults.root / "done.txt"
        run_id = deploy_and_run(faults, "slow.py:slow", "slow", seconds=30, marker=marker)
        wait(lambda: faults.state(run_id) == "Running", 90, "the run to start")
        wait(lambda: processes_of(run_id), 30, "its run process")
        wait(lambda: tasks(faults, run_id) == {"nap": "Running"}, 30, "its task to run")
        worker.kill()  # kill -9: no goodbye
        killed = time.monotonic()
        wait(lambda: faults.state(run_id) == "Crashed", 60, "the run to end Crashed")
        crashed_after = time.monotonic() - killed
        wait(lambda: not processes_of(run_id), 30, "the orphaned run process to fence itself")
        time.sleep(2)  # anything it would still write has had time to arrive
        run = faults.get(f"flow_runs/{run_id}")
        assert history(faults, run_id) == ["Scheduled", "Pending", "Running", "Crashed"]
        assert [t["state_name"] for t in run["task_runs"]] == ["Crashed"]
        assert not marker.exists()  # its task never finished
        workers = faults.get("workers")["items"]
        assert [(w["name"], w["status"]) for w in workers] == [("w1", "offline")]
        print(f"kill -9 of the worker -> Crashed in {crashed_after:.1f} s (timeout 4 s)")

    def test_kill_9_mid_notebook_run(self, faults: Env) -> None:
        faults.start_server()
        worker = faults.start_worker()
        run_id = deploy_and_run(faults, "cells.ipynb", "cells")

        wait(lambda: tasks(faults, run_id).get("sleepy") == "Running", 120, "the sleepy cell")
        kernels = processes_of(run_id)
        assert kernels  # the run process (its kernel has the connection file, not the id)
        family = [p.pid for k in kernels for p in k.children(recursive=True)]
        assert family, "papermill's kernel"
        worker.kill()
        wait(lambda: faults.state(run_id) == "Crashed", 60, "the run to end Crashed")
        pids = family + [k.pid for k in kernels]
        wait(lambda: not alive(pids), 30, "the run process and its kernel to stop")
        assert history(faults, run_id) == ["Scheduled", "Pending", "Running", "Crashed"]
        assert tasks(faults, run_id) == {"quick": "Completed", "sleepy": "Crashed"}


class TestCancel:
    def test_cancel_a_run_with_subflows(self, faults: Env) -> None:
        faults.start_server()
        faults.start_worker()
        run_id = deploy_and_run(faults, "slow.py:parent", "parent", seconds=60)

        def subflow() -> dict[str, Any] | None:
            page = faults.get("flow_runs?flow_name=child&limit=1")["items"]
            return page[0] if page and page[0]["state_name"] == "Running" else None

        child = wait(subflow, 90, "the subflow to run")
        assert faults.cli("cancel", run_id).returncode == 0
        wait(lambda: faults.state(run_id) == "Cancelled", 60, "the run to end Cancelled")
        wait(lambda: not processes_of(run_id), 30, "its run process to stop")
        assert history(faults, run_id) == [
            "Scheduled", "Pending", "Running", "Cancelling", "Cancelled",
        ]  # fmt: skip
        parent = faults.get(f"flow_runs/{run_id}")
        assert [t["state_name"] for t in parent["task_runs"]] == ["Cancelled"]  # the stand-in
        sub = faults.get(f"flow_runs/{child['id']}")
        assert sub["state_name"] == "Cancelled"
        assert [t["state_name"] for t in sub["task_runs"]] == ["Cancelled"]

    def test_cancel_a_notebook_run(self, faults: Env) -> None:
        faults.start_server()
        faults.start_worker()
        run_id = deploy_and_run(faults, "cells.ipynb", "cells")

        wait(lambda: tasks(faults, run_id).get("sleepy") == "Running", 120, "the sleepy cell")
        assert faults.cli("cancel", run_id).returncode == 0
        wait(lambda: faults.state(run_id) == "Cancelled", 60, "the run to end Cancelled")
        wait(lambda: not processes_of(run_id), 30, "its run process to stop")
        assert tasks(faults, run_id) == {"quick": "Completed", "sleepy": "Cancelled"}
        assert history(faults, run_id)[-2:] == ["Cancelling", "Cancelled"]


class TestWorkerToken:
    def test_a_wrong_token_stops_the_worker_with_a_clear_error(self, faults: Env) -> None:
        faults.start_server()
        worker = faults.start_worker(token="wrong", stderr=subprocess.PIPE, text=True)
        _, error = worker.communicate(timeout=60)
        assert worker.returncode == 2
        assert "refused this token (HTTP 403" in error and "--token" in error


class TestServerRestart:
    def test_restart_with_a_running_run_and_due_schedules(self, faults: Env) -> None:
        """A worker's run outlives a restart of its server (its records wait, its heartbeats
        resume); the runs of the server's own embedded worker end Crashed with a reason;
        schedules that fall due while it is down run once it is back, without duplicates."""
        faults.start_server(embedded_worker=True)
        assert faults.cli("pools", "create", "remote").returncode == 0
        faults.start_worker("e2e-token", "w1", "--limit", "2", "--pool", "remote")
        marker = faults.root / "done.txt"
        remote = faults.cli(
            "deploy", "slow.py:slow", "--name", "remote-slow", "--pool", "remote",
            "--param=seconds=15", f"--param=marker={marker}",
        )  # fmt: skip
        assert remote.returncode == 0, remote.stderr
        assert faults.cli("run", "remote-slow").returncode == 0
        remote_id = faults.runs(faults.get("deployments/remote-slow")["id"])[0]["id"]
        local_id = deploy_and_run(faults, "slow.py:slow", "local-slow", seconds=60)
        every = faults.cli("deploy", "etl.py:etl", "--name", "every3", "--interval", "3",
                           "--pool", "remote", "--param", "n=1")  # fmt: skip
        assert every.returncode == 0, every.stderr
        wait(lambda: faults.state(remote_id) == "Running", 90, "the remote run to start")
        wait(lambda: faults.state(local_id) == "Running", 90, "the embedded worker's run")
        local_pids = [p.pid for p in processes_of(local_id)]

        faults.stop_server()
        time.sleep(4)  # schedules fall due; the remote run goes on without its server
        restarted = datetime.now(timezone.utc)
        faults.start_server(embedded_worker=True)

        wait(lambda: faults.state(remote_id) == "Completed", 90, "the remote run to finish")
        assert marker.read_text() == "finished"
        assert history(faults, remote_id) == ["Scheduled", "Pending", "Running", "Completed"]
        assert tasks(faults, remote_id) == {"nap": "Completed"}
        assert history(faults, local_id) == ["Scheduled", "Pending", "Running", "Crashed"]
        local = faults.get(f"flow_runs/{local_id}")
        assert "shut down" in local["state_message"], local["state_message"]
        assert not alive(local_pids)

        every3 = faults.get("deployments/every3")["id"]

        def ran_after_restart() -> list[dict[str, Any]]:
            return [
                r for r in faults.runs(every3)
                if r["state_name"] == "Completed"
                and datetime.fromisoformat(r["start_time"]) > restarted
            ]  # fmt: skip

        wait(lambda: len(ran_after_restart()) >= 2, 90, "scheduled runs after the restart")
        runs = faults.runs(every3)
        times = [r["expected_start_time"] for r in runs]
        assert len(times) == len(set(times))  # no duplicates
        assert not [r for r in runs if r["state_name"] in ("Crashed", "Failed")], runs
        print(f"restart: remote run {history(faults, remote_id)}, {len(runs)} scheduled runs")


class TestTwoServers:
    @pytest.mark.postgres
    def test_kill_9_of_the_server_holding_a_run(
        self, tmp_path: Path, fresh_postgres_url: str
    ) -> None:
        root = tmp_path / "root"
        a, b = (
            Env(tmp_path / "a", fresh_postgres_url, root),
            Env(tmp_path / "b", fresh_postgres_url, root),
        )
        (root / "slow.py").write_text(SLOW_FLOW)
        try:
            a.start_server(embedded_worker=True)
            deployed = a.cli("deploy", "slow.py:slow", "--name", "slow", "--param", "seconds=60")
            assert deployed.returncode == 0, deployed.stderr
            assert a.cli("run", "slow").returncode == 0
            run_id = a.get("flow_runs?flow_name=slow&limit=1")["items"][0]["id"]
            wait(lambda: a.state(run_id) == "Running", 90, "server a's worker to run it")
            b.start_server(embedded_worker=True)
            assert a.server is not None
            os.kill(a.server.pid, signal.SIGKILL)
            killed = time.monotonic()
            wait(lambda: b.state(run_id) == "Crashed", 60, "server b to crash the run")
            print(f"kill -9 of server a -> Crashed by b in {time.monotonic() - killed:.1f} s")
            wait(lambda: not processes_of(run_id), 30, "the orphaned run process to stop")
            assert history(b, run_id) == ["Scheduled", "Pending", "Running", "Crashed"]
            names = {w["name"] for w in b.get("workers")["items"]}
            assert len(names) == 2 and all(n.startswith("embedded-") for n in names)
        finally:
            stop_all(a, tmp_path)
            stop_all(b, tmp_path)
