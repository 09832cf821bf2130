"""Prefect's "Log from subprocesses" page: ``with_context`` carries the run into children."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

SCRIPT = """
import multiprocessing
import sys
from concurrent.futures import ProcessPoolExecutor

from jupyter_flows import flow, read_flow_run, task
from jupyter_flows.context import with_context
from jupyter_flows.logging import get_run_logger


def process_item(item):
    get_run_logger().info("Processing %s", item)
    print("printed", item)
    return item * 2


@task(log_prints=True)
def with_pool(items):
    ctx = multiprocessing.get_context(sys.argv[1])
    with ctx.Pool(2) as pool:
        return pool.map(with_context(process_item), items)


@task(log_prints=True)
def with_executor(items):
    ctx = multiprocessing.get_context(sys.argv[1])
    with ProcessPoolExecutor(2, mp_context=ctx) as executor:
        return list(executor.map(with_context(process_item), items))


@flow
def my_flow():
    return with_pool([1, 2]), with_executor([3, 4])


if __name__ == "__main__":
    state = my_flow(return_state=True)
    print("RESULT", state.result())
    run = read_flow_run(state.run_id)
    names = {t.id: t.task_name for t in run.task_runs}
    for log in run.logs:
        if log.task_run_id in names and ("Processing" in log.message or "printed" in log.message):
            print("LOG", names[log.task_run_id], log.message)
"""


@pytest.mark.parametrize("start_method", ["fork", "spawn"])
def test_child_process_logs_reach_the_task_run(tmp_path, start_method):
    script = tmp_path / "pipeline.py"
    script.write_text(textwrap.dedent(SCRIPT))
    env = {**os.environ, "JUPYTER_FLOWS_HOME": str(tmp_path / "home")}
    env.pop("JUPYTER_FLOWS_DB_URL", None)
    env.pop("JUPYTER_FLOWS_RECORD", None)
    proc = subprocess.run(
        [sys.executable, str(script), start_method],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert "RESULT ([2, 4], [6, 8])" in lines
    logs = sorted(line for line in lines if line.startswith("LOG"))
    assert logs == sorted(
        [f"LOG with_pool Processing {i}" for i in (1, 2)]
        + [f"LOG with_pool printed {i}" for i in (1, 2)]
        + [f"LOG with_executor Processing {i}" for i in (3, 4)]
        + [f"LOG with_executor printed {i}" for i in (3, 4)]
    )
