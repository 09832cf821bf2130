"""A run process of a remote worker (no database access: the server only, with its run's
token) suspends: it exits and the worker holds no process for it; the CLI's resume with a
bad input is refused naming the field (a 400), a good one reschedules it and the worker
runs the same flow run to Completed with the input (real server, worker and processes).
Not resumed in time, the server's periodic check ends it Failed."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from pathlib import Path

import psutil

from tests.e2e.harness import TOKEN, Env, stop_all
from tests.helpers import wait

GATED = """
import json
from jupyter_flows import flow
from jupyter_flows.flow_runs import suspend_flow_run
from jupyter_flows.input import RunInput


class Approval(RunInput):
    approved: bool
    reviewer: str


@flow
def gated(out: str, timeout: int = 300) -> str:
    answer = suspend_flow_run(wait_for_input=Approval, timeout=timeout)
    with open(out, "w") as f:
        json.dump(answer.model_dump(), f)
    return answer.reviewer
"""


def _post(env: Env, path: str, body: dict) -> tuple[int, dict]:  # type: ignore[type-arg]
    request = urllib.request.Request(
        f"{env.url}/jupyter-flows/api/{path}", data=json.dumps(body).encode(), method="POST"
    )
    request.add_header("Authorization", f"token {TOKEN}")
    request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def test_a_remote_run_suspends_and_is_resumed_from_the_cli(tmp_path: Path) -> None:
    env = Env(tmp_path)
    (env.root / "gated.py").write_text(GATED)
    out = env.root / "answer.json"
    try:
        env.start_server()
        token = env.cli("pools", "token", "default", "--worker", "remote-1")
        assert token.returncode == 0, token.stderr
        no_db = {k: v for k, v in env.env.items() if k != "JUPYTER_FLOWS_DB_URL"}
        worker = env.start_worker(token.stdout.strip(), "remote-1", env=no_db)
        assert env.cli("deploy", "gated.py:gated", "--name", "gated",
                       "--param", f"out={out}").returncode == 0  # fmt: skip
        assert env.cli("run", "gated").returncode == 0
        deployment = env.get("deployments/gated")["id"]
        wait(lambda: (env.runs(deployment) or [{}])[0].get("state_name") == "Suspended", 120,
             "the run to suspend")  # fmt: skip
        run_id = env.runs(deployment)[0]["id"]
        # its process exited: the worker runs nothing (its slot is free)
        wait(lambda: not psutil.Process(worker.pid).children(recursive=True), 30,
             "the run process to exit")  # fmt: skip
        assert env.get(f"flow_runs/{run_id}")["state_type"] == "PAUSED"
        pause = env.get(f"flow_runs/{run_id}/pause")
        assert pause["reschedule"] is True and pause["key"] == "suspend-1"
        status, reply = _post(env, f"flow_runs/{run_id}/resume",
                              {"run_input": {"approved": True, "reviewer": 7}})  # fmt: skip
        assert status == 400 and "run_input.reviewer" in reply["message"], reply
        bad = env.cli("runs", "resume", run_id, "--input", '{"approved": "yes"}')
        assert bad.returncode == 1 and "run_input" in bad.stderr and "Traceback" not in bad.stderr
        ok = env.cli("runs", "resume", run_id, "--input", '{"approved": true, "reviewer": "ada"}')
        assert ok.returncode == 0, ok.stderr
        assert f"{run_id}: Resuming" in ok.stdout
        wait(lambda: env.get(f"flow_runs/{run_id}")["state_type"] in ("COMPLETED", "FAILED"),
             120, "the resumed run")  # fmt: skip
        done = env.get(f"flow_runs/{run_id}")
        assert done["state_name"] == "Completed", done["state_message"]
        assert json.loads(out.read_text()) == {"approved": True, "reviewer": "ada"}
        names = [s["name"] for s in done["states"]]
        assert "Resuming" in names and not {"Failed", "Crashed", "Cancelled"} & set(names)
        assert len(env.runs(deployment)) == 1  # the same flow run, not a new one
        again = env.cli("runs", "resume", run_id)
        assert again.returncode == 1 and "not paused" in again.stderr
    finally:
        stop_all(env, tmp_path)


def test_a_suspension_not_resumed_in_time_ends_failed(tmp_path: Path) -> None:
    env = Env(tmp_path)
    (env.root / "gated.py").write_text(GATED)
    try:
        env.start_server("--FlowsApp.crash_check_interval=0.5", embedded_worker=True)
        assert env.cli("deploy", "gated.py:gated", "--name", "gated", "--param", "out=x.json",
                       "--param", "timeout=1").returncode == 0  # fmt: skip
        assert env.cli("run", "gated").returncode == 0
        deployment = env.get("deployments/gated")["id"]
        wait(lambda: (env.runs(deployment) or [{}])[0].get("state_type") in ("PAUSED", "FAILED"),
             120, "the run to suspend")  # fmt: skip
        run_id = env.runs(deployment)[0]["id"]
        wait(lambda: env.get(f"flow_runs/{run_id}")["state_type"] == "FAILED", 60,
             "the server to fail the expired suspension")  # fmt: skip
        ended = env.get(f"flow_runs/{run_id}")
        assert ended["state_message"] == "The flow was paused and never resumed."
        assert [s["name"] for s in ended["states"]][-2:] == ["Suspended", "Failed"]
        late = env.cli("runs", "resume", run_id, "--input", '{"approved": true, "reviewer": "x"}')
        assert late.returncode == 1 and "not paused" in late.stderr
    finally:
        stop_all(env, tmp_path)
