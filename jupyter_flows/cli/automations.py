"""``jupyter flows automations ...`` and ``jupyter flows events ...``: over a server's REST API."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from traitlets import Float, Int, List, Unicode

from .orchestration import _aliases, _parse_params, _ServerApp

if TYPE_CHECKING:
    from ..orchestration.schemas import DescribeAutomation

__all__ = ["AutomationsApp", "EventsApp", "describe_automation"]

_USAGE = (
    "usage: jupyter flows automations ls | create NAME --on EVENT "
    "(--run|--pause|--resume DEPLOYMENT) | enable NAME | disable NAME | rm NAME"
)


def describe_automation(a: DescribeAutomation) -> str:
    """``when flow-run.Completed (deployment=up) -> run down`` on one line."""
    trigger, action = a.trigger, a.action
    match = ", ".join(f"{k}={v}" for k, v in trigger.match.items())
    when = f"when {trigger.event}" + (f" ({match})" if match else "")
    if trigger.threshold > 1:
        within = trigger.within_seconds
        when += f" x{trigger.threshold}" + (f" within {within:g}s" if within else "")
    verb = action.type.split("-")[0]
    return f"{when} -> {verb} {action.deployment}"


class AutomationsApp(_ServerApp):
    """List, create, enable, disable or remove automations."""

    name = "jupyter-flows-automations"
    description = (
        "Automations: when events match (a flow run's state, or an event you emit), "
        "run, pause or resume a deployment."
    )
    examples = """jupyter flows automations ls
jupyter flows automations create chain --on flow-run.Completed --match deployment=extract --run report
jupyter flows automations create breaker --on flow-run.Failed --match deployment=load --threshold 3 --within 600 --pause load
jupyter flows automations create on-upload --on upload.done --run refresh --param "path={{ event.path }}"
jupyter flows automations disable chain
"""  # noqa: E501
    on = Unicode("", config=True, help="Event name or glob to react to, e.g. flow-run.Failed.")
    match = List(Unicode(), config=True, help="Payload key=value the event must have (repeatable).")
    threshold = Int(1, config=True, help="Fire on this many matching events.")
    within = Float(0.0, config=True, help="...counted within this many seconds (0: any time).")
    run = Unicode("", config=True, help="Run this deployment.")
    pause = Unicode("", config=True, help="Pause this deployment.")
    resume = Unicode("", config=True, help="Resume this deployment.")
    param = List(Unicode(), config=True, help="Run parameter key=value; '{{ event.KEY }}' ok.")
    description_text = Unicode("", config=True, help="A description.")
    aliases = _aliases(
        "AutomationsApp",
        on="AutomationsApp.on",
        match="AutomationsApp.match",
        threshold="AutomationsApp.threshold",
        within="AutomationsApp.within",
        run="AutomationsApp.run",
        pause="AutomationsApp.pause",
        resume="AutomationsApp.resume",
        param="AutomationsApp.param",
        description="AutomationsApp.description_text",
    )

    def start(self) -> None:
        action, *rest = self.extra_args or ["ls"]
        if action == "ls":
            for a in self.call(self.client().list_automations):
                state = "enabled" if a.enabled else "disabled"
                last = f", last {a.last_fired}" if a.last_fired else ""
                fired = f"fired {a.fired_count}x{last}"
                print(f"{a.name:<20} {state:<8} {describe_automation(a)}  [{fired}]")
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

    def _create_body(self, name: str) -> dict[str, Any]:
        targets = [(k, v) for k, v in (("run", self.run), ("pause", self.pause),
                                       ("resume", self.resume)) if v]  # fmt: skip
        if not self.on or len(targets) != 1:
            self.fail("create needs --on EVENT and one of --run, --pause, --resume DEPLOYMENT", 2)
        try:
            match = _parse_params(self.match, "--match")
            params = _parse_params(self.param)
        except ValueError as exc:
            self.fail(str(exc), 2)
        trigger: dict[str, Any] = {"event": self.on, "match": match, "threshold": self.threshold}
        if self.within:
            trigger["within_seconds"] = self.within
        verb, deployment = targets[0]
        action: dict[str, Any] = {"type": f"{verb}-deployment", "deployment": deployment}
        if params:
            action["parameters"] = params
        body = {"name": name, "trigger": trigger, "action": action}
        if self.description_text:
            body["description"] = self.description_text
        return body


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
