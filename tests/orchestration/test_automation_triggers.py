"""Triggers on SQLite and a real PostgreSQL: task-run events, Proactive triggers (an event
that did not come), ``after`` and ``for_each``; Prefect's examples ported (the zombie-flow
automation, cancelling long runs, the order example, Prefect's event names)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from jupyter_flows.orchestration._tables import now
from jupyter_flows.orchestration.events import insert_event
from jupyter_flows.orchestration.schemas import (
    CreateAutomation,
    CreateDeploymentRun,
    CreateEvent,
    UpdateRunState,
)
from jupyter_flows.orchestration.service import OrchestrationService
from tests.orchestration.test_automations import automation, chained, events, finish, runs_of

__all__ = ["chained"]  # the fixture, shared


def running(service: OrchestrationService) -> str:
    run = service.run_deployment("upstream", CreateDeploymentRun())
    service.claim_runs("default", "w", 10)
    service.set_run_state(run.id, UpdateRunState(type="RUNNING", name="Running", worker="w"))
    return run.id


class TestTaskRunEvents:
    def test_a_failed_task_triggers(
        self, chained: OrchestrationService, db_url: str, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        from jupyter_flows import flow, task

        monkeypatch.setenv("JUPYTER_FLOWS_DB_URL", db_url)
        automation(
            chained, "on-task", {"event": "task-run.Failed", "match": {"task_name": "load"}},
            {"type": "run-deployment", "deployment": "downstream",
             "parameters": {"name": "{{ event.task_run_name }}", "n": 2}},
        )  # fmt: skip

        @task
        def extract() -> int:
            return 1

        @task(retries=0)
        def load(x: int) -> None:
            raise RuntimeError("disk full")

        @flow
        def pipeline() -> None:
            load(extract())

        with pytest.raises(RuntimeError):
            pipeline()
        chained.process_events()
        failed = events(chained, "task-run.Failed")
        assert [e.payload["task_name"] for e in failed] == ["load"]
        got = failed[0]
        assert got.resource == f"task-run/{got.payload['task_run_id']}"
        assert got.related == [
            {"prefect.resource.id": f"flow-run/{got.payload['flow_run_id']}",
             "prefect.resource.role": "flow-run"}
        ]  # fmt: skip
        assert got.payload["flow_name"] == "pipeline" and "disk full" in got.payload["message"]
        names = {e.event for e in events(chained, "task-run.*")}
        assert {"task-run.Running", "task-run.Completed", "task-run.Failed"} <= names
        (started,) = runs_of(chained, "downstream")
        assert started["parameters"]["name"] == got.payload["task_run_name"]
        assert chained.read_automation("on-task").fired_count == 1


class TestProactive:
    def test_fires_when_the_expected_event_does_not_come(
        self, chained: OrchestrationService
    ) -> None:
        """ "No flow-run.Completed of deployment upstream within 3600 s" (since armed)."""
        armed = now()
        automation(
            chained, "late",
            {"event": "flow-run.Completed", "match": {"deployment": "upstream"},
             "posture": "Proactive", "within_seconds": 3600},
            {"type": "run-deployment", "deployment": "downstream"},
        )  # fmt: skip
        chained.process_events(at=armed + timedelta(seconds=1800))
        assert runs_of(chained, "downstream") == []
        chained.process_events(at=armed + timedelta(seconds=3601))
        assert len(runs_of(chained, "downstream")) == 1
        chained.process_events(at=armed + timedelta(seconds=3700))  # re-armed when it fired
        assert len(runs_of(chained, "downstream")) == 1
        chained.process_events(at=armed + timedelta(seconds=7202))
        assert len(runs_of(chained, "downstream")) == 2
        fired = events(chained, "automation.action.executed")
        assert fired[0].payload["cause"] is None  # no event caused it: one did not come

    def test_does_not_fire_when_the_event_comes(self, chained: OrchestrationService) -> None:
        armed = now()
        automation(
            chained, "late",
            {"event": "flow-run.Completed", "match": {"deployment": "upstream"},
             "posture": "Proactive", "within_seconds": 3600},
            {"type": "run-deployment", "deployment": "downstream"},
        )  # fmt: skip
        with chained.engine.begin() as conn:  # it completed half-way through the hour
            insert_event(conn, "flow-run.Completed", {"deployment": "upstream"},
                         at=armed + timedelta(seconds=1800))  # fmt: skip
            insert_event(conn, "flow-run.Completed", {"deployment": "other"},
                         at=armed + timedelta(seconds=1900))  # fmt: skip
        chained.process_events(at=armed + timedelta(seconds=3601))
        assert runs_of(chained, "downstream") == []
        chained.process_events(at=armed + timedelta(seconds=5401))  # an hour after it came
        assert len(runs_of(chained, "downstream")) == 1

    def test_prefects_zombie_flow_example(self, chained: OrchestrationService) -> None:
        """Prefect's "Crash zombie flows": after a heartbeat, expect another (or an end)
        within 90 s, per flow run, else change the run's state to Crashed."""
        automation(
            chained, "Crash zombie flows",
            {"after": ["prefect.flow-run.heartbeat"], "event": "prefect.flow-run.*",
             "match": {"prefect.resource.id": "flow-run/*"},
             "for_each": ["prefect.resource.id"], "posture": "Proactive", "threshold": 1,
             "within_seconds": 90},
            {"type": "change-flow-run-state", "state": "CRASHED",
             "message": "Flow run marked as crashed due to missing heartbeats."},
        )  # fmt: skip
        zombie, alive = running(chained), running(chained)
        chained.process_events()
        start = now()
        for run_id, beats in ((zombie, [0]), (alive, [0, 60, 120])):
            for second in beats:
                chained.emit_event(CreateEvent(
                    event="flow-run.heartbeat", resource=f"flow-run/{run_id}",
                    occurred=start + timedelta(seconds=second),
                ))  # fmt: skip
        chained.process_events(at=start + timedelta(seconds=150))
        crashed = chained.read_run_state(zombie)
        assert crashed.state_type == "CRASHED"
        assert crashed.state_message == "Flow run marked as crashed due to missing heartbeats."
        assert chained.read_run_state(alive).state_type == "RUNNING"  # beat at 120 s
        finish_alive = UpdateRunState(type="COMPLETED", name="Completed", worker="w")
        chained.set_run_state(alive, finish_alive)
        chained.process_events(at=start + timedelta(seconds=400))  # it ended: no wait
        assert chained.read_run_state(alive).state_type == "COMPLETED"
        assert chained.read_automation("Crash zombie flows").fired_count == 1

    def test_cancel_runs_that_stay_running(self, chained: OrchestrationService) -> None:
        """Prefect's "cancel a flow run stuck Running for 30 minutes" (the inferred run)."""
        automation(
            chained, "Cancel long running flows",
            {"after": ["flow-run.Running"], "event": "flow-run.*",
             "for_each": ["flow_run_id"], "posture": "Proactive", "within_seconds": 1800},
            {"type": "cancel-flow-run"},
        )  # fmt: skip
        stuck, quick = running(chained), running(chained)
        chained.set_run_state(quick, UpdateRunState(type="COMPLETED", name="Completed", worker="w"))
        chained.process_events(at=now() + timedelta(seconds=600))
        assert chained.read_run_state(stuck).state_type == "RUNNING"
        chained.process_events(at=now() + timedelta(seconds=1801))
        assert chained.read_run_state(stuck).state_type == "CANCELLING"  # its worker stops it
        assert chained.read_run_state(quick).state_type == "COMPLETED"

    def test_bad_windows_are_refused(self) -> None:
        base = {"name": "a", "action": {"type": "cancel-flow-run"}}
        for trigger, message in (
            ({"event": "x", "posture": "Proactive"}, "a Proactive trigger needs a window"),
            ({"event": "x", "posture": "Proactive", "within_seconds": 5}, "at least 10"),
            ({"event": "x", "posture": "Proactive", "within_seconds": 60, "for_each": ["k"]},
             "for_each: a Proactive trigger counts per key after `after`"),
            ({"event": "x", "posture": "Sometimes"}, "posture"),
        ):  # fmt: skip
            with pytest.raises(ValueError, match=message):
                CreateAutomation.model_validate({**base, "trigger": trigger})


class TestReactiveAfter:
    def test_prefects_order_example(self, chained: OrchestrationService) -> None:
        """Expect ``order.complete`` after ``order.created``, per user; the run's parameter
        from ``{{ event.resource.id }}``."""
        automation(
            chained, "post-order",
            {"event": "order.complete", "after": ["order.created"],
             "for_each": ["prefect.resource.id"]},
            {"type": "run-deployment", "deployment": "downstream",
             "parameters": {"name": "{{ event.resource.id }}"}},
        )  # fmt: skip
        for name, user in (("order.created", "123"), ("order.created", "456"),
                           ("order.complete", "123"), ("order.complete", "789")):  # fmt: skip
            chained.emit_event(CreateEvent(event=name, resource=user))
        chained.process_events()
        assert [r["parameters"]["name"] for r in runs_of(chained, "downstream")] == ["123"]

    def test_prefects_event_names_match_ours(self, chained: OrchestrationService) -> None:
        automation(
            chained, "chain", {"event": "prefect.flow-run.Completed"},
            {"type": "run-deployment", "deployment": "downstream"},
        )  # fmt: skip
        run = chained.run_deployment("upstream", CreateDeploymentRun())
        finish(chained, run.id)
        chained.process_events()
        assert len(runs_of(chained, "downstream")) == 1
