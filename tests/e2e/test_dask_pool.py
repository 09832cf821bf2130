"""End to end: a ``dask`` work pool. A real Jupyter server, a ``jupyter flows worker`` process
of the pool (recording over HTTP: runs get their own run tokens) and a real
``distributed.LocalCluster`` (two worker processes) that runs the flow runs."""

from __future__ import annotations

import json
import os
import signal
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import nbformat
import pytest

from tests.e2e.harness import TOKEN, Env
from tests.helpers import wait, write_notebook

FLOWS = """
import os
import time

from jupyter_flows import flow, task


@task
def double(x: int) -> int:
    return 2 * x


@flow(log_prints=True)
def etl(n: int = 1) -> int:
    print("MODE is", os.environ.get("MODE"), "on", os.getpid())
    return double(n)


@flow(log_prints=True)
def sleepy(seconds: float = 120) -> None:
    print("sleeping on", os.getpid(), flush=True)
    time.sleep(seconds)
"""


@pytest.fixture(scope="module")
def cluster() -> Iterator[Any]:
    from distributed import LocalCluster

    with LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address=None,
    ) as made:
        yield made


def call(env: Env, method: str, path: str, body: Any = None) -> tuple[int, Any]:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(
        f"{env.url}/jupyter-flows/api/{path}", data=data, method=method
    )
    request.add_header("Authorization", f"token {TOKEN}")
    request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"null")


def logs(env: Env, run_id: str) -> list[str]:
    page = env.get(f"flow_runs/{run_id}/logs?limit=1000")
    return [item["message"] for item in page["items"]]


def final(env: Env, run_id: str, timeout: float = 180) -> dict[str, Any]:
    finals = {"COMPLETED", "FAILED", "CRASHED", "CANCELLED"}
    wait(lambda: env.get(f"flow_runs/{run_id}")["state_type"] in finals, timeout, "the run ends")
    return dict(env.get(f"flow_runs/{run_id}"))


@pytest.fixture
def dask_env(e2e: Env, cluster: Any, tmp_path: Path) -> Env:
    (e2e.root / "flows.py").write_text(FLOWS)
    write_notebook(
        e2e.root / "cells.ipynb",
        "n = 2",
        "%load_ext jupyter_flows",
        "%%task load\nvalues = list(range(n))",
        "%%task total\nresult = sum(values)\nprint('total is', result)",
    )
    e2e.start_server()
    made = e2e.cli("pools", "create", "cluster", "--type", "dask")
    assert made.returncode == 0, made.stderr
    shown = e2e.cli("pools", "show", "cluster")
    template = _template_with_address(json.loads(shown.stdout), cluster.scheduler_address)
    (tmp_path / "template.json").write_text(json.dumps(template))
    made = e2e.cli(
        "pools",
        "create",
        "cluster2",
        "--type",
        "dask",
        "--base-job-template",
        f"@{tmp_path / 'template.json'}",
    )
    assert made.returncode == 0, made.stderr
    status, pool = call(e2e, "PATCH", "work_pools/cluster", {"base_job_template": template})
    assert status == 200 and pool["base_job_template"] == template, pool
    assert e2e.get("work_pools/cluster2")["base_job_template"] == template
    remote = {k: v for k, v in e2e.env.items() if k != "JUPYTER_FLOWS_DB_URL"}
    e2e.start_worker(TOKEN, "dw", "--pool", "cluster", env=remote)  # records over HTTP
    return e2e


def _template_with_address(pool: dict[str, Any], address: str) -> dict[str, Any]:
    template = pool["base_job_template"]
    assert set(template["variables"]["properties"]) >= {"address", "resources", "env"}
    template["variables"]["properties"]["address"]["default"] = address
    return dict(template)


def deploy(env: Env, name: str, entrypoint: str, **extra: Any) -> str:
    body = {"name": name, "entrypoint": entrypoint, "work_pool": "cluster", **extra}
    status, made = call(env, "POST", "deployments", body)
    assert status == 201, made
    return str(made["id"])


def run(env: Env, deployment: str, **body: Any) -> str:
    status, made = call(env, "POST", f"deployments/{deployment}/run", body)
    assert status in (200, 201), made
    return str(made["id"])


def dask_tasks(cluster: Any) -> list[str]:
    """The keys of the runs the scheduler still holds."""
    from distributed import Client

    with Client(cluster.scheduler_address, set_as_default=False) as client:
        held = client.run_on_scheduler(lambda dask_scheduler: list(dask_scheduler.tasks))
    return [k for k in held if str(k).startswith("jupyter-flows-run-")]


SHIPPED = """
import os
from jupyter_flows import flow

@flow(log_prints=True)
def shipped(n: int = 1) -> int:
    print("shipped runs in", os.getcwd())
    return n
"""


class TestDaskPool:
    def test_uploaded_sources_are_fetched_on_the_dask_worker(
        self, dask_env: Env, tmp_path: Path
    ) -> None:
        from jupyter_flows.client.http import FlowsClient
        from jupyter_flows.execution.source_bundle import pack

        env = dask_env
        src = tmp_path / "src"
        src.mkdir()
        (src / "shipped.py").write_text(SHIPPED)
        write_notebook(src / "shipped.ipynb", "n = 2", "print('shipped', n * 10)")
        client = FlowsClient(env.url, TOKEN)
        py_digest = client.upload_source(pack(src, ["shipped.py"]))
        nb_digest = client.upload_source(pack(src, ["shipped.ipynb"]))
        assert not (env.root / "shipped.py").exists()
        py = deploy(env, "shipped", "shipped.py:shipped", source_digest=py_digest)
        nb = deploy(env, "shipped-nb", "shipped.ipynb", source_digest=nb_digest)
        done = final(env, run(env, py, parameters={"n": 3}))
        assert done["state_name"] == "Completed", (done, logs(env, done["id"]))
        where = next(line for line in logs(env, done["id"]) if "shipped runs in" in line)
        assert where.endswith(f"source-cache/{py_digest}"), where
        done = final(env, run(env, nb))
        assert done["state_name"] == "Completed", (done, logs(env, done["id"]))
        served = nbformat.reads(json.dumps(env.get(f"flow_runs/{done['id']}/output")), 4)
        printed = "".join(o.get("text", "") for c in served.cells for o in c.get("outputs", []))
        assert "shipped 20" in printed

    def test_python_and_notebook_runs_complete_on_the_cluster(
        self, dask_env: Env, cluster: Any
    ) -> None:
        env = dask_env
        dep = deploy(env, "etl", "flows.py:etl", job_variables={"env": {"MODE": "deployed"}})
        first = final(env, run(env, dep, parameters={"n": 21}))
        assert first["state_name"] == "Completed", first
        assert [t["task_name"] for t in env.get(f"flow_runs/{first['id']}/task_runs")["items"]] == [
            "double"
        ]
        lines = logs(env, first["id"])
        assert any("MODE is deployed" in line for line in lines), lines
        # a run's own job variables win over the deployment's
        second = final(env, run(env, dep, job_variables={"env": {"MODE": "ad-hoc"}}))
        assert second["state_name"] == "Completed"
        assert any("MODE is ad-hoc" in line for line in logs(env, second["id"]))
        nb = deploy(env, "cells", "cells.ipynb")
        done = final(env, run(env, nb, parameters={"n": 4}))
        assert done["state_name"] == "Completed", done
        names = [t["task_name"] for t in env.get(f"flow_runs/{done['id']}/task_runs")["items"]]
        assert names == ["load", "total"]
        wait(lambda: dask_tasks(cluster) == [], 30, "the runs' Dask tasks are released")

    def test_job_variables_are_validated_against_the_pool_template(self, dask_env: Env) -> None:
        env = dask_env
        body = {"name": "bad", "entrypoint": "flows.py:etl", "work_pool": "cluster"}
        status, reply = call(env, "POST", "deployments", {**body, "job_variables": {"env": 5}})
        assert status == 400 and "job_variables.env" in reply["message"], reply
        status, reply = call(env, "POST", "deployments", {**body, "job_variables": {"image": "x"}})
        assert status == 400 and "job_variables.image" in reply["message"], reply
        assert "unknown job variable" in reply["message"]
        dep = deploy(env, "good", "flows.py:etl")
        status, reply = call(
            env, "POST", f"deployments/{dep}/run", {"job_variables": {"retries": -1}}
        )
        assert status == 400 and "job_variables.retries" in reply["message"], reply
        status, reply = call(env, "POST", "work_pools", {"name": "p2", "type": "kubernetes"})
        assert status == 400 and "type" in reply["message"], reply

    def test_timeout_and_cancel_end_the_run_and_its_dask_task(
        self, dask_env: Env, cluster: Any
    ) -> None:
        env = dask_env
        made = env.cli(
            "deploy",
            "flows.py:sleepy",
            "--name",
            "sleepy",
            "--pool",
            "cluster",
            "--job-variable",
            "timeout_seconds=3",
        )
        assert made.returncode == 0, made.stderr
        dep = env.get("deployments/sleepy")["id"]
        assert env.get("deployments/sleepy")["job_variables"] == {"timeout_seconds": 3}
        timed = final(env, run(env, dep))
        assert timed["state_type"] == "FAILED", timed
        assert "exceeded timeout of 3 second" in (timed["state_message"] or "")
        wait(lambda: dask_tasks(cluster) == [], 30, "the timed-out run's Dask task is gone")

        run_id = run(env, dep, job_variables={"timeout_seconds": None})  # the run's own wins
        wait(lambda: env.state(run_id) == "Running", 120, "the long run is running")
        wait(
            lambda: any("sleeping on" in line for line in logs(env, run_id)),
            60,
            "its output reached the server",
        )
        assert dask_tasks(cluster) == [f"jupyter-flows-run-{run_id}"]
        status, _ = call(env, "POST", f"flow_runs/{run_id}/cancel", {})
        assert status in (200, 202)
        cancelled = final(env, run_id, 60)
        assert cancelled["state_name"] == "Cancelled", cancelled
        wait(lambda: dask_tasks(cluster) == [], 30, "the cancelled run's Dask task is gone")

    def test_a_killed_dask_worker_crashes_its_run(self, dask_env: Env, cluster: Any) -> None:
        env = dask_env
        dep = deploy(env, "sleepy2", "flows.py:sleepy")
        run_id = run(env, dep)
        wait(
            lambda: any("sleeping on" in line for line in logs(env, run_id)),
            120,
            "the run prints from its Dask worker",
        )
        from distributed import Client

        with Client(cluster.scheduler_address, set_as_default=False) as client:
            processing = client.processing()
            address = next(a for a, keys in processing.items() if keys)
            pid = client.run(os.getpid, workers=[address])[address]
        os.kill(pid, signal.SIGKILL)  # the Dask worker process running the run
        crashed = final(env, run_id, 120)
        assert crashed["state_type"] == "CRASHED", crashed
        assert "Dask worker" in (crashed["state_message"] or ""), crashed
        wait(lambda: dask_tasks(cluster) == [], 30, "the crashed run's Dask task is gone")
