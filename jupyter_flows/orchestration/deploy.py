"""``jupyter_flows.deploy(...)``: create a deployment on a running server, from Python."""

from __future__ import annotations

import inspect
import os
from pathlib import Path
from typing import Any

from ..core.flows import Flow
from ..exceptions import FlowDefinitionError

__all__ = ["deploy", "entrypoint_of", "server_client"]


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


def server_client(url: str | None = None, token: str | None = None) -> Any:
    """An HTTP client for ``url`` (default: ``$JUPYTER_FLOWS_URL`` or a running server)."""
    from ..cli.worker import _discover
    from ..workers.clients import HttpClient

    url = url or os.environ.get("JUPYTER_FLOWS_URL")
    token = token or os.environ.get("JUPYTER_FLOWS_TOKEN")
    if not url:
        url, found = _discover()
        token = token or found
    if not url:
        raise FlowDefinitionError("no running Jupyter server found: pass url= and token=")
    return HttpClient(url, token or "")


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
    url: str | None = None,
    token: str | None = None,
    root_dir: Path | None = None,
) -> dict[str, Any]:
    """Create a deployment of a flow (or a notebook path) on the server; returns it.

    ``jupyter_flows.deploy(etl, "nightly", cron="0 6 * * *", parameters={"n": 5})``
    """
    schedules: list[dict[str, Any]] = []
    if cron:
        schedules.append({"cron": cron, "timezone": timezone})
    if interval:
        schedules.append({"interval_seconds": interval})
    body = {
        "name": name,
        "entrypoint": entrypoint_of(target, root_dir),
        "parameters": parameters or {},
        "schedules": schedules,
        "work_pool": work_pool,
        "tags": tags or [],
        "description": description,
    }
    created: dict[str, Any] = server_client(url, token)._call("POST", "deployments", body)
    return created
