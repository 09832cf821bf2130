"""Retry from failure with a real server, worker and run processes: the retry of a failed
deployment run reuses its completed task runs (their persisted results) and runs the failed
task again; a retry is linked to the run it retries; what cannot be retried is a 409."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

from tests.e2e.harness import Env, stop_all
from tests.helpers import wait

ETL = """
from pathlib import Path
from jupyter_flows import flow, task

HERE = Path(__file__).parent


def note(name: str) -> None:
    with open(HERE / "calls.log", "a") as f:
        f.write(name + "\\n")


@task
def extract(n: int) -> list[int]:
    note("extract")
    return list(range(n))


@task
def square(x: int) -> int:
    note(f"square-{x}")
    return x * x


@task
def load(values: list[int]) -> int:
    note("load")
    if (HERE / "broken").exists():
        raise RuntimeError("the warehouse is down")
    return sum(values)


@flow(persist_result=True)
def etl(n: int = 3) -> int:
    return load(square.map(extract(n)))
"""

INTERACTIVE = """
from jupyter_flows import flow

@flow
def by_hand() -> None:
    raise ValueError("no")

by_hand(return_state=True)
"""

ENDED = ("COMPLETED", "FAILED", "CRASHED", "CANCELLED")


def _calls(env: Env) -> list[str]:
    path = env.root / "calls.log"
    return path.read_text().split() if path.exists() else []


def _ended(env: Env, run_id: str) -> dict:  # type: ignore[type-arg]
    wait(lambda: (env.get(f"flow_runs/{run_id}") or {}).get("state_type") in ENDED, 120,
         f"run {run_id} to end")  # fmt: skip
    return env.get(f"flow_runs/{run_id}")  # type: ignore[no-any-return]


def test_a_failed_run_is_retried_from_its_failure(tmp_path: Path) -> None:
    env = Env(tmp_path)
    (env.root / "etl.py").write_text(ETL)
    (env.root / "broken").write_text("")
    try:
        env.start_server(embedded_worker=True)
        assert env.cli("deploy", "etl.py:etl", "--name", "etl", "--param", "n=3").returncode == 0
        assert env.cli("run", "etl").returncode == 0
        deployment = env.get("deployments/etl")["id"]
        wait(lambda: env.runs(deployment), 60, "the run")
        failed = _ended(env, env.runs(deployment)[0]["id"])
        assert failed["state_name"] == "Failed", failed
        assert sorted(_calls(env)) == ["extract", "load", "square-0", "square-1", "square-2"]

        (env.root / "broken").unlink()  # the warehouse is back
        started = time.monotonic()
        retried = env.cli("runs", "retry", failed["id"])
        assert retried.returncode == 0, retried.stderr
        assert f"retries {failed['id']}" in retried.stdout
        runs = env.runs(deployment)
        retry = next(r for r in runs if r["id"] != failed["id"])
        assert retry["retry_of"] == failed["id"] and retry["parameters"] == {"n": 3}
        done = _ended(env, retry["id"])
        latency = time.monotonic() - started
        print(f"retry-from-failure: {latency:.2f} s from the request to Completed")
        assert done["state_name"] == "Completed", done
        # only the failed task ran again: the others were read back from the first run
        assert _calls(env)[5:] == ["load"]
        by_name = {t["name"]: t for t in done["task_runs"]}
        assert by_name["load-0"]["state_name"] == "Completed"
        for name in ("extract-0", "square-0", "square-1", "square-2"):
            assert by_name[name]["state_name"] == "Cached", by_name[name]
            assert f"reused from run {failed['id']}" in by_name[name]["state_message"]
        # the first run is as it ended: nothing leaves a final state
        assert env.get(f"flow_runs/{failed['id']}")["state_name"] == "Failed"

        # a retry of a run that completed, of an unknown run, of a run no deployment made
        again = env.cli("runs", "retry", retry["id"])
        assert again.returncode == 1 and "only a Failed, Crashed or Cancelled" in again.stderr
        assert "Traceback" not in again.stderr
        assert env.cli("runs", "retry", "f" * 32).returncode == 1
        by_hand = subprocess.run(
            [sys.executable, "-c", INTERACTIVE], cwd=env.root, env=env.env,
            capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        assert by_hand.returncode == 0, by_hand.stderr
        listed = json.loads(
            subprocess.run(
                [sys.executable, "-c",
                 "import json; from jupyter_flows import read_flow_runs; "
                 "print(json.dumps([r.id for r in read_flow_runs(flow_name='by-hand')]))"],
                cwd=env.root, env=env.env, capture_output=True, text=True, timeout=60,
            ).stdout
        )  # fmt: skip
        refused = env.cli("runs", "retry", listed[0])
        assert refused.returncode == 1 and "not made by a deployment" in refused.stderr
    finally:
        stop_all(env, tmp_path)


def test_a_failed_notebook_run_resumes_at_the_failed_cell(tmp_path: Path) -> None:
    from tests.helpers import write_notebook

    env = Env(tmp_path)
    calls = env.root / "calls.log"
    write_notebook(
        env.root / "report.ipynb",
        "n = 3",
        "%load_ext jupyter_flows",
        f"%%task load --persist\nopen({str(calls)!r}, 'a').write('load\\n')\nrows = list(range(n))",
        "%%task publish --persist\n"
        f"open({str(calls)!r}, 'a').write('publish\\n')\n"
        "import os\n"
        f"if os.path.exists({str(env.root / 'broken')!r}):\n"
        "    raise RuntimeError('the printer is jammed')\n"
        "total = sum(rows)",
    )
    (env.root / "broken").write_text("")
    try:
        env.start_server(embedded_worker=True)
        made = env.cli("deploy", "report.ipynb", "--name", "report")
        assert made.returncode == 0, made.stderr
        assert env.cli("run", "report").returncode == 0
        deployment = env.get("deployments/report")["id"]
        wait(lambda: env.runs(deployment), 60, "the run")
        failed = _ended(env, env.runs(deployment)[0]["id"])
        assert failed["state_name"] == "Failed", failed
        assert calls.read_text().split() == ["load", "publish"]
        (env.root / "broken").unlink()
        assert env.cli("runs", "retry", failed["id"]).returncode == 0
        retry = next(r for r in env.runs(deployment) if r["id"] != failed["id"])
        done = _ended(env, retry["id"])
        assert done["state_name"] == "Completed", done
        # the load cell was restored from the failed run (rows in the namespace again), the
        # failed cell ran again and found them
        assert calls.read_text().split() == ["load", "publish", "publish"]
        states = {t["task_name"]: t["state_name"] for t in done["task_runs"]}
        assert states == {"load": "Cached", "publish": "Completed"}
    finally:
        stop_all(env, tmp_path)
