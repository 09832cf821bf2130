"""The current flow run's attributes, read as module attributes (Prefect's
``prefect.runtime.flow_run``): ``from jupyter_flows.runtime import flow_run; flow_run.name``.

Inside a flow run (or a task run of one) they come from its run context; in a process a
worker started for a deployment's run, from what the worker handed it (``RunEnvironment``);
elsewhere they are empty (``None``, ``[]``, ``{}``, ``0``; ``scheduled_start_time`` is now).
``$JUPYTER_FLOWS__RUNTIME__FLOW_RUN__<NAME>`` overrides an attribute (for tests), cast to the
type of its real value.

Attributes: ``id``, ``name``, ``flow_name``, ``flow_version``, ``parameters``, ``tags``,
``scheduled_start_time`` (a deployment run's scheduled time; an interactive run's start),
``run_count``, ``parent_flow_run_id``, ``parent_deployment_id``, ``root_flow_run_id``,
``deployment_id``, ``job_variables`` (always empty here), ``api_url`` (the run on the REST
API) and ``ui_url`` (its report), both ``None`` when the process knows no server.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from ..core.context import FlowRunContext, TaskRunContext
from ..core.run_environment import RunEnvironment
from ._common import api_url as _api_url
from ._common import attribute, deployment_run, handed_over


def __getattr__(name: str) -> Any:
    return attribute("flow_run", FIELDS, name)


def __dir__() -> list[str]:
    return sorted(__all__)


def _env() -> RunEnvironment | None:
    """What the worker handed over about the current flow run (``None``: not this one)."""
    return handed_over(FlowRunContext.get())


def get_id() -> str | None:
    context = FlowRunContext.get()
    if context is not None:
        return context.flow_run.id
    task = TaskRunContext.get()
    if task is not None:
        return task.task_run.flow_run_id
    return RunEnvironment.current().flow_run_id


def get_name() -> str | None:
    env, context = _env(), FlowRunContext.get()
    if env is not None and env.flow_run_name:
        return env.flow_run_name
    return context.flow_run.name if context is not None else None


def get_flow_name() -> str | None:
    env, context = _env(), FlowRunContext.get()
    if context is not None:
        return context.flow.name
    return env.flow_name if env is not None else None


def get_flow_version() -> str | None:
    context = FlowRunContext.get()
    return context.flow.version if context is not None else None


def get_parameters() -> dict[str, Any]:
    context = FlowRunContext.get()
    if context is not None:
        return context.parameters
    env = RunEnvironment.current()
    return dict(env.parameters or {})


def get_tags() -> list[str]:
    env, context = _env(), FlowRunContext.get()
    if env is not None and env.tags is not None:
        return list(env.tags)
    return list(context.flow_run.tags) if context is not None else []


def get_scheduled_start_time() -> datetime:
    env, context = _env(), FlowRunContext.get()
    if env is not None and env.scheduled_start_time is not None:
        return env.scheduled_start_time
    if context is not None:
        return context.flow_run.created
    return datetime.now(timezone.utc)


def get_run_count() -> int:
    context = FlowRunContext.get()
    return context.run_count if context is not None else 0


def get_parent_flow_run_id() -> str | None:
    context = FlowRunContext.get()
    return context.flow_run.parent_flow_run_id if context is not None else None


def _deployment_of(context: FlowRunContext) -> str | None:
    if context.flow_run.deployment_id:
        return context.flow_run.deployment_id
    env = handed_over(context)
    return env.deployment_id if env is not None else None


def get_deployment_id() -> str | None:
    context = FlowRunContext.get()
    if context is not None:
        return _deployment_of(context)
    return deployment_run(None)[1]


def get_parent_deployment_id() -> str | None:
    context = FlowRunContext.get()
    if context is None or context.parent is None:
        return None
    return _deployment_of(context.parent)


def get_root_flow_run_id() -> str | None:
    context = FlowRunContext.get()
    if context is None:
        return get_id()
    root = context.root
    if root.flow_run.parent_flow_run_id is not None:  # its parent runs in another process
        return root.flow_run.parent_flow_run_id
    return root.flow_run.id


def get_job_variables() -> dict[str, Any]:
    return {}


def get_flow_run_api_url() -> str | None:
    run_id = get_id()
    return _api_url(f"flow_runs/{run_id}") if run_id else None


def get_flow_run_ui_url() -> str | None:
    run_id = get_id()
    return _api_url(f"flow_runs/{run_id}/report") if run_id else None


FIELDS = {
    "id": get_id,
    "name": get_name,
    "flow_name": get_flow_name,
    "flow_version": get_flow_version,
    "parameters": get_parameters,
    "tags": get_tags,
    "scheduled_start_time": get_scheduled_start_time,
    "run_count": get_run_count,
    "parent_flow_run_id": get_parent_flow_run_id,
    "parent_deployment_id": get_parent_deployment_id,
    "root_flow_run_id": get_root_flow_run_id,
    "deployment_id": get_deployment_id,
    "job_variables": get_job_variables,
    "api_url": get_flow_run_api_url,
    "ui_url": get_flow_run_ui_url,
}

#: the attributes (each computed by ``__getattr__`` when read)
__all__ = list(FIELDS)
