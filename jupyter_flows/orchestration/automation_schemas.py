"""Request and response models of automations: triggers, actions, and how they are shown.

Prefect's names and shapes where they fit: a trigger's ``posture`` (``Reactive`` or
``Proactive``), ``after``, ``for_each``, ``threshold``; actions ``run-deployment``,
``pause-deployment``, ``resume-deployment``, ``cancel-flow-run``, ``suspend-flow-run``,
``change-flow-run-state``
and ``send-notification`` (to a webhook or by email). Text fields of actions are templates
(``orchestration.templates``); their syntax is checked here, their targets by the service.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    TypeAdapter,
    model_validator,
)

from ..core.states import StateType
from ..store.limits import (
    MAX_NAME_LENGTH,
    MAX_SECONDS,
    MAX_TAGS,
    JsonObject,
    Name,
    ShortText,
    Text,
    check_json_size,
    check_values,
)
from .templates import check_templates

__all__ = [
    "EventTrigger",
    "DeploymentAction",
    "CancelFlowRun",
    "SuspendFlowRun",
    "ChangeFlowRunState",
    "WebhookTarget",
    "EmailTarget",
    "SendNotification",
    "AutomationAction",
    "ACTION_ADAPTER",
    "CreateAutomation",
    "UpdateAutomation",
    "DescribeAutomation",
    "ListAutomationsResponse",
    "MIN_PROACTIVE_SECONDS",
    "PreviewAutomation",
    "AutomationFiring",
    "PreviewAutomationResponse",
]

#: Prefect's floor for the window of a proactive trigger
MIN_PROACTIVE_SECONDS = 10.0
_EVENT_NAME = r"^[A-Za-z0-9_.:*?\[\]-]+$"
_EMAIL = re.compile(r"^[^@\s<>,;]+@[^@\s<>,;]+\.[^@\s<>,;]+$")
EventGlob = Annotated[str, Field(min_length=1, max_length=200, pattern=_EVENT_NAME)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


class EventTrigger(_Model):
    """Events named like ``event`` (a glob: ``flow-run.*``) whose payload has ``match``.

    ``match`` compares payload keys with values (a list in the payload, like ``tags``, matches
    when it contains the value; ``prefect.resource.id`` is the event's resource, a glob). A
    ``Reactive`` trigger fires on the ``threshold``-th such event (with ``within_seconds``,
    only events that close together count). A ``Proactive`` one fires when fewer than
    ``threshold`` of them came within ``within_seconds`` after an ``after`` event (or, with
    no ``after``, since the automation was armed or last fired). ``for_each`` keeps a count
    per distinct value of these payload keys (``prefect.resource.id``: per resource).
    """

    event: EventGlob
    match: dict[str, Any] = Field(default_factory=dict)
    threshold: int = Field(default=1, ge=1, le=10_000)
    within_seconds: float | None = Field(default=None, gt=0)
    posture: Literal["Reactive", "Proactive"] = "Reactive"
    after: list[EventGlob] = Field(
        default_factory=list, max_length=20, description="events that start the wait"
    )
    for_each: list[ShortText] = Field(default_factory=list, max_length=10)

    @model_validator(mode="after")
    def _proactive_needs_a_window(self) -> EventTrigger:
        if self.posture == "Proactive":
            if self.within_seconds is None:
                raise ValueError("within_seconds: a Proactive trigger needs a window")
            if self.within_seconds < MIN_PROACTIVE_SECONDS:
                raise ValueError(
                    f"within_seconds: at least {MIN_PROACTIVE_SECONDS:g} for a Proactive trigger"
                )
            if self.for_each and not self.after:
                raise ValueError("for_each: a Proactive trigger counts per key after `after`")
        return self


class DeploymentAction(_Model):
    """Run, pause or resume a deployment (by id or name).

    ``parameters`` of a run may take values from the event: ``"{{ event.path }}"`` is the
    payload's ``path`` (a value that is only that keeps its JSON type); other templates see
    ``event``, ``flow_run``, ``deployment`` and ``automation``.
    """

    type: Literal["run-deployment", "pause-deployment", "resume-deployment"]
    deployment: str = Field(min_length=1)
    parameters: dict[str, Any] = Field(default_factory=dict)
    tags: list[str] = Field(default_factory=list)


class CancelFlowRun(_Model):
    """Cancel the flow run the event is about (Prefect's inferred target)."""

    type: Literal["cancel-flow-run"]


class SuspendFlowRun(_Model):
    """Suspend the event's flow run (a Running run of a deployment): its process stops, its
    slot is freed, and resuming it schedules it again (``flow_runs.suspend_flow_run``)."""

    type: Literal["suspend-flow-run"]
    timeout_seconds: float | None = Field(
        default=3600, gt=0, le=MAX_SECONDS, description="not resumed by then: Failed"
    )


class ChangeFlowRunState(_Model):
    """Propose a state to the event's flow run; the state policy may refuse it."""

    type: Literal["change-flow-run-state"]
    state: StateType
    name: ShortText | None = Field(default=None, description="default: the type, title-cased")
    message: Text | None = None


class WebhookTarget(_Model):
    """POST a JSON body to ``url`` (or the URL kept in the Secret block ``url_secret``)."""

    url: Text | None = None
    url_secret: ShortText | None = Field(default=None, description="a Secret block's name")
    headers: dict[ShortText, Text] = Field(default_factory=dict, max_length=MAX_TAGS)
    payload: JsonObject | None = Field(
        default=None,
        description='the JSON body, its strings templates (default: {"text": body})',
    )
    timeout_seconds: float = Field(default=10.0, gt=0, le=120)

    @model_validator(mode="after")
    def _one_url(self) -> WebhookTarget:
        if (self.url is None) == (self.url_secret is None):
            raise ValueError("webhook: give one of url or url_secret")
        if self.url is not None:
            check_url(self.url, "webhook.url")
        return self


class EmailTarget(_Model):
    """Mail to ``to`` through the server's SMTP server (``FlowsApp.smtp_*``)."""

    to: list[ShortText] = Field(min_length=1, max_length=MAX_TAGS)

    @model_validator(mode="after")
    def _addresses(self) -> EmailTarget:
        for i, address in enumerate(self.to):
            if not _EMAIL.match(address):
                raise ValueError(f"email.to.{i}: {address!r} is not an email address")
        return self


class SendNotification(_Model):
    """Send ``subject`` and ``body`` (templates) to a webhook or by email."""

    type: Literal["send-notification"]
    subject: Text = "jupyter-flows automated notification"
    body: Text = (
        "Flow run {{ flow_run.name }} entered state {{ flow_run.state.name }}."
        "{% if flow_run.url %} {{ flow_run.url }}{% endif %}"
    )
    webhook: WebhookTarget | None = None
    email: EmailTarget | None = None

    @model_validator(mode="after")
    def _one_target(self) -> SendNotification:
        if (self.webhook is None) == (self.email is None):
            raise ValueError("send-notification: give one of webhook or email")
        return self


ACTION_TYPES = (
    "run-deployment", "pause-deployment", "resume-deployment", "cancel-flow-run",
    "suspend-flow-run", "change-flow-run-state", "send-notification",
)  # fmt: skip
AutomationAction = Annotated[
    Annotated[DeploymentAction, Tag("deployment")]
    | Annotated[CancelFlowRun, Tag("cancel-flow-run")]
    | Annotated[SuspendFlowRun, Tag("suspend-flow-run")]
    | Annotated[ChangeFlowRunState, Tag("change-flow-run-state")]
    | Annotated[SendNotification, Tag("send-notification")],
    Discriminator(
        lambda v: _action_tag(v.get("type") if isinstance(v, dict) else getattr(v, "type", None)),
        custom_error_type="action_type",
        custom_error_message=f"type: one of {', '.join(ACTION_TYPES)}",
    ),
]
ACTION_ADAPTER: TypeAdapter[Any] = TypeAdapter(AutomationAction)


def _action_tag(kind: Any) -> str | None:
    if kind in ("run-deployment", "pause-deployment", "resume-deployment"):
        return "deployment"
    return kind if kind in ACTION_TYPES else None


def check_url(url: str, where: str) -> str:
    """``url`` if it is an absolute http(s) URL; ``ValueError`` naming ``where``."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"{where}: an http:// or https:// URL with a host, got {url[:80]!r}")
    return url


def _new_trigger(trigger: EventTrigger) -> EventTrigger:
    """A trigger as a request may give it (``store.limits``)."""
    check_values(trigger)
    check_json_size(trigger.match, "match")
    if trigger.within_seconds is not None and trigger.within_seconds > MAX_SECONDS:
        raise ValueError(f"within_seconds: at most {MAX_SECONDS:g}")
    return trigger


def _new_action(action: Any) -> Any:
    """An action as a request may give it (``store.limits``, template syntax)."""
    check_values(action)
    if isinstance(action, DeploymentAction):
        check_json_size(action.parameters, "parameters")
        if len(action.deployment) > MAX_NAME_LENGTH:
            raise ValueError(f"deployment: at most {MAX_NAME_LENGTH} characters")
        if len(action.tags) > MAX_TAGS or any(len(t) > MAX_NAME_LENGTH for t in action.tags):
            raise ValueError(f"tags: at most {MAX_TAGS} of at most {MAX_NAME_LENGTH} characters")
        check_templates(action.parameters, "parameters")
    elif isinstance(action, SendNotification):
        check_templates({"subject": action.subject, "body": action.body}, "")
        if action.webhook is not None:
            check_templates(action.webhook.payload or {}, "webhook.payload")
    elif isinstance(action, ChangeFlowRunState):
        check_templates({"message": action.message or ""}, "")
    return action


NewAction = Annotated[AutomationAction, AfterValidator(_new_action)]
NewTrigger = Annotated[EventTrigger, AfterValidator(_new_trigger)]


class CreateAutomation(_Model):
    name: Name
    description: Text | None = None
    enabled: bool = True
    trigger: NewTrigger
    action: NewAction


class UpdateAutomation(_Model):
    description: Text | None = None
    enabled: bool | None = None
    trigger: NewTrigger | None = None
    action: NewAction | None = None


class DescribeAutomation(BaseModel):
    id: str
    name: str
    description: str | None = None
    enabled: bool
    trigger: EventTrigger
    action: AutomationAction
    fired_count: int = 0
    last_fired: datetime | None = None
    failed_actions: int = Field(default=0, description="actions that failed after all attempts")
    last_error: str | None = Field(default=None, description="why the last failed action failed")
    last_error_at: datetime | None = None
    created: datetime
    updated: datetime


class ListAutomationsResponse(BaseModel):
    items: list[DescribeAutomation]


class PreviewAutomation(_Model):
    """A draft automation: what its trigger would have fired on in the last ``hours``."""

    name: Name | None = Field(default=None, description="its runs' tag is never matched")
    description: Text | None = None
    enabled: bool = True
    trigger: NewTrigger
    action: NewAction | None = Field(default=None, description="checked, never done")
    hours: float = Field(default=24, gt=0, le=168)


class AutomationFiring(BaseModel):
    at: datetime = Field(description="when it would have fired")
    event_id: int | None = Field(default=None, description="the event that fired it, if any")
    event: str | None = None
    resource: str | None = None
    payload: dict[str, Any] = Field(default_factory=dict)
    reason: str


class PreviewAutomationResponse(BaseModel):
    since: datetime
    until: datetime
    events_seen: int
    truncated: bool = Field(description="more events than are replayed: the oldest were left")
    firings: list[AutomationFiring]
