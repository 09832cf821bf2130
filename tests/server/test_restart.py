"""Committed data survives the server: a second server process on the same database sees it."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from tests.helpers import write_notebook


class TestAnotherServerOnTheSameDatabase:
    async def test_every_read_route_returns_the_same_records(
        self, api: Any, recorded: list[str], jp_root_dir: Path, second_server: Any
    ) -> None:
        write_notebook(jp_root_dir / "etl.ipynb", "n = 3", "print(n)")
        create = {
            "name": "etl",
            "entrypoint": "etl.ipynb",
            "parameters": {"n": 4},
            "tags": ["nightly"],
            "schedules": [{"cron": "0 6 * * *", "timezone": "Europe/Paris"}],
            "missed_runs": "run_once",
        }
        status, dep = await api("deployments", method="POST", body=create)
        assert status == 201
        status, _ = await api("deployments", "etl", method="PATCH", body={"description": "ETL"})
        assert status == 200
        await api("work_pools", method="POST", body={"name": "gpu", "concurrency_limit": 3})
        await api("work_pools", "gpu", method="PATCH", body={"description": "GPUs"})
        await api(
            "work_pools", "default", "workers", "heartbeat", method="POST", body={"worker": "w"}
        )
        _, run = await api(
            "deployments", "etl", "run", method="POST", body={"parameters": {"n": 5}}
        )
        _, cancelled = await api("deployments", "etl", "run", method="POST", body={})
        await api("flow_runs", cancelled["id"], "cancel", method="POST", body="")
        await api("work_pools", "default", "claim", method="POST", body={"worker": "w"})
        running = {"type": "RUNNING", "name": "Running", "worker": "w"}
        await api("flow_runs", run["id"], "state", method="POST", body=running)
        lines = {"items": [{"message": "from the worker", "level": 30}]}
        await api("flow_runs", run["id"], "logs", "append", method="POST", body=lines)
        _, detail = await api("flow_runs", recorded[0])
        status, _ = await api("deployments", "etl", "pause", method="POST", body="")
        assert status == 200

        reads: list[tuple[str, dict[str, str]]] = [
            ("flows", {}),
            ("flow_runs", {}),
            ("flow_runs", {"deployment_id": dep["id"]}),
            ("flow_runs", {"tags": "demo", "state": "completed", "limit": "1", "offset": "1"}),
            (f"flow_runs/{recorded[0]}", {}),
            (f"flow_runs/{recorded[0]}/graph", {}),
            (f"flow_runs/{recorded[0]}/logs", {}),
            (f"flow_runs/{run['id']}", {}),
            (f"flow_runs/{run['id']}/logs", {}),
            (f"flow_runs/{cancelled['id']}", {}),
            (f"task_runs/{detail['task_runs'][0]['id']}", {}),
            ("deployments", {}),
            ("deployments/etl", {}),
            (f"deployments/{dep['id']}/next_runs", {"n": "3"}),
            ("work_pools", {}),
            ("work_pools/gpu", {}),
            ("workers", {}),
        ]
        server = await second_server()
        for path, params in reads:
            here_status, here = await api(*path.split("/"), params=params)
            there_status, there = await server.get(path + "?" + urlencode(params))
            assert (here_status, there_status) == (200, 200), path
            assert there == here, path
        status, page = await server.get("flow_runs?limit=1000")
        assert page["total"] == 4  # two recorded, two of the deployment
        status, same = await server.get(f"flow_runs/{run['id']}")
        assert (same["state_name"], same["worker"], same["parameters"]) == (
            "Running",
            "w",
            {"n": 5},
        )
        status, report = await server.get(f"flow_runs/{recorded[0]}/report?format=md")
        assert status == 200 and "api-demo" in report
