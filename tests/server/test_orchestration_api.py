"""Deployments, pools, workers and run control over the REST API (real in-process server)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from jupyter_server.auth.authorizer import Authorizer

from tests.helpers import write_notebook


class OnlyAllowed(Authorizer):  # type: ignore[misc]
    """Allows the actions in ``allowed`` and records every check it was asked for."""

    allowed: set[str] = {"read", "write", "execute"}
    asked: list[tuple[str, str]] = []

    def is_authorized(self, handler: Any, user: Any, action: str, resource: str) -> bool:
        type(self).asked.append((action, resource))
        return action in type(self).allowed


@pytest.fixture
def jp_server_config(flows_db_url: str, tmp_path: Path, jp_root_dir: Path) -> dict[str, Any]:
    write_notebook(jp_root_dir / "etl.ipynb", "n = 3")
    OnlyAllowed.allowed = {"read", "write", "execute"}
    OnlyAllowed.asked = []
    return {
        "ServerApp": {
            "jpserver_extensions": {"jupyter_flows": True},
            "authorizer_class": OnlyAllowed,
        },
        "FlowsApp": {
            "db_url": flows_db_url,
            "embedded_worker": False,
            "scheduler_enabled": False,
            "outputs_dir": str(tmp_path / "outputs"),
        },
    }


async def create(api: Any, **extra: Any) -> dict[str, Any]:
    body = {"name": "nightly", "entrypoint": "etl.ipynb", "parameters": {"n": 5}, **extra}
    status, deployment = await api("deployments", method="POST", body=body)
    assert status == 201, deployment
    return deployment  # type: ignore[no-any-return]


class TestDeploymentRoutes:
    async def test_lifecycle(self, api: Any) -> None:
        dep = await create(api, schedules=[{"cron": "0 6 * * *"}])
        assert dep["kind"] == "notebook" and dep["next_run_time"]
        status, page = await api("deployments")
        assert (status, page["total"]) == (200, 1)
        status, same = await api("deployments", "nightly")
        assert same["id"] == dep["id"]
        status, patched = await api("deployments", dep["id"], method="PATCH", body={"tags": ["x"]})
        assert (status, patched["tags"]) == (200, ["x"])
        status, paused = await api("deployments", dep["id"], "pause", method="POST", body="")
        assert paused["paused"] is True
        status, resumed = await api("deployments", dep["id"], "resume", method="POST", body="")
        assert resumed["paused"] is False
        status, times = await api("deployments", dep["id"], "next_runs", params={"n": "3"})
        assert len(times["items"]) == 3
        status, run = await api(
            "deployments", dep["id"], "run", method="POST", body={"parameters": {"n": "7"}}
        )
        assert status == 201 and run["state_name"] == "Scheduled" and run["parameters"]["n"] == 7
        status, cancelled = await api("flow_runs", run["id"], "cancel", method="POST", body="")
        assert cancelled["state_name"] == "Cancelled"
        status, body = await api("flow_runs", run["id"], "cancel", method="POST", body="")
        assert status == 409 and "already ended" in body["message"]
        status, _ = await api("deployments", dep["id"], method="DELETE")
        assert status == 204
        status, _ = await api("deployments", dep["id"])
        assert status == 404

    @pytest.mark.parametrize(
        "body, needle",
        [
            (
                {"name": "x", "entrypoint": "etl.ipynb", "schedules": [{"cron": "99 * * * *"}]},
                "99 * * * *",
            ),
            ({"name": "x", "entrypoint": "etl.ipynb", "parameters": {"m": 1}}, "'m'"),
            ({"name": "x", "entrypoint": "etl.ipynb", "parameters": {"n": "many"}}, "n:"),
            ({"name": "x", "entrypoint": "missing.ipynb"}, "missing.ipynb"),
            ({"name": "", "entrypoint": "etl.ipynb"}, "name"),
            ({"entrypoint": "etl.ipynb"}, "name"),
            ({"name": "x", "entrypoint": "etl.ipynb", "surprise": 1}, "surprise"),
        ],
    )
    async def test_bad_input_is_400_with_reason(
        self, api: Any, body: dict[str, Any], needle: str
    ) -> None:
        status, reply = await api("deployments", method="POST", body=body)
        assert status == 400, reply
        assert needle in reply["message"]

    async def test_not_json_and_conflict(self, api: Any) -> None:
        status, reply = await api("deployments", method="POST", body="{not json")
        assert status == 400 and "JSON" in reply["message"]
        await create(api)
        status, reply = await api(
            "deployments", method="POST", body={"name": "nightly", "entrypoint": "etl.ipynb"}
        )
        assert status == 409

    async def test_schedule_preview_and_notebook_parameters(self, api: Any) -> None:
        status, times = await api(
            "schedules/preview", method="POST", body={"cron": "*/5 * * * *", "n": 2}
        )
        assert status == 200 and len(times["items"]) == 2
        status, reply = await api("schedules/preview", method="POST", body={"cron": "nope"})
        assert status == 400 and "nope" in reply["message"]
        status, params = await api(
            "notebooks/parameters", method="POST", body={"path": "etl.ipynb"}
        )
        assert params["parameters"] == [{"name": "n", "type": "int", "default": 3}]
        status, _ = await api("notebooks/parameters", method="POST", body={"path": "../x.ipynb"})
        assert status == 400


class TestPoolsAndWorkers:
    async def test_pools_claims_states_logs(self, api: Any) -> None:
        status, pools = await api("work_pools")
        assert [p["name"] for p in pools["items"]] == ["default"]
        status, pool = await api(
            "work_pools", method="POST", body={"name": "gpu", "concurrency_limit": 1}
        )
        assert status == 201
        status, _ = await api("work_pools", method="POST", body={"name": "gpu"})
        assert status == 409
        dep = await create(api, work_pool="gpu")
        status, run = await api("deployments", dep["id"], "run", method="POST", body={})
        status, hb = await api(
            "work_pools", "gpu", "workers", "heartbeat", method="POST", body={"worker": "w1"}
        )
        assert hb["status"] == "online"
        status, claimed = await api(
            "work_pools", "gpu", "claim", method="POST", body={"worker": "w1", "limit": 5}
        )
        assert [c["flow_run"]["id"] for c in claimed["items"]] == [run["id"]]
        status, running = await api(
            "flow_runs",
            run["id"],
            "state",
            method="POST",
            body={"type": "RUNNING", "name": "Running", "worker": "w1"},
        )
        assert running["state_name"] == "Running"
        status, _ = await api(
            "flow_runs",
            run["id"],
            "logs",
            "append",
            method="POST",
            body={"items": [{"message": "hello from w1"}]},
        )
        assert status == 204
        status, logs = await api("flow_runs", run["id"], "logs")
        assert [line["message"] for line in logs["items"]] == ["hello from w1"]
        status, cancelling = await api("flow_runs", run["id"], "cancel", method="POST", body="")
        assert cancelling["state_name"] == "Cancelling"
        status, workers = await api("workers", params={"work_pool": "gpu"})
        assert [w["name"] for w in workers["items"]] == ["w1"]
        status, paused = await api("work_pools", "gpu", "pause", method="POST", body="")
        assert paused["paused"] is True


class TestAuthorization:
    async def test_read_only_users_cannot_write_or_execute(self, api: Any) -> None:
        dep = await create(api)
        OnlyAllowed.allowed = {"read"}
        status, _ = await api("deployments")
        assert status == 200
        status, _ = await api("deployments", dep["id"], "run", method="POST", body={})
        assert status == 403
        status, _ = await api(
            "deployments", method="POST", body={"name": "other", "entrypoint": "etl.ipynb"}
        )
        assert status == 403
        OnlyAllowed.allowed = {"read", "write"}
        status, _ = await api("deployments", dep["id"], "run", method="POST", body={})
        assert status == 403  # running needs "execute", not just "write"
        status, _ = await api("deployments", dep["id"], "pause", method="POST", body={})
        assert status == 200  # pausing is a write
        OnlyAllowed.allowed = {"read", "write", "execute"}
        status, _ = await api("deployments", dep["id"], "run", method="POST", body={})
        assert status == 201
        ours = {(a, r) for a, r in OnlyAllowed.asked if r == "jupyter_flows"}
        assert ours >= {
            ("read", "jupyter_flows"),
            ("write", "jupyter_flows"),
            ("execute", "jupyter_flows"),
        }

    async def test_openapi_documents_every_route(self, api: Any) -> None:
        status, doc = await api("openapi.json")
        paths = doc["paths"]
        assert "/jupyter-flows/api/deployments/{deployment_id}/run" in paths
        create = paths["/jupyter-flows/api/deployments"]["post"]
        assert create["x-jupyter-flows-action"] == "execute"  # it names code workers will run
        assert "CreateDeployment" in doc["components"]["schemas"]
