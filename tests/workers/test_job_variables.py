"""The process worker applies a run's job configuration: env, working dir, interpreter,
output streaming and timeout."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from jupyter_flows.orchestration.schemas import CreateDeployment, CreateDeploymentRun
from tests.workers.test_worker import run_until, setup  # noqa: F401 - the fixture

SOURCE = """
import os, sys, time
from jupyter_flows import flow

@flow
def where() -> None:
    print("MODE", os.environ.get("MODE"), "CWD", os.getcwd(), "PY", sys.executable)

@flow
def sleepy() -> None:
    print("sleeping", flush=True)
    time.sleep(120)
"""


def _run(service: Any, entrypoint: str, deployment_vars: Any, run_vars: Any) -> str:
    dep = service.create_deployment(
        CreateDeployment(
            name=entrypoint.replace(":", "-").replace(".", "-"),
            entrypoint=entrypoint,
            job_variables=deployment_vars,
        )
    )
    return str(service.run_deployment(dep.id, CreateDeploymentRun(job_variables=run_vars)).id)


class TestProcessJobVariables:
    def test_env_working_dir_and_python_reach_the_run(self, setup: Any) -> None:  # noqa: F811
        service, worker, _ = setup
        (worker.root_dir / "vars.py").write_text(SOURCE)
        (worker.root_dir / "sub").mkdir()
        run_id = _run(
            service,
            "vars.py:where",
            {"env": {"MODE": "deployed"}, "working_dir": "sub"},
            {"env": {"MODE": "run"}, "python": sys.executable},
        )
        run = run_until(worker, service, run_id, {"Completed", "Failed"})
        assert run.state_name == "Completed", run.state_message
        (line,) = [
            m.message for m in service.runs.read_logs(run_id) if m.message.startswith("MODE")
        ]
        assert line.startswith(f"MODE run CWD {(worker.root_dir / 'sub').resolve()}")

    def test_a_missing_interpreter_fails_the_run(self, setup: Any, tmp_path: Path) -> None:  # noqa: F811
        service, worker, _ = setup
        (worker.root_dir / "vars.py").write_text(SOURCE)
        run_id = _run(service, "vars.py:where", {}, {"python": str(tmp_path / "no-python")})
        worker.tick()
        run = service.runs.read_flow_run(run_id)
        assert run.state_name == "Failed" and not worker.children
        assert "could not start the run process" in (run.state_message or "")
        assert "no-python" in (run.state_message or "")

    def test_timeout_stops_the_run_and_it_ends_failed(self, setup: Any) -> None:  # noqa: F811
        service, worker, _ = setup
        (worker.root_dir / "vars.py").write_text(SOURCE)
        run_id = _run(service, "vars.py:sleepy", {}, {"timeout_seconds": 2})
        run = run_until(worker, service, run_id, {"TimedOut", "Completed", "Failed"})
        assert run.state_type.value == "FAILED" and run.state_name == "TimedOut"
        assert run.state_message == "Flow run exceeded timeout of 2 second(s)"

    def test_stream_output_false_records_no_printed_lines(self, setup: Any) -> None:  # noqa: F811
        service, worker, _ = setup
        (worker.root_dir / "vars.py").write_text(SOURCE)
        run_id = _run(service, "vars.py:where", {"stream_output": False}, {})
        run = run_until(worker, service, run_id, {"Completed", "Failed"})
        assert run.state_name == "Completed"
        assert not [m for m in service.runs.read_logs(run_id) if m.message.startswith("MODE")]
