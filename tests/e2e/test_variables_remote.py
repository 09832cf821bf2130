"""A run process of a worker without database access reads variables through the server
with its run's token, and may not write them (real server, worker and run processes)."""

from __future__ import annotations

import json
from pathlib import Path

from tests.e2e.harness import Env, stop_all
from tests.helpers import wait

READER = """
import json, os
from jupyter_flows import flow
from jupyter_flows.variables import Variable

@flow
def reader(out: str) -> int:
    seen = {
        "over_http": bool(os.environ.get("JUPYTER_FLOWS_RECORD_URL"))
        and not os.environ.get("JUPYTER_FLOWS_DB_URL"),
        "config": Variable.get("config"),
        "missing": Variable.get("missing", default="fallback"),
    }
    try:
        Variable.set("written-by-run", 1)
        seen["set"] = "allowed"
    except PermissionError as exc:
        seen["set"] = "refused: " + str(exc)
    with open(out, "w") as f:
        json.dump(seen, f)
    return seen["config"]["n"]
"""


def test_a_remote_run_process_reads_variables_through_the_server(tmp_path: Path) -> None:
    env = Env(tmp_path)
    (env.root / "reader.py").write_text(READER)
    try:
        env.start_server()
        made = env.cli("variables", "set", "config", '{"n": 21, "bucket": "raw"}')
        assert made.returncode == 0, made.stderr
        token = env.cli("pools", "token", "default", "--worker", "remote-1")
        assert token.returncode == 0, token.stderr
        no_db = {k: v for k, v in env.env.items() if k != "JUPYTER_FLOWS_DB_URL"}
        env.start_worker(token.stdout.strip(), "remote-1", env=no_db)
        out = env.root / "seen.json"
        assert env.cli("deploy", "reader.py:reader", "--name", "reader",
                       "--param", f"out={out}").returncode == 0  # fmt: skip
        assert env.cli("run", "reader").returncode == 0
        deployment = env.get("deployments/reader")["id"]
        wait(lambda: (env.runs(deployment) or [{}])[0].get("state_name") in
             ("Completed", "Failed", "Crashed"), 120, "the remote run")  # fmt: skip
        assert env.runs(deployment)[0]["state_name"] == "Completed"
        seen = json.loads(out.read_text())
        assert seen["over_http"] is True
        assert seen["config"] == {"n": 21, "bucket": "raw"}
        assert seen["missing"] == "fallback"
        assert seen["set"].startswith("refused: ") and "read variables" in seen["set"]
        assert env.get("variables")["total"] == 1  # nothing was written by the run
    finally:
        stop_all(env, tmp_path)
