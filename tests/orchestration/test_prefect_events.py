"""Prefect's ``emit_event`` and ``Event``, on SQLite and a real PostgreSQL: resources with
labels, related resources, ids and ``follows`` are stored and read back; our shorthand
still works; a payload passed where Prefect's resource goes is a clear ``TypeError``."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from pydantic import ValidationError

import jupyter_flows
from jupyter_flows import flow
from jupyter_flows.orchestration.event_models import Event
from jupyter_flows.orchestration.schemas import CreateEvent, ListEventsQuery
from jupyter_flows.orchestration.service import OrchestrationService
from jupyter_flows.store.db import create_db_engine
from jupyter_flows.store.migrate import alembic_config, upgrade


@pytest.fixture
def default_db(db_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """``emit_event`` writes into ``db_url`` (the default database of this test)."""
    monkeypatch.setenv("JUPYTER_FLOWS_DB_URL", db_url)
    return db_url


def stored(service: OrchestrationService, name: str) -> list:
    return service.list_events(ListEventsQuery(event=name, limit=100)).items


class TestPrefectSignature:
    def test_resource_related_and_payload_are_stored(
        self, service: OrchestrationService, default_db: str
    ) -> None:
        event = jupyter_flows.emit_event(
            event="upload.done",
            resource={"prefect.resource.id": "bucket/raw", "owner": "data-team"},
            related=[
                {
                    "prefect.resource.id": "dataset/sales",
                    "prefect.resource.role": "dataset",
                }
            ],
            payload={"rows": 1000},
        )
        assert isinstance(event, Event) and isinstance(event.id, uuid.UUID)
        assert event.event == "upload.done" and event.payload == {"rows": 1000}
        assert event.resource.id == "bucket/raw" and event.resource["owner"] == "data-team"
        assert [(r.id, r.role) for r in event.related] == [("dataset/sales", "dataset")]
        assert event.follows is None and event.occurred.tzinfo is not None
        (row,) = stored(service, "upload.done")
        assert row.resource == "bucket/raw"  # what automations and the panel read
        assert row.resource_labels == {"owner": "data-team"}
        assert row.related == [
            {"prefect.resource.id": "dataset/sales", "prefect.resource.role": "dataset"}
        ]
        assert row.uuid == str(event.id) and row.payload == {"rows": 1000}

    def test_positional_resource_id_and_follows(
        self, service: OrchestrationService, default_db: str
    ) -> None:
        first_id = uuid.uuid4()
        first = jupyter_flows.emit_event("step.one", {"prefect.resource.id": "job/1"}, id=first_id)
        second = jupyter_flows.emit_event(
            "step.two", {"prefect.resource.id": "job/1"}, follows=first
        )
        assert first.id == first_id and second.follows == first_id
        late = jupyter_flows.emit_event(
            "step.late",
            "job/1",  # a plain id is a resource too
            occurred=first.occurred + timedelta(minutes=10),
            follows=first,
        )
        assert late.resource.id == "job/1"
        assert late.follows is None  # more than 5 minutes apart: not kept (as Prefect)
        (row,) = stored(service, "step.two")
        assert row.follows == str(first_id)
        (late_row,) = stored(service, "step.late")
        assert late_row.occurred == late.occurred

    def test_our_spelling_of_the_labels(
        self, service: OrchestrationService, default_db: str
    ) -> None:
        event = jupyter_flows.emit_event(
            "model.trained",
            {"jupyter_flows.resource.id": "model/churn", "jupyter_flows.resource.name": "churn"},
            related=[{"jupyter_flows.resource.id": "run/1", "jupyter_flows.resource.role": "run"}],
        )
        assert event.resource.id == "model/churn" and event.resource.name == "churn"
        assert event.related[0].role == "run"
        (row,) = stored(service, "model.trained")
        assert row.resource_labels == {"prefect.resource.name": "churn"}

    def test_a_payload_where_the_resource_goes_is_a_type_error(self, default_db: str) -> None:
        with pytest.raises(TypeError, match=r"payload=\{\.\.\.\}"):
            jupyter_flows.emit_event("data.arrived", {"rows": 3})

    @pytest.mark.parametrize(
        "related",
        [
            [{"prefect.resource.id": "x"}],  # no role
            [{"prefect.resource.role": "input"}],  # no id
            [{"prefect.resource.id": "x", "prefect.resource.role": "input", "n": 1}],
        ],
    )
    def test_bad_related_resources(self, default_db: str, related: list) -> None:
        with pytest.raises(ValueError, match="related"):
            jupyter_flows.emit_event("data.arrived", "bucket/raw", related=related)


class TestShorthand:
    def test_inside_a_flow_the_run_is_the_resource(
        self, service: OrchestrationService, default_db: str
    ) -> None:
        @flow
        def producer() -> tuple[str, str]:
            own = jupyter_flows.emit_event("data.ready", payload={"rows": 3})
            other = jupyter_flows.emit_event("data.sent", resource="bucket/raw")
            return str(own.id), other.related[0].id

        own_id, related_id = producer()
        (ready,) = stored(service, "data.ready")
        run_id = ready.payload["flow_run_id"]
        assert ready.uuid == own_id and ready.resource == f"flow-run/{run_id}"
        assert ready.payload["rows"] == 3 and ready.payload["flow_name"] == "producer"
        assert ready.resource_labels["prefect.resource.name"]  # the run's name
        (sent,) = stored(service, "data.sent")
        assert sent.resource == "bucket/raw" and related_id == f"flow-run/{run_id}"
        assert sent.related[0]["prefect.resource.role"] == "flow-run"

    def test_outside_a_flow(self, service: OrchestrationService, default_db: str) -> None:
        event = jupyter_flows.emit_event("data.arrived", payload={"path": "/in"})
        assert event.resource.id == "" and event.payload == {"path": "/in"}
        (row,) = stored(service, "data.arrived")
        assert row.resource is None and row.related == []


class TestTheApiBody:
    def test_the_service_stores_what_the_route_takes(self, service: OrchestrationService) -> None:
        body = CreateEvent.model_validate(
            {
                "event": "api.call",
                "resource": "svc/a",
                "resource_labels": {"jupyter_flows.resource.name": "a"},
                "related": [{"prefect.resource.id": "svc/b", "prefect.resource.role": "peer"}],
                "uuid": "12345678-1234-5678-1234-567812345678",
            }
        )
        described = service.emit_event(body)
        assert described.uuid == "12345678-1234-5678-1234-567812345678"
        assert described.resource_labels == {"prefect.resource.name": "a"}
        assert described.related[0]["prefect.resource.role"] == "peer"
        plain = service.emit_event(CreateEvent(event="api.plain"))
        assert plain.uuid is not None and plain.related == [] and plain.resource_labels == {}

    @pytest.mark.parametrize(
        "extra",
        [
            {"resource_labels": {"prefect.resource.id": "x"}},  # the id is `resource`
            {"related": [{"prefect.resource.id": "x"}]},
            {"follows": "not-a-uuid"},
            {"resource_labels": {"k": "\x00"}},
        ],
    )
    def test_bad_bodies(self, extra: dict) -> None:
        with pytest.raises(ValidationError):
            CreateEvent.model_validate({"event": "api.call", **extra})


class TestMigration:
    def test_events_from_before_0005_stay_readable(
        self, db_url: str, service: OrchestrationService
    ) -> None:
        from alembic import command

        engine = create_db_engine(db_url)
        try:
            with engine.begin() as conn:
                command.downgrade(alembic_config(conn), "0004")
                when = "1764547200.0" if conn.dialect.name == "sqlite" else "CURRENT_TIMESTAMP"
                conn.exec_driver_sql(
                    "INSERT INTO event (event, resource, payload, occurred) VALUES"
                    f" ('old.one', 'job/1', '{{\"a\": 1}}', {when})"
                )
            upgrade(engine)
        finally:
            engine.dispose()
        (old,) = stored(service, "old.one")
        assert old.uuid is None and old.resource_labels == {} and old.related == []
        event = Event.from_described(old)
        assert event.resource.id == "job/1" and event.payload == {"a": 1}
        assert event.id == Event.from_described(old).id  # a stable id from the row's
