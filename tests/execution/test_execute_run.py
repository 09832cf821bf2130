"""``python -m jupyter_flows.workers.execute_run`` as a worker starts it: a real subprocess
recording into a real database under the deployment's flow run id."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from jupyter_flows.orchestration.schemas import CreateDeployment, CreateDeploymentRun
from jupyter_flows.orchestration.service import OrchestrationService
from jupyter_flows.store.db import open_store

NOTEBOOKS = Path(__file__).parent / "notebooks"
FLOWS = """
from jupyter_flows import flow, task

@task
def double(x: int) -> int:
    return 2 * x

@flow
def etl(n: int) -> int:
    return double(n)

@flow
def explode(n: int) -> int:
    raise RuntimeError(f"exploded at {n}")
"""


@dataclass
class Project:
    service: OrchestrationService
    root: Path
    outputs: Path
    env: dict[str, str]

    def run(self, entrypoint: str, **parameters: object) -> str:
        name = entrypoint.replace("/", "-").replace(":", "-")
        dep = self.service.create_deployment(CreateDeployment(name=name, entrypoint=entrypoint))
        run = self.service.run_deployment(dep.id, CreateDeploymentRun(parameters=parameters))
        return run.id

    def execute(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "jupyter_flows.workers.execute_run", *args],
            env=self.env,
            cwd=self.root,
            capture_output=True,
            text=True,
            timeout=180,
        )

    def execute_run(self, run_id: str) -> subprocess.CompletedProcess[str]:
        run = self.service.runs.read_flow_run(run_id)
        deployment = self.service.read_deployment(run.deployment_id or "")
        return self.execute(
            "--flow-run-id",
            run_id,
            "--entrypoint",
            deployment.entrypoint,
            "--parameters",
            json.dumps(run.parameters),
            "--root",
            str(self.root),
            "--output",
            str(self.outputs),
        )


@pytest.fixture
def project(tmp_path: Path) -> Iterator[Project]:
    root = tmp_path / "root"
    shutil.copytree(NOTEBOOKS, root)
    (root / "flows.py").write_text(FLOWS)
    url = f"sqlite:///{tmp_path / 'runs.sqlite'}"
    engine = open_store(url)
    service = OrchestrationService(engine, root, tmp_path / "outputs")
    env = dict(os.environ, JUPYTER_FLOWS_DB_URL=url)
    env.pop("JUPYTER_FLOWS_FLOW_RUN_ID", None)
    try:
        yield Project(service, root, tmp_path / "outputs", env)
    finally:
        engine.dispose()


class TestNotebookRuns:
    def test_task_cells_record_under_the_given_flow_run(self, project: Project) -> None:
        run_id = project.run("tasks.ipynb", n=5)
        result = project.execute_run(run_id)
        assert result.returncode == 0, result.stdout + result.stderr
        run = project.service.runs.read_flow_run(run_id)
        assert run.state_name == "Completed"
        assert {t.task_name: t.state_name for t in run.task_runs} == {
            "load": "Completed",
            "total": "Completed",
        }
        assert all(t.flow_run_id == run_id for t in run.task_runs)
        assert run.deployment_id is not None and run.parameters == {"n": 5}
        assert project.service.runs.read_flow_runs(limit=10).total == 1  # no second run
        out = project.outputs / run_id / "tasks.ipynb"
        assert "total 10" in out.read_text()  # the parameter was injected
        types = [s.type.value for s in run.states]
        assert types[0] == "SCHEDULED" and types[-1] == "COMPLETED" and "RUNNING" in types
        assert types.count("COMPLETED") == 1  # this process's, not also the kernel's
        printed = [
            (line.level, line.task_run_id is not None)
            for line in project.service.runs.read_logs(run_id)
            if line.message == "total 10"
        ]
        assert printed == [(20, True)]  # the cell's print, once, with its task run

    def test_failing_cell_fails_the_run_naming_the_cell(self, project: Project) -> None:
        run_id = project.run("failing.ipynb", n=2)
        result = project.execute_run(run_id)
        assert result.returncode == 1
        run = project.service.runs.read_flow_run(run_id)
        assert run.state_name == "Failed"
        assert "(cell 2)" in (run.state_message or "")
        assert "ValueError: bad value 2" in (run.state_message or "")


class TestPythonRuns:
    def test_flow_records_under_the_given_flow_run(self, project: Project) -> None:
        run_id = project.run("flows.py:etl", n=21)
        result = project.execute_run(run_id)
        assert result.returncode == 0, result.stdout + result.stderr
        run = project.service.runs.read_flow_run(run_id)
        assert run.state_name == "Completed"
        assert [t.task_name for t in run.task_runs] == ["double"]
        assert project.service.runs.read_flow_runs(limit=10).total == 1

    def test_failing_flow_exits_1(self, project: Project) -> None:
        run_id = project.run("flows.py:explode", n=3)
        assert project.execute_run(run_id).returncode == 1
        run = project.service.runs.read_flow_run(run_id)
        assert run.state_name == "Failed" and "exploded at 3" in (run.state_message or "")


class TestArguments:
    def test_bad_parameters_json_exits_2(self, project: Project) -> None:
        result = project.execute(
            "--flow-run-id", "a" * 32, "--entrypoint", "flows.py:etl", "--parameters", "{nope",
            "--output", "out",
        )  # fmt: skip
        assert result.returncode == 2 and "--parameters" in result.stderr

    def test_missing_entrypoint_exits_2(self, project: Project) -> None:
        result = project.execute(
            "--flow-run-id", "a" * 32, "--entrypoint", "gone.py:etl", "--output", "out"
        )
        assert result.returncode == 2 and "gone.py" in result.stderr

    def test_a_standard_library_entrypoint_is_refused_exit_2(self, project: Project) -> None:
        result = project.execute(
            "--flow-run-id", "a" * 32, "--entrypoint", "os:system", "--parameters",
            '{"command": "echo pwned"}', "--output", "out",
        )  # fmt: skip
        assert result.returncode == 2 and "standard library" in result.stderr
        assert "pwned" not in result.stdout
