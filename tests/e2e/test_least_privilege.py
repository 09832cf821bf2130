"""A worker with its own token, and run processes with their run's token only (real
server, worker and run processes, no database credentials on the worker's side)."""

from __future__ import annotations

import json
from pathlib import Path

from tests.e2e.harness import TOKEN, Env, stop_all
from tests.helpers import wait

PROBE = """
import json, os, urllib.error, urllib.request
from jupyter_flows import flow, task

@task
def probe(out: str) -> str:
    seen = {k: v for k, v in os.environ.items() if k.startswith("JUPYTER_FLOWS_")}
    token, url = seen.get("JUPYTER_FLOWS_RECORD_TOKEN", ""), seen["JUPYTER_FLOWS_RECORD_URL"]
    answers = {}
    for method, path in (("POST", "/api/kernels"), ("GET", "/api/contents"),
                         ("GET", "/jupyter-flows/api/deployments")):
        request = urllib.request.Request(url.rstrip("/") + path, method=method,
                                         data=b"{}" if method == "POST" else None)
        request.add_header("Authorization", f"token {token}")
        try:
            answers[path] = urllib.request.urlopen(request, timeout=10).status
        except urllib.error.HTTPError as exc:
            answers[path] = exc.code
    with open(out, "w") as f:
        json.dump({"env": sorted(seen), "token": token, "answers": answers}, f)
    return out

@flow
def probe_flow(out: str = "probe.json") -> str:
    return probe(out)
"""


def test_a_scoped_worker_and_its_run_processes(tmp_path: Path) -> None:
    env = Env(tmp_path)
    (env.root / "probe.py").write_text(PROBE)
    try:
        env.start_server()
        made = env.cli("pools", "token", "default", "--worker", "scoped-1")
        assert made.returncode == 0, made.stderr
        worker_token = made.stdout.strip()
        assert worker_token.startswith("jf1.") and TOKEN not in worker_token
        no_db = {k: v for k, v in env.env.items() if k != "JUPYTER_FLOWS_DB_URL"}
        # no --name: the token names its worker; the harness's name must then match it
        worker = env.start_worker(worker_token, "scoped-1", env=no_db)
        out = env.root / "probe.json"
        assert env.cli("deploy", "probe.py:probe_flow", "--name", "probe",
                       "--param", f"out={out}").returncode == 0  # fmt: skip
        assert env.cli("run", "probe").returncode == 0
        deployment = env.get("deployments/probe")["id"]
        wait(lambda: (env.runs(deployment) or [{}])[0].get("state_name") == "Completed",
             120, "the run of the scoped worker")  # fmt: skip
        run = env.get(f"flow_runs/{env.runs(deployment)[0]['id']}")
        assert run["worker"] == "scoped-1"
        assert [t["state_name"] for t in run["task_runs"]] == ["Completed"]  # recorded over HTTP
        probe = json.loads(out.read_text())
        assert probe["token"] not in (TOKEN, worker_token)  # the run's own token
        assert (
            "JUPYTER_FLOWS_TOKEN" not in probe["env"] and "JUPYTER_FLOWS_DB_URL" not in probe["env"]
        )
        # with it, the run process reaches neither Jupyter nor the rest of jupyter-flows
        assert probe["answers"] == {
            "/api/kernels": 403,
            "/api/contents": 403,
            "/jupyter-flows/api/deployments": 403,
        }
        workers = {w["name"]: w["status"] for w in env.get("workers")["items"]}
        assert workers == {"scoped-1": "online"}
        worker.terminate()
        worker.wait(timeout=30)
    finally:
        stop_all(env, tmp_path)


def test_runs_rm_deletes_an_ended_run_and_refuses_a_running_one(tmp_path: Path) -> None:
    env = Env(tmp_path)
    try:
        env.start_server(embedded_worker=True)
        assert env.cli("deploy", "etl.py:etl", "--name", "etl", "--param", "n=2").returncode == 0
        watched = env.cli("run", "etl", "--watch", "--timeout", "120")
        assert watched.returncode == 0, watched.stdout + watched.stderr
        ended = env.runs(env.get("deployments/etl")["id"])[0]["id"]
        assert env.cli("deploy", "slow.ipynb", "--name", "slow").returncode == 0
        assert env.cli("run", "slow").returncode == 0
        running = env.runs(env.get("deployments/slow")["id"])[0]["id"]
        wait(lambda: env.state(running) == "Running", 120, "the slow notebook to run")

        refused = env.cli("runs", "rm", running)
        assert refused.returncode == 1 and "cancel it" in refused.stderr, refused.stderr
        removed = env.cli("runs", "rm", ended)
        assert removed.returncode == 0 and f"removed {ended}" in removed.stdout, removed.stderr
        assert env.get(f"flow_runs/{ended}") is None  # 404
        assert env.state(running) == "Running"
        assert env.cli("runs", "cancel", running).returncode == 0
        wait(lambda: env.state(running) == "Cancelled", 60, "the cancel")
        for _ in range(2):
            assert env.cli("run", "etl", "--watch", "--timeout", "120").returncode == 0
        pruned = env.cli("runs", "prune", "--keep", "1")
        assert pruned.returncode == 0 and "deleted 1 flow runs" in pruned.stdout, pruned.stderr
        kept = env.runs(env.get("deployments/etl")["id"])
        assert len(kept) == 1 and env.state(running) == "Cancelled"  # one per flow kept
    finally:
        stop_all(env, tmp_path)
