"""Artifacts from a run process of a worker without database access reach the server with
the run's records; the CLI lists, inspects and removes them; the run's report shows them
(real server, worker, run process and CLI processes)."""

from __future__ import annotations

import json
from pathlib import Path

from tests.e2e.harness import Env, stop_all
from tests.helpers import wait

MAKER = """
import json, os
from jupyter_flows import flow, task
from jupyter_flows.artifacts import (
    Artifact, create_markdown_artifact, create_progress_artifact, create_table_artifact,
    update_progress_artifact,
)

@task
def step(i: int) -> int:
    return i * i

@flow
def maker(out: str) -> int:
    bar = create_progress_artifact(0.0, key="maker-progress", description="squares")
    total = 0
    for i in range(4):
        total += step(i)
        update_progress_artifact(bar, (i + 1) * 25)
    create_table_artifact([{"i": i, "square": i * i} for i in range(4)], key="maker-squares")
    create_markdown_artifact("# Done\\n\\n**total**: %d <script>x</script>" % total,
                             key="maker-summary")
    seen = {
        "over_http": bool(os.environ.get("JUPYTER_FLOWS_RECORD_URL"))
        and not os.environ.get("JUPYTER_FLOWS_DB_URL"),
        "progress": Artifact.get("maker-progress").data,
        "missing": Artifact.get("no-such-key"),
    }
    with open(out, "w") as f:
        json.dump(seen, f)
    return total
"""


def test_a_remote_run_records_artifacts_and_the_cli_and_report_show_them(tmp_path: Path) -> None:
    env = Env(tmp_path)
    (env.root / "maker.py").write_text(MAKER)
    try:
        env.start_server()
        token = env.cli("pools", "token", "default", "--worker", "remote-1")
        assert token.returncode == 0, token.stderr
        no_db = {k: v for k, v in env.env.items() if k != "JUPYTER_FLOWS_DB_URL"}
        env.start_worker(token.stdout.strip(), "remote-1", env=no_db)
        out = env.root / "seen.json"
        assert env.cli("deploy", "maker.py:maker", "--name", "maker",
                       "--param", f"out={out}").returncode == 0  # fmt: skip
        assert env.cli("run", "maker").returncode == 0
        deployment = env.get("deployments/maker")["id"]
        wait(lambda: (env.runs(deployment) or [{}])[0].get("state_name") in
             ("Completed", "Failed", "Crashed"), 120, "the remote run")  # fmt: skip
        run = env.runs(deployment)[0]
        assert run["state_name"] == "Completed"
        seen = json.loads(out.read_text())
        assert seen == {"over_http": True, "progress": 100, "missing": None}

        listed = env.cli("artifacts", "ls")
        assert listed.returncode == 0, listed.stderr
        lines = {line.split()[1]: line for line in listed.stdout.splitlines()}
        assert set(lines) == {"maker-progress", "maker-squares", "maker-summary"}
        assert "100%" in lines["maker-progress"] and "table" in lines["maker-squares"]
        of_run = env.cli("artifacts", "ls", "--run", run["id"])
        assert len(of_run.stdout.splitlines()) == 3
        inspected = env.cli("artifacts", "inspect", "maker-squares")
        assert inspected.returncode == 0, inspected.stderr
        (version,) = json.loads(inspected.stdout)
        assert json.loads(version["data"])[3] == {"i": 3, "square": 9}
        assert version["flow_run_id"] == run["id"]

        report = env.cli("report", run["id"], "-o", str(tmp_path / "r.html"))
        assert report.returncode == 0, report.stderr
        html = (tmp_path / "r.html").read_text()
        assert "<h2>Artifacts</h2>" in html and "<h1>Done</h1>" in html
        assert "<script>x</script>" not in html and "&lt;script&gt;" in html  # escaped
        assert "<td>9</td>" in html and "aria-valuenow='100'" in html

        missing = env.cli("artifacts", "inspect", "nope")
        assert missing.returncode == 1 and "no artifact with key 'nope'" in missing.stderr
        gone = env.cli("artifacts", "rm", version["id"])
        assert gone.returncode == 0 and "removed" in gone.stdout
        assert env.cli("artifacts", "rm", version["id"]).returncode == 1
        usage = env.cli("artifacts", "inspect")
        assert usage.returncode == 2 and "usage: jupyter flows artifacts" in usage.stderr
        shown = env.cli("artifacts", "--help")
        assert shown.returncode == 0 and "--all" in shown.stdout and "inspect" in shown.stdout
    finally:
        stop_all(env, tmp_path)
