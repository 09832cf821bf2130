"""Authentication and read/write/execute authorization of every route.

Uses pytest-jupyter's ``jp_server_authorizer`` (through ``flows_authorizer``), which checks the
(action, resource) pair of every request against the URL -> resource map and the contract.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from jupyter_flows.server.app import API_BASE
from tests.helpers import write_notebook
from tests.server.contract import expected_action

ALL = ["read", "write", "execute"]


@pytest.fixture
def jp_server_config(jp_server_config: dict[str, Any], flows_authorizer: Any) -> dict[str, Any]:
    config = dict(jp_server_config)
    config["ServerApp"] = {**config["ServerApp"], "authorizer_class": flows_authorizer}
    return config


async def _operations(api: Any) -> list[tuple[str, str, str, str]]:
    """(METHOD, url path under api/, contract route, documented action) of every operation."""
    _, document = await api("openapi.json")
    prefix = f"/{API_BASE}/"
    out = []
    for path, item in document["paths"].items():
        route = path[len(prefix) :]
        for method, operation in item.items():
            concrete = re.sub(r"\{\w+\}", "x" * 32, route)
            out.append((method.upper(), concrete, route, operation["x-jupyter-flows-action"]))
    return out


async def _call(api: Any, method: str, path: str, **kwargs: Any) -> int:
    if method in ("POST", "PATCH", "PUT"):
        kwargs.setdefault("body", "{}")
    status, _ = await api(*path.split("/"), method=method, **kwargs)
    return int(status)


class TestAuthentication:
    async def test_every_route_refuses_requests_without_credentials(
        self, api: Any, flows_authorizer: Any
    ) -> None:
        flows_authorizer.permissions = {"actions": ALL, "resources": ["jupyter_flows"]}
        operations = await _operations(api)
        assert len(operations) > 30
        for method, path, _route, _action in operations:
            status = await _call(api, method, path, headers={"Authorization": ""})
            assert status == 403, (method, path)


class TestAuthorization:
    @pytest.mark.parametrize(
        "allowed", [[], ["read"], ["read", "write"], ["execute"], ALL], ids=str
    )
    async def test_each_route_needs_its_action(
        self, api: Any, flows_authorizer: Any, allowed: list[str]
    ) -> None:
        flows_authorizer.permissions = {"actions": ALL, "resources": ["jupyter_flows"]}
        operations = await _operations(api)
        flows_authorizer.permissions = {"actions": allowed, "resources": ["jupyter_flows"]}
        for method, path, route, documented in operations:
            assert documented == expected_action(method, route), (method, route)
            status = await _call(api, method, path)
            refused = documented not in allowed
            assert (status == 403) == refused, (method, path, status)
        assert flows_authorizer.mismatches == []
        checked = {(m, r) for m, r, _ in flows_authorizer.seen}
        assert checked == {(m, r) for m, _, r, _ in operations}

    async def test_other_resources_do_not_open_ours(self, api: Any, flows_authorizer: Any) -> None:
        flows_authorizer.permissions = {"actions": ALL, "resources": ["contents", "kernels"]}
        status, _ = await api("flow_runs")
        assert status == 403

    async def test_read_only_users_see_but_cannot_run_or_cancel(
        self, api: Any, flows_authorizer: Any, jp_root_dir: Any
    ) -> None:
        write_notebook(jp_root_dir / "etl.ipynb", "n = 3")
        flows_authorizer.permissions = {"actions": ALL, "resources": ["jupyter_flows"]}
        body = {"name": "etl", "entrypoint": "etl.ipynb"}
        status, dep = await api("deployments", method="POST", body=body)
        assert status == 201
        status, run = await api("deployments", "etl", "run", method="POST", body={})
        assert status == 201

        flows_authorizer.permissions = {"actions": ["read"], "resources": ["jupyter_flows"]}
        for path in [("deployments",), ("deployments", "etl"), ("flow_runs",), ("work_pools",)]:
            status, _ = await api(*path)
            assert status == 200, path
        status, same = await api("flow_runs", run["id"])
        assert (status, same["state_name"]) == (200, "Scheduled")
        status, reply = await api("deployments", "etl", "run", method="POST", body={})
        assert status == 403 and "execute" in reply["message"]
        status, _ = await api("flow_runs", run["id"], "cancel", method="POST", body="")
        assert status == 403
        status, _ = await api("deployments", "etl", "pause", method="POST", body="")
        assert status == 403

        flows_authorizer.permissions = {
            "actions": ["read", "write"],
            "resources": ["jupyter_flows"],
        }
        status, _ = await api("deployments", "etl", "pause", method="POST", body="")
        assert status == 200
        status, _ = await api("flow_runs", run["id"], "cancel", method="POST", body="")
        assert status == 403  # stopping runs needs "execute", not just "write"

        flows_authorizer.permissions = {"actions": ALL, "resources": ["jupyter_flows"]}
        status, cancelled = await api("flow_runs", run["id"], "cancel", method="POST", body="")
        assert (status, cancelled["state_name"]) == (200, "Cancelled")

        status, page = await api("flow_runs", params={"deployment_id": dep["id"]})
        assert [r["id"] for r in page["items"]] == [run["id"]]  # the refused run was not created
        assert json.dumps(flows_authorizer.mismatches) == "[]"

    async def test_write_without_execute_cannot_make_code_run(
        self, api: Any, flows_authorizer: Any, jp_root_dir: Any
    ) -> None:
        """A deployment is code that workers run: creating, changing or resuming one, or an
        automation that runs one, needs "execute" (e.g. ``os:system`` on a schedule)."""
        write_notebook(jp_root_dir / "etl.ipynb", "n = 3")
        flows_authorizer.permissions = {"actions": ALL, "resources": ["jupyter_flows"]}
        status, _ = await api(
            "deployments", method="POST", body={"name": "etl", "entrypoint": "etl.ipynb"}
        )
        assert status == 201
        flows_authorizer.permissions = {
            "actions": ["read", "write"],
            "resources": ["jupyter_flows"],
        }
        every_second = {
            "name": "x",
            "entrypoint": "etl.ipynb",
            "schedules": [{"cron": "* * * * *"}],
        }
        for method, path, body in (
            ("POST", ("deployments",), every_second),
            ("PATCH", ("deployments", "etl"), {"schedules": [{"interval_seconds": 60}]}),
            ("POST", ("deployments", "etl", "resume"), {}),
            ("POST", ("deployments", "etl", "run"), {}),
        ):
            status, reply = await api(*path, method=method, body=body)
            assert status == 403 and "execute" in reply["message"], (method, path, reply)
        status, _ = await api("deployments", "etl", "pause", method="POST", body="")
        assert status == 200  # stopping schedules is a plain write
        status, listed = await api("deployments")
        assert [d["name"] for d in listed["items"]] == ["etl"]
        assert listed["items"][0]["schedules"] == []


async def test_authorization_comes_before_argument_checks(api: Any, flows_authorizer: Any) -> None:
    """A user who may not write learns that (403), not that an argument is unknown (400)."""
    flows_authorizer.permissions = {"actions": ["read"], "resources": ["jupyter_flows"]}
    status, reply = await api("deployments", method="POST", body={}, params={"bogus": "1"})
    assert status == 403, reply
    flows_authorizer.permissions = {"actions": ALL, "resources": ["jupyter_flows"]}
    status, reply = await api("deployments", method="POST", body={}, params={"bogus": "1"})
    assert status == 400 and "bogus" in reply["message"], reply
