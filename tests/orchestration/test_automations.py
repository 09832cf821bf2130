"""Events and automations on SQLite and a real PostgreSQL."""

from __future__ import annotations

import threading
from datetime import timedelta
from pathlib import Path

import pytest
from pydantic import ValidationError

from jupyter_flows.core.states import StateType
from jupyter_flows.exceptions import Conflict, NotFound
from jupyter_flows.orchestration._tables import record_state
from jupyter_flows.orchestration.events import insert_event
from jupyter_flows.orchestration.schemas import (
    CreateAutomation,
    CreateDeployment,
    CreateDeploymentRun,
    CreateEvent,
    ListEventsQuery,
    UpdateAutomation,
    UpdateRunState,
)
from jupyter_flows.orchestration.service import OrchestrationService
from jupyter_flows.store import SqlRecorder, open_store
from tests.store import builders as b


def deploy(service: OrchestrationService, name: str) -> str:
    return service.create_deployment(CreateDeployment(name=name, entrypoint="report.ipynb")).id


def automation(service: OrchestrationService, name: str, trigger: dict, action: dict) -> str:
    body = CreateAutomation.model_validate({"name": name, "trigger": trigger, "action": action})
    return service.create_automation(body).id


def finish(service: OrchestrationService, run_id: str, state: str = "COMPLETED") -> None:
    service.claim_runs("default", "w", 10)
    service.set_run_state(run_id, UpdateRunState(type="RUNNING", name="Running", worker="w"))
    service.set_run_state(run_id, UpdateRunState(type=state, name=state.title(), worker="w"))


def runs_of(service: OrchestrationService, deployment: str) -> list[dict]:
    dep = service.read_deployment(deployment)
    found = service.runs.read_flow_runs(deployment_id=dep.id, limit=100)
    return [r.model_dump() for r in found.items]


def events(service: OrchestrationService, name: str | None = None) -> list:
    return service.list_events(ListEventsQuery(event=name, limit=1000)).items


@pytest.fixture
def chained(service: OrchestrationService) -> OrchestrationService:
    """``upstream`` and ``downstream`` deployments; reading starts now."""
    deploy(service, "upstream")
    deploy(service, "downstream")
    service.start_cursors()
    return service


class TestEvents:
    def test_every_flow_run_state_becomes_an_event(self, chained: OrchestrationService) -> None:
        run = chained.run_deployment("upstream", CreateDeploymentRun(tags=["prod"]))
        finish(chained, run.id)
        assert chained.process_events() == 4  # derived, then matched in the same call
        assert chained.process_events() == 0
        got = [e for e in reversed(events(chained)) if e.resource == f"flow-run/{run.id}"]
        assert [e.event for e in got] == [
            "flow-run.Scheduled",
            "flow-run.Pending",
            "flow-run.Running",
            "flow-run.Completed",
        ]
        done = got[-1].payload
        assert done["deployment"] == "upstream" and done["tags"] == ["prod"]
        assert (done["flow_run_id"], done["state_type"]) == (run.id, "COMPLETED")

    def test_runs_recorded_by_a_kernel_count_too(
        self, chained: OrchestrationService, db_url: str
    ) -> None:
        engine = open_store(db_url)
        recorder = SqlRecorder(engine)
        info = b.flow_run("from_kernel", tags=["nb"])
        recorder.flow_run_created(info)
        recorder.set_state("flow", info.id, b.state(StateType.RUNNING, "Running", 1), 1)
        recorder.set_state("flow", info.id, b.state(StateType.FAILED, "Failed", 2, "boom"), 1)
        recorder.close()
        engine.dispose()
        chained.process_events()
        failed = events(chained, "flow-run.Failed")
        assert len(failed) == 1
        assert failed[0].payload["flow_name"] == "from_kernel"
        assert failed[0].payload["message"] == "boom"
        assert failed[0].occurred == b.at(2)

    def test_a_state_recorded_twice_is_one_event(self, chained: OrchestrationService) -> None:
        """A notebook run: the kernel records Completed, then the worker (with the output)."""
        run = chained.run_deployment("upstream", CreateDeploymentRun())
        finish(chained, run.id)
        chained.process_events()  # the second Completed comes in a later batch
        with chained.engine.begin() as conn:
            record_state(conn, run.id, "COMPLETED", "Completed", "output: out.ipynb", b.at(9))
        chained.process_events()
        assert len(events(chained, "flow-run.Completed")) == 1

    def test_history_before_the_cursor_is_not_replayed(self, service: OrchestrationService) -> None:
        deploy(service, "old")
        service.run_deployment("old", CreateDeploymentRun())
        service.start_cursors()
        service.process_events()
        assert events(service, "flow-run.*") == []

    def test_emit_and_list(self, service: OrchestrationService) -> None:
        first = service.emit_event(CreateEvent(event="data.arrived", payload={"rows": 3}))
        service.emit_event(CreateEvent(event="data_other", payload={}))
        assert first.event == "data.arrived" and first.payload == {"rows": 3}
        assert [e.event for e in events(service, "data.*")] == ["data.arrived"]  # _ is literal
        assert [e.event for e in events(service, "data?other")] == ["data_other"]
        assert [e.event for e in events(service, "*.arrived")] == ["data.arrived"]
        assert events(service, "Data.*") == []  # case matters, as in triggers
        later = service.list_events(ListEventsQuery(after_id=first.id))
        assert [e.event for e in later.items] == ["data_other"]
        with pytest.raises(ValidationError, match="event"):
            CreateEvent(event="has spaces")

    def test_emit_event_from_a_flow(
        self, service: OrchestrationService, db_url: str, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        import jupyter_flows
        from jupyter_flows import flow

        monkeypatch.setenv("JUPYTER_FLOWS_DB_URL", db_url)

        @flow
        def producer(rows: int) -> str:
            return str(jupyter_flows.emit_event("data.ready", payload={"rows": rows}).id)

        event_id = producer(3)
        got = events(service, "data.ready")
        assert [e.uuid for e in got] == [event_id]
        assert got[0].payload["rows"] == 3 and got[0].payload["flow_name"] == "producer"
        assert got[0].resource == f"flow-run/{got[0].payload['flow_run_id']}"
        outside = jupyter_flows.emit_event("data.ready", resource="bucket/raw")
        assert outside.payload == {} and outside.resource.id == "bucket/raw"
        with pytest.raises(ValueError, match="event"):
            jupyter_flows.emit_event("not a name")

    def test_prune(self, service: OrchestrationService) -> None:
        with service.engine.begin() as conn:
            insert_event(conn, "old", {}, at=b.at(0))
        service.emit_event(CreateEvent(event="new"))
        assert service.prune_events(timedelta(days=7)) == 1
        assert [e.event for e in events(service)] == ["new"]


class TestAutomations:
    def test_a_completed_run_starts_the_next_deployment(
        self, chained: OrchestrationService
    ) -> None:
        automation(
            chained,
            "chain",
            {"event": "flow-run.Completed", "match": {"deployment": "upstream"}},
            {"type": "run-deployment", "deployment": "downstream", "parameters": {"n": 7}},
        )
        other = chained.run_deployment("downstream", CreateDeploymentRun())
        finish(chained, other.id)  # a Completed run of another deployment: no match
        run = chained.run_deployment("upstream", CreateDeploymentRun())
        finish(chained, run.id, "FAILED")  # failed: no match
        run = chained.run_deployment("upstream", CreateDeploymentRun())
        finish(chained, run.id)
        for _ in range(3):
            chained.process_events()
        started = [r for r in runs_of(chained, "downstream") if r["id"] != other.id]
        assert len(started) == 1  # exactly once
        assert started[0]["parameters"]["n"] == 7 and "automation:chain" in started[0]["tags"]
        assert started[0]["state_message"].startswith("by automation 'chain' on flow-run.Completed")
        fired = events(chained, "automation.triggered")
        assert [e.payload["flow_run_id"] for e in fired] == [started[0]["id"]]
        assert fired[0].payload["cause"] == "flow-run.Completed"
        described = chained.read_automation("chain")
        assert described.fired_count == 1 and described.last_fired is not None

    def test_threshold_within_a_window_pauses_a_deployment(
        self, chained: OrchestrationService
    ) -> None:
        automation(
            chained,
            "circuit-breaker",
            {"event": "job.failed", "threshold": 3, "within_seconds": 60},
            {"type": "pause-deployment", "deployment": "upstream"},
        )
        with chained.engine.begin() as conn:  # two failures 10 minutes apart: no trip
            insert_event(conn, "job.failed", {}, at=b.at(0))
            insert_event(conn, "job.failed", {}, at=b.at(600))
        chained.process_events()
        assert not chained.read_deployment("upstream").paused
        with chained.engine.begin() as conn:
            insert_event(conn, "job.failed", {}, at=b.at(610))
        chained.process_events()
        assert not chained.read_deployment("upstream").paused  # 2 within 60 s
        with chained.engine.begin() as conn:
            insert_event(conn, "job.failed", {}, at=b.at(620))
        chained.process_events()
        assert chained.read_deployment("upstream").paused

    def test_parameters_from_the_event_and_a_failing_action(
        self, chained: OrchestrationService
    ) -> None:
        automation(
            chained,
            "on-data",
            {"event": "data.arrived", "match": {"source": "s3"}},
            {
                "type": "run-deployment",
                "deployment": "downstream",
                "parameters": {"n": "{{ event.rows }}", "name": "fixed"},
            },
        )
        chained.emit_event(CreateEvent(event="data.arrived", payload={"source": "ftp", "rows": 1}))
        chained.emit_event(CreateEvent(event="data.arrived", payload={"source": "s3", "rows": 9}))
        chained.emit_event(CreateEvent(event="data.arrived", payload={"source": "s3"}))
        chained.process_events()
        started = runs_of(chained, "downstream")
        assert [(r["parameters"]["n"], r["parameters"]["name"]) for r in started] == [(9, "fixed")]
        failed = events(chained, "automation.failed")
        assert len(failed) == 1 and "the event has no 'rows'" in failed[0].payload["error"]

    def test_automation_events_never_trigger_automations(
        self, chained: OrchestrationService
    ) -> None:
        automation(
            chained,
            "loop",
            {"event": "*"},
            {"type": "run-deployment", "deployment": "downstream"},
        )
        chained.emit_event(CreateEvent(event="ping"))
        for _ in range(4):
            chained.process_events()
        assert len(runs_of(chained, "downstream")) == 1  # "ping" only, not its own runs' events
        assert chained.read_automation("loop").fired_count >= 1

    def test_disabled_automations_do_not_fire(self, chained: OrchestrationService) -> None:
        automation(
            chained,
            "off",
            {"event": "ping"},
            {"type": "run-deployment", "deployment": "downstream"},
        )
        chained.update_automation("off", UpdateAutomation(enabled=False))
        chained.emit_event(CreateEvent(event="ping"))
        chained.process_events()
        assert runs_of(chained, "downstream") == []
        assert chained.read_automation("off").fired_count == 0

    def test_bad_input(self, chained: OrchestrationService) -> None:
        good = {"event": "ping"}
        with pytest.raises(ValueError, match="action.deployment: no deployment 'nope'"):
            automation(chained, "a", good, {"type": "run-deployment", "deployment": "nope"})
        automation(chained, "a", good, {"type": "run-deployment", "deployment": "downstream"})
        with pytest.raises(Conflict, match="named 'a' already exists"):
            automation(chained, "a", good, {"type": "run-deployment", "deployment": "downstream"})
        with pytest.raises(ValidationError, match="threshold"):
            CreateAutomation.model_validate(
                {
                    "name": "b",
                    "trigger": {"event": "x", "threshold": 0},
                    "action": {"type": "run-deployment", "deployment": "downstream"},
                }
            )
        with pytest.raises(ValidationError, match="action\n  type: one of run-deployment"):
            CreateAutomation.model_validate(
                {"name": "b", "trigger": good, "action": {"type": "explode", "deployment": "d"}}
            )
        chained.delete_automation("a")
        with pytest.raises(NotFound, match="no automation 'a'"):
            chained.read_automation("a")

    def test_two_servers_handle_each_event_once(
        self, chained: OrchestrationService, db_url: str, root: Path, tmp_path: Path
    ) -> None:
        automation(
            chained,
            "each",
            {"event": "tick"},
            {"type": "run-deployment", "deployment": "downstream"},
        )
        engine = open_store(db_url)
        other = OrchestrationService(engine, root, tmp_path / "outputs")
        try:
            for _ in range(10):
                chained.emit_event(CreateEvent(event="tick"))
            errors: list[BaseException] = []

            def drain(service: OrchestrationService) -> None:
                try:
                    for _ in range(20):
                        service.process_events(limit=3)
                except BaseException as exc:  # noqa: BLE001 - reported below
                    errors.append(exc)

            threads = [threading.Thread(target=drain, args=(s,)) for s in (chained, other)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            assert errors == []
            assert len(runs_of(chained, "downstream")) == 10
            assert chained.read_automation("each").fired_count == 10
        finally:
            engine.dispose()


def test_fill_parameters() -> None:
    from jupyter_flows.orchestration.automations import fill_parameters

    payload = {"rows": 9, "path": "raw/a.csv"}
    filled = fill_parameters(
        {"n": "{{ event.rows }}", "uri": "s3://bucket/{{event.path}}?n={{ event.rows }}", "k": 1},
        payload,
    )
    assert filled == {"n": 9, "uri": "s3://bucket/raw/a.csv?n=9", "k": 1}
    with pytest.raises(ValueError, match="parameter 'uri': the event has no 'day'"):
        fill_parameters({"uri": "s3://{{ event.day }}/x"}, payload)
