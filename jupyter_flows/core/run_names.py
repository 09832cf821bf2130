"""Run names from ``flow_run_name=`` / ``task_run_name=``: a format string or a callable."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from ..exceptions import FlowDefinitionError

__all__ = ["format_run_name"]


def format_run_name(
    template: str | Callable[..., str], parameters: dict[str, Any], owner: str
) -> str:
    """``"{name}-on-{date:%A}"`` formatted with the parameters, or the callable's return value.

    A callable may take one argument named ``parameters``; otherwise it is called without any
    (it can read ``jupyter_flows.runtime``).
    """
    if callable(template):
        try:
            wants = "parameters" in inspect.signature(template).parameters
        except (TypeError, ValueError):
            wants = False
        name = template(parameters) if wants else template()
        if not isinstance(name, str):
            raise FlowDefinitionError(
                f"{owner}: the run name callable returned {name!r}, not a str"
            )
        return name
    try:
        return template.format(**parameters)
    except (KeyError, IndexError, ValueError, AttributeError) as exc:
        raise FlowDefinitionError(
            f"{owner}: run name {template!r} cannot be formatted with parameters "
            f"{sorted(parameters)}: {type(exc).__name__}: {exc}"
        ) from exc
