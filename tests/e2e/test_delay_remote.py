"""``Task.delay`` in a run process of a remote worker (no database: the server only, with its
run's token): the background run is queued through the server, a task worker runs it, and
the run reads its result (plain JSON and pickled arguments; a failure's exception), with
real server, worker, task worker and run processes."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from tests.e2e.harness import PY, Env, stop_all
from tests.helpers import wait

TASKS = """
from jupyter_flows import task


@task
def add(a, b):
    if isinstance(a, tuple):
        a = sum(a)
    return a + b


@task
def refuse(x: int) -> int:
    raise ValueError(f"no {x}")
"""

FLOW = """
import json
from pathlib import Path
from jupyter_flows import flow
from tasks import add, refuse


@flow
def fan(out: str) -> int:
    plain = add.delay(2, 3)
    pickled = add.delay((1, 2), 10)  # a tuple is not plain JSON: pickled, uploaded
    failing = refuse.delay(7)
    try:
        failing.result(timeout=90)
        error = None
    except ValueError as exc:
        error = str(exc)
    found = {"plain": plain.result(timeout=90), "pickled": pickled.result(timeout=90),
             "error": error, "ids": [plain.task_run_id, pickled.task_run_id]}
    Path(out).write_text(json.dumps(found))
    return found["plain"] + found["pickled"]
"""


def test_a_remote_run_delays_tasks_that_a_task_worker_runs(tmp_path: Path, db_url: str) -> None:
    env = Env(tmp_path, db_url)
    (env.root / "tasks.py").write_text(TASKS)
    (env.root / "fan.py").write_text(FLOW)
    out = env.root / "found.json"
    try:
        env.start_server()
        token = env.cli("pools", "token", "default", "--worker", "remote-1")
        assert token.returncode == 0, token.stderr
        no_db = {k: v for k, v in env.env.items() if k != "JUPYTER_FLOWS_DB_URL"}
        no_db["JUPYTER_FLOWS_HOME"] = str(tmp_path / "home-remote")
        env.start_worker(token.stdout.strip(), "remote-1", env=no_db)
        task_worker = subprocess.Popen(
            [PY, "-m", "jupyter_flows.cli.app", "task-worker", "tasks.py:add",
             "tasks.py:refuse", "--poll-interval", "0.2"],
            cwd=env.root, env=env.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        env.procs.append(task_worker)
        made = env.cli("deploy", "fan.py:fan", "--name", "fan", "--param", f"out={out}")
        assert made.returncode == 0, made.stderr
        assert env.cli("run", "fan").returncode == 0
        deployment = env.get("deployments/fan")["id"]
        wait(lambda: (env.runs(deployment) or [{}])[0].get("state_type")
             in ("COMPLETED", "FAILED", "CRASHED"), 180, "the run")  # fmt: skip
        run = env.runs(deployment)[0]
        assert run["state_name"] == "Completed", env.get(f"flow_runs/{run['id']}")
        found = json.loads(out.read_text())
        assert found["plain"] == 5 and found["pickled"] == 13
        assert found["error"] == "no 7"
        page = env.get("background_task_runs?limit=10")
        by_id = {r["id"]: r for r in page["items"]}
        assert len(by_id) == 3
        plain, pickled = (by_id[i] for i in found["ids"])
        assert plain["origin_flow_run_id"] == run["id"] and plain["state_name"] == "Completed"
        assert plain["parameters"] == {"a": 2, "b": 3} and not plain["parameters_pickled"]
        assert pickled["parameters_pickled"] and pickled["state_name"] == "Completed"
        assert sorted(r["state_name"] for r in by_id.values()) == [
            "Completed",
            "Completed",
            "Failed",
        ]
    finally:
        stop_all(env, tmp_path)
