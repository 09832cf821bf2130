"""``flow.deploy`` and ``deploy(*flow.to_deployment(...))`` against a real server, and
``jupyter flows deploy`` with ``--rrule``, ``--version`` and ``--description``; the server's
embedded worker runs what they deployed."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.e2e.harness import TOKEN, Env, stop_all
from tests.helpers import wait

FLOWS = """
from jupyter_flows import flow

@flow
def etl(n: int = 2) -> int:
    return n * 10
"""

DEPLOY = """
import sys
from jupyter_flows import deploy
from jupyter_flows.schedules import Cron
from flows import etl

url = sys.argv[1]
first = etl.deploy("etl-python", work_pool_name="default", parameters={"n": 4},
                   version="2.0", description="from Python", url=url, token=sys.argv[2])
more = deploy(etl.to_deployment("etl-cron", schedules=[Cron("0 6 * * *")], paused=True),
              work_pool_name="default", url=url, token=sys.argv[2])
print(first.hex, more[0].hex)
"""


def test_deploy_from_python_and_the_cli(tmp_path: Path) -> None:
    env = Env(tmp_path)
    (env.root / "flows.py").write_text(FLOWS)
    (env.root / "deploy_them.py").write_text(DEPLOY)
    try:
        env.start_server(embedded_worker=True)
        done = subprocess.run(
            [sys.executable, "deploy_them.py", env.url, TOKEN], cwd=env.root, env=env.env,
            capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        first_id, cron_id = done.stdout.split()
        made = env.get("deployments/etl-python")
        assert made["id"].replace("-", "") == first_id
        assert (made["entrypoint"], made["version"], made["description"]) == (
            "flows:etl", "2.0", "from Python"
        )  # fmt: skip
        assert made["parameters"] == {"n": 4}
        cron = env.get("deployments/etl-cron")
        assert cron["paused"] and cron["schedules"][0]["cron"] == "0 6 * * *"
        assert cron["id"].replace("-", "") == cron_id

        made_cli = env.cli("deploy", "flows.py:etl", "--name", "etl-weekly", "--rrule",
                           "FREQ=WEEKLY;BYDAY=MO;BYHOUR=9", "--timezone", "Europe/Paris",
                           "--version", "3", "--description", "Monday's load")  # fmt: skip
        assert made_cli.returncode == 0, made_cli.stderr
        weekly = env.get("deployments/etl-weekly")
        assert weekly["schedules"][0]["rrule"] == "FREQ=WEEKLY;BYDAY=MO;BYHOUR=9"
        assert (weekly["version"], weekly["description"]) == ("3", "Monday's load")
        assert weekly["next_run_time"]  # the rrule fires: the scheduler knows when
        bad = env.cli("deploy", "flows.py:etl", "--name", "bad", "--rrule", "FREQ=SOMETIMES")
        assert bad.returncode == 1 and "rrule" in bad.stderr and "Traceback" not in bad.stderr

        assert env.cli("run", "etl-python").returncode == 0
        ended = ("COMPLETED", "FAILED", "CRASHED")
        wait(lambda: (env.runs(made["id"]) or [{}])[0].get("state_type") in ended, 120,
             "the deployed run")  # fmt: skip
        ran = env.runs(made["id"])[0]
        assert ran["state_name"] == "Completed", ran
        assert ran["parameters"] == {"n": 4}
    finally:
        stop_all(env, tmp_path)
