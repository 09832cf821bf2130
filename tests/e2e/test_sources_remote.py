"""Code and outputs travel through the server: ``jupyter flows deploy`` uploads the notebook
or the flow's package, a worker without database access (and without the code on its disk)
fetches it and runs it, and the executed notebook is uploaded and served by the server
(real server, worker, run processes and CLI processes)."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import nbformat
import pytest

from jupyter_flows.client.deploy import deploy
from jupyter_flows.client.http import ClientError
from tests.e2e.harness import PY, TOKEN, Env, stop_all
from tests.helpers import wait, write_notebook

FLOWS = """
import json, os
from jupyter_flows import flow
from pipeline.helpers import FACTOR

@flow
def pipe(n: int, out: str) -> int:
    with open(out, "w") as f:
        json.dump({"cwd": os.getcwd(), "value": n * FACTOR}, f)
    return n * FACTOR
"""


def _cli(env: Env, cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """The CLI, run from ``cwd`` (where the sources to deploy are)."""
    return subprocess.run(
        [PY, "-m", "jupyter_flows.cli.app", *args, "--url", env.url, "--token", TOKEN],
        cwd=cwd, env=env.env, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip


def _project(tmp_path: Path) -> Path:
    project = tmp_path / "project"
    (project / "pipeline").mkdir(parents=True)
    write_notebook(project / "report.ipynb", "n = 1", "print('answer', n * 3)")
    (project / "pipeline" / "__init__.py").write_text("")
    (project / "pipeline" / "helpers.py").write_text("FACTOR = 7\n")
    (project / "pipeline" / "flows.py").write_text(FLOWS)
    return project


def _finished(env: Env, deployment: str) -> dict[str, Any]:
    dep = env.get(f"deployments/{deployment}")["id"]
    wait(lambda: (env.runs(dep) or [{}])[0].get("state_name") in
         ("Completed", "Failed", "Crashed"), 180, f"the run of {deployment}")  # fmt: skip
    return env.runs(dep)[0]


@pytest.mark.timeout(600)
def test_deployed_sources_run_on_a_remote_worker_and_outputs_come_back(tmp_path: Path) -> None:
    env = Env(tmp_path)
    project = _project(tmp_path)
    try:
        env.start_server("--FlowsApp.max_source_bytes=200000")
        # the path-only deploy of before: the server looks under its root, where it is not
        refused = _cli(env, project, "deploy", "report.ipynb", "--name", "nb0", "--no-upload")
        assert refused.returncode == 1 and "report.ipynb" in refused.stderr, refused.stderr
        with pytest.raises(ClientError, match="HTTP 400"):
            deploy("report.ipynb", "nb0", url=env.url, token=TOKEN, root_dir=project,
                   upload=False)  # fmt: skip

        made = _cli(env, project, "deploy", "report.ipynb", "--name", "nb", "--param", "n=5")
        assert made.returncode == 0, made.stderr
        assert "uploaded report.ipynb as source" in made.stdout
        out = tmp_path / "seen.json"
        made = _cli(env, project, "deploy", "pipeline/flows.py:pipe", "--name", "py",
                    "--param", "n=6", "--param", f"out={out}")  # fmt: skip
        assert made.returncode == 0, made.stderr
        nb, py = env.get("deployments/nb"), env.get("deployments/py")
        assert nb["source_digest"] and py["source_digest"] != nb["source_digest"]
        assert py["entrypoint"] == "pipeline/flows.py:pipe"
        assert "n" in py["parameter_schema"]["properties"]  # inspected from the bundle

        big = tmp_path / "big"
        big.mkdir()
        (big / "huge.ipynb").write_bytes(b" " * 10 + __import__("os").urandom(300_000))
        too_big = _cli(env, big, "deploy", "huge.ipynb", "--name", "huge")
        assert too_big.returncode == 1 and "HTTP 413" in too_big.stderr, too_big.stderr
        assert "max_source_bytes" in too_big.stderr

        shutil.rmtree(project)  # the code is on the server only now
        token = env.cli("pools", "token", "default", "--worker", "remote-1")
        assert token.returncode == 0, token.stderr
        no_db = {k: v for k, v in env.env.items() if k != "JUPYTER_FLOWS_DB_URL"}
        elsewhere = tmp_path / "worker-root"  # not the server's root: its disk is its own
        elsewhere.mkdir()
        env.root, server_root = elsewhere, env.root
        env.start_worker(token.stdout.strip(), "remote-1", env=no_db)
        env.root = server_root
        assert env.cli("run", "nb").returncode == 0
        assert env.cli("run", "py").returncode == 0
        run = _finished(env, "nb")
        assert run["state_name"] == "Completed", run
        pyrun = _finished(env, "py")
        assert pyrun["state_name"] == "Completed", pyrun
        seen = json.loads(out.read_text())
        cache = tmp_path / "home" / "source-cache" / py["source_digest"]
        assert seen == {"cwd": str(cache), "value": 42}  # from the bundle, in its folder

        # the executed notebook: written on the worker's disk, uploaded, served by the server
        assert run["output_path"].startswith(str(elsewhere))
        served = env.get_text(f"flow_runs/{run['id']}/output")
        notebook = nbformat.reads(served, as_version=4)
        nbformat.validate(notebook)
        printed = "".join(o.get("text", "") for c in notebook.cells for o in c.get("outputs", []))
        assert "answer 15" in printed
        kept = tmp_path / "home" / "outputs" / run["id"] / "report.ipynb"
        assert kept.is_file()  # the server's copy
        html = env.get_text(f"flow_runs/{run['id']}/output?format=html")
        assert "answer 15" in html
    finally:
        stop_all(env, tmp_path)
