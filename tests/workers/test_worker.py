"""A Worker with the in-process client runs real notebook and Python deployments end to end."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from jupyter_flows.core.run_environment import RunEnvironment
from jupyter_flows.orchestration.schemas import CreateDeployment, CreateDeploymentRun
from jupyter_flows.orchestration.service import OrchestrationService
from jupyter_flows.store.db import open_store
from jupyter_flows.workers.clients import LocalClient
from jupyter_flows.workers.worker import Worker, log_line
from tests.helpers import write_notebook

FLOW = """
from jupyter_flows import flow, task

@task
def double(x: int) -> int:
    return 2 * x

@flow
def etl(n: int) -> int:
    return double(n)
"""


@pytest.fixture
def setup(tmp_path: Path) -> Iterator[tuple[OrchestrationService, Worker, str]]:
    root = tmp_path / "root"
    root.mkdir()
    (root / "etl.py").write_text(FLOW)
    write_notebook(
        root / "tasks.ipynb",
        "n = 2",
        "%load_ext jupyter_flows",
        "%%task load\nvalues = list(range(n))",
        "%%task total\nresult = sum(values)\nprint('total', result)",
    )
    write_notebook(root / "broken.ipynb", "n = 1", "raise RuntimeError('cell exploded')")
    write_notebook(root / "slow.ipynb", "n = 1", "import time\ntime.sleep(60)")
    url = f"sqlite:///{tmp_path / 'worker.sqlite'}"
    engine = open_store(url)
    service = OrchestrationService(engine, root, tmp_path / "outputs")
    worker = Worker(
        LocalClient(service),
        "default",
        name="w",
        limit=2,
        root_dir=root,
        outputs_dir=tmp_path / "outputs",
        run_env=RunEnvironment(db_url=url),
        grace=2,
    )
    try:
        yield service, worker, url
    finally:
        for child in worker.children.values():
            child.process.kill()
        engine.dispose()


def run_until(
    worker: Worker,
    service: OrchestrationService,
    run_id: str,
    final: set[str],
    timeout: float = 120,
) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        worker.tick()
        run = service.runs.read_flow_run(run_id)
        if run.state_name in final and not worker.children:
            return run
        time.sleep(0.3)
    raise AssertionError(f"run {run_id} did not finish: {service.runs.read_flow_run(run_id)}")


def deploy_and_run(service: OrchestrationService, name: str, entrypoint: str, **params: Any) -> str:
    dep = service.create_deployment(CreateDeployment(name=name, entrypoint=entrypoint))
    return service.run_deployment(dep.id, CreateDeploymentRun(parameters=params)).id


class TestWorker:
    def test_python_entrypoint(self, setup: Any) -> None:
        service, worker, _ = setup
        run_id = deploy_and_run(service, "etl", "etl.py:etl", n=21)
        run = run_until(worker, service, run_id, {"Completed", "Failed"})
        assert run.state_name == "Completed"
        assert [t.task_name for t in run.task_runs] == ["double"]
        assert run.deployment_id is not None

    def test_a_burst_of_printed_lines_all_reach_the_database_in_order(
        self, setup: Any, tmp_path: Path
    ) -> None:
        service, worker, _ = setup
        (worker.root_dir / "burst.py").write_text(
            "import sys\nfrom jupyter_flows import flow\n"
            "@flow\ndef burst(n: int) -> int:\n"
            "    for i in range(n):\n"
            "        sys.stdout.write(f'line {i}\\n')\n"
            "    sys.stdout.flush()\n"
            "    return n\n"
        )
        run_id = deploy_and_run(service, "burst", "burst.py:burst", n=20_000)
        run = run_until(worker, service, run_id, {"Completed", "Failed"})
        assert run.state_name == "Completed", run.state_message
        lines = [log.message for log in service.runs.read_logs(run_id)]
        printed = [m for m in lines if m.startswith("line ")]
        assert printed == [f"line {i}" for i in range(20_000)]  # every one, in order

    def test_while_logs_cannot_be_sent_the_run_waits_and_loses_nothing(
        self, setup: Any, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        from jupyter_flows.client.http import ClientError
        from jupyter_flows.workers import worker as worker_module

        service, worker, _ = setup
        monkeypatch.setattr(worker_module, "MAX_PENDING_LINES", 500)
        away_until = [float("inf")]
        real_append = worker.client.append_logs

        def append_logs(run_id: str, lines: list[dict[str, Any]]) -> None:
            if time.monotonic() < away_until[0]:
                raise ClientError("the server is away")
            real_append(run_id, lines)

        monkeypatch.setattr(worker.client, "append_logs", append_logs)
        (worker.root_dir / "burst.py").write_text(
            "import sys\nfrom jupyter_flows import flow\n"
            "@flow\ndef burst(n: int) -> int:\n"
            "    for i in range(n):\n"
            "        sys.stdout.write(f'line {i}\\n')\n"
            "    return n\n"
        )
        run_id = deploy_and_run(service, "burst", "burst.py:burst", n=20_000)
        most = 0
        deadline = time.monotonic() + 8
        while time.monotonic() < deadline:  # the server is away for 8 s
            worker.tick()
            most = max([most, *(len(c.lines) for c in worker.children.values())])
            time.sleep(0.2)
        assert 0 < most <= 500  # kept, bounded: the run waited on its pipe
        assert service.runs.read_flow_run(run_id).state_name == "Running"
        away_until[0] = 0.0
        run = run_until(worker, service, run_id, {"Completed", "Failed"})
        assert run.state_name == "Completed"
        printed = [
            m.message for m in service.runs.read_logs(run_id) if m.message.startswith("line ")
        ]
        assert printed == [f"line {i}" for i in range(20_000)]

    def test_notebook_with_task_cells(self, setup: Any, tmp_path: Path) -> None:
        service, worker, _ = setup
        run_id = deploy_and_run(service, "nb", "tasks.ipynb", n=5)
        run = run_until(worker, service, run_id, {"Completed", "Failed"})
        assert run.state_name == "Completed", run.state_message
        assert {t.task_name: t.state_name for t in run.task_runs} == {
            "load": "Completed",
            "total": "Completed",
        }
        assert run.parameters["n"] == 5
        out = tmp_path / "outputs" / run_id / "tasks.ipynb"
        assert "total 10" in out.read_text()  # parameters were injected
        assert run.output_path == str(out)  # the worker's report, in a column
        assert run.state_message is None
        logs = service.runs.read_logs(run_id)
        assert not any("without encryption" in log.message for log in logs)

    def test_failing_cell_fails_the_run(self, setup: Any) -> None:
        service, worker, _ = setup
        run_id = deploy_and_run(service, "broken", "broken.ipynb")
        run = run_until(worker, service, run_id, {"Completed", "Failed"})
        assert run.state_name == "Failed"
        assert "cell exploded" in (run.state_message or "")
        assert run.output_path and "cell exploded" in Path(run.output_path).read_text()

    def test_cancel_stops_a_running_run(self, setup: Any) -> None:
        service, worker, _ = setup
        run_id = deploy_and_run(service, "slow", "slow.ipynb")
        deadline = time.monotonic() + 60
        while not worker.children and time.monotonic() < deadline:
            worker.tick()
            time.sleep(0.2)
        assert run_id in worker.children
        process = worker.children[run_id].process
        service.cancel_flow_run(run_id)
        run = run_until(worker, service, run_id, {"Cancelled"})
        assert run.state_name == "Cancelled"
        assert process.poll() is not None  # the subprocess was stopped


@pytest.mark.parametrize(
    ("line", "level"),
    [
        ("[IPKernelApp] WARNING | Parent appears to have exited, shutting down.", 30),
        ("12:00:01.234 | ERROR   | Task run 'load-0' - ValueError: bad", 40),
        ("[NbConvertApp] Executing notebook with kernel: python3", 20),
        ("plain output", 20),
    ],
)
def test_log_levels_are_read_from_the_lines(line: str, level: int) -> None:
    assert log_line(line) == {"level": level, "message": line}


def test_kernel_transport_notices_are_dropped() -> None:
    notice = "[IPKernelApp] WARNING | Kernel is running over TCP without encryption. All ..."
    assert log_line(notice) is None


def test_a_free_slot_claims_the_next_run_without_waiting_for_the_poll(setup: Any) -> None:
    """Three runs, one slot, a 10-minute poll: each exit starts the next run at once (the old
    worker waited a whole poll interval per run: this would have taken 20 minutes)."""
    import threading

    service, worker, _url = setup
    worker.limit, worker.poll_interval = 1, 600.0
    dep = service.create_deployment(CreateDeployment(name="etl", entrypoint="etl.py:etl"))
    runs = [
        service.run_deployment(dep.id, CreateDeploymentRun(parameters={"n": i})) for i in (1, 2, 3)
    ]
    polling = threading.Thread(target=worker.run, daemon=True)
    polling.start()
    try:
        deadline = time.monotonic() + 180  # far below one poll interval
        while time.monotonic() < deadline:
            states = [service.runs.read_flow_run(r.id).state_name for r in runs]
            if states == ["Completed"] * 3:
                break
            time.sleep(0.1)
    finally:
        worker.stop()
        polling.join(timeout=30)
    assert states == ["Completed"] * 3
    assert [service.runs.read_flow_run(r.id).parameters["n"] for r in runs] == [1, 2, 3]
