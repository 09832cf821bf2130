"""What the three runtime modules share: overrides, the handed-over run, the server's URL."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

from ..core.context import FlowRunContext
from ..core.run_environment import RunEnvironment

__all__ = ["attribute", "handed_over", "deployment_run", "api_url"]

logger = logging.getLogger(__name__)

API_PATH = "/jupyter-flows/api/"


def _cast(real: Any, raw: str) -> Any:
    """``raw`` (an override variable's text) as the type of the value it replaces."""
    if real is None or isinstance(real, str):
        return raw
    if isinstance(real, bool):
        return raw.strip().lower() == "true"
    if isinstance(real, int | float):
        return type(real)(raw)
    if isinstance(real, datetime):
        when = datetime.fromisoformat(raw)
        return when if when.tzinfo is not None else when.replace(tzinfo=timezone.utc)
    raise ValueError(
        f"a {type(real).__name__} runtime attribute cannot be overridden with an environment "
        "variable (only str, bool, int, float and datetime ones); use monkeypatch instead"
    )


def attribute(module: str, fields: dict[str, Callable[[], Any]], name: str) -> Any:
    """The runtime attribute ``name`` of ``jupyter_flows.runtime.<module>``: what
    ``fields[name]`` answers, unless ``$JUPYTER_FLOWS__RUNTIME__<MODULE>__<NAME>`` overrides
    it (cast to the type of the real value). An override of an unknown name is its text."""
    override = RunEnvironment.runtime_override(module, name)
    getter = fields.get(name)
    if getter is None:
        if override is not None:
            return override
        raise AttributeError(f"module 'jupyter_flows.runtime.{module}' has no attribute {name!r}")
    real = getter()
    return real if override is None else _cast(real, override)


def handed_over(context: FlowRunContext | None) -> RunEnvironment | None:
    """The environment a worker gave this process, if it describes ``context``'s flow run
    (or, outside any run, whatever it describes); else ``None``.

    A notebook's kernel reads the run id once and drops it from its environment (its
    processes must not record into the run): there a root flow run with a deployment in the
    environment is that run.
    """
    env = RunEnvironment.current()
    if context is None:
        return env
    run = context.flow_run
    if env.flow_run_id is not None:
        return env if env.flow_run_id == run.id else None
    if env.deployment_id and context.parent is None and run.parent_flow_run_id is None:
        return env
    return None


def deployment_run(context: FlowRunContext | None) -> tuple[str | None, str | None]:
    """``(flow run id, deployment id)`` of the deployment run this code runs in (the root of
    ``context``'s chain of flow runs, or the process's run), ``(None, None)`` if none."""
    root = context.root if context is not None else None
    if root is not None and root.flow_run.deployment_id:
        return root.flow_run.id, root.flow_run.deployment_id
    env = handed_over(root)
    if env is None or not env.deployment_id:
        return None, None
    run_id = root.flow_run.id if root is not None else env.flow_run_id
    return run_id, env.deployment_id


def api_url(path: str) -> str | None:
    """``<server>/jupyter-flows/api/<path>`` for the server this process records through or
    talks to (``None`` when it knows none: a run recording straight into a database)."""
    env = RunEnvironment.current()
    server = env.url or env.record_url
    if not server:
        return None
    return server.rstrip("/") + API_PATH + path
