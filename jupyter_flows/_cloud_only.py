"""Prefect's public names that cannot exist here, in one table, and the error they raise.

Prefect Cloud's client, workspaces and webhooks, and the client of Prefect's own API server,
have no counterpart: jupyter-flows has no cloud and no API server of its own. Its runs live
in a database you read with ``read_flow_runs`` / ``read_flow_run``, and a Jupyter server
serves them over a REST API (``/jupyter-flows/api/``, client:
``jupyter_flows.client.http.FlowsClient``). A module that Prefect code imports such a name
from answers it with ``__getattr__`` (``unavailable``), raising an ``ImportError`` that says
what to use instead.
"""

from __future__ import annotations

__all__ = ["UNAVAILABLE", "unavailable", "CloudOnlyImportError"]

_CLOUD = (
    "jupyter-flows has no Prefect Cloud (accounts, workspaces, webhooks, API keys): its runs "
    "are in your run database and its API is the Jupyter server's "
    "(/jupyter-flows/api/, client: jupyter_flows.client.http.FlowsClient)"
)
_CLIENT = (
    "jupyter-flows has no Prefect API server to open a client on: read runs with "
    "jupyter_flows.read_flow_runs() / read_flow_run(), and talk to a Jupyter server's "
    "/jupyter-flows/api/ with jupyter_flows.client.http.FlowsClient (or the REST API)"
)

#: module -> {Prefect's name there: why it is not here, and what to use instead}
UNAVAILABLE: dict[str, dict[str, str]] = {
    "jupyter_flows.client.cloud": {
        "get_cloud_client": _CLOUD,
        "CloudClient": _CLOUD,
        "CloudUnauthorizedError": _CLOUD,
    },
    "jupyter_flows.client.orchestration": {
        "PrefectClient": _CLIENT,
        "SyncPrefectClient": _CLIENT,
    },
}


class CloudOnlyImportError(ImportError):
    """A name of Prefect's that has no counterpart in jupyter-flows."""


def unavailable(module: str, name: str) -> ImportError | AttributeError:
    """What a module's ``__getattr__`` raises for ``name``: a ``CloudOnlyImportError`` if the
    table lists it for ``module``, else the usual ``AttributeError``."""
    reason = UNAVAILABLE.get(module, {}).get(name)
    if reason is None:
        return AttributeError(f"module {module!r} has no attribute {name!r}")
    return CloudOnlyImportError(
        f"{module}.{name} (Prefect's) does not exist in jupyter-flows: {reason}", name=name
    )
