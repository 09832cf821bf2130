"""The current deployment run's deployment, read as module attributes (Prefect's
``prefect.runtime.deployment``): ``from jupyter_flows.runtime import deployment``.

Known in a process a worker started for a deployment's run (and in the flow and task runs
of it); elsewhere the attributes are empty (``None``, ``{}``).
``$JUPYTER_FLOWS__RUNTIME__DEPLOYMENT__<NAME>`` overrides an attribute (for tests).

Attributes: ``id``, ``name``, ``version``, ``flow_run_id`` (the deployment's flow run this
code runs in) and ``parameters`` (that run's parameters: the deployment's, with those the
run was started with).
"""

from __future__ import annotations

from typing import Any

from ..core.context import FlowRunContext
from ._common import attribute, deployment_run, handed_over


def __getattr__(name: str) -> Any:
    return attribute("deployment", FIELDS, name)


def __dir__() -> list[str]:
    return sorted(__all__)


def get_id() -> str | None:
    return deployment_run(FlowRunContext.get())[1]


def get_flow_run_id() -> str | None:
    return deployment_run(FlowRunContext.get())[0]


def _handed_over_deployment() -> Any:
    """The worker's environment, if it describes this code's deployment run."""
    context = FlowRunContext.get()
    deployment_id = deployment_run(context)[1]
    env = handed_over(context.root if context is not None else None)
    if env is None or deployment_id is None or env.deployment_id != deployment_id:
        return None
    return env


def get_name() -> str | None:
    env = _handed_over_deployment()
    return env.deployment_name if env is not None else None


def get_version() -> str | None:
    env = _handed_over_deployment()
    return env.deployment_version if env is not None else None


def get_parameters() -> dict[str, Any]:
    env = _handed_over_deployment()
    if env is not None and env.parameters is not None:
        return dict(env.parameters)
    context = FlowRunContext.get()
    root = context.root if context is not None else None
    if root is not None and get_id() is not None:
        return dict(root.flow_run.parameters)
    return {}


FIELDS = {
    "id": get_id,
    "name": get_name,
    "version": get_version,
    "flow_run_id": get_flow_run_id,
    "parameters": get_parameters,
}

#: the attributes (each computed by ``__getattr__`` when read)
__all__ = list(FIELDS)
