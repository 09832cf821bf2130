"""A run process of a worker without database access (and without the key file) loads a
secret through the server with its run's token, may not save or delete blocks, and what it
logs or prints of the secret reaches the run's logs masked (real server, worker, run)."""

from __future__ import annotations

import json
from pathlib import Path

from tests.e2e.harness import Env, stop_all
from tests.helpers import wait

SECRET = "remote-s3cret-Q7w9"

READER = """
import json, os
from jupyter_flows import flow, get_run_logger, task
from jupyter_flows.blocks.core import Block
from jupyter_flows.blocks.system import Secret


@task(log_prints=True)
def use(token: str) -> int:
    print("task printed", token)
    return len(token)


@flow
def reader(out: str) -> int:
    token = Secret.load("api-token").get()
    get_run_logger().info("flow logged %s", token)
    print("flow printed", token)  # not log_prints: the worker stores what the process prints
    seen = {
        "over_http": bool(os.environ.get("JUPYTER_FLOWS_RECORD_URL"))
        and not os.environ.get("JUPYTER_FLOWS_DB_URL"),
        "right_value": token == os.environ["EXPECTED"],
        "by_slug": Block.load("secret/api-token").get() == token,
        "repr_masked": token not in repr(Secret.load("api-token")),
    }
    for verb, call in (("save", lambda: Secret(value="x").save("written-by-run")),
                       ("delete", lambda: Secret.delete("api-token"))):
        try:
            call()
            seen[verb] = "allowed"
        except PermissionError as exc:
            seen[verb] = "refused: " + str(exc)
    with open(out, "w") as f:
        json.dump(seen, f)
    return use(token)
"""


def test_a_remote_run_loads_a_secret_and_never_logs_it(tmp_path: Path) -> None:
    env = Env(tmp_path)
    (env.root / "reader.py").write_text(READER)
    try:
        env.start_server()
        made = env.cli("secret", "set", "api-token", input=SECRET)
        assert made.returncode == 0, made.stderr
        token = env.cli("pools", "token", "default", "--worker", "remote-1")
        assert token.returncode == 0, token.stderr
        elsewhere = tmp_path / "remote-home"  # another machine: no database, no key file
        remote = {k: v for k, v in env.env.items() if k != "JUPYTER_FLOWS_DB_URL"}
        remote |= {"JUPYTER_FLOWS_HOME": str(elsewhere), "EXPECTED": SECRET}
        env.start_worker(token.stdout.strip(), "remote-1", env=remote)
        out = env.root / "seen.json"
        assert env.cli("deploy", "reader.py:reader", "--name", "reader",
                       "--param", f"out={out}").returncode == 0  # fmt: skip
        assert env.cli("run", "reader").returncode == 0
        deployment = env.get("deployments/reader")["id"]
        wait(lambda: (env.runs(deployment) or [{}])[0].get("state_name") in
             ("Completed", "Failed", "Crashed"), 120, "the remote run")  # fmt: skip
        run = env.runs(deployment)[0]
        assert run["state_name"] == "Completed", run
        seen = json.loads(out.read_text())
        assert seen["over_http"] is True and seen["right_value"] is True
        assert seen["by_slug"] is True and seen["repr_masked"] is True
        for verb in ("save", "delete"):
            assert seen[verb].startswith("refused: ") and "may load blocks" in seen[verb]
        assert not (elsewhere / "secrets.key").exists()
        assert env.get("block_documents")["total"] == 1  # nothing written by the run

        def logs() -> list[str]:
            page = env.get(f"flow_runs/{run['id']}/logs?limit=1000") or {"items": []}
            return [str(item["message"]) for item in page["items"]]

        wanted = ("flow logged ********", "flow printed ********", "task printed ********")
        wait(lambda: all(any(w in m for m in logs()) for w in wanted), 60, "the run's logs")
        assert not any(SECRET in m for m in logs()), logs()
        report = env.get_text(f"flow_runs/{run['id']}/report?format=md")
        assert SECRET not in report
    finally:
        stop_all(env, tmp_path)
