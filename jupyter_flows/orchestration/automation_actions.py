"""Doing automation actions: each attempt, its retries with back-off, and its outcome.

A part of ``OrchestrationService``. ``run_due_actions`` (and the server's action runner,
with ``claim_actions`` + ``execute_action``) takes queued actions (``action_queue``) and does
them: a flow-run action goes through the state policy (``_propose``, ``cancel_flow_run``), a
notification is rendered (``templates``) and sent (``notify``). An attempt that fails with a
retryable error (a timeout, HTTP 5xx) is tried again after ``action_backoff_seconds``, then
twice as long, up to ``action_attempts``; then the action has failed: an
``automation.action.failed`` event with the reason (and, as before, ``automation.failed``),
and the automation's ``last_error``. Done: ``automation.action.executed`` (and
``automation.triggered``, with what it made).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.engine import Engine

from ..exceptions import ActionFailed, Conflict, NotFound
from ..store.repository import RunStore
from . import action_queue as queue
from ._tables import AUTOMATION, DEPLOYMENT, FLOW_RUN, now
from .automation_schemas import (
    ACTION_ADAPTER,
    CancelFlowRun,
    ChangeFlowRunState,
    DeploymentAction,
    SendNotification,
    SuspendFlowRun,
)
from .block_schemas import DescribeBlockDocument
from .events import insert_event
from .notify import SmtpSettings, post_webhook, send_email
from .schemas import (
    CreateDeploymentRun,
    DescribeDeployment,
    DescribeRunState,
    UpdateDeployment,
)
from .templates import Labels, fill_parameters, render, render_json

__all__ = ["AutomationActions", "run_tag"]

logger = logging.getLogger(__name__)


def run_tag(automation: str) -> str:
    """The tag of the runs an automation starts (``automation:<name>``)."""
    return f"automation:{automation}"


def _flow_run_of(cause: dict[str, Any]) -> str | None:
    """The flow run an event is about: its payload's, its resource's, or a related one's."""
    payload = cause.get("payload") or {}
    if payload.get("flow_run_id"):
        return str(payload["flow_run_id"])
    related = [r.get("prefect.resource.id", "") for r in cause.get("related") or []]
    for resource in [cause.get("resource") or "", *related]:
        for prefix in ("flow-run/", "prefect.flow-run."):
            if resource.startswith(prefix):
                return resource[len(prefix) :]
    return None


class AutomationActions:
    """Do queued actions (attempts, retries, outcomes)."""

    engine: Engine
    runs: RunStore
    secrets_key_file: str | None
    #: where mail goes (``FlowsApp.smtp_*``); None: no ``email`` notifications
    smtp: SmtpSettings | None = None
    #: the server's address as people reach it, for ``flow_run.url`` in templates
    public_url: str = ""
    action_attempts: int = 3
    action_backoff_seconds: float = 2.0
    #: an attempt not settled this long after its claim is taken again (its server died)
    action_lease_seconds: float = 600.0

    # the service's other parts (annotations only: they must not shadow them in the MRO)
    read_deployment: Callable[[str], DescribeDeployment]
    run_deployment: Callable[[str, CreateDeploymentRun], Any]
    update_deployment: Callable[[str, UpdateDeployment], Any]
    read_run_state: Callable[[str], DescribeRunState]
    cancel_flow_run: Callable[[str], DescribeRunState]
    suspend_flow_run: Callable[..., Any]
    _propose: Callable[[DescribeRunState, str, str, str | None], DescribeRunState]
    read_block_document: Callable[..., DescribeBlockDocument]

    # ------------------------------------------------------------------ running

    def claim_actions(self, limit: int) -> list[queue.QueuedAction]:
        return queue.claim(self.engine, limit, self.action_lease_seconds)

    def run_due_actions(self, limit: int = 50, threads: int = 8) -> int:
        """Do the due actions, ``threads`` at a time; how many attempts were made."""
        items = self.claim_actions(limit)
        if len(items) <= 1:
            for item in items:
                self.execute_action(item)
            return len(items)
        with ThreadPoolExecutor(max_workers=min(threads, len(items))) as pool:
            list(pool.map(self.execute_action, items))
        return len(items)

    def execute_action(self, item: queue.QueuedAction) -> None:
        """One attempt at ``item``; its outcome recorded (never raises for the action)."""
        try:
            outcome = self._do(item)
        except Exception as exc:  # noqa: BLE001 - a failed action is recorded, not raised
            retry = isinstance(exc, ActionFailed) and exc.retryable
            self._failed(item, str(exc), retry and item.attempt < self.action_attempts)
        else:
            self._executed(item, outcome)

    def _outcome(self, item: queue.QueuedAction) -> dict[str, Any]:
        cause = item.cause
        outcome = {
            "automation": item.automation, "action": item.action.get("type"),
            "cause": cause.get("event"), "cause_id": cause.get("event_id"),
            "attempts": item.attempt,
        }  # fmt: skip
        if item.action.get("deployment"):
            outcome["deployment"] = item.action["deployment"]
        return outcome

    def _executed(self, item: queue.QueuedAction, made: dict[str, Any]) -> None:
        payload = {**self._outcome(item), **made}
        with self.engine.begin() as conn:
            queue.remove(conn, item)
            for name in ("automation.action.executed", "automation.triggered"):
                insert_event(conn, name, payload, resource=f"automation/{item.automation}")
        logger.info("automation %s: %s done", item.automation, item.action.get("type"))

    def _failed(self, item: queue.QueuedAction, reason: str, retry: bool) -> None:
        at = now()
        with self.engine.begin() as conn:
            if retry:
                wait = queue.backoff(item.attempt, self.action_backoff_seconds)
                queue.retry_later(conn, item, at + timedelta(seconds=wait), reason)
                logger.warning("automation %s: attempt %d of %s failed (again in %g s): %s",
                               item.automation, item.attempt, item.action.get("type"), wait,
                               reason)  # fmt: skip
                return
            queue.remove(conn, item)
            payload = {**self._outcome(item), "reason": reason, "error": reason}
            for name in ("automation.action.failed", "automation.failed"):
                insert_event(conn, name, payload, resource=f"automation/{item.automation}")
            conn.execute(
                update(AUTOMATION)
                .where(AUTOMATION.c.id == item.automation_id)
                .values(last_error=reason, last_error_at=at,
                        failed_actions=AUTOMATION.c.failed_actions + 1)
            )  # fmt: skip
        logger.warning("automation %s: %s failed after %d attempt(s): %s", item.automation,
                       item.action.get("type"), item.attempt, reason)  # fmt: skip

    # ------------------------------------------------------------------ the actions

    def _do(self, item: queue.QueuedAction) -> dict[str, Any]:
        """Do the action; what it made (``flow_run_id``...)."""
        action = ACTION_ADAPTER.validate_python(item.action)
        cause = item.cause
        if isinstance(action, DeploymentAction):
            if action.type != "run-deployment":
                paused = action.type == "pause-deployment"
                self.update_deployment(action.deployment, UpdateDeployment(paused=paused))
                return {}
            payload = {**cause.get("payload", {}), "event": cause.get("event"),
                       "event_id": cause.get("event_id")}  # fmt: skip
            parameters = fill_parameters(action.parameters, payload, self._context(item))
            body = CreateDeploymentRun(
                parameters=parameters,
                tags=[*action.tags, run_tag(item.automation)],
                message=f"by automation {item.automation!r} on {cause.get('event')}"
                f" (event {cause.get('event_id')})",
            )
            return {"flow_run_id": self.run_deployment(action.deployment, body).id}
        if isinstance(action, SendNotification):
            return self._notify(action, item)
        run_id = _flow_run_of(cause)
        if run_id is None:
            raise ActionFailed(f"{action.type}: the event {cause.get('event')!r} is about no "
                               "flow run", retryable=False)  # fmt: skip
        if isinstance(action, CancelFlowRun):
            state = self.cancel_flow_run(run_id)
        elif isinstance(action, SuspendFlowRun):
            try:
                self.suspend_flow_run(run_id, timeout=action.timeout_seconds)
            except Conflict as exc:  # not Running, not a deployment's: trying again won't help
                raise ActionFailed(f"suspend-flow-run: {exc}", retryable=False) from None
            state = self.read_run_state(run_id)
        else:
            assert isinstance(action, ChangeFlowRunState)
            message = render(action.message or "", self._context(item)) or None
            name = action.name or action.state.value.title()
            state = self._propose(self.read_run_state(run_id), action.state.value, name, message)
        return {"flow_run_id": run_id, "state_type": state.state_type,
                "state_name": state.state_name}  # fmt: skip

    def _notify(self, action: SendNotification, item: queue.QueuedAction) -> dict[str, Any]:
        context = self._context(item)
        subject = render(action.subject, context)
        body = render(action.body, context)
        if action.email is not None:
            if self.smtp is None:
                raise ActionFailed("email: this server has no SMTP server (FlowsApp.smtp_host)",
                                   retryable=False)  # fmt: skip
            smtp = self.smtp
            if smtp.password_secret:
                smtp = replace(smtp, password=str(self._secret(smtp.password_secret, "smtp")))
            send_email(smtp, action.email.to, subject, body)
            return {"to": action.email.to}
        hook = action.webhook
        assert hook is not None
        url = hook.url or self._secret_url(hook.url_secret or "")
        content = render_json(hook.payload, {**context, "subject": subject, "body": body}) \
            if hook.payload is not None else {"text": body}  # fmt: skip
        status = post_webhook(url, content, hook.headers, hook.timeout_seconds)
        return {"status": status}

    def _secret(self, name: str, what: str) -> Any:
        """The value of the Secret block ``name`` (``what`` names the field that needs it)."""
        try:
            document = self.read_block_document("secret", name, include_secrets=True)
        except NotFound:
            raise ActionFailed(f"{what}: no Secret block {name!r}", False) from None
        return document.data.get("value")

    def _secret_url(self, name: str) -> str:
        value = self._secret(name, "webhook.url_secret")
        if not isinstance(value, str) or not value.startswith(("http://", "https://")):
            raise ActionFailed(f"webhook.url_secret: the Secret {name!r} holds no URL", False)
        return value

    # ------------------------------------------------------------------ templates

    def _context(self, item: queue.QueuedAction) -> dict[str, Any]:
        """What a template sees: ``event``, ``flow_run``, ``flow``, ``deployment``,
        ``task_run``, ``automation``."""
        cause = item.cause
        payload = dict(cause.get("payload") or {})
        resource = {"prefect.resource.id": cause.get("resource") or "",
                    **(cause.get("resource_labels") or {})}  # fmt: skip
        related = [Labels(r) for r in cause.get("related") or []]
        event = {**payload, "id": cause.get("id"), "event": cause.get("event"),
                 "occurred": cause.get("occurred"), "resource": Labels(resource),
                 "related": related, "payload": payload}  # fmt: skip
        context: dict[str, Any] = {
            "event": event,
            "automation": {"name": item.automation, "id": item.automation_id},
            "flow_run": {}, "flow": {}, "deployment": {}, "task_run": {},
        }  # fmt: skip
        if payload.get("task_run_id"):
            context["task_run"] = {
                "id": payload["task_run_id"], "name": payload.get("task_run_name"),
                "task_name": payload.get("task_name"),
                "state": {"type": payload.get("state_type"), "name": payload.get("state_name"),
                          "message": payload.get("message")},
            }  # fmt: skip
        run_id = _flow_run_of(cause)
        if run_id is not None:
            context.update(self._run_facts(run_id))
        return context

    def _run_facts(self, run_id: str) -> dict[str, Any]:
        with self.engine.connect() as conn:
            run = conn.execute(select(FLOW_RUN).where(FLOW_RUN.c.id == run_id)).mappings().first()
            deployment = None
            if run is not None and run["deployment_id"]:
                deployment = conn.execute(
                    select(DEPLOYMENT).where(DEPLOYMENT.c.id == run["deployment_id"])
                ).mappings().first()  # fmt: skip
        if run is None:
            return {}
        base = self.public_url.rstrip("/")
        facts: dict[str, Any] = {
            "flow_run": {
                "id": run["id"], "name": run["name"], "flow_name": run["flow_name"],
                "tags": run["tags"] or [], "parameters": run["parameters"] or {},
                "deployment_id": run["deployment_id"], "start_time": run["start_time"],
                "end_time": run["end_time"],
                "state": {"type": run["state_type"], "name": run["state_name"],
                          "message": run["state_message"]},
                "url": f"{base}/jupyter-flows/api/flow_runs/{run['id']}/report" if base else "",
            },
            "flow": {"name": run["flow_name"]},
        }  # fmt: skip
        if deployment is not None:
            facts["deployment"] = {
                key: deployment[key]
                for key in ("id", "name", "version", "description", "parameters", "tags")
            }
        return facts

    def check_action_targets(self, action: Any) -> None:
        """``ValueError`` naming the field if the action's target cannot exist here."""
        if isinstance(action, DeploymentAction):
            try:
                self.read_deployment(action.deployment)
            except NotFound:
                missing = f"action.deployment: no deployment {action.deployment!r}"
                raise ValueError(missing) from None
        elif isinstance(action, SendNotification):
            if action.email is not None and self.smtp is None:
                raise ValueError(
                    "action.email: this server has no SMTP server to send mail through "
                    "(set FlowsApp.smtp_host; see docs/operators.md)"
                )
            secret = action.webhook.url_secret if action.webhook else None
            if secret:
                try:
                    self._secret_url(secret)
                except ActionFailed as exc:
                    raise ValueError(f"action.{exc}") from None
