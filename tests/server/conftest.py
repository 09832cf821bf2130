"""A real in-process Jupyter server with the jupyter-flows extension on a temp SQLite file."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest


@pytest.fixture
def flows_db_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'server-flows.sqlite'}"


@pytest.fixture
def jp_server_config(flows_db_url: str, tmp_path: Path) -> dict[str, Any]:
    return {
        "ServerApp": {"jpserver_extensions": {"jupyter_flows": True}},
        "FlowsApp": {
            "db_url": flows_db_url,
            "embedded_worker": False,
            "scheduler_enabled": False,
            "outputs_dir": str(tmp_path / "outputs"),
        },
    }


Fetch = Callable[..., Awaitable[Any]]


@pytest.fixture
def api(jp_fetch: Fetch) -> Callable[..., Awaitable[tuple[int, Any]]]:
    """``await api("flow_runs", method=..., body=...)`` -> (status, parsed JSON or text)."""

    async def call(*path: str, **kwargs: Any) -> tuple[int, Any]:
        if "body" in kwargs and not isinstance(kwargs["body"], str | bytes):
            kwargs["body"] = json.dumps(kwargs["body"])
        response = await jp_fetch("jupyter-flows", "api", *path, raise_error=False, **kwargs)
        text = response.body.decode()
        try:
            return response.code, json.loads(text) if text else None
        except ValueError:
            return response.code, text

    return call
