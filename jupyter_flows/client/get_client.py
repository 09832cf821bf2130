"""Prefect's ``get_client()``: the REST client of the running Jupyter server, sync
(``get_client(sync_client=True)``: a ``FlowsClient``) or async (the same calls awaited).

Example::

    from jupyter_flows import get_client

    async with get_client() as client:
        runs = await client.read_flow_runs(limit=5)

    with get_client(sync_client=True) as client:
        print(client.health()["status"])
"""

from __future__ import annotations

import asyncio
import functools
from typing import Any

from .http import FlowsClient

__all__ = ["get_client", "AsyncFlowsClient"]


class AsyncFlowsClient:
    """``FlowsClient``'s calls as coroutines (each runs on a thread: the HTTP is blocking)."""

    def __init__(self, client: FlowsClient):
        self.sync = client

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self.sync, name)
        if not callable(attribute) or name.startswith("_"):
            return attribute

        @functools.wraps(attribute)
        async def call(*args: Any, **kwargs: Any) -> Any:
            return await asyncio.to_thread(attribute, *args, **kwargs)

        return call

    async def __aenter__(self) -> AsyncFlowsClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        return None

    def __repr__(self) -> str:
        return f"AsyncFlowsClient({self.sync.url!r})"


def get_client(sync_client: bool = False, url: str | None = None, token: str | None = None) -> Any:
    """A client of the Jupyter server at ``url`` (default: ``$JUPYTER_FLOWS_URL``, or the
    running server this user started, found as ``jupyter server list`` does).

    In a run process of a remote worker it is the server the run records to, with the run's
    token (which may read its own run, not list others')."""
    from ..core.run_environment import RunEnvironment
    from .deploy import server_client

    env = RunEnvironment.current()
    if url is None and env.records_over_http():
        client = FlowsClient(str(env.record_url), env.record_token or "")
    else:
        client = server_client(url, token)
    return client if sync_client else AsyncFlowsClient(client)
