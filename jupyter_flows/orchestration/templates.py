"""Templates of automation actions: Jinja's syntax in a sandbox, as Prefect's.

``{{ flow_run.name }}``, ``{% for label, value in event.resource.items() %}``: a template
sees the event, its flow run, deployment and task run (``action_context``) and the
automation, and nothing else. The sandbox refuses attribute tricks (``__class__``...), and
a rendered text is capped. ``{{ event.KEY }}`` alone in a run parameter keeps the payload
value's JSON type (``fill_parameters``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

__all__ = [
    "Labels",
    "check_templates",
    "render",
    "render_json",
    "fill_parameters",
    "MAX_RENDERED",
]

#: a rendered text longer than this is cut (a notification, not a report)
MAX_RENDERED = 64 * 1024
_PLACEHOLDER = re.compile(r"\{\{\s*event\.([A-Za-z0-9_]+)\s*\}\}")


class Labels:
    """A resource's labels in a template, as Prefect's: ``.id``, ``.name``, ``.role``,
    ``["label"]``, and ``{% for label, value in event.resource %}``."""

    def __init__(self, labels: Mapping[str, str]) -> None:
        self._labels = dict(labels)

    def __getitem__(self, label: str) -> str:
        return self._labels[label]

    def __len__(self) -> int:
        return len(self._labels)

    def __iter__(self) -> Any:
        return iter(self._labels.items())  # (label, value) pairs, as Prefect's

    def __str__(self) -> str:
        return str(self._labels)

    def __contains__(self, label: object) -> bool:
        return label in self._labels

    def get(self, label: str, default: str | None = None) -> str | None:
        return self._labels.get(label, default)

    def items(self) -> Any:
        return self._labels.items()

    def keys(self) -> Any:
        return self._labels.keys()

    @property
    def id(self) -> str:
        return self._labels.get("prefect.resource.id", "")

    @property
    def name(self) -> str | None:
        return self._labels.get("prefect.resource.name")

    @property
    def role(self) -> str | None:
        return self._labels.get("prefect.resource.role")


@lru_cache(maxsize=2)
def _environment(strict: bool) -> Any:
    from jinja2 import ChainableUndefined, StrictUndefined
    from jinja2.sandbox import SandboxedEnvironment

    env = SandboxedEnvironment(
        undefined=StrictUndefined if strict else ChainableUndefined,
        autoescape=False,
        cache_size=256,
    )
    env.filters["ui_url"] = lambda obj: (obj or {}).get("url") if isinstance(obj, Mapping) else ""
    return env


def _is_template(text: str) -> bool:
    return "{{" in text or "{%" in text


def check_templates(value: Any, where: str) -> None:
    """``ValueError`` naming the field of the first string in ``value`` that is not a valid
    template (``where.key.0: template error: ...``)."""
    from jinja2 import TemplateSyntaxError

    stack: list[tuple[str, Any]] = [(where, value)]
    while stack:
        path, item = stack.pop()
        if isinstance(item, Mapping):
            stack.extend((f"{path}.{k}" if path else str(k), v) for k, v in item.items())
        elif isinstance(item, list):
            stack.extend((f"{path}.{i}", v) for i, v in enumerate(item))
        elif isinstance(item, str) and _is_template(item):
            try:
                _environment(False).parse(item)
            except TemplateSyntaxError as exc:
                problem = f"{path}: template error: {exc.message} (line {exc.lineno})"
                raise ValueError(problem) from None


def render(template: str, context: Mapping[str, Any], strict: bool = False) -> str:
    """``template`` rendered with ``context`` (an undefined name, or an attribute of one, is
    empty unless ``strict``); ``ValueError`` if it cannot be."""
    if not _is_template(template):
        return template
    from jinja2 import TemplateError

    try:
        text = _environment(strict).from_string(template).render(**context)
    except TemplateError as exc:
        raise ValueError(f"template {template[:60]!r}: {exc}") from None
    return text[:MAX_RENDERED]


def render_json(value: Any, context: Mapping[str, Any]) -> Any:
    """``value`` (a JSON value) with every string in it rendered."""
    if isinstance(value, str):
        return render(value, context)
    if isinstance(value, Mapping):
        return {k: render_json(v, context) for k, v in value.items()}
    if isinstance(value, list):
        return [render_json(v, context) for v in value]
    return value


def fill_parameters(
    parameters: Mapping[str, Any],
    payload: Mapping[str, Any],
    context: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """``parameters`` with ``{{ event.KEY }}`` placeholders filled from the event's payload.

    A value that is only a placeholder takes the payload value as it is (a number stays a
    number); placeholders inside a longer string are formatted into it. Other templates are
    rendered (strictly: an unknown name is an error) with ``context``.
    """
    filled = {}
    for name, value in parameters.items():
        if not isinstance(value, str) or not _is_template(value):
            filled[name] = value
            continue
        keys = _PLACEHOLDER.findall(value)
        rest = _PLACEHOLDER.sub("", value)
        if keys and not _is_template(rest):
            for key in keys:
                if key not in payload:
                    raise ValueError(f"parameter {name!r}: the event has no {key!r}")
            whole = _PLACEHOLDER.fullmatch(value.strip())
            if whole:
                filled[name] = payload[whole.group(1)]
            else:
                filled[name] = _PLACEHOLDER.sub(lambda m: str(payload[m.group(1)]), value)
            continue
        try:
            filled[name] = render(value, context or {"event": payload}, strict=True)
        except ValueError as exc:
            raise ValueError(f"parameter {name!r}: {exc}") from None
    return filled
