"""Bad input on every deployment, pool and worker route: 400 naming the field, 404, 409."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.helpers import write_notebook

MISSING = "f" * 32

# (method, path, body or query, status, text the JSON message must contain)
CASES: list[tuple[str, str, Any, int, str]] = [
    # deployments
    ("GET", "deployments", {"limit": "0"}, 400, "limit"),
    ("GET", "deployments", {"paused": "maybe"}, 400, "paused"),
    ("GET", "deployments", {"pool": "default"}, 400, "pool"),
    ("GET", f"deployments/{MISSING}", None, 404, MISSING),
    ("PATCH", f"deployments/{MISSING}", {"tags": []}, 404, MISSING),
    ("PATCH", "deployments/etl", {"tags": "x"}, 400, "tags"),
    ("PATCH", "deployments/etl", {"name": "renamed"}, 400, "name"),
    ("PATCH", "deployments/etl", {"parameters": {"m": 1}}, 400, "'m'"),
    ("PATCH", "deployments/etl", {"schedules": [{"cron": "61 * * * *"}]}, 400, "61 * * * *"),
    ("PATCH", "deployments/etl", {"work_pool": "nope"}, 400, "work_pool: no work pool 'nope'"),
    ("DELETE", f"deployments/{MISSING}", None, 404, MISSING),
    ("POST", f"deployments/{MISSING}/pause", {}, 404, MISSING),
    ("POST", f"deployments/{MISSING}/resume", {}, 404, MISSING),
    ("POST", f"deployments/{MISSING}/run", {}, 404, MISSING),
    ("POST", "deployments/etl/run", {"parameters": {"m": 1}}, 400, "'m'"),
    ("POST", "deployments/etl/run", {"parameters": {"n": "many"}}, 400, "n: expected int"),
    ("POST", "deployments/etl/run", {"tags": "x"}, 400, "tags"),
    ("POST", "deployments/etl/run", "[1, 2]", 400, "dictionary"),
    ("GET", f"deployments/{MISSING}/next_runs", None, 404, MISSING),
    ("GET", "deployments/etl/next_runs", {"n": "0"}, 400, "n: Input should be greater"),
    (
        "POST",
        "deployments",
        {"name": "y", "entrypoint": "etl.ipynb", "work_pool": "nope"},
        400,
        "work_pool: no work pool 'nope'",
    ),
    (
        "POST",
        "deployments",
        {"name": "y", "entrypoint": "etl.ipynb", "schedules": [{"interval_seconds": -1}]},
        400,
        "interval_seconds",
    ),
    (
        "POST",
        "deployments",
        {
            "name": "y",
            "entrypoint": "etl.ipynb",
            "schedules": [{"cron": "0 6 * * *", "timezone": "Mars/Base"}],
        },
        400,
        "Mars/Base",
    ),
    ("POST", "deployments", {"name": "y", "entrypoint": "job.py:nope"}, 400, "nope"),
    ("POST", "deployments", {"name": "y", "entrypoint": "../outside.ipynb"}, 400, "outside"),
    ("POST", "deployments", {"name": "etl", "entrypoint": "etl.ipynb"}, 409, "etl"),
    # schedules and notebooks
    ("POST", "schedules/preview", {}, 400, "cron"),
    ("POST", "schedules/preview", {"cron": "* * *"}, 400, "* * *"),
    ("POST", "schedules/preview", {"interval_seconds": 60, "n": 1000}, 400, "n: Input"),
    ("POST", "schedules/preview", {"cron": "0 6 * * *", "timezone": "Mars/Base"}, 400, "Mars/Base"),
    ("POST", "notebooks/parameters", {}, 400, "path"),
    ("POST", "notebooks/parameters", {"path": "missing.ipynb"}, 400, "missing.ipynb"),
    ("POST", "notebooks/parameters", {"path": "job.py"}, 400, "job.py"),
    # work pools and workers
    ("POST", "work_pools", {"name": "has space"}, 400, "name"),
    ("POST", "work_pools", {"name": "ok", "concurrency_limit": 0}, 400, "concurrency_limit"),
    ("POST", "work_pools", {"name": "gpu"}, 409, "gpu"),
    ("GET", "work_pools/nope", None, 404, "nope"),
    ("PATCH", "work_pools/nope", {"paused": True}, 404, "nope"),
    ("PATCH", "work_pools/gpu", {"concurrency_limit": -1}, 400, "concurrency_limit"),
    ("PATCH", "work_pools/gpu", {"type": "docker"}, 400, "type"),
    ("POST", "work_pools/nope/pause", {}, 404, "nope"),
    ("POST", "work_pools/nope/resume", {}, 404, "nope"),
    ("POST", "work_pools/gpu/workers/heartbeat", {}, 400, "worker"),
    ("POST", "work_pools/nope/workers/heartbeat", {"worker": "w"}, 404, "nope"),
    ("POST", "work_pools/gpu/claim", {"worker": "w", "limit": 0}, 400, "limit"),
    ("POST", "work_pools/nope/claim", {"worker": "w"}, 404, "nope"),
    ("GET", "workers", {"pool": "gpu"}, 400, "pool"),
    # run control
    ("POST", f"flow_runs/{MISSING}/state", {"type": "RUNNING", "name": "Running"}, 404, MISSING),
    ("POST", "flow_runs/DONE/state", {"type": "RUNNING", "name": "Running"}, 409, "already ended"),
    ("POST", "flow_runs/DONE/state", {"type": "SLEEPING", "name": "Zzz"}, 400, "type"),
    ("POST", "flow_runs/DONE/cancel", {}, 409, "already ended"),
    ("POST", f"flow_runs/{MISSING}/logs/append", {"items": []}, 404, MISSING),
    (
        "POST",
        "flow_runs/DONE/logs/append",
        {"items": [{"level": "loud", "message": "x"}]},
        400,
        "level",
    ),
    ("POST", "flow_runs/DONE/logs/append", {}, 400, "items"),
]


@pytest.fixture
def done_run(jp_root_dir: Path, flows_app: Any) -> str:
    """A deployment ``etl`` (notebook, parameter ``n: int``), a pool ``gpu``, a Cancelled run."""
    from jupyter_flows.orchestration.schemas import (
        CreateDeployment,
        CreateDeploymentRun,
        CreateWorkPool,
    )

    write_notebook(jp_root_dir / "etl.ipynb", "n = 3", "print(n)")
    (jp_root_dir / "job.py").write_text("from jupyter_flows import flow\n")
    service = flows_app.services.orchestration
    service.create_deployment(
        CreateDeployment(name="etl", entrypoint="etl.ipynb", schedules=[{"cron": "0 6 * * *"}])
    )
    service.create_work_pool(CreateWorkPool(name="gpu"))
    run = service.run_deployment("etl", CreateDeploymentRun())
    return str(service.cancel_flow_run(run.id).id)


class TestBadInput:
    @pytest.mark.parametrize(
        "method, path, data, status, needle", CASES, ids=[f"{c[0]} {c[1]} {c[3]}" for c in CASES]
    )
    async def test_error_status_and_message(
        self,
        api: Any,
        done_run: str,
        method: str,
        path: str,
        data: Any,
        status: int,
        needle: str,
    ) -> None:
        kwargs: dict[str, Any] = {"method": method}
        if method == "GET":
            kwargs["params"] = data or {}
        elif data is not None:
            kwargs["body"] = data
        code, reply = await api(*path.replace("DONE", done_run).split("/"), **kwargs)
        assert code == status, reply
        assert needle in reply["message"], reply
        assert reply["reason"] and "\n" not in reply["reason"]

    async def test_not_json_is_400(self, api: Any) -> None:
        status, reply = await api("work_pools", method="POST", body="{nope")
        assert status == 400 and "not JSON" in reply["message"]

    async def test_claimed_runs_belong_to_their_worker(self, api: Any, done_run: str) -> None:
        status, run = await api("deployments", "etl", "run", method="POST", body={})
        status, claimed = await api(
            "work_pools", "default", "claim", method="POST", body={"worker": "w1"}
        )
        assert [c["flow_run"]["id"] for c in claimed["items"]] == [run["id"]]
        status, again = await api(
            "work_pools", "default", "claim", method="POST", body={"worker": "w2"}
        )
        assert again["items"] == []  # two workers never get the same run
        body = {"type": "RUNNING", "name": "Running", "worker": "w2"}
        status, reply = await api("flow_runs", run["id"], "state", method="POST", body=body)
        assert status == 409 and "w1" in reply["message"]
