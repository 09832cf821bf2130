"""A run process of a worker without database access pauses for an input through the
server with its run's token; the CLI and REST resume it (real server, worker, processes)."""

from __future__ import annotations

import json
from pathlib import Path

from tests.e2e.harness import Env, stop_all
from tests.helpers import wait

GATED = """
import json
from jupyter_flows import flow
from jupyter_flows.flow_runs import pause_flow_run
from jupyter_flows.input import RunInput


class Approval(RunInput):
    approved: bool
    reviewer: str


@flow
def gated(out: str) -> str:
    answer = pause_flow_run(wait_for_input=Approval, timeout=120, poll_interval=1)
    with open(out, "w") as f:
        json.dump(answer.model_dump(), f)
    return answer.reviewer
"""


def test_a_remote_run_pauses_and_is_resumed_from_the_cli(tmp_path: Path) -> None:
    env = Env(tmp_path)
    (env.root / "gated.py").write_text(GATED)
    out = env.root / "answer.json"
    try:
        env.start_server()
        token = env.cli("pools", "token", "default", "--worker", "remote-1")
        assert token.returncode == 0, token.stderr
        no_db = {k: v for k, v in env.env.items() if k != "JUPYTER_FLOWS_DB_URL"}
        env.start_worker(token.stdout.strip(), "remote-1", env=no_db)
        assert env.cli("deploy", "gated.py:gated", "--name", "gated",
                       "--param", f"out={out}").returncode == 0  # fmt: skip
        assert env.cli("run", "gated").returncode == 0
        deployment = env.get("deployments/gated")["id"]
        wait(lambda: (env.runs(deployment) or [{}])[0].get("state_type") == "PAUSED", 120,
             "the run to pause")  # fmt: skip
        run_id = env.runs(deployment)[0]["id"]
        pause = env.get(f"flow_runs/{run_id}/pause")
        assert set(pause["input_schema"]["properties"]) == {"approved", "reviewer"}
        bad = env.cli("runs", "resume", run_id, "--input", '{"approved": "yes"}')
        assert bad.returncode == 1 and "run_input" in bad.stderr
        assert "Traceback" not in bad.stderr
        not_json = env.cli("runs", "resume", run_id, "--input", "{approved")
        assert not_json.returncode == 2 and "not JSON" in not_json.stderr
        ok = env.cli("runs", "resume", run_id, "--input", '{"approved": true, "reviewer": "ada"}')
        assert ok.returncode == 0, ok.stderr
        wait(lambda: env.get(f"flow_runs/{run_id}")["state_type"] in ("COMPLETED", "FAILED"),
             180, "the resumed run")  # fmt: skip
        assert env.get(f"flow_runs/{run_id}")["state_name"] == "Completed"
        assert json.loads(out.read_text()) == {"approved": True, "reviewer": "ada"}
        again = env.cli("runs", "resume", run_id)
        assert again.returncode == 1 and "not paused" in again.stderr
    finally:
        stop_all(env, tmp_path)
