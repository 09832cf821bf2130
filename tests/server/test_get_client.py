"""``get_client()`` (Prefect's): the async and the sync client of a real in-process server."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from jupyter_flows import get_client
from jupyter_flows.client.get_client import AsyncFlowsClient
from jupyter_flows.client.http import ClientError, FlowsClient


def _address(jp_serverapp: Any, jp_http_port: int, jp_base_url: str) -> tuple[str, str]:
    url = f"http://127.0.0.1:{jp_http_port}{jp_base_url.rstrip('/')}"
    return url, jp_serverapp.identity_provider.token


async def test_async_and_sync_clients(
    api: Any, recorded: list[str], jp_serverapp: Any, jp_http_port: int, jp_base_url: str
) -> None:
    url, token = _address(jp_serverapp, jp_http_port, jp_base_url)
    async with get_client(url=url, token=token) as client:
        assert isinstance(client, AsyncFlowsClient)
        runs = await client.read_flow_runs(limit=5)
        assert {r.id for r in runs} == set(recorded)
        one = await client.read_flow_run(recorded[0])
        assert one.id == recorded[0] and one.flow_name == "api-demo"
        health = await client.health()
        assert health["status"] == "ok"

    def sync_part() -> None:
        with get_client(sync_client=True, url=url, token=token) as sync:
            assert isinstance(sync, FlowsClient)
            assert [r.id for r in sync.read_flow_runs(limit=1)] == [recorded[-1]]
            with pytest.raises(ClientError, match="404"):
                sync.read_flow_run("f" * 32)

    await asyncio.to_thread(sync_part)


def test_without_a_server_it_says_so(monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
    from jupyter_flows.exceptions import FlowDefinitionError

    monkeypatch.delenv("JUPYTER_FLOWS_URL", raising=False)
    monkeypatch.setenv("JUPYTER_RUNTIME_DIR", str(tmp_path))  # no running servers listed
    with pytest.raises(FlowDefinitionError, match="no running Jupyter server"):
        get_client()
