"""``jupyter_flows.deploy(...)``: create a deployment on a running server, from Python."""

from __future__ import annotations

import inspect
import logging
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..core.flows import Flow
from ..exceptions import FlowDefinitionError
from ..orchestration.schemas import EventTrigger

if TYPE_CHECKING:
    from .http import FlowsClient

__all__ = ["deploy", "entrypoint_of", "server_client", "upload_entrypoint"]

logger = logging.getLogger(__name__)


def entrypoint_of(target: Flow[..., Any] | str, root_dir: Path | None = None) -> str:
    """``package.module:flow``, ``path/file.py:flow`` (relative to the server root), or a
    notebook path as given."""
    if isinstance(target, str):
        return target
    fn = target.fn
    module = getattr(fn, "__module__", "__main__")
    name = getattr(fn, "__name__", "")
    if module not in ("__main__", "builtins") and not module.startswith("jupyter_flows_entry"):
        return f"{module}:{name}"
    source = inspect.getsourcefile(fn)
    if not source or not os.path.exists(source):
        raise FlowDefinitionError(
            f"flow {target.name!r} is defined in a notebook or REPL: deploy the notebook itself "
            "(%flow deploy) or move the flow into a .py file"
        )
    root = (root_dir or Path.cwd()).resolve()
    path = Path(source).resolve()
    rel = path.relative_to(root) if root in path.parents else path
    return f"{rel}:{name}"


def server_client(url: str | None = None, token: str | None = None) -> FlowsClient:
    """A client of ``url`` (default: ``$JUPYTER_FLOWS_URL`` or a running server)."""
    from .discovery import server_address
    from .http import FlowsClient

    url, token = server_address(url, token)
    if not url:
        raise FlowDefinitionError("no running Jupyter server found: pass url= and token=")
    return FlowsClient(url, token or "")


def upload_entrypoint(
    client: FlowsClient, entrypoint: str, root_dir: Path | None = None
) -> dict[str, Any]:
    """Upload ``entrypoint``'s files found here; the deployment fields that name them
    (``entrypoint`` within the bundle, ``source_digest``), or ``{}`` if none are here."""
    from .bundles import local_source

    local = local_source(entrypoint, root_dir)
    if local is None:
        logger.info("%s is not a file here: deployed by its path on the server", entrypoint)
        return {}
    digest = client.upload_source(local.bundle)
    logger.info("uploaded %s from %s as source bundle %s", local.entrypoint, local.root, digest)
    return {"entrypoint": local.entrypoint, "source_digest": digest}


def deploy(
    target: Flow[..., Any] | str,
    name: str,
    *,
    cron: str | None = None,
    interval: float | None = None,
    timezone: str = "UTC",
    parameters: dict[str, Any] | None = None,
    work_pool: str = "default",
    tags: list[str] | None = None,
    description: str | None = None,
    version: str | None = None,
    schedules: list[dict[str, Any]] | None = None,
    paused: bool = False,
    triggers: list[dict[str, Any]] | None = None,
    job_variables: dict[str, Any] | None = None,
    url: str | None = None,
    token: str | None = None,
    root_dir: Path | None = None,
    upload: bool = True,
) -> dict[str, Any]:
    """Create a deployment of a flow (or a notebook path) on the server; returns it.

    ``jupyter_flows.deploy(etl, "nightly", cron="0 6 * * *", parameters={"n": 5})``

    ``triggers`` run it when events happen, as Prefect's deployment triggers do: each is an
    automation trigger (``{"event": "flow-run.Completed", "match": {"deployment": "extract"}}``,
    optionally ``threshold``, ``within_seconds``) plus optional run ``parameters``
    (``"{{ event.KEY }}"`` takes a value of the event). They become automations named
    ``<name>-trigger-1``, ``-2``... ``schedules`` are more ``ScheduleSpec`` dicts (what
    ``jupyter_flows.schedules`` makes: ``Cron(...).spec()``). ``job_variables`` override the
    variables of the work pool's base job template (``{"env": {"MODE": "prod"}}``).

    ``upload`` (default): the entrypoint's files found here (the notebook, the ``.py`` file
    or its top-level package: ``client.bundles``) are uploaded as a source bundle, which
    remote workers fetch; the entrypoint is then relative to the bundle's root. An
    entrypoint not found here, or ``upload=False``, names a path on the server as before.
    """
    schedules = list(schedules or [])
    if cron:
        schedules.append({"cron": cron, "timezone": timezone})
    if interval:
        schedules.append({"interval_seconds": interval})
    body: dict[str, Any] = {
        "name": name,
        "entrypoint": entrypoint_of(target, root_dir),
        "parameters": parameters or {},
        "schedules": schedules,
        "work_pool": work_pool,
        "tags": tags or [],
        "description": description,
        "version": version,
        "paused": paused,
        "job_variables": job_variables or {},
    }
    checked = []  # bad triggers fail here, before the deployment exists
    for trigger in triggers or []:
        when = {k: v for k, v in trigger.items() if k != "parameters"}
        EventTrigger.model_validate(when)
        checked.append((when, trigger.get("parameters") or {}))
    client = server_client(url, token)
    if upload:
        body.update(upload_entrypoint(client, body["entrypoint"], root_dir))
    created = client.create_deployment(body).model_dump(mode="json")
    for i, (when, params) in enumerate(checked, start=1):
        action = {"type": "run-deployment", "deployment": created["id"], "parameters": params}
        automation = {"name": f"{name}-trigger-{i}", "trigger": when, "action": action}
        made = client.create_automation(automation).model_dump(mode="json")
        created.setdefault("triggers", []).append(made)
    return created
