"""Deleting runs, pruning old ones, and what a deleted deployment leaves (real databases)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import func, select

from jupyter_flows.core.records import LogInfo
from jupyter_flows.core.states import State, StateType
from jupyter_flows.exceptions import Conflict, NotFound
from jupyter_flows.orchestration._tables import FLOW_RUN, LOG, STATE, TASK_RUN
from jupyter_flows.orchestration.automation_schemas import DeploymentAction
from jupyter_flows.orchestration.schemas import (
    CreateAutomation,
    CreateDeployment,
    CreateDeploymentRun,
    EventTrigger,
    UpdateRunState,
)
from jupyter_flows.orchestration.service import OrchestrationService
from jupyter_flows.store.recorder import SqlRecorder
from tests.store import builders as b


def _count(service: OrchestrationService, table: object) -> int:
    with service.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())  # type: ignore[call-overload]


def _recorded_run(service: OrchestrationService, ended_days_ago: float) -> str:
    """A flow run with a subflow run, task runs, states and logs, ended that long ago."""
    recorder = SqlRecorder(service.engine, flush_interval=60)
    end = datetime.now(timezone.utc) - timedelta(days=ended_days_ago)
    parent, child = b.flow_run("parent"), b.flow_run("child")
    task = b.task_run(parent.id, "t", subflow_run_id=child.id)
    child.parent_flow_run_id, child.parent_task_run_id = parent.id, task.id
    inner = b.task_run(child.id, "inner")
    for info in (parent, child):
        recorder.flow_run_created(info)
    for t in (task, inner):
        recorder.task_run_created(t)
        recorder.log(LogInfo(t.flow_run_id, t.id, 20, "x", "a line", end))
    for kind, run_id in (("task", inner.id), ("flow", child.id), ("task", task.id)):
        recorder.set_state(kind, run_id, State(StateType.COMPLETED, "Completed", end), 1)
    recorder.set_state("flow", parent.id, State(StateType.COMPLETED, "Completed", end), 1)
    recorder.close()
    return parent.id


class TestDeleteRun:
    def test_deletes_the_run_with_everything_of_it(
        self, service: OrchestrationService, tmp_path: Path
    ) -> None:
        keep = _recorded_run(service, 0)
        gone = _recorded_run(service, 0)
        (service.outputs_dir / gone).mkdir(parents=True)
        (service.outputs_dir / gone / "nb.ipynb").write_text("{}")
        before = {t: _count(service, t) for t in (FLOW_RUN, TASK_RUN, STATE, LOG)}
        service.delete_flow_run(gone)
        after = {t: _count(service, t) for t in (FLOW_RUN, TASK_RUN, STATE, LOG)}
        assert after[FLOW_RUN] == before[FLOW_RUN] - 2  # the run and its subflow run
        assert after[TASK_RUN] == before[TASK_RUN] - 2
        assert after[STATE] < before[STATE] and after[LOG] == before[LOG] - 2
        assert not (service.outputs_dir / gone).exists()
        with pytest.raises(NotFound):
            service.read_run_state(gone)
        assert service.runs.read_flow_run(keep).state_name == "Completed"

    def test_a_running_run_is_not_deleted(self, service: OrchestrationService) -> None:
        dep = service.create_deployment(CreateDeployment(name="d", entrypoint="flows/etl.py:etl"))
        run = service.run_deployment(dep.id, CreateDeploymentRun(parameters={"n": 1}))
        service.claim_runs("default", "w", 1)
        service.set_run_state(run.id, UpdateRunState(type="RUNNING", name="Running", worker="w"))
        with pytest.raises(Conflict, match="cancel it"):
            service.delete_flow_run(run.id)
        assert service.read_run_state(run.id).state_name == "Running"


class TestPrune:
    def test_prunes_runs_that_ended_before_the_cutoff(self, service: OrchestrationService) -> None:
        old = _recorded_run(service, 40)
        new = _recorded_run(service, 1)
        assert service.prune_flow_runs(timedelta(days=30)) == 2  # the old run and its subflow
        with pytest.raises(NotFound):
            service.read_run_state(old)
        assert service.runs.read_flow_run(new).task_runs

    def test_prunes_silent_workers(self, service: OrchestrationService) -> None:
        service.heartbeat("default", "old-worker")
        assert service.prune_workers(timedelta(days=1)) == 0
        assert service.prune_workers(timedelta(seconds=-1)) == 1


class TestDeleteDeployment:
    def test_its_waiting_runs_go_and_its_automations_are_disabled(
        self, service: OrchestrationService
    ) -> None:
        target = service.create_deployment(
            CreateDeployment(name="target", entrypoint="flows/etl.py:etl")
        )
        claimed = service.run_deployment(target.id, CreateDeploymentRun(parameters={"n": 1}))
        waiting = service.run_deployment(target.id, CreateDeploymentRun(parameters={"n": 2}))
        assert [c.flow_run.id for c in service.claim_runs("default", "w", 1)] == [claimed.id]
        service.create_automation(
            CreateAutomation(
                name="chain",
                trigger=EventTrigger(event="upload.done"),
                action=DeploymentAction(type="run-deployment", deployment="target"),
            )
        )
        service.delete_deployment("target")
        states = {}
        for run_id in (claimed.id, waiting.id):
            try:
                states[run_id] = service.read_run_state(run_id).state_name
            except NotFound:
                states[run_id] = None
        assert states == {claimed.id: "Pending", waiting.id: None}  # the claimed one runs
        assert [a.enabled for a in service.list_automations().items] == [False]


class TestPruneResults:
    def test_expired_results_go_with_their_files(
        self, service: OrchestrationService, tmp_path: Path
    ) -> None:
        from jupyter_flows.core.records import ResultInfo
        from jupyter_flows.core.results import ResultStore, get_serializer
        from jupyter_flows.orchestration._tables import RESULT

        store = ResultStore(tmp_path / "results")
        recorder = SqlRecorder(service.engine, flush_interval=60)
        now = datetime.now(timezone.utc)
        paths = {}
        for key, expires in (("a" * 64, now - timedelta(seconds=1)), ("b" * 64, None)):
            stored = store.write(key, {"v": key[0]}, get_serializer("json"))
            paths[key] = Path(stored.location)
            recorder.result_stored(
                ResultInfo(key, "t" * 32, None, stored.location, "json", now, expires)
            )
        recorder.close()
        assert service.prune_results(None) == 1  # only the expired one
        assert not paths["a" * 64].exists() and paths["b" * 64].exists()
        assert _count(service, RESULT) == 1
        assert service.prune_results(timedelta(seconds=-1)) == 1  # stored before "now + 1 s"
        assert not paths["b" * 64].exists() and _count(service, RESULT) == 0


class TestKeepPerFlow:
    def test_keeps_the_newest_n_of_each_flow(self, service: OrchestrationService) -> None:
        runs = [_recorded_run(service, 10 - i) for i in range(4)]  # oldest first
        assert service.prune_flow_runs(keep_per_flow=1) == 6  # 3 parents + their subflow runs
        for run_id in runs[:3]:
            with pytest.raises(NotFound):
                service.read_run_state(run_id)
        assert service.read_run_state(runs[3]).state_name == "Completed"
        assert service.prune_flow_runs(keep_per_flow=1) == 0
