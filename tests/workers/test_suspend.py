"""``suspend_flow_run`` with a real worker, real run processes (a Python flow, and a notebook
through papermill) on SQLite and PostgreSQL: the run process exits without a final state
and frees its slot; resumed with an input, the same flow run is run again by a worker,
reuses its completed task runs (their side effects are counted in a file) and the input
reaches the flow; a suspension not resumed in time ends the run Failed; the server can
suspend a running run from outside (its worker stops the process)."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from jupyter_flows.core.run_environment import RunEnvironment
from jupyter_flows.exceptions import Conflict
from jupyter_flows.orchestration.pauses import TIMED_OUT, ResumeFlowRun
from jupyter_flows.orchestration.schemas import CreateDeployment, CreateDeploymentRun
from jupyter_flows.orchestration.service import OrchestrationService
from jupyter_flows.store.db import open_store
from jupyter_flows.workers.clients import LocalClient
from jupyter_flows.workers.worker import Worker
from tests.helpers import write_notebook

FLOW = """
import json
import time
from pathlib import Path
from jupyter_flows import flow, task
from jupyter_flows.flow_runs import suspend_flow_run
from jupyter_flows.input import RunInput

HERE = Path(__file__).parent


def note(name: str) -> None:
    with open(HERE / "calls.log", "a") as f:
        f.write(name + "\\n")


class Approval(RunInput):
    approved: bool
    copies: int = 1


@task
def draft(n: int) -> list[int]:
    note("draft")
    return list(range(n))


@task
def send(pages: list[int], copies: int) -> int:
    note("send")
    return len(pages) * copies


@flow(persist_result=True)
def publish(n: int = 3, timeout: int = 120) -> int:
    pages = draft(n)
    answer = suspend_flow_run(wait_for_input=Approval, timeout=timeout)
    note(f"answer {json.dumps(answer.model_dump())}")
    return send(pages, answer.copies) if answer.approved else 0


@flow
def slow() -> str:
    note("slow")
    while (HERE / "hold").exists():
        time.sleep(0.1)
    return "done"
"""


def _calls(root: Path) -> list[str]:
    path = root / "calls.log"
    return path.read_text().splitlines() if path.exists() else []


@pytest.fixture
def setup(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[OrchestrationService, Worker]]:
    monkeypatch.setenv("JUPYTER_FLOWS_DB_URL", db_url)  # (state.result() reads it there)
    root = tmp_path / "root"
    root.mkdir()
    (root / "publish.py").write_text(FLOW)
    engine = open_store(db_url)
    service = OrchestrationService(engine, root, tmp_path / "outputs")
    worker = Worker(
        LocalClient(service),
        "default",
        name="w",
        limit=1,
        root_dir=root,
        outputs_dir=tmp_path / "outputs",
        run_env=RunEnvironment(db_url=db_url),
        grace=2,
    )
    try:
        yield service, worker
    finally:
        for child in worker.children.values():
            child.process.kill()
        engine.dispose()


def _until(worker: Worker, service: OrchestrationService, run_id: str, names: set[str]) -> Any:
    """Tick the worker until the run is in one of ``names`` and no run process is left."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        worker.tick()
        run = service.runs.read_flow_run(run_id)
        if run.state_name in names and not worker.children:
            return run
        time.sleep(0.2)
    raise AssertionError(
        f"run {run_id} never reached {names}: {service.runs.read_flow_run(run_id)}"
    )


def _run(service: OrchestrationService, entrypoint: str, **params: Any) -> str:
    name = entrypoint.replace(":", "-").replace(".", "-")
    dep = service.create_deployment(CreateDeployment(name=name, entrypoint=entrypoint))
    return service.run_deployment(dep.id, CreateDeploymentRun(parameters=params)).id


ENDED = {"Completed", "Failed", "Crashed", "Cancelled"}


class TestSuspendedPythonFlow:
    def test_it_exits_frees_its_slot_and_resumes_with_its_input(self, setup: Any) -> None:
        service, worker = setup
        root = worker.root_dir
        run_id = _run(service, "publish.py:publish", n=3)
        run = _until(worker, service, run_id, {"Suspended"} | ENDED)
        assert run.state_name == "Suspended", run.state_message
        assert run.state_type.value == "PAUSED"
        assert not worker.children  # its process exited: the slot is free
        assert [s.name for s in run.states][-2:] == ["Running", "Suspended"]
        assert _calls(root) == ["draft"]
        pause = service.read_pause(run_id)
        assert pause.reschedule and pause.key == "suspend-1"
        assert set(pause.input_schema["properties"]) == {"approved", "copies"}  # type: ignore[index]

        # the slot is free: another run of the pool (limit 1) is claimed and runs meanwhile
        other = _run(service, "publish.py:slow")
        assert _until(worker, service, other, ENDED).state_name == "Completed"
        assert service.read_run_state(run_id).state_name == "Suspended"  # nothing touched it

        with pytest.raises(ValueError, match=r"run_input\.copies"):
            bad = {"approved": True, "copies": "many"}
            service.resume_flow_run(run_id, ResumeFlowRun(run_input=bad))
        resumed = service.resume_flow_run(
            run_id, ResumeFlowRun(run_input={"approved": True, "copies": 2})
        )
        assert (resumed.state_type, resumed.state_name, resumed.worker) == (
            "SCHEDULED",
            "Resuming",
            None,
        )
        done = _until(worker, service, run_id, ENDED)
        assert done.id == run_id and done.state_name == "Completed", done.state_message
        assert done.state.result() == 6  # 3 pages, 2 copies
        # draft ran once: the second process reused its persisted result; send ran once
        answer = 'answer {"approved": true, "copies": 2}'
        assert _calls(root) == ["draft", "slow", answer, "send"]
        drafts = [t for t in done.task_runs if t.task_name == "draft"]
        assert [t.state_name for t in drafts] == ["Completed"]  # the same task run, once
        names = [s.name for s in done.states]
        assert names[-5:] == ["Suspended", "Resuming", "Pending", "Running", "Completed"], names
        assert not {"Failed", "Crashed", "Cancelled"} & set(names)

    def test_not_resumed_in_time_it_ends_failed(self, setup: Any) -> None:
        service, worker = setup
        run_id = _run(service, "publish.py:publish", n=1, timeout=1)
        assert _until(worker, service, run_id, {"Suspended"} | ENDED).state_name == "Suspended"
        deadline = time.monotonic() + 30
        while service.read_run_state(run_id).state_type == "PAUSED":
            assert time.monotonic() < deadline, "the suspension never expired"
            service.fail_expired_pauses()
            time.sleep(0.2)
        ended = service.runs.read_flow_run(run_id)
        assert (ended.state_name, ended.state_message) == ("Failed", TIMED_OUT)
        with pytest.raises(Conflict, match="not paused"):
            service.resume_flow_run(run_id, ResumeFlowRun(run_input={"approved": True}))
        worker.tick()
        assert service.read_run_state(run_id).state_name == "Failed"  # no worker runs it

    def test_the_server_suspends_a_running_run(self, setup: Any) -> None:
        service, worker = setup
        root = worker.root_dir
        (root / "hold").write_text("")
        run_id = _run(service, "publish.py:slow")
        deadline = time.monotonic() + 60
        while _calls(root) != ["slow"] or service.read_run_state(run_id).state_name != "Running":
            assert time.monotonic() < deadline, "the run never started"
            worker.tick()
            time.sleep(0.2)
        state = service.suspend_flow_run(run_id, timeout=600)
        assert state.state_name == "Suspended"
        run = _until(worker, service, run_id, {"Suspended"} | ENDED)
        assert run.state_name == "Suspended"  # its process was stopped, not reported
        assert not worker.children
        (root / "hold").unlink()
        service.resume_flow_run(run_id, ResumeFlowRun())
        done = _until(worker, service, run_id, ENDED)
        assert done.state_name == "Completed", done.state_message
        assert _calls(root) == ["slow", "slow"]  # the flow ran again from its start
        with pytest.raises(Conflict, match="not currently running"):
            service.suspend_flow_run(run_id)


def test_a_notebook_resumes_at_the_suspending_cell(setup: Any) -> None:
    service, worker = setup
    root = worker.root_dir
    calls = root / "calls.log"
    out = root / "answer.json"
    write_notebook(
        root / "report.ipynb",
        "n = 3",
        "%load_ext jupyter_flows",
        f"%%task load --persist\nopen({str(calls)!r}, 'a').write('load\\n')\nrows = list(range(n))",
        "from jupyter_flows.flow_runs import suspend_flow_run\n"
        f"open({str(calls)!r}, 'a').write('suspending\\n')\n"
        "copies = suspend_flow_run(wait_for_input=int, timeout=120)",
        "%%task publish\n"
        f"open({str(calls)!r}, 'a').write('publish\\n')\n"
        "import json\n"
        f"json.dump({{'rows': rows, 'copies': copies}}, open({str(out)!r}, 'w'))",
    )
    run_id = _run(service, "report.ipynb")
    run = _until(worker, service, run_id, {"Suspended"} | ENDED)
    assert run.state_name == "Suspended", run.state_message
    assert not worker.children  # papermill and its kernel are gone
    assert calls.read_text().split() == ["load", "suspending"]
    assert service.read_pause(run_id).input_schema["properties"]["value"]["type"] == "integer"  # type: ignore[index]
    with pytest.raises(ValueError, match=r"run_input\.value"):
        service.resume_flow_run(run_id, ResumeFlowRun(run_input={"value": "two"}))
    service.resume_flow_run(run_id, ResumeFlowRun(run_input={"value": 2}))
    done = _until(worker, service, run_id, ENDED)
    assert done.state_name == "Completed", done.state_message
    # load was restored (rows in the namespace again), the suspending cell re-ran and got
    # its input at once, and the notebook went on
    assert calls.read_text().split() == ["load", "suspending", "suspending", "publish"]
    assert json.loads(out.read_text()) == {"rows": [0, 1, 2], "copies": 2}
    states = [(t.task_name, t.state_name) for t in done.task_runs]
    assert states == [("load", "Completed"), ("publish", "Completed")]  # load once
