"""OrchestrationService on SQLite and a real PostgreSQL: deployments, runs, pools, claims."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta, timezone

import pytest

from jupyter_flows.exceptions import (
    Conflict,
    FlowDefinitionError,
    NotFound,
    ParameterValidationError,
    ScheduleError,
)
from jupyter_flows.orchestration.schemas import (
    CreateDeployment,
    CreateDeploymentRun,
    CreateWorkPool,
    ListDeploymentsQuery,
    SchedulePreview,
    ScheduleSpec,
    UpdateDeployment,
    UpdateRunState,
    UpdateWorkPool,
)
from jupyter_flows.orchestration.service import OrchestrationService


def deploy(service: OrchestrationService, name: str = "nightly", **kw: object) -> str:
    body = CreateDeployment(name=name, entrypoint=str(kw.pop("entrypoint", "report.ipynb")), **kw)
    return service.create_deployment(body).id


class TestDeployments:
    def test_crud(self, service: OrchestrationService) -> None:
        created = service.create_deployment(
            CreateDeployment(
                name="nightly",
                entrypoint="report.ipynb",
                parameters={"n": "5"},
                schedules=[ScheduleSpec(cron="0 6 * * *", timezone="Europe/Paris")],
                tags=["t"],
            )
        )
        assert created.kind == "notebook" and created.parameters == {"n": 5}
        assert created.parameter_schema["properties"]["n"]["type"] == "integer"
        assert created.next_run_time is not None and created.next_run_time.minute == 0
        assert service.read_deployment("nightly").id == created.id
        updated = service.update_deployment(created.id, UpdateDeployment(tags=["u"]))
        assert updated.tags == ["u"]
        assert service.set_deployment_paused(created.id, True).paused
        assert service.list_deployments(ListDeploymentsQuery(paused=True)).total == 1
        service.delete_deployment(created.id)
        with pytest.raises(NotFound):
            service.read_deployment(created.id)

    def test_python_entrypoint_parameters(self, service: OrchestrationService) -> None:
        created = service.create_deployment(
            CreateDeployment(name="etl", entrypoint="flows/etl.py:etl", parameters={"n": "4"})
        )
        assert created.kind == "python" and created.parameters == {"n": 4}
        with pytest.raises(ParameterValidationError, match="unknown parameter 'm'"):
            deploy(service, "bad", entrypoint="flows/etl.py:etl", parameters={"m": 1})
        with pytest.raises(ParameterValidationError, match="n:"):
            deploy(service, "bad2", entrypoint="flows/etl.py:etl", parameters={"n": "four"})

    def test_notebook_parameters(self, service: OrchestrationService) -> None:
        with pytest.raises(ParameterValidationError, match="unknown parameter 'size'"):
            deploy(service, parameters={"size": 3})
        with pytest.raises(ParameterValidationError, match="rate: expected float"):
            deploy(service, parameters={"rate": "fast"})

    @pytest.mark.parametrize(
        "entrypoint", ["nope.ipynb", "flows/etl.py:missing", "flows/none.py:etl", "no-colon"]
    )
    def test_bad_entrypoints(self, service: OrchestrationService, entrypoint: str) -> None:
        with pytest.raises(FlowDefinitionError):
            deploy(service, entrypoint=entrypoint)

    def test_bad_cron_names_it(self, service: OrchestrationService) -> None:
        with pytest.raises(ScheduleError, match="61 \\* \\* \\* \\*"):
            deploy(service, schedules=[ScheduleSpec(cron="61 * * * *")])
        with pytest.raises(ScheduleError, match="Mars/Olympus"):
            deploy(service, schedules=[ScheduleSpec(cron="0 * * * *", timezone="Mars/Olympus")])

    def test_duplicate_name_conflicts(self, service: OrchestrationService) -> None:
        deploy(service)
        with pytest.raises(Conflict):
            deploy(service)


class TestRuns:
    def test_run_now_and_claim(self, service: OrchestrationService) -> None:
        dep = deploy(service)
        run = service.run_deployment(dep, CreateDeploymentRun(parameters={"n": 7}))
        assert run.state_name == "Scheduled" and run.parameters["n"] == 7
        with pytest.raises(ParameterValidationError):
            service.run_deployment(dep, CreateDeploymentRun(parameters={"zzz": 1}))
        claimed = service.claim_runs("default", "w1", 5)
        assert [c.flow_run.id for c in claimed] == [run.id]
        assert claimed[0].flow_run.state_name == "Pending"
        assert service.claim_runs("default", "w2", 5) == []

    def test_claims_are_atomic(self, service: OrchestrationService) -> None:
        dep = deploy(service)
        ids = {service.run_deployment(dep, CreateDeploymentRun()).id for _ in range(12)}
        got: dict[str, list[str]] = {}

        def claim(worker: str) -> None:
            got[worker] = []
            for _ in range(12):
                got[worker] += [c.flow_run.id for c in service.claim_runs("default", worker, 1)]

        threads = [threading.Thread(target=claim, args=(f"w{i}",)) for i in range(3)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        all_claims = [i for claims in got.values() for i in claims]
        assert sorted(all_claims) == sorted(ids)  # each run exactly once

    def test_scheduled_runs_are_unique(self, service: OrchestrationService) -> None:
        dep = deploy(service)
        at = datetime(2030, 1, 1, 6, tzinfo=timezone.utc)
        assert service.create_scheduled_run(dep, at) is not None
        assert service.create_scheduled_run(dep, at) is None

    def test_pause_stops_claims(self, service: OrchestrationService) -> None:
        dep = deploy(service)
        manual = service.run_deployment(dep, CreateDeploymentRun())
        service.set_work_pool_paused("default", True)
        assert service.claim_runs("default", "w", 1) == []
        service.set_work_pool_paused("default", False)
        due = datetime.now(timezone.utc) - timedelta(seconds=1)
        auto = service.create_scheduled_run(dep, due)
        assert auto is not None
        service.set_deployment_paused(dep, True)
        # as on Prefect: its waiting auto-scheduled run is deleted, its ad-hoc run still runs
        assert service.create_scheduled_run(dep, due + timedelta(seconds=1)) is None
        claimed = service.claim_runs("default", "w", 5)
        assert [c.flow_run.id for c in claimed] == [manual.id]
        with pytest.raises(NotFound):
            service.read_run_state(auto)

    def test_concurrency_limit(self, service: OrchestrationService) -> None:
        service.create_work_pool(CreateWorkPool(name="small", concurrency_limit=1))
        dep = deploy(service, work_pool="small")
        for _ in range(3):
            service.run_deployment(dep, CreateDeploymentRun())
        assert len(service.claim_runs("small", "w", 3)) == 1
        assert service.update_work_pool("small", UpdateWorkPool(concurrency_limit=2))
        assert len(service.claim_runs("small", "w", 3)) == 1

    def test_states_cancel_and_crash(self, service: OrchestrationService) -> None:
        dep = deploy(service)
        scheduled = service.run_deployment(dep, CreateDeploymentRun())
        assert service.cancel_flow_run(scheduled.id).state_name == "Cancelled"
        with pytest.raises(Conflict):
            service.cancel_flow_run(scheduled.id)
        run = service.run_deployment(dep, CreateDeploymentRun())
        service.claim_runs("default", "w", 1)
        service.heartbeat("default", "w")
        running = service.set_run_state(
            run.id, UpdateRunState(type="RUNNING", name="Running", worker="w")
        )
        assert running.decision == "accept"
        assert service.runs.read_flow_run(run.id).start_time is not None
        with pytest.raises(Conflict, match="claimed by"):
            service.set_run_state(
                run.id, UpdateRunState(type="FAILED", name="Failed", worker="other")
            )
        assert service.cancel_flow_run(run.id).state_name == "Cancelling"
        assert service.mark_crashed_runs(3600) == []
        crashed = service.mark_crashed_runs(-1)
        assert crashed == [run.id]
        assert service.runs.read_flow_run(run.id).state_name == "Crashed"
        assert [w.name for w in service.list_workers("default")] == ["w"]

    def test_next_run_times(self, service: OrchestrationService) -> None:
        dep = deploy(service, schedules=[ScheduleSpec(interval_seconds=3600)])
        times = service.next_run_times(dep, 3)
        assert len(times) == 3 and times[1] - times[0] == timedelta(hours=1)


class TestPriority:
    def test_higher_priority_deployments_are_claimed_first(
        self, service: OrchestrationService
    ) -> None:
        low = deploy(service, "low")
        high = deploy(service, "high", priority=10)
        low_run = service.run_deployment(low, CreateDeploymentRun()).id  # older
        high_run = service.run_deployment(high, CreateDeploymentRun()).id
        assert [c.flow_run.id for c in service.claim_runs("default", "w", 1)] == [high_run]
        assert [c.flow_run.id for c in service.claim_runs("default", "w", 1)] == [low_run]
        updated = service.update_deployment(low, UpdateDeployment(priority=20))
        assert updated.priority == 20


class TestOneOffSchedule:
    def test_date_schedule_fires_once(self, service: OrchestrationService) -> None:
        at = datetime.now(timezone.utc).replace(microsecond=0) + timedelta(days=2)
        dep = deploy(service, schedules=[ScheduleSpec(date=at)])
        assert service.next_run_times(dep, 5) == [at]
        assert service.read_deployment(dep).next_run_time == at
        with pytest.raises(ValueError, match="exactly one"):
            ScheduleSpec(date=at, cron="0 * * * *")


class TestTransitions:
    def test_workers_cannot_move_runs_backwards(self, service: OrchestrationService) -> None:
        dep = deploy(service)
        run = service.run_deployment(dep, CreateDeploymentRun())
        service.claim_runs("default", "w", 1)
        service.set_run_state(run.id, UpdateRunState(type="RUNNING", name="Running", worker="w"))
        again = service.set_run_state(
            run.id, UpdateRunState(type="PENDING", name="Pending", worker="w")
        )
        assert (again.decision, again.state_name) == ("ignore", "Running")
        assert service.cancel_flow_run(run.id).state_name == "Cancelling"
        assert service.cancel_flow_run(run.id).state_name == "Cancelling"  # idempotent
        with pytest.raises(Conflict, match="a Cancelling run cannot become Running"):
            service.set_run_state(
                run.id, UpdateRunState(type="RUNNING", name="Running", worker="w")
            )
        service.set_run_state(
            run.id, UpdateRunState(type="CANCELLED", name="Cancelled", worker="w")
        )
        done = service.runs.read_flow_run(run.id)
        assert done.end_time is not None
        with pytest.raises(Conflict, match="already ended Cancelled"):
            service.set_run_state(
                run.id, UpdateRunState(type="COMPLETED", name="Completed", worker="w")
            )
        assert [s.type.value for s in done.states] == [
            "SCHEDULED",
            "PENDING",
            "RUNNING",
            "CANCELLING",
            "CANCELLED",
        ]

    def test_crash_detection_spares_live_and_ended_runs(
        self, service: OrchestrationService
    ) -> None:
        dep = deploy(service)
        ended, live = (service.run_deployment(dep, CreateDeploymentRun()).id for _ in range(2))
        service.claim_runs("default", "w", 2)
        service.set_run_state(ended, UpdateRunState(type="COMPLETED", name="Completed", worker="w"))
        service.heartbeat("default", "w")
        assert service.mark_crashed_runs(60) == []
        assert service.mark_crashed_runs(-1) == [live]
        assert service.runs.read_flow_run(ended).state_name == "Completed"

    def test_run_now_twice_at_once_makes_two_runs(self, service: OrchestrationService) -> None:
        dep = deploy(service)
        ids = {service.run_deployment(dep, CreateDeploymentRun()).id for _ in range(20)}
        assert len(ids) == 20


class TestPreviews:
    def test_preview_schedule(self, service: OrchestrationService) -> None:
        times = service.preview_schedule(SchedulePreview(cron="0 6 * * *", n=3))
        assert len(times) == 3 and all(t.hour == 6 and t.minute == 0 for t in times)
        with pytest.raises(ScheduleError, match="0 25 \\* \\* \\*"):
            service.preview_schedule(SchedulePreview(cron="0 25 * * *"))
        with pytest.raises(ScheduleError, match="needs one of"):
            service.preview_schedule(SchedulePreview())

    def test_notebook_parameters(self, service: OrchestrationService) -> None:
        found = {p.name: (p.type, p.default) for p in service.notebook_parameters("report.ipynb")}
        assert found == {
            "n": ("int", 3),
            "name": ("str", "a"),
            "rate": ("float", 0.5),
            "flag": ("bool", True),
        }
        with pytest.raises(FlowDefinitionError, match="outside"):
            service.notebook_parameters("../elsewhere.ipynb")
