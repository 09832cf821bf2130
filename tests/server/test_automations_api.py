"""Events and automations over the REST API, and the server's event reader firing them."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import write_notebook


@pytest.fixture
def jp_server_config(jp_server_config: dict[str, Any], jp_root_dir: Path) -> dict[str, Any]:
    """The shared server config, reading events every 0.1 s; ``etl.ipynb`` in the root."""
    write_notebook(jp_root_dir / "etl.ipynb", "n = 3")
    flows = dict(jp_server_config["FlowsApp"], events_interval=0.1)
    return {**jp_server_config, "FlowsApp": flows}


async def _deploy(api: Any, name: str) -> dict[str, Any]:
    status, body = await api(
        "deployments", method="POST", body={"name": name, "entrypoint": "etl.ipynb"}
    )
    assert status == 201, body
    return body  # type: ignore[no-any-return]


async def _eventually(check: Any, timeout: float = 20) -> Any:
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        value = await check()
        if value:
            return value
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("timed out")
        await asyncio.sleep(0.1)


async def test_an_emitted_event_runs_a_deployment(
    api: Any, flows_app: Any, jp_serverapp: Any
) -> None:
    await flows_app._start_jupyter_server_extension(jp_serverapp)
    _, health = await api("health")
    assert health["automations"] is True
    target = await _deploy(api, "refresh")
    automation = {
        "name": "on-upload",
        "trigger": {"event": "upload.done", "match": {"bucket": "raw"}},
        "action": {
            "type": "run-deployment",
            "deployment": "refresh",
            "parameters": {"n": "{{ event.rows }}"},
        },
    }
    status, created = await api("automations", method="POST", body=automation)
    assert status == 201, created
    assert created["enabled"] and created["fired_count"] == 0
    status, emitted = await api(
        "events",
        method="POST",
        body={"event": "upload.done", "payload": {"bucket": "raw", "rows": 8}},
    )
    assert status == 201 and emitted["id"] > 0

    async def started() -> Any:
        _, page = await api("flow_runs", params={"deployment_id": target["id"]})
        return page["items"]

    runs = await _eventually(started)
    assert [r["parameters"] for r in runs] == [{"n": 8}]
    assert "automation:on-upload" in runs[0]["tags"]
    _, described = await api("automations", "on-upload")
    assert described["fired_count"] == 1 and described["last_fired"]
    _, fired = await api("events", params={"event": "automation.*"})
    # newest first: ours (what the panel reads), after Prefect's name
    assert [e["event"] for e in fired["items"]] == [
        "automation.triggered",
        "automation.action.executed",
    ]
    assert {e["payload"]["flow_run_id"] for e in fired["items"]} == {runs[0]["id"]}

    # the run's own states are events too
    async def scheduled() -> Any:
        _, page = await api("events", params={"event": "flow-run.Scheduled"})
        return page["items"]

    states = await _eventually(scheduled)
    assert [e["payload"]["flow_run_id"] for e in states] == [runs[0]["id"]]

    status, listed = await api("automations")
    assert [a["name"] for a in listed["items"]] == ["on-upload"]
    status, off = await api("automations", "on-upload", method="PATCH", body={"enabled": False})
    assert status == 200 and off["enabled"] is False
    status, _ = await api("automations", "on-upload", method="DELETE")
    assert status == 204
    status, gone = await api("automations", "on-upload")
    assert status == 404 and "no automation 'on-upload'" in gone["message"]
    await flows_app.stop_extension()
    assert flows_app.services.event_reader is None


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            {"name": "a", "trigger": {"event": "x"}, "action": {"type": "run-deployment",
             "deployment": "missing"}},
            "action.deployment: no deployment 'missing'",
        ),
        (
            {"name": "a", "trigger": {"event": "x", "threshold": 0},
             "action": {"type": "run-deployment", "deployment": "refresh"}},
            "trigger.threshold",
        ),
        (
            {"name": "a", "trigger": {"event": "x"}, "action": {"type": "explode",
             "deployment": "refresh"}},
            "action: type: one of run-deployment",
        ),
        ({"name": "a", "action": {"type": "run-deployment", "deployment": "refresh"}}, "trigger"),
    ],
)  # fmt: skip
async def test_bad_automations_are_400_naming_the_field(
    api: Any, body: dict[str, Any], message: str
) -> None:
    await _deploy(api, "refresh")
    status, reply = await api("automations", method="POST", body=body)
    assert status == 400 and message in reply["message"], reply
    _, listed = await api("automations")
    assert listed["items"] == []


async def test_bad_events_are_400(api: Any) -> None:
    status, reply = await api("events", method="POST", body={"event": "with space"})
    assert status == 400 and "event" in reply["message"]
    status, reply = await api("events", method="POST", body={"payload": {}})
    assert status == 400 and "event" in reply["message"]
    status, reply = await api("events", params={"limit": "0"})
    assert status == 400 and "limit" in reply["message"]


async def test_a_duplicate_name_is_409(api: Any) -> None:
    await _deploy(api, "refresh")
    body = {
        "name": "dup",
        "trigger": {"event": "x"},
        "action": {"type": "pause-deployment", "deployment": "refresh"},
    }
    assert (await api("automations", method="POST", body=body))[0] == 201
    status, reply = await api("automations", method="POST", body=body)
    assert status == 409 and "already exists" in reply["message"]


async def test_a_webhook_is_retried_and_a_silent_one_fails_visibly(
    api: Any, flows_app: Any, jp_serverapp: Any
) -> None:
    """The server's action runner: 500 then 200 is retried and done; a webhook that never
    answers fails after its attempts (shown by GET automations/{id}), and meanwhile the
    other automation's action is done (the runner never waits for one)."""
    from tests.orchestration.receivers import webhook

    flows_app.action_backoff_seconds = 0.05
    flows_app.configure_actions(flows_app.services.orchestration, "")
    await flows_app._start_jupyter_server_extension(jp_serverapp)
    with webhook(500, 200) as flaky, webhook("hang") as silent:
        for name, hook, timeout in (("flaky", flaky, 10), ("silent", silent, 1)):
            body = {
                "name": name,
                "trigger": {"event": "job.failed"},
                "action": {"type": "send-notification", "body": "job {{ event.job }} failed",
                           "webhook": {"url": hook.url, "timeout_seconds": timeout}},
            }  # fmt: skip
            status, created = await api("automations", method="POST", body=body)
            assert status == 201, created
        await api("events", method="POST", body={"event": "job.failed", "payload": {"job": "7"}})

        async def done() -> Any:
            _, page = await api("events", params={"event": "automation.action.executed"})
            return page["items"]

        (executed,) = await _eventually(done)
        assert executed["payload"]["automation"] == "flaky"
        assert executed["payload"]["attempts"] == 2
        assert [r["body"] for r in flaky.received] == [{"text": "job 7 failed"}] * 2

        async def failed() -> Any:
            _, described = await api("automations", "silent")
            return described if described["failed_actions"] else None

        described = await _eventually(failed)
    assert described["last_error"] == f"webhook {silent.url[:22]} did not answer within 1 s"
    assert len(silent.received) == 3
    _, page = await api("events", params={"event": "automation.action.failed"})
    assert [e["payload"]["reason"] for e in page["items"]] == [described["last_error"]]
    _, flaky_now = await api("automations", "flaky")
    assert flaky_now["failed_actions"] == 0 and flaky_now["last_error"] is None
    await flows_app.stop_extension()


@pytest.mark.parametrize(
    ("action", "message"),
    [
        ({"type": "send-notification", "webhook": {"url": "not a url"}},
         "webhook.url: an http:// or https:// URL"),
        ({"type": "send-notification", "body": "{% for %}", "webhook": {"url": "http://h/x"}},
         "body: template error"),
        ({"type": "change-flow-run-state", "state": "FINISHED"},
         "action.change-flow-run-state.state"),
        ({"type": "send-notification", "email": {"to": ["ops@example.com"]}},
         "action.email: this server has no SMTP server"),
    ],
)  # fmt: skip
async def test_bad_actions_are_400_naming_the_field(
    api: Any, action: dict[str, Any], message: str
) -> None:
    body = {"name": "a", "trigger": {"event": "x"}, "action": action}
    status, reply = await api("automations", method="POST", body=body)
    assert status == 400 and message in reply["message"], reply
    status, reply = await api(
        "automations", method="POST",
        body={"name": "b", "trigger": {"event": "x", "posture": "Proactive", "within_seconds": 1},
              "action": {"type": "cancel-flow-run"}},
    )  # fmt: skip
    assert status == 400 and "within_seconds: at least 10" in reply["message"]
