"""A run process of a worker without database access takes concurrency slots through the
server with its run's token: ``concurrency()`` waits while the limit is held elsewhere, and a
tagged task waits in ``AwaitingConcurrencySlot`` (real server, worker and run processes)."""

from __future__ import annotations

import json
from pathlib import Path

from jupyter_flows.client.http import FlowsClient
from tests.e2e.harness import TOKEN, Env, stop_all
from tests.helpers import wait

FLOW = """
import json, os
from jupyter_flows import flow, task
from jupyter_flows.concurrency.sync import concurrency, rate_limit

@task(tags=["remote-db"])
def tagged() -> int:
    return 1

@flow
def limited(out: str) -> int:
    seen = {"over_http": bool(os.environ.get("JUPYTER_FLOWS_RECORD_URL"))
            and not os.environ.get("JUPYTER_FLOWS_DB_URL")}
    seen["tagged"] = tagged()
    with concurrency("remote-gcl", timeout_seconds=120, strict=True):
        seen["inside"] = True
    rate_limit("remote-rate", strict=True)
    with open(out, "w") as f:
        json.dump(seen, f)
    return 0
"""

PROCESS = {"type": "process", "id": "test", "name": "test"}


def test_a_remote_run_process_waits_for_slots_through_the_server(tmp_path: Path) -> None:
    env = Env(tmp_path)
    (env.root / "limited.py").write_text(FLOW)
    try:
        env.start_server()
        api = FlowsClient(env.url, TOKEN)
        for name, extra in (("tag:remote-db", {}), ("remote-gcl", {}),
                            ("remote-rate", {"slot_decay_per_second": 10})):  # fmt: skip
            api.create_concurrency_limit({"name": name, "limit": 1, **extra})
        held = {
            name: api.acquire_slots({"names": [name], "holder": PROCESS}).lease_id
            for name in ("tag:remote-db", "remote-gcl")
        }
        token = env.cli("pools", "token", "default", "--worker", "remote-1")
        assert token.returncode == 0, token.stderr
        no_db = {k: v for k, v in env.env.items() if k != "JUPYTER_FLOWS_DB_URL"}
        env.start_worker(token.stdout.strip(), "remote-1", env=no_db)
        out = env.root / "seen.json"
        assert env.cli("deploy", "limited.py:limited", "--name", "limited",
                       "--param", f"out={out}").returncode == 0  # fmt: skip
        assert env.cli("run", "limited").returncode == 0
        deployment = env.get("deployments/limited")["id"]
        for name in ("tag:remote-db", "remote-gcl"):  # the run waits for each, in turn
            wait(lambda n=name: api.read_concurrency_limit(n).denied_slots > 0, 120,
                 f"the run to be denied {name}")  # fmt: skip
            assert not out.exists()
            api.release_lease(str(held[name]))
        wait(lambda: (env.runs(deployment) or [{}])[0].get("state_name") in
             ("Completed", "Failed", "Crashed"), 120, "the remote run")  # fmt: skip
        run = env.runs(deployment)[0]
        assert run["state_name"] == "Completed", run
        seen = json.loads(out.read_text())
        assert seen == {"over_http": True, "tagged": 1, "inside": True}
        page = env.get(f"flow_runs/{run['id']}/task_runs?with_states=true")
        states = [s["name"] for s in page["states"]]
        assert states == ["Pending", "AwaitingConcurrencySlot", "Running", "Completed"]
        for name in ("tag:remote-db", "remote-gcl"):
            assert api.read_concurrency_limit(name).holders == []
    finally:
        stop_all(env, tmp_path)
