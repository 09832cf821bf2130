"""Automation actions against real receivers, on SQLite and a real PostgreSQL: webhooks
(a local HTTP server: templated bodies, 500 then 200 retried, no answer -> failed and
visible), email (a local aiosmtpd server), flow-run actions through the state policy.
The examples of Prefect's "Trigger actions on events" page are ported where they fit."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

import pytest
from pydantic import ValidationError

from jupyter_flows.orchestration.automation_schemas import CreateAutomation
from jupyter_flows.orchestration.block_schemas import SaveBlockDocument
from jupyter_flows.orchestration.notify import SmtpSettings
from jupyter_flows.orchestration.schemas import CreateDeploymentRun, CreateEvent, UpdateRunState
from jupyter_flows.orchestration.service import OrchestrationService
from tests.orchestration.receivers import mailbox, webhook
from tests.orchestration.test_automations import automation, chained, events, finish

__all__ = ["chained"]  # the fixture, shared

# Prefect's example of a flow run state notification (automations-triggers.mdx)
PREFECT_TEMPLATE = """Flow run {{ flow_run.name }} entered state {{ flow_run.state.name }}.

    Timestamp: {{ flow_run.state.timestamp }}
    Flow Run ID: {{ flow_run.id }}
    State message: {{ flow_run.state.message }}"""
PREFECT_DEPLOYMENT_TEMPLATE = """Flow run {{ flow_run.name }} for flow {{ flow.name }}
entered state {{ flow_run.state.name }}
with message {{ flow_run.state.message }}

Flow tags: {{ flow_run.tags }}
Deployment name: {{ deployment.name }}
Deployment parameters: {{ deployment.parameters }}"""


def settle(service: OrchestrationService, done: Callable[[], Any], rounds: int = 400) -> Any:
    """Process events and actions until ``done()`` is true (retries wait their back-off)."""
    for _ in range(rounds):
        service.process_events()
        found = done()
        if found:
            return found
        time.sleep(0.02)
    raise AssertionError("the automation never settled")


def on_failed(action: dict[str, Any]) -> dict[str, Any]:
    return {"event": "flow-run.Failed", "match": {"deployment": "upstream"}}


@pytest.fixture
def quick(chained: OrchestrationService) -> OrchestrationService:
    """Retries after 0.01 s, 0.02 s (3 attempts)."""
    chained.action_backoff_seconds = 0.01
    chained.public_url = "http://lab.example:8888/"
    return chained


def failed_run(service: OrchestrationService, message: str = "boom") -> str:
    run = service.run_deployment("upstream", CreateDeploymentRun(tags=["prod"]))
    finish(service, run.id, "FAILED")
    return run.id


class TestWebhook:
    def test_a_failed_run_posts_prefects_template(self, quick: OrchestrationService) -> None:
        with webhook(200) as hook:
            action = {
                "type": "send-notification",
                "body": PREFECT_TEMPLATE,
                "webhook": {"url": hook.url, "headers": {"X-Team": "data"}},
            }
            automation(quick, "tell", on_failed(action), action)
            run_id = failed_run(quick)
            executed = settle(quick, lambda: events(quick, "automation.action.executed"))
        (request,) = hook.received
        text = request["body"]["text"]  # Slack's and Teams' shape: {"text": ...}
        name = quick.runs.read_flow_run(run_id).name
        assert text.startswith(f"Flow run {name} entered state Failed.")
        assert f"Flow Run ID: {run_id}" in text
        assert request["headers"]["X-Team"] == "data"
        assert request["path"] == "/hooks/T000/B000/s3cr3tpath"
        assert executed[0].payload["status"] == 200 and executed[0].payload["attempts"] == 1
        assert quick.read_automation("tell").last_error is None

    def test_a_json_body_with_deployment_facts_and_the_run_url(
        self, quick: OrchestrationService
    ) -> None:
        with webhook(200) as hook:
            payload = {
                "text": PREFECT_DEPLOYMENT_TEMPLATE,
                "link": "{{ flow_run|ui_url }}",
                "blocks": [{"type": "section", "id": "{{ event.flow_run_id }}"}],
            }
            action = {"type": "send-notification", "webhook": {"url": hook.url, "payload": payload}}
            automation(quick, "rich", on_failed(action), action)
            run_id = failed_run(quick)
            settle(quick, lambda: hook.received)
        body = hook.received[0]["body"]
        assert "for flow " in body["text"] and "Deployment name: upstream" in body["text"]
        assert "Flow tags: ['prod']" in body["text"]
        assert (
            body["link"] == f"http://lab.example:8888/jupyter-flows/api/flow_runs/{run_id}/report"
        )
        assert body["blocks"] == [{"type": "section", "id": run_id}]

    def test_500_then_200_is_retried(self, quick: OrchestrationService) -> None:
        with webhook(500, 200) as hook:
            action = {"type": "send-notification", "webhook": {"url": hook.url}}
            automation(quick, "flaky", on_failed(action), action)
            failed_run(quick)
            executed = settle(quick, lambda: events(quick, "automation.action.executed"))
        assert len(hook.received) == 2
        assert executed[0].payload["attempts"] == 2
        assert events(quick, "automation.action.failed") == []
        described = quick.read_automation("flaky")
        assert described.failed_actions == 0 and described.last_error is None

    def test_a_webhook_that_never_answers_fails_visibly(
        self, quick: OrchestrationService, caplog: pytest.LogCaptureFixture
    ) -> None:
        caplog.set_level(logging.INFO)
        with webhook("hang") as hook:
            action = {
                "type": "send-notification",
                "webhook": {"url": hook.url, "timeout_seconds": 0.2},
            }
            automation(quick, "silent", on_failed(action), action)
            failed_run(quick)
            failed = settle(quick, lambda: events(quick, "automation.action.failed"))
        assert len(hook.received) == 3  # every attempt, then given up
        reason = failed[0].payload["reason"]
        assert reason == f"webhook {hook.url[:22]} did not answer within 0.2 s"
        assert failed[0].payload["attempts"] == 3
        assert [e.event for e in events(quick, "automation.failed")] == ["automation.failed"]
        described = quick.read_automation("silent")
        assert described.failed_actions == 1 and described.last_error == reason
        assert described.last_error_at is not None
        assert "s3cr3tpath" not in caplog.text  # a webhook URL is a credential

    def test_a_client_error_is_not_retried(self, quick: OrchestrationService) -> None:
        with webhook(404) as hook:
            action = {"type": "send-notification", "webhook": {"url": hook.url}}
            automation(quick, "gone", on_failed(action), action)
            failed_run(quick)
            failed = settle(quick, lambda: events(quick, "automation.action.failed"))
        assert len(hook.received) == 1
        assert "answered HTTP 404: broken" in failed[0].payload["reason"]

    def test_the_url_may_be_kept_in_a_secret_block(
        self, quick: OrchestrationService, caplog: pytest.LogCaptureFixture
    ) -> None:
        caplog.set_level(logging.DEBUG)
        with webhook(200) as hook:
            quick.save_block_document(
                "secret",
                "slack-url",
                SaveBlockDocument(data={"value": hook.url}, secret_fields=["value"]),
            )
            action = {"type": "send-notification", "webhook": {"url_secret": "slack-url"}}
            automation(quick, "secretly", on_failed(action), action)
            failed_run(quick)
            settle(quick, lambda: hook.received)
        stored = str([(e.event, e.payload) for e in events(quick)])
        assert "s3cr3tpath" not in stored and "s3cr3tpath" not in caplog.text
        with pytest.raises(ValueError, match="action.webhook.url_secret: no Secret block 'nope'"):
            automation(
                quick,
                "x",
                {"event": "x"},
                {"type": "send-notification", "webhook": {"url_secret": "nope"}},
            )


class TestEmail:
    def test_a_failed_run_is_mailed(self, quick: OrchestrationService) -> None:
        with mailbox() as box:
            quick.smtp = SmtpSettings(
                host=box.host, port=box.port, security="none", sender="flows@example.com"
            )
            action = {
                "type": "send-notification",
                "subject": "{{ flow_run.name }} failed",
                "body": PREFECT_TEMPLATE,
                "email": {"to": ["ops@example.com"]},
            }
            automation(quick, "mail", on_failed(action), action)
            run_id = failed_run(quick)
            settle(quick, lambda: box.messages)
        (message,) = box.messages
        name = quick.runs.read_flow_run(run_id).name
        assert message["Subject"] == f"{name} failed"
        assert message["To"] == "ops@example.com" and message["From"] == "flows@example.com"
        assert f"Flow run {name} entered state Failed." in message.get_payload()

    def test_the_password_comes_from_a_secret_and_is_never_logged(
        self, quick: OrchestrationService, caplog: pytest.LogCaptureFixture
    ) -> None:
        caplog.set_level(logging.DEBUG)
        quick.save_block_document(
            "secret",
            "smtp-password",
            SaveBlockDocument(data={"value": "hunter2-xyz"}, secret_fields=["value"]),
        )
        with mailbox(password="hunter2-xyz") as box:
            quick.smtp = SmtpSettings(
                host=box.host,
                port=box.port,
                security="none",
                username="flows",
                password_secret="smtp-password",
            )
            assert "hunter2" not in repr(quick.smtp)
            action = {"type": "send-notification", "email": {"to": ["ops@example.com"]}}
            automation(quick, "mail", on_failed(action), action)
            failed_run(quick)
            settle(quick, lambda: box.messages)
        assert box.logins == [("flows", "hunter2-xyz")]
        assert "hunter2" not in caplog.text

    def test_no_smtp_server_is_refused_on_create(self, quick: OrchestrationService) -> None:
        action = {"type": "send-notification", "email": {"to": ["ops@example.com"]}}
        with pytest.raises(ValueError, match="action.email: this server has no SMTP server"):
            automation(quick, "mail", {"event": "x"}, action)


class TestFlowRunActions:
    def test_a_state_the_policy_refuses_is_a_failed_action(
        self, quick: OrchestrationService
    ) -> None:
        automation(
            quick,
            "rerun",
            {"event": "flow-run.Completed", "match": {"deployment": "upstream"}},
            {"type": "change-flow-run-state", "state": "RUNNING", "message": "again"},
        )
        run = quick.run_deployment("upstream", CreateDeploymentRun())
        finish(quick, run.id)
        failed = settle(quick, lambda: events(quick, "automation.action.failed"))
        assert "the run already ended Completed" in failed[0].payload["reason"]
        assert failed[0].payload["attempts"] == 1  # refused: not retried
        assert quick.read_run_state(run.id).state_type == "COMPLETED"
        assert quick.read_automation("rerun").last_error == failed[0].payload["reason"]

    def test_change_state_with_a_templated_message(self, quick: OrchestrationService) -> None:
        automation(
            quick,
            "flag",
            {"event": "deploy.flagged"},
            {
                "type": "change-flow-run-state",
                "state": "CANCELLED",
                "name": "Flagged",
                "message": "flagged by {{ event.who }}",
            },
        )
        run = quick.run_deployment("upstream", CreateDeploymentRun())
        quick.emit_event(
            CreateEvent(event="deploy.flagged", payload={"flow_run_id": run.id, "who": "ana"})
        )
        settle(quick, lambda: events(quick, "automation.action.executed"))
        state = quick.read_run_state(run.id)
        assert (state.state_type, state.state_name, state.state_message) == (
            "CANCELLED",
            "Flagged",
            "flagged by ana",
        )

    def test_suspend_a_running_run_on_an_event(self, quick: OrchestrationService) -> None:
        automation(quick, "hold", {"event": "review.needed"}, {"type": "suspend-flow-run"})
        running = quick.run_deployment("upstream", CreateDeploymentRun())
        quick.claim_runs("default", "w", 10)
        quick.set_run_state(running.id, UpdateRunState(type="RUNNING", name="Running", worker="w"))
        ended = quick.run_deployment("upstream", CreateDeploymentRun())
        finish(quick, ended.id)
        for run_id in (running.id, ended.id):
            quick.emit_event(CreateEvent(event="review.needed", payload={"flow_run_id": run_id}))
        done = settle(quick, lambda: events(quick, "automation.action.executed"))
        failed = settle(quick, lambda: events(quick, "automation.action.failed"))
        assert done[0].payload["flow_run_id"] == running.id
        state = quick.read_run_state(running.id)
        assert (state.state_type, state.state_name) == ("PAUSED", "Suspended")
        assert quick.read_pause(running.id).reschedule  # resuming schedules it again
        # a run that ended cannot be suspended: a failed action, not retried, the run intact
        assert "Cannot pause flows that are not currently running" in failed[0].payload["reason"]
        assert failed[0].payload["attempts"] == 1
        assert quick.read_run_state(ended.id).state_type == "COMPLETED"

    def test_cancel_needs_a_flow_run(self, quick: OrchestrationService) -> None:
        automation(quick, "stop", {"event": "stop.it"}, {"type": "cancel-flow-run"})
        quick.emit_event(CreateEvent(event="stop.it", payload={}))
        failed = settle(quick, lambda: events(quick, "automation.action.failed"))
        assert "the event 'stop.it' is about no flow run" in failed[0].payload["reason"]


@pytest.mark.parametrize(
    ("action", "message"),
    [
        ({"type": "send-notification", "webhook": {"url": "ftp://x"}},
         "webhook.url: an http:// or https:// URL"),
        ({"type": "send-notification", "webhook": {"url": "http://x", "url_secret": "s"}},
         "give one of url or url_secret"),
        ({"type": "send-notification", "body": "{{ flow_run.name ", "webhook": {"url": "http://x"}},
         "body: template error"),
        ({"type": "send-notification", "webhook": {"url": "http://x",
                                                   "payload": {"a": ["{% if %}"]}}},
         "webhook.payload.a.0: template error"),
        ({"type": "send-notification", "email": {"to": ["not-an-address"]}},
         "email.to.0: 'not-an-address' is not an email address"),
        ({"type": "send-notification"}, "give one of webhook or email"),
        ({"type": "change-flow-run-state", "state": "DONE"}, "state"),
        ({"type": "run-deployment", "deployment": "d", "parameters": {"n": "{{ x }"}},
         "parameters.n: template error"),
    ],
)  # fmt: skip
def test_malformed_actions_name_the_field(action: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message.replace("(", r"\(")):
        CreateAutomation.model_validate({"name": "a", "trigger": {"event": "x"}, "action": action})
