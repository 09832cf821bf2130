"""``jupyter_flows.deploy`` and ``entrypoint_of`` against a real in-process server."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from jupyter_flows import deploy, flow
from jupyter_flows.client.deploy import entrypoint_of
from jupyter_flows.client.http import ClientError
from jupyter_flows.exceptions import FlowDefinitionError


@flow
def tiny(n: int = 1) -> int:
    return n


@pytest.fixture
def server(jp_serverapp: Any, jp_http_port: int, jp_base_url: str, jp_root_dir: Path) -> Any:
    """(url, token) of the running server, whose root has ``job.py:job``."""
    (jp_root_dir / "job.py").write_text(
        "from jupyter_flows import flow\n@flow\ndef job(n: int) -> int:\n    return n\n"
    )
    url = f"http://127.0.0.1:{jp_http_port}{jp_base_url.rstrip('/')}"
    return url, jp_serverapp.identity_provider.token


class TestDeployHelper:
    def test_entrypoints(self, tmp_path: Path) -> None:
        assert entrypoint_of(tiny) == f"{__name__}:tiny"
        assert entrypoint_of("notebooks/etl.ipynb") == "notebooks/etl.ipynb"
        namespace: dict[str, Any] = {"__name__": "__main__"}
        exec("from jupyter_flows import flow\n@flow\ndef repl_flow(): pass", namespace)
        with pytest.raises(FlowDefinitionError, match="notebook or REPL"):
            entrypoint_of(namespace["repl_flow"])

    async def test_deploy_to_a_running_server(self, server: tuple[str, str], api: Any) -> None:
        url, token = server
        created = await asyncio.to_thread(
            deploy,
            "job.py:job",
            "every-hour",
            interval=3600,
            parameters={"n": "2"},
            url=url,
            token=token,
        )
        assert created["parameters"] == {"n": 2} and created["next_run_time"]
        status, listed = await api("deployments")
        assert [d["name"] for d in listed["items"]] == ["every-hour"]
        with pytest.raises(ClientError, match="HTTP 400.*'m'"):
            await asyncio.to_thread(
                deploy, "job.py:job", "bad", parameters={"m": 1}, url=url, token=token
            )

    async def test_deploy_with_a_trigger(self, server: tuple[str, str], api: Any) -> None:
        url, token = server
        trigger = {"event": "upload.done", "parameters": {"n": "{{ event.rows }}"}}
        created = await asyncio.to_thread(
            deploy, "job.py:job", "on-upload", triggers=[trigger], url=url, token=token
        )
        [automation] = created["triggers"]
        assert automation["name"] == "on-upload-trigger-1"
        assert automation["action"] == {
            "type": "run-deployment",
            "deployment": created["id"],
            "parameters": {"n": "{{ event.rows }}"},
            "tags": [],
        }
        status, listed = await api("automations")
        assert [a["trigger"]["event"] for a in listed["items"]] == ["upload.done"]
        with pytest.raises(ValueError, match="event"):
            await asyncio.to_thread(
                deploy, "job.py:job", "bad-trigger", triggers=[{"event": "a b"}], url=url,
                token=token,
            )  # fmt: skip
        status, _ = await api("deployments", "bad-trigger")
        assert status == 404  # checked before anything was created
