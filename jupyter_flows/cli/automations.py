"""``jupyter flows automations ...`` and ``jupyter flows events ...``: over a server's REST API."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from traitlets import CaselessStrEnum, Float, Int, List, Unicode

from ..orchestration.notify import where
from .orchestration import _aliases, _parse_params, _ServerApp

if TYPE_CHECKING:
    from ..orchestration.schemas import DescribeAutomation

__all__ = ["AutomationsApp", "EventsApp", "describe_automation"]

_USAGE = (
    "usage: jupyter flows automations ls | create NAME --on EVENT "
    "(--run|--pause|--resume DEPLOYMENT | --action TYPE ...) | enable NAME | disable NAME "
    "| rm NAME | preview --on EVENT [--match K=V ...] [--hours H]"
)
_ACTIONS = ("run-deployment", "pause-deployment", "resume-deployment", "cancel-flow-run",
            "suspend-flow-run", "change-flow-run-state", "send-notification")  # fmt: skip


def _what(a: DescribeAutomation) -> str:
    from ..orchestration.automation_schemas import ChangeFlowRunState, DeploymentAction

    action = a.action
    if isinstance(action, DeploymentAction):
        return f"{action.type.split('-')[0]} {action.deployment}"
    if isinstance(action, ChangeFlowRunState):
        return f"set the flow run {action.state.value}"
    if action.type == "cancel-flow-run":
        return "cancel the flow run"
    if action.type == "suspend-flow-run":
        return "suspend the flow run"
    email, hook = getattr(action, "email", None), getattr(action, "webhook", None)
    if email is not None:
        return f"email {', '.join(email.to)}"
    if hook is None:
        return action.type
    return "notify " + (f"secret {hook.url_secret}" if hook.url_secret else where(hook.url or ""))


def describe_automation(a: DescribeAutomation) -> str:
    """``when flow-run.Completed (deployment=up) -> run down`` on one line."""
    trigger = a.trigger
    match = ", ".join(f"{k}={v}" for k, v in trigger.match.items())
    if trigger.posture == "Proactive":
        after = f" after {' or '.join(trigger.after)}" if trigger.after else ""
        when = f"when no {trigger.event}" + (f" ({match})" if match else "")
        when += f" within {trigger.within_seconds:g}s{after}"
    else:
        when = f"when {trigger.event}" + (f" ({match})" if match else "")
        if trigger.threshold > 1:
            within = trigger.within_seconds
            when += f" x{trigger.threshold}" + (f" within {within:g}s" if within else "")
    if trigger.for_each:
        when += f" per {'/'.join(trigger.for_each)}"
    return f"{when} -> {_what(a)}"


class AutomationsApp(_ServerApp):
    """List, create, enable, disable or remove automations."""

    name = "jupyter-flows-automations"
    description = (
        "Automations: when events match (a flow run's or task run's state, or an event you "
        "emit), or an expected event does not come (--posture Proactive), run, pause or resume "
        "a deployment, cancel or change the state of the flow run, or send a notification "
        "(a webhook, e.g. Slack or Teams, or email). Failed actions are retried; 'ls' shows "
        "the last error."
    )
    examples = """jupyter flows automations ls
jupyter flows automations create chain --on flow-run.Completed --match deployment=extract --run report
jupyter flows automations create breaker --on flow-run.Failed --match deployment=load --threshold 3 --within 600 --pause load
jupyter flows automations create on-upload --on upload.done --run refresh --param "path={{ event.path }}"
jupyter flows automations create slack --on flow-run.Failed --action send-notification --webhook-secret slack-url --body '{"text": "Flow run {{ flow_run.name }} entered {{ flow_run.state.name }}: {{ flow_run.url }}"}'
jupyter flows automations create mail --on 'task-run.Failed' --action send-notification --email-to ops@example.com --subject "{{ task_run.name }} failed" --body "{{ task_run.state.message }}"
jupyter flows automations create late --posture Proactive --on flow-run.Completed --match deployment=nightly --within 3600 --action send-notification --webhook https://hooks.example.com/x
jupyter flows automations create too-long --posture Proactive --after flow-run.Running --on 'flow-run.*' --for-each flow_run_id --within 7200 --action cancel-flow-run
jupyter flows automations disable chain
jupyter flows automations preview --on flow-run.Failed --match deployment=load --threshold 3 --within 600
"""  # noqa: E501
    on = Unicode(
        "",
        config=True,
        help="Event name or glob to react to (or, Proactive: to "
        "expect), e.g. flow-run.Failed, task-run.*.",
    )
    match = List(Unicode(), config=True, help="Payload key=value the event must have (repeatable).")
    threshold = Int(
        1,
        config=True,
        help="Fire on this many matching events (Proactive: fire when fewer than this many came).",
    )
    within = Float(
        0.0,
        config=True,
        help="...counted within this many seconds (0: any time; Proactive: the wait, at least 10).",
    )
    posture = CaselessStrEnum(
        ["Reactive", "Proactive"],
        "Reactive",
        config=True,
        help="Reactive: when events come; Proactive: when they do not.",
    )
    after = List(
        Unicode(), config=True, help="Start counting (the wait) after this event (repeatable)."
    )
    for_each = List(
        Unicode(),
        config=True,
        help="Count separately per value of this payload key (repeatable), e.g. flow_run_id.",
    )
    run = Unicode("", config=True, help="Run this deployment.")
    pause = Unicode("", config=True, help="Pause this deployment.")
    resume = Unicode("", config=True, help="Resume this deployment.")
    param = List(Unicode(), config=True, help="Run parameter key=value; '{{ event.KEY }}' ok.")
    action = CaselessStrEnum(
        list(_ACTIONS),
        None,
        allow_none=True,
        config=True,
        help="The action (instead of --run/--pause/--resume).",
    )
    deployment = Unicode("", config=True, help="The deployment of a *-deployment --action.")
    webhook = Unicode("", config=True, help="send-notification: POST to this URL.")
    webhook_secret = Unicode(
        "",
        config=True,
        help="send-notification: POST to the URL kept "
        "in this Secret block (Slack/Teams URLs are credentials).",
    )
    email_to = List(
        Unicode(),
        config=True,
        help="send-notification: mail to this address "
        "(repeatable; the server's SMTP server, FlowsApp.smtp_host).",
    )
    subject = Unicode("", config=True, help="send-notification: the subject (a template).")
    body = Unicode(
        "",
        config=True,
        help="send-notification: the message (a template); for a "
        "webhook, a JSON object is the request body itself, its strings "
        "templates.",
    )
    header = List(Unicode(), config=True, help="send-notification: webhook header K=V.")
    timeout = Float(10.0, config=True, help="send-notification: seconds a webhook may take.")
    state = Unicode("", config=True, help="change-flow-run-state: the state type, e.g. CRASHED.")
    state_name = Unicode("", config=True, help="change-flow-run-state: the state's name.")
    message = Unicode("", config=True, help="change-flow-run-state: the state's message.")
    description_text = Unicode("", config=True, help="A description.")
    hours = Float(24.0, config=True, help="preview: replay the events of this many hours.")
    aliases = _aliases(
        "AutomationsApp",
        **{
            name.replace("_", "-"): f"AutomationsApp.{name}"
            for name in (
                "on",
                "match",
                "threshold",
                "within",
                "posture",
                "after",
                "for_each",
                "run",
                "pause",
                "resume",
                "param",
                "action",
                "deployment",
                "webhook",
                "webhook_secret",
                "email_to",
                "subject",
                "body",
                "header",
                "timeout",
                "state",
                "state_name",
                "message",
                "hours",
            )  # fmt: skip
        },
        description="AutomationsApp.description_text",
    )

    def start(self) -> None:
        action, *rest = self.extra_args or ["ls"]
        if action == "ls":
            for a in self.call(self.client().list_automations):
                state = "enabled" if a.enabled else "disabled"
                last = f", last {a.last_fired}" if a.last_fired else ""
                fired = f"fired {a.fired_count}x{last}"
                if a.failed_actions:
                    fired += f"; {a.failed_actions} failed, last: {a.last_error}"
                print(f"{a.name:<20} {state:<8} {describe_automation(a)}  [{fired}]")
            return
        if action == "preview":
            self._preview(rest)
            return
        if action not in ("create", "enable", "disable", "rm") or len(rest) != 1:
            self.fail(_USAGE, 2)
        name = rest[0]
        if action == "rm":
            self.call(self.client().delete_automation, name)
            print(f"removed {name}")
        elif action in ("enable", "disable"):
            update = {"enabled": action == "enable"}
            a = self.call(self.client().update_automation, name, update)
            print(f"{a.name}: {'enabled' if a.enabled else 'disabled'}")
        else:
            a = self.call(self.client().create_automation, self._create_body(name))
            print(f"automation {a.name!r} ({a.id}): {describe_automation(a)}")

    def _targets(self) -> list[tuple[str, str]]:
        return [(k, v) for k, v in (("run", self.run), ("pause", self.pause),
                                    ("resume", self.resume)) if v]  # fmt: skip

    def _preview(self, rest: list[str]) -> None:
        """What the trigger (and action, if given) would have fired on lately."""
        targets = self._targets()
        if not self.on or len(rest) > 1 or len(targets) + (self.action is not None) > 1:
            self.fail(_USAGE, 2)
        try:
            trigger = self._trigger()
            acting = targets or self.action is not None
            action = self._action(targets, _parse_params(self.param)) if acting else None
        except ValueError as exc:
            self.fail(str(exc), 2)
        body: dict[str, Any] = {"trigger": trigger, "hours": self.hours}
        if rest:
            body["name"] = rest[0]
        if action is not None:
            body["action"] = action
        reply = self.call(self.client().preview_automation, body)
        n = len(reply.firings)
        print(f"would have fired {n} time{'s' * (n != 1)} over {reply.events_seen} events "
              f"since {reply.since.isoformat(timespec='seconds')}")  # fmt: skip
        for f in reply.firings:
            event = f"{f.event} (event {f.event_id})" if f.event_id is not None else "-"
            print(f"{f.at.isoformat(timespec='seconds')}  {event}  {f.reason}")

    def _trigger(self) -> dict[str, Any]:
        match = _parse_params(self.match, "--match")
        trigger: dict[str, Any] = {"event": self.on, "match": match, "threshold": self.threshold}
        if self.within:
            trigger["within_seconds"] = self.within
        if self.posture != "Reactive":
            trigger["posture"] = "Proactive"
        if self.after:
            trigger["after"] = list(self.after)
        if self.for_each:
            trigger["for_each"] = list(self.for_each)
        return trigger

    def _create_body(self, name: str) -> dict[str, Any]:
        targets = self._targets()
        if not self.on or len(targets) + (self.action is not None) != 1:
            self.fail("create needs --on EVENT and one of --run, --pause, --resume DEPLOYMENT "
                      "or --action TYPE", 2)  # fmt: skip
        try:
            trigger = self._trigger()
            action = self._action(targets, _parse_params(self.param))
        except ValueError as exc:
            self.fail(str(exc), 2)
        body = {"name": name, "trigger": trigger, "action": action}
        if self.description_text:
            body["description"] = self.description_text
        return body

    def _action(self, targets: list[tuple[str, str]], params: dict[str, Any]) -> dict[str, Any]:
        if targets:
            verb, deployment = targets[0]
            kind = f"{verb}-deployment"
        else:
            kind, deployment = str(self.action), self.deployment
        action: dict[str, Any] = {"type": kind}
        if kind.endswith("-deployment"):
            if not deployment:
                raise ValueError(f"--action {kind} needs --deployment NAME")
            action["deployment"] = deployment
            if params:
                action["parameters"] = params
        elif kind == "change-flow-run-state":
            if not self.state:
                raise ValueError("--action change-flow-run-state needs --state TYPE")
            action["state"] = self.state.upper()
            action.update({k: v for k, v in (("name", self.state_name),
                                              ("message", self.message)) if v})  # fmt: skip
        elif kind == "send-notification":
            action.update(self._notification())
        return action

    def _notification(self) -> dict[str, Any]:
        given = [x for x in (self.webhook, self.webhook_secret, self.email_to) if x]
        if len(given) != 1:
            raise ValueError("send-notification needs one of --webhook URL, --webhook-secret "
                             "NAME, --email-to ADDRESS")  # fmt: skip
        out: dict[str, Any] = {}
        if self.subject:
            out["subject"] = self.subject
        if self.email_to:
            out["email"] = {"to": list(self.email_to)}
            if self.body:
                out["body"] = self.body
            return out
        hook: dict[str, Any] = {"timeout_seconds": self.timeout}
        hook["url" if self.webhook else "url_secret"] = self.webhook or self.webhook_secret
        if self.header:
            hook["headers"] = {k: str(v) for k, v in _parse_params(self.header, "--header").items()}
        if self.body:
            try:
                payload = json.loads(self.body)
            except ValueError:
                payload = None
            if isinstance(payload, dict):
                hook["payload"] = payload
            else:
                out["body"] = self.body
        out["webhook"] = hook
        return out


class EventsApp(_ServerApp):
    """``jupyter flows events ls [--event GLOB]`` | ``jupyter flows events emit NAME``."""

    name = "jupyter-flows-events"
    description = "List recent events, or emit one (automations that match it fire)."
    examples = """jupyter flows events ls --event 'flow-run.*' --limit 20
jupyter flows events emit upload.done --payload '{"path": "s3://raw/2026-11-29.csv"}'
"""
    event = Unicode("", config=True, help="ls: only events named like this (a glob).")
    limit = Int(20, config=True, help="ls: how many events (newest first).")
    payload = Unicode("{}", config=True, help="emit: the payload, a JSON object.")
    resource = Unicode("", config=True, help="emit: what the event is about.")
    aliases = _aliases(
        "EventsApp",
        event="EventsApp.event",
        limit="EventsApp.limit",
        payload="EventsApp.payload",
        resource="EventsApp.resource",
    )

    def start(self) -> None:
        action, *rest = self.extra_args or ["ls"]
        if action == "ls" and not rest:
            events = self.call(self.client().list_events, self.event or None, self.limit)
            for e in reversed(events):
                payload = json.dumps(e.payload, default=str)
                print(f"{e.occurred}  {e.event:<24} {e.resource or '-'}  {payload}")
            return
        if action != "emit" or len(rest) != 1:
            self.fail(
                "usage: jupyter flows events ls [--event GLOB] | emit NAME [--payload JSON]", 2
            )
        try:
            payload = json.loads(self.payload)
        except ValueError as exc:
            self.fail(f"--payload is not JSON: {exc}", 2)
        if not isinstance(payload, dict):
            self.fail("--payload must be a JSON object", 2)
        body: dict[str, Any] = {"event": rest[0], "payload": payload}
        if self.resource:
            body["resource"] = self.resource
        e = self.call(self.client().emit_event, body)
        print(f"event {e.id} {e.event}")
