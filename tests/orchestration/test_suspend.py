"""``suspend_flow_run`` and the service's suspensions on SQLite and PostgreSQL: a run no
deployment made cannot suspend (Prefect's error), nor can a task; the service suspends a
Running deployment run (through the state policy), frees its pool's slot, reschedules it on
resume, and fails pauses that were not resumed in time (a paused process gets a grace)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest

from jupyter_flows import flow, task
from jupyter_flows.core import settings
from jupyter_flows.exceptions import Conflict
from jupyter_flows.flow_runs import suspend_flow_run
from jupyter_flows.orchestration._tables import now
from jupyter_flows.orchestration.pauses import (
    PAUSE_KEY,
    TIMED_OUT,
    DescribePause,
    ResumeFlowRun,
    write_input,
)
from jupyter_flows.orchestration.schemas import (
    CreateDeployment,
    CreateDeploymentRun,
    UpdateRunState,
    UpdateWorkPool,
)
from jupyter_flows.orchestration.service import OrchestrationService
from jupyter_flows.store.api import read_flow_run


@pytest.fixture(autouse=True)
def database(db_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.setenv("JUPYTER_FLOWS_DB_URL", db_url)
    settings.reset_recorder()
    yield db_url
    settings.reset_recorder()


def _running(service: OrchestrationService, worker: str = "w1") -> str:
    """A run of the etl deployment, claimed by ``worker`` and Running."""
    try:
        dep = service.read_deployment("etl")
    except Exception:  # noqa: BLE001 - first use
        dep = service.create_deployment(CreateDeployment(name="etl", entrypoint="flows/etl.py:etl"))
    run = service.run_deployment(dep.id, CreateDeploymentRun(parameters={"n": 1}))
    claimed = service.claim_runs("default", worker, 1)
    assert [c.flow_run.id for c in claimed] == [run.id]
    service.set_run_state(run.id, UpdateRunState(type="RUNNING", name="Running", worker=worker))
    return run.id


class TestSuspendFlowRun:
    def test_a_run_no_deployment_made_cannot_suspend(self) -> None:
        @flow
        def by_hand() -> None:
            suspend_flow_run(timeout=60)

        state = by_hand(return_state=True)
        assert state.is_failed()
        assert "Cannot pause flows without a deployment" in (state.message or "")
        names = [s.name for s in read_flow_run(state.run_id).states]  # type: ignore[arg-type]
        assert "Suspended" not in names

    def test_a_task_cannot_suspend(self) -> None:
        @task
        def inner() -> None:
            suspend_flow_run()

        @flow
        def outer() -> None:
            inner()

        state = outer(return_state=True)
        assert state.is_failed() and "Cannot suspend task runs" in (state.message or "")


class TestServiceSuspension:
    def test_suspend_frees_the_slot_and_resume_reschedules(
        self, service: OrchestrationService
    ) -> None:
        service.update_work_pool("default", UpdateWorkPool(concurrency_limit=1))
        run_id = _running(service)
        assert service.claim_runs("default", "w2", 1) == []  # the pool is full
        schema = {"type": "object", "properties": {"ok": {"type": "boolean"}},
                  "required": ["ok"]}  # fmt: skip
        state = service.suspend_flow_run(run_id, timeout=600, key="gate", input_schema=schema)
        assert (state.state_type, state.state_name) == ("PAUSED", "Suspended")
        pause = service.read_pause(run_id)
        assert pause.key == "gate" and pause.reschedule and pause.timeout_at is not None
        second = _running(service, "w2")  # its slot is free
        with pytest.raises(ValueError, match=r"run_input\.ok"):
            service.resume_flow_run(run_id, ResumeFlowRun(run_input={"ok": "yes"}))
        with pytest.raises(ValueError, match="'ok' is a required property"):
            service.resume_flow_run(run_id, ResumeFlowRun(run_input={}))
        resumed = service.resume_flow_run(run_id, ResumeFlowRun(run_input={"ok": True}))
        assert (resumed.state_type, resumed.state_name, resumed.worker) == (
            "SCHEDULED",
            "Resuming",
            None,
        )
        assert service.read_run_input(run_id, "gate-response").value == {"ok": True}
        assert service.claim_runs("default", "w3", 1) == []  # the limit holds: w2's runs
        service.set_run_state(second, UpdateRunState(type="COMPLETED", name="Completed",
                                                     worker="w2"))  # fmt: skip
        again = service.claim_runs("default", "w3", 1)
        assert [c.flow_run.id for c in again] == [run_id]  # the same run, claimed again
        with pytest.raises(Conflict, match="not paused"):
            service.resume_flow_run(run_id, ResumeFlowRun())

    def test_what_cannot_be_suspended(self, service: OrchestrationService) -> None:
        @flow
        def by_hand() -> int:
            return 1

        done = by_hand(return_state=True)
        with pytest.raises(Conflict, match="without a deployment"):
            service.suspend_flow_run(done.run_id)  # type: ignore[arg-type]
        dep = service.create_deployment(CreateDeployment(name="etl", entrypoint="flows/etl.py:etl"))
        waiting = service.run_deployment(dep.id, CreateDeploymentRun(parameters={"n": 1}))
        with pytest.raises(Conflict, match="Scheduled: Cannot pause flows that are not currently"):
            service.suspend_flow_run(waiting.id)
        service.claim_runs("default", "w1", 1)
        with pytest.raises(Conflict, match="Pending: Cannot pause flows that are not currently"):
            service.suspend_flow_run(waiting.id)
        service.set_run_state(waiting.id, UpdateRunState(type="RUNNING", name="Running",
                                                         worker="w1"))  # fmt: skip
        service.suspend_flow_run(waiting.id)
        with pytest.raises(Conflict, match="Suspended: Cannot pause"):
            service.suspend_flow_run(waiting.id)  # (already)

    def test_expired_pauses_end_failed(self, service: OrchestrationService) -> None:
        suspended = _running(service)
        service.suspend_flow_run(suspended, timeout=0)
        resumable = _running(service, "w2")
        service.suspend_flow_run(resumable, timeout=3600)
        paused = _running(service, "w3")  # a pause in its process, 30 s past its timeout
        late = DescribePause(key="pause-1", timeout_at=now() - timedelta(seconds=30))
        write_input(service.engine, paused, PAUSE_KEY, late.model_dump(mode="json"))
        # (as its process's recorder records it, through the same policy)
        service._propose(service.read_run_state(paused), "PAUSED", "Paused", "waiting for pause-1")

        assert service.fail_expired_pauses(grace=60) == [suspended]
        ended = service.runs.read_flow_run(suspended)
        assert (ended.state_name, ended.state_message) == ("Failed", TIMED_OUT)
        assert service.read_run_state(paused).state_name == "Paused"  # its process decides
        assert service.read_run_state(resumable).state_name == "Suspended"
        assert service.fail_expired_pauses(grace=10) == [paused]  # its process is gone
        with pytest.raises(Conflict, match="not paused"):
            service.resume_flow_run(suspended, ResumeFlowRun())

    def test_resuming_too_late_fails_the_run(self, service: OrchestrationService) -> None:
        run_id = _running(service)
        service.suspend_flow_run(run_id, timeout=0)
        with pytest.raises(Conflict, match="timed out"):
            service.resume_flow_run(run_id, ResumeFlowRun())
        assert service.runs.read_flow_run(run_id).state_message == TIMED_OUT
