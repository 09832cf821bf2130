"""Prefect's ``prefect.context`` and ``prefect.runtime``, at ``jupyter_flows.context`` and
``jupyter_flows.runtime``: inside runs, in a worker's run process, and outside any run; and
Prefect's names that cannot exist here."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from jupyter_flows import flow, task
from jupyter_flows.context import (
    FlowRunContext,
    MissingContextError,
    TaskRunContext,
    get_run_context,
)
from jupyter_flows.core.engine import run_flow
from jupyter_flows.core.run_environment import RunEnvironment
from jupyter_flows.runtime import deployment, flow_run, task_run

WHEN = datetime(2026, 12, 1, 6, 0, tzinfo=timezone.utc)


def hand_over(monkeypatch: pytest.MonkeyPatch, env: RunEnvironment) -> None:
    """This process as a worker's run process that was handed ``env``."""
    for name, value in env.to_env().items():
        monkeypatch.setenv(name, value)


def deployment_env(**changes: Any) -> RunEnvironment:
    values: dict[str, Any] = {
        "flow_run_id": "f" * 32,
        "flow_run_name": "nightly-run",
        "flow_name": "etl",
        "tags": ["nightly", "etl"],
        "parameters": {"n": 5},
        "scheduled_start_time": WHEN,
        "deployment_id": "d" * 32,
        "deployment_name": "nightly",
        "deployment_version": "1.2",
    }
    values.update(changes)
    return RunEnvironment(**values)


class TestContexts:
    def test_the_attribute_paths_prefect_users_read(self, recorder: Any) -> None:
        seen: dict[str, Any] = {}

        @task
        def step(x: int) -> int:
            context = TaskRunContext.get()
            assert context is not None
            seen["task"] = (context.task_run.id, context.task_run.name, context.task.name)
            seen["task_parameters"] = context.parameters
            seen["run_context"] = get_run_context()
            return x

        @flow(name="etl")
        def etl(n: int) -> int:
            context = FlowRunContext.get()
            assert context is not None
            seen["flow"] = (context.flow_run.id, context.flow_run.name, context.flow.name)
            seen["flow_parameters"] = (context.flow_run.parameters, context.parameters)
            seen["flow_context"] = get_run_context()
            seen["job_variables"] = context.flow_run.job_variables
            return step(n)

        etl(3)
        run = recorder.flow_run("etl")
        step_run = recorder.task_run("step")
        assert seen["flow"] == (run.id, run.name, "etl")
        assert seen["flow_parameters"] == ({"n": 3}, {"n": 3})
        assert seen["task"] == (step_run.id, step_run.name, "step")
        assert seen["task_parameters"] == {"x": 3}
        assert isinstance(seen["run_context"], TaskRunContext)
        assert isinstance(seen["flow_context"], FlowRunContext)
        assert seen["job_variables"] == {}

    def test_outside_any_run(self) -> None:
        assert FlowRunContext.get() is None and TaskRunContext.get() is None
        with pytest.raises(MissingContextError, match="no active flow or task run"):
            get_run_context()

    def test_a_subflow_called_in_a_task_is_not_in_the_task_run(self) -> None:
        seen: dict[str, Any] = {}

        @flow
        def inner() -> None:
            seen["task"] = TaskRunContext.get()
            seen["context"] = get_run_context()

        @task
        def step() -> None:
            inner()

        @flow
        def outer() -> None:
            step()

        outer()
        assert seen["task"] is None
        assert isinstance(seen["context"], FlowRunContext)
        assert seen["context"].flow.name == "inner"


class TestFlowRunRuntime:
    def test_inside_a_flow_and_its_tasks(self, recorder: Any) -> None:
        seen: dict[str, Any] = {}

        @task
        def step() -> None:
            seen["from_task"] = (flow_run.id, flow_run.name)

        @flow(name="etl", version="7", tags=["a", "b"])
        def etl(n: int) -> None:
            seen.update(
                id=flow_run.id,
                name=flow_run.name,
                flow_name=flow_run.flow_name,
                flow_version=flow_run.flow_version,
                parameters=flow_run.parameters,
                tags=flow_run.tags,
                run_count=flow_run.run_count,
                scheduled=flow_run.scheduled_start_time,
                parent=flow_run.parent_flow_run_id,
                root=flow_run.root_flow_run_id,
                deployment_id=flow_run.deployment_id,
                job_variables=flow_run.job_variables,
                api_url=flow_run.api_url,
            )
            step()

        etl(4)
        run = recorder.flow_run("etl")
        assert seen == {
            "id": run.id,
            "name": run.name,
            "flow_name": "etl",
            "flow_version": "7",
            "parameters": {"n": 4},
            "tags": ["a", "b"],
            "run_count": 1,
            "scheduled": run.created,  # an interactive run: its start
            "parent": None,
            "root": run.id,
            "deployment_id": None,
            "job_variables": {},
            "api_url": None,  # no server known to this process
            "from_task": (run.id, run.name),
        }

    def test_subflows_know_their_parent_and_root(self, recorder: Any) -> None:
        seen: dict[str, Any] = {}

        @flow
        def leaf() -> None:
            seen["leaf"] = (flow_run.parent_flow_run_id, flow_run.root_flow_run_id)

        @flow
        def middle() -> None:
            seen["middle"] = (flow_run.parent_flow_run_id, flow_run.root_flow_run_id)
            leaf()

        @flow
        def top() -> None:
            middle()

        top()
        top_id = recorder.flow_run("top").id
        middle_id = recorder.flow_run("middle").id
        assert seen["middle"] == (top_id, top_id)
        assert seen["leaf"] == (middle_id, top_id)

    def test_run_count_of_a_retried_flow(self) -> None:
        counts: list[int] = []

        @flow(retries=1)
        def flaky() -> None:
            counts.append(flow_run.run_count)
            if len(counts) == 1:
                raise RuntimeError("first attempt")

        flaky()
        assert counts == [1, 2]

    def test_outside_any_run_the_documented_defaults(self) -> None:
        before = datetime.now(timezone.utc)
        assert flow_run.id is None and flow_run.name is None and flow_run.flow_name is None
        assert flow_run.tags == [] and flow_run.parameters == {} and flow_run.run_count == 0
        assert flow_run.deployment_id is None and flow_run.parent_deployment_id is None
        assert flow_run.api_url is None and flow_run.ui_url is None
        assert flow_run.job_variables == {}
        assert before <= flow_run.scheduled_start_time <= datetime.now(timezone.utc)

    def test_the_server_urls(self, monkeypatch: pytest.MonkeyPatch) -> None:
        hand_over(monkeypatch, RunEnvironment(url="http://127.0.0.1:8888/"))
        seen: dict[str, Any] = {}

        @flow
        def etl() -> None:
            seen.update(id=flow_run.id, api=flow_run.api_url, ui=flow_run.ui_url)

        etl()
        base = "http://127.0.0.1:8888/jupyter-flows/api/flow_runs/"
        assert seen["api"] == base + seen["id"]
        assert seen["ui"] == base + seen["id"] + "/report"

    def test_import_an_attribute_and_list_them(self) -> None:
        from jupyter_flows.runtime.flow_run import name, tags

        assert name is None and tags == []
        assert "scheduled_start_time" in dir(flow_run)
        with pytest.raises(AttributeError, match="no attribute 'nope'"):
            _ = flow_run.nope


class TestTaskRunRuntime:
    def test_inside_a_retried_task(self, recorder: Any) -> None:
        seen: list[tuple[Any, ...]] = []

        @task(retries=1, tags=["io"])
        def load(path: str) -> None:
            seen.append(
                (task_run.id, task_run.name, task_run.task_name, task_run.tags)
                + (task_run.parameters, task_run.run_count)
            )
            if len(seen) == 1:
                raise OSError("flaky disk")

        @flow
        def etl() -> None:
            load("a.csv")

        etl()
        run = recorder.task_run("load")
        first = (run.id, run.name, "load", ["io"], {"path": "a.csv"})
        assert seen == [(*first, 1), (*first, 2)]

    def test_outside_a_task_run(self) -> None:
        seen: dict[str, Any] = {}

        @flow
        def etl() -> None:
            seen.update(id=task_run.id, name=task_run.name, count=task_run.run_count)

        etl()
        assert seen == {"id": None, "name": None, "count": 0}
        assert task_run.tags == [] and task_run.parameters == {} and task_run.api_url is None

    def test_api_url(self, monkeypatch: pytest.MonkeyPatch) -> None:
        hand_over(monkeypatch, RunEnvironment(record_url="http://10.0.0.1:8888"))
        seen: dict[str, Any] = {}

        @task
        def step() -> None:
            seen.update(id=task_run.id, api=task_run.api_url)

        step()
        assert seen["api"] == f"http://10.0.0.1:8888/jupyter-flows/api/task_runs/{seen['id']}"


class TestDeploymentRuntime:
    def test_outside_a_deployment(self) -> None:
        assert deployment.id is None and deployment.name is None
        assert deployment.version is None and deployment.flow_run_id is None
        assert deployment.parameters == {}

    def test_in_a_run_process_before_its_flow_runs(self, monkeypatch: pytest.MonkeyPatch) -> None:
        hand_over(monkeypatch, deployment_env())
        assert (deployment.id, deployment.name, deployment.version) == ("d" * 32, "nightly", "1.2")
        assert deployment.flow_run_id == "f" * 32 and deployment.parameters == {"n": 5}
        assert (flow_run.id, flow_run.name, flow_run.flow_name) == ("f" * 32, "nightly-run", "etl")
        assert flow_run.tags == ["nightly", "etl"] and flow_run.parameters == {"n": 5}
        assert flow_run.scheduled_start_time == WHEN and flow_run.deployment_id == "d" * 32

    def test_malformed_handed_over_values_are_ignored(
        self, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
    ) -> None:
        hand_over(monkeypatch, deployment_env())
        monkeypatch.setenv("JUPYTER_FLOWS_SCHEDULED_START_TIME", "yesterday")
        monkeypatch.setenv("JUPYTER_FLOWS_TAGS", '{"not": "a list"}')
        before = datetime.now(timezone.utc)
        with caplog.at_level("WARNING"):
            assert flow_run.scheduled_start_time >= before  # now, as with none
            assert flow_run.tags == []
        assert "JUPYTER_FLOWS_SCHEDULED_START_TIME" in caplog.text
        assert "JUPYTER_FLOWS_TAGS" in caplog.text

    def test_the_deployment_run_and_its_subflow(
        self, monkeypatch: pytest.MonkeyPatch, recorder: Any
    ) -> None:
        hand_over(monkeypatch, deployment_env())
        seen: dict[str, Any] = {}

        @flow
        def child() -> None:
            seen["child"] = (flow_run.deployment_id, flow_run.parent_deployment_id)
            seen["child_time"] = flow_run.scheduled_start_time
            seen["child_deployment"] = (deployment.id, deployment.flow_run_id)

        @flow
        def etl(n: int) -> None:
            seen["run"] = (flow_run.id, flow_run.name, flow_run.deployment_id)
            seen["time"] = flow_run.scheduled_start_time
            seen["deployment"] = (deployment.id, deployment.name, deployment.parameters)
            child()

        run_flow(etl, (), {"n": 5}, flow_run_id="f" * 32, flow_run_name="nightly-run")
        assert seen["run"] == ("f" * 32, "nightly-run", "d" * 32)
        assert seen["time"] == WHEN  # a deployment run: its scheduled time
        assert seen["deployment"] == ("d" * 32, "nightly", {"n": 5})
        assert seen["child"] == (None, "d" * 32)
        assert seen["child_time"] == recorder.flow_run("child").created
        assert seen["child_deployment"] == ("d" * 32, "f" * 32)

    def test_another_flow_of_the_process_is_not_the_deployment_run(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        hand_over(monkeypatch, deployment_env())
        seen: dict[str, Any] = {}

        @flow
        def other() -> None:
            seen.update(deployment=deployment.id, flow_deployment=flow_run.deployment_id)
            seen["name"] = flow_run.name

        other()
        assert seen["deployment"] is None and seen["flow_deployment"] is None
        assert seen["name"] != "nightly-run"

    def test_a_notebook_kernel_that_dropped_the_run_id(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """A deployment notebook's kernel drops ``JUPYTER_FLOWS_FLOW_RUN_ID`` once read: its
        root flow run is the deployment's run."""
        hand_over(monkeypatch, deployment_env(flow_run_id=None))
        seen: dict[str, Any] = {}

        @flow
        def notebook() -> None:
            seen.update(id=deployment.id, name=deployment.name, run=deployment.flow_run_id)
            seen["flow_run_id"] = flow_run.id

        notebook()
        assert (seen["id"], seen["name"]) == ("d" * 32, "nightly")
        assert seen["run"] == seen["flow_run_id"]


class TestOverrides:
    def test_an_override_is_cast_to_the_type_of_the_real_value(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setenv("JUPYTER_FLOWS__RUNTIME__FLOW_RUN__NAME", "test-run")
        monkeypatch.setenv("JUPYTER_FLOWS__RUNTIME__FLOW_RUN__RUN_COUNT", "3")
        monkeypatch.setenv(
            "JUPYTER_FLOWS__RUNTIME__FLOW_RUN__SCHEDULED_START_TIME", "2026-12-01T06:00:00"
        )
        monkeypatch.setenv("JUPYTER_FLOWS__RUNTIME__DEPLOYMENT__NAME", "fake")
        monkeypatch.setenv("JUPYTER_FLOWS__RUNTIME__TASK_RUN__FAKE_KEY", "foo")
        seen: dict[str, Any] = {}

        @flow
        def etl() -> None:
            seen.update(name=flow_run.name, count=flow_run.run_count)

        etl()
        assert seen == {"name": "test-run", "count": 3}
        assert flow_run.name == "test-run" and flow_run.run_count == 3
        assert flow_run.scheduled_start_time == WHEN
        assert deployment.name == "fake"
        assert task_run.fake_key == "foo"  # an unknown name: the text

    def test_a_list_or_dict_cannot_be_overridden(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("JUPYTER_FLOWS__RUNTIME__FLOW_RUN__TAGS", "a,b")
        with pytest.raises(ValueError, match="use monkeypatch"):
            _ = flow_run.tags


class TestPrefectNamesThatCannotExist:
    def test_the_client_of_prefects_api_server(self) -> None:
        with pytest.raises(ImportError, match="FlowsClient") as raised:
            from jupyter_flows.client.orchestration import SyncPrefectClient  # noqa: F401
        assert raised.value.name == "SyncPrefectClient"
        with pytest.raises(ImportError, match="does not exist in jupyter-flows"):
            from jupyter_flows.client.orchestration import PrefectClient  # noqa: F401

    def test_prefect_cloud(self) -> None:
        import jupyter_flows.client.cloud as cloud  # the path is importable

        with pytest.raises(ImportError, match="no Prefect Cloud"):
            from jupyter_flows.client.cloud import get_cloud_client  # noqa: F401
        with pytest.raises(ImportError, match="/jupyter-flows/api/"):
            _ = cloud.CloudClient

    def test_other_missing_names_are_plain_attribute_errors(self) -> None:
        import jupyter_flows
        import jupyter_flows.client.cloud as cloud

        with pytest.raises(AttributeError, match="no attribute 'nothing_here'"):
            _ = jupyter_flows.nothing_here
        assert not hasattr(cloud, "nothing_here")


FLOW = """
import json, sys
from jupyter_flows import flow
from jupyter_flows.runtime import deployment, flow_run

AT_IMPORT = {"id": flow_run.id, "name": flow_run.name, "deployment": deployment.name}


@flow
def report(out: str) -> None:
    seen = {
        "at_import": AT_IMPORT,
        "id": flow_run.id,
        "name": flow_run.name,
        "tags": flow_run.tags,
        "parameters": flow_run.parameters,
        "scheduled": flow_run.scheduled_start_time.isoformat(),
        "deployment": [deployment.id, deployment.name, deployment.version],
        "deployment_run": deployment.flow_run_id,
    }
    with open(out, "w") as f:
        json.dump(seen, f)
"""


@pytest.fixture
def worker_setup(tmp_path: Path) -> Iterator[tuple[Any, Any]]:
    from jupyter_flows.orchestration.service import OrchestrationService
    from jupyter_flows.store.db import open_store
    from jupyter_flows.workers.clients import LocalClient
    from jupyter_flows.workers.worker import Worker

    root = tmp_path / "root"
    root.mkdir()
    (root / "report.py").write_text(FLOW)
    url = f"sqlite:///{tmp_path / 'worker.sqlite'}"
    engine = open_store(url)
    service = OrchestrationService(engine, root, tmp_path / "outputs")
    worker = Worker(
        LocalClient(service),
        "default",
        name="w",
        root_dir=root,
        outputs_dir=tmp_path / "outputs",
        run_env=RunEnvironment(db_url=url),
        grace=2,
    )
    try:
        yield service, worker
    finally:
        for child in worker.children.values():
            child.process.kill()
        engine.dispose()


class TestWorkerRunProcess:
    def test_a_worker_hands_its_run_process_the_run(
        self, worker_setup: Any, tmp_path: Path
    ) -> None:
        from jupyter_flows.orchestration.schemas import CreateDeployment, CreateDeploymentRun

        service, worker = worker_setup
        out = tmp_path / "seen.json"
        dep = service.create_deployment(
            CreateDeployment(
                name="nightly", entrypoint="report.py:report", version="2.0", tags=["nightly"]
            )
        )
        run = service.run_deployment(dep.id, CreateDeploymentRun(parameters={"out": str(out)}))
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            worker.tick()
            state = service.runs.read_flow_run(run.id).state_name
            if state in ("Completed", "Failed") and not worker.children:
                break
            time.sleep(0.3)
        stored = service.runs.read_flow_run(run.id)
        assert stored.state_name == "Completed", stored.state_message
        seen = json.loads(out.read_text())
        assert seen["at_import"] == {"id": run.id, "name": run.name, "deployment": "nightly"}
        assert (seen["id"], seen["name"]) == (run.id, run.name)
        assert "nightly" in seen["tags"] and seen["parameters"] == {"out": str(out)}
        scheduled = datetime.fromisoformat(seen["scheduled"])
        assert run.expected_start_time is not None
        assert abs(scheduled - run.expected_start_time) < timedelta(milliseconds=1)
        assert seen["deployment"] == [dep.id, "nightly", "2.0"]
        assert seen["deployment_run"] == run.id
