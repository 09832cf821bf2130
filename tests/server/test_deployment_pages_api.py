"""The routes behind the deployment, work pool and automation pages: pool delete, automation
preview (on SQLite and PostgreSQL), and the field-named 400s the forms show."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import write_notebook


@pytest.fixture
def flows_db_url(db_url: str) -> str:
    return db_url


@pytest.fixture
def jp_server_config(jp_server_config: dict[str, Any], jp_root_dir: Path) -> dict[str, Any]:
    write_notebook(jp_root_dir / "etl.ipynb", "n = 3")
    return jp_server_config


def _ago(base: datetime, seconds: float) -> str:
    return (base + timedelta(seconds=seconds)).isoformat()


async def _emit(api: Any, event: str, at: str, **payload: Any) -> int:
    status, body = await api(
        "events", method="POST", body={"event": event, "occurred": at, "payload": payload}
    )
    assert status == 201, body
    return int(body["id"])


async def _preview(api: Any, trigger: dict[str, Any], **extra: Any) -> tuple[int, Any]:
    return await api(  # type: ignore[no-any-return]
        "automations/preview", method="POST", body={"trigger": trigger, **extra}
    )


class TestAutomationPreview:
    async def test_reactive_threshold_within_a_window(self, api: Any) -> None:
        t0 = datetime.now(timezone.utc) - timedelta(hours=2)
        await _emit(api, "upload.done", _ago(t0, -30 * 3600), bucket="raw")  # before the 24 h
        first = await _emit(api, "upload.done", _ago(t0, 0), bucket="raw")
        second = await _emit(api, "upload.done", _ago(t0, 10), bucket="raw")
        await _emit(api, "upload.done", _ago(t0, 20), bucket="other")  # no match
        await _emit(api, "upload.started", _ago(t0, 30), bucket="raw")  # another name
        await _emit(api, "upload.done", _ago(t0, 200), bucket="raw")  # alone in its window
        fourth = await _emit(api, "upload.done", _ago(t0, 400), bucket="raw")
        fifth = await _emit(api, "upload.done", _ago(t0, 420), bucket="raw")
        trigger = {
            "event": "upload.*",
            "match": {"bucket": "raw"},
            "threshold": 2,
            "within_seconds": 60,
        }
        status, reply = await _preview(api, trigger)
        assert status == 200, reply
        assert [f["event_id"] for f in reply["firings"]] == [second, fifth]
        assert reply["firings"][0]["payload"] == {"bucket": "raw"}
        assert reply["events_seen"] == 7  # the one 30 h ago is outside the window
        assert not reply["truncated"]
        assert first < second < fourth < fifth
        # one at a time: every matching event of upload.done fires
        status, reply = await _preview(api, {"event": "upload.done", "match": {"bucket": "raw"}})
        assert status == 200, reply
        assert len(reply["firings"]) == 5
        # a shorter window sees fewer events
        status, reply = await _preview(api, trigger, hours=1)
        assert status == 200 and reply["firings"] == [] and reply["events_seen"] == 0

    async def test_proactive_fires_when_the_window_ends(self, api: Any) -> None:
        t0 = datetime.now(timezone.utc) - timedelta(hours=3)
        await _emit(api, "job.start", _ago(t0, 0), job="a")
        await _emit(api, "job.done", _ago(t0, 30), job="a")  # in time: no firing
        late = await _emit(api, "job.start", _ago(t0, 600), job="b")
        await _emit(api, "job.done", _ago(t0, 900), job="b")  # too late
        trigger = {
            "event": "job.done",
            "posture": "Proactive",
            "after": ["job.start"],
            "within_seconds": 60,
        }
        status, reply = await _preview(api, trigger)
        assert status == 200, reply
        assert len(reply["firings"]) == 1
        firing = reply["firings"][0]
        assert firing["event_id"] == late  # the event that started the wait
        at = datetime.fromisoformat(firing["at"])
        assert at == t0 + timedelta(seconds=660)
        assert "no job.done within 60 s" in firing["reason"]

    async def test_a_preview_saves_nothing(self, api: Any) -> None:
        await _emit(api, "ping", datetime.now(timezone.utc).isoformat())
        status, reply = await _preview(api, {"event": "ping"}, name="draft")
        assert status == 200 and len(reply["firings"]) == 1
        _, listed = await api("automations")
        assert listed["items"] == []

    @pytest.mark.parametrize(
        ("body", "field"),
        [
            ({"trigger": {"event": "x", "threshold": 0}}, "trigger.threshold"),
            ({"trigger": {"event": "bad name!"}}, "trigger.event"),
            ({"trigger": {"event": "x", "posture": "Proactive"}}, "within_seconds"),
            ({"trigger": {"event": "x"}, "hours": 1000}, "hours"),
            ({}, "trigger"),
            (
                {"trigger": {"event": "x"}, "action": {"type": "explode"}},
                "type: one of run-deployment",
            ),
            (
                {"trigger": {"event": "x"}, "action": {"type": "run-deployment",
                                                        "deployment": "nope"}},
                "deployment",
            ),
        ],
    )  # fmt: skip
    async def test_bad_drafts_name_the_field(
        self, api: Any, body: dict[str, Any], field: str
    ) -> None:
        status, reply = await api("automations/preview", method="POST", body=body)
        assert status == 400, reply
        assert field in reply["message"], reply


class TestWorkPoolDelete:
    async def test_create_pause_limit_delete(self, api: Any) -> None:
        status, pool = await api(
            "work_pools",
            method="POST",
            body={"name": "gpu", "type": "dask", "concurrency_limit": 2, "description": "big"},
        )
        assert status == 201, pool
        status, pool = await api("work_pools", "gpu", "pause", method="POST", body={})
        assert status == 200 and pool["paused"] is True
        status, pool = await api("work_pools", "gpu", method="PATCH", body={"concurrency_limit": 5})
        assert status == 200 and pool["concurrency_limit"] == 5 and pool["paused"]
        status, _ = await api(
            "work_pools", "gpu", "workers", "heartbeat", method="POST", body={"worker": "w1"}
        )
        assert status == 200
        status, _ = await api("work_pools", "gpu", method="DELETE")
        assert status == 204
        status, _ = await api("work_pools", "gpu")
        assert status == 404
        _, workers = await api("workers")
        assert [w for w in workers["items"] if w["work_pool"] == "gpu"] == []

    async def test_the_default_pool_and_used_pools_stay(self, api: Any) -> None:
        status, reply = await api("work_pools", "default", method="DELETE")
        assert status == 409 and "default" in reply["message"]
        await api("work_pools", method="POST", body={"name": "busy"})
        status, dep = await api(
            "deployments",
            method="POST",
            body={"name": "etl-on-busy", "entrypoint": "etl.ipynb", "work_pool": "busy"},
        )
        assert status == 201, dep
        status, reply = await api("work_pools", "busy", method="DELETE")
        assert status == 409 and "etl-on-busy" in reply["message"]
        status, _ = await api("work_pools", "busy")
        assert status == 200  # committed data survives
        status, reply = await api("work_pools", "nope", method="DELETE")
        assert status == 404

    async def test_bad_pool_fields_are_named(self, api: Any) -> None:
        status, reply = await api(
            "work_pools", method="POST", body={"name": "x", "type": "kubernetes"}
        )
        assert status == 400 and reply["message"].startswith("type"), reply
        status, reply = await api(
            "work_pools", method="POST", body={"name": "x", "concurrency_limit": -1}
        )
        assert status == 400 and "concurrency_limit" in reply["message"], reply


class TestDeploymentEdits:
    async def test_a_bad_cron_names_the_field_and_keeps_the_schedule(self, api: Any) -> None:
        body = {
            "name": "nightly",
            "entrypoint": "etl.ipynb",
            "schedules": [{"cron": "0 9 * * *", "timezone": "Europe/Paris"}],
        }
        status, dep = await api("deployments", method="POST", body=body)
        assert status == 201, dep
        status, reply = await api(
            "deployments", dep["id"], method="PATCH", body={"schedules": [{"cron": "61 * * *"}]}
        )
        assert status == 400, reply
        assert reply["message"].startswith("schedules.0.cron"), reply
        status, reply = await api(
            "deployments", dep["id"], method="PATCH", body={"parameters": {"nope": 1}}
        )
        assert status == 400 and "nope" in reply["message"], reply
        _, kept = await api("deployments", dep["id"])
        assert kept["schedules"][0]["cron"] == "0 9 * * *"
        status, changed = await api(
            "deployments",
            dep["id"],
            method="PATCH",
            body={"schedules": [{"cron": "30 7 * * 1", "timezone": "UTC"}], "tags": ["a"]},
        )
        assert status == 200 and changed["schedules"][0]["cron"] == "30 7 * * 1", changed
        assert changed["tags"] == ["a"]
