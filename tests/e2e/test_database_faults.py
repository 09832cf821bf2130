"""The database goes read-only under a running server (real PostgreSQL): /health says so,
writes answer 503 with a reason, the embedded worker survives and runs again afterwards."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import set_read_only
from tests.e2e.harness import TOKEN, Env, stop_all
from tests.helpers import wait


def _post(env: Env, path: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    request = urllib.request.Request(
        f"{env.url}/jupyter-flows/api/{path}", data=json.dumps(body).encode(), method="POST"
    )
    request.add_header("Authorization", f"token {TOKEN}")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"{}")


@pytest.mark.postgres
def test_a_read_only_database(tmp_path: Path, fresh_postgres_url: str) -> None:
    env = Env(tmp_path, fresh_postgres_url)
    try:
        env.start_server(embedded_worker=True)
        wait(lambda: (env.get("health") or {}).get("embedded_worker"), 60, "the worker")
        assert env.get("health")["status"] == "ok"
        set_read_only(fresh_postgres_url, True)

        def degraded() -> Any:
            health = env.get("health") or {}
            return health if health.get("embedded_worker_problem") else None

        health = wait(degraded, 60, "/health to report the worker's problem")
        assert health["status"] == "degraded"
        assert "read-only" in health["embedded_worker_problem"]
        status, reply = _post(env, "deployments", {"name": "etl", "entrypoint": "etl.py:etl"})
        assert status == 503, reply
        assert "unavailable" in reply["message"] and "read-only" in reply["message"]
        assert env.get("deployments")["items"] == []  # reads still answer

        set_read_only(fresh_postgres_url, False)
        status, reply = _post(env, "deployments", {"name": "etl", "entrypoint": "etl.py:etl"})
        assert status == 201, reply
        status, run = _post(env, "deployments/etl/run", {"parameters": {"n": 2}})
        assert status == 201, run
        wait(lambda: env.state(run["id"]) == "Completed", 90, "the embedded worker to run it")
        wait(lambda: (env.get("health") or {}).get("status") == "ok", 30, "health to recover")
    finally:
        stop_all(env, tmp_path)
