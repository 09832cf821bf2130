"""``run_deployment``: start a run of a deployment and (by default) wait for it to end."""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any

__all__ = ["run_deployment"]


def _deployment_name(name: Any) -> str:
    """Prefect's ``"flow-name/deployment-name"`` (or a bare name or id) -> what we look up."""
    text = str(name)
    return text.rsplit("/", 1)[-1] if "/" in text else text


def run_deployment(
    name: Any,
    parameters: dict[str, Any] | None = None,
    scheduled_time: datetime | None = None,
    timeout: float | None = None,
    poll_interval: float = 1.0,
    tags: list[str] | None = None,
    job_variables: dict[str, Any] | None = None,
    **unsupported: Any,
) -> Any:
    """Create a run of deployment ``name`` (``"flow/deployment"``, a name or an id) with
    ``parameters``; a worker of its pool (or ``serve``) runs it. Waits until it ends, or
    ``timeout`` seconds (``0``: returns at once); returns the run (``DescribeFlowRun``: its
    ``.state`` is the state it is in). ``job_variables`` override the deployment's (the
    variables of its pool's base job template).

    Goes to the run database of this process (the default one, or ``JUPYTER_FLOWS_DB_URL``).
    """
    from ..orchestration.schemas import CreateDeploymentRun
    from ..orchestration.service import OrchestrationService
    from ..store.api import read_flow_run, read_state_type, run_store

    if unsupported:
        raise TypeError(
            f"run_deployment: not supported here: {', '.join(sorted(unsupported))} "
            "(see the README's 'Coming from Prefect' table)"
        )
    from pathlib import Path

    root = Path.cwd()
    service = OrchestrationService(run_store().engine, root, root / ".jupyter-flows-outputs")
    deployment = service.read_deployment(_deployment_name(name))
    if scheduled_time is not None:
        if parameters or tags or job_variables:
            raise ValueError(
                "run_deployment: scheduled_time takes no parameters, tags or job_variables here"
            )
        made = service.create_scheduled_run(deployment.id, scheduled_time)
        if made is None:
            raise ValueError(f"scheduled_time: a run of {deployment.name!r} at it exists")
        run_id = made
    else:
        body = CreateDeploymentRun(
            parameters=parameters or {}, tags=tags or [], job_variables=job_variables or {}
        )
        run_id = service.run_deployment(deployment.id, body).id
    deadline = None if timeout is None else time.monotonic() + timeout
    from ..core.state_policy import FINAL_VALUES as final

    while deadline is None or time.monotonic() < deadline:
        if read_state_type(run_id) in final:
            break
        remaining = (
            poll_interval if deadline is None else min(poll_interval, deadline - time.monotonic())
        )
        if remaining > 0:
            time.sleep(remaining)
    return read_flow_run(run_id)
