"""Worker and run tokens: each opens its own corner of the worker protocol and nothing else.

Walks every route of the OpenAPI document with each kind of credential (a worker's token, a
run's token, a forged one), then checks ownership: one worker's token never speaks for
another, a run's token reaches its own run (and its task and subflow runs) only.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from jupyter_flows.core.record_codec import encode
from jupyter_flows.core.states import Running
from jupyter_flows.server.app import API_BASE, ROUTES
from jupyter_flows.server.scoped_auth import SCOPED_ROUTES
from tests.store import builders as b

FLOW = "from jupyter_flows import flow\n@flow\ndef etl(n: int = 1) -> int:\n    return n\n"


async def _setup(api: Any, root: Path) -> dict[str, Any]:
    """Two claimed runs (of workers w1 and w2) and their tokens."""
    (root / "etl.py").write_text(FLOW)
    status, _ = await api(
        "deployments", method="POST", body={"name": "etl", "entrypoint": "etl.py:etl"}
    )
    assert status == 201
    out: dict[str, Any] = {}
    for worker in ("w1", "w2"):
        status, run = await api("deployments", "etl", "run", method="POST", body={})
        status, claimed = await api(
            "work_pools", "default", "claim", method="POST", body={"worker": worker}
        )
        assert status == 200 and claimed["items"][0]["flow_run"]["id"] == run["id"]
        status, token = await api(
            "work_pools", "default", "worker_token", method="POST", body={"worker": worker}
        )
        assert status == 201 and token["token"].startswith("jf1.")
        out[worker] = {
            "run": run["id"],
            "worker_token": token["token"],
            "run_token": claimed["items"][0]["run_token"],
        }
    return out


def _as(token: str) -> dict[str, str]:
    return {"Authorization": f"token {token}"}


async def _operations(api: Any) -> list[tuple[str, str, str]]:
    """(method, route, handler class name) of every documented operation."""
    _, document = await api("openapi.json")
    prefix = f"/{API_BASE}/"
    handlers = {route: handler.__name__ for route, handler in ROUTES}
    return [
        (method, path[len(prefix) :], handlers[path[len(prefix) :]])
        for path, item in document["paths"].items()
        for method in item
    ]


@pytest.mark.parametrize("kind", ["worker", "run", "forged"])
async def test_every_route_with_a_scoped_token(api: Any, jp_root_dir: Path, kind: str) -> None:
    made = await _setup(api, jp_root_dir)
    token = {
        "worker": made["w1"]["worker_token"],
        "run": made["w1"]["run_token"],
        "forged": made["w1"]["worker_token"][:-4] + "AAAA",
    }[kind]
    operations = await _operations(api)
    assert len(operations) > 30
    opened = []
    for method, route, handler in operations:
        path = re.sub(r"\{\w+\}", "x" * 32, route)
        body = {} if method in ("post", "patch", "put") else None
        kwargs: dict[str, Any] = {"method": method.upper(), "headers": _as(token)}
        if body is not None:
            kwargs["body"] = body
        status, _ = await api(*path.split("/"), **kwargs)
        allowed = kind in SCOPED_ROUTES.get((handler, method), frozenset())
        assert (status == 403) != allowed, (kind, method, route, status)
        if allowed:
            opened.append((method, route))
    expected = {"worker": 8, "run": 20, "forged": 0}[kind]
    assert len(opened) == expected, opened


async def test_a_worker_token_speaks_for_its_worker_only(api: Any, jp_root_dir: Path) -> None:
    made = await _setup(api, jp_root_dir)
    w1, w2 = made["w1"], made["w2"]
    as_w2 = _as(w2["worker_token"])
    checks = [
        (("work_pools", "default", "workers", "heartbeat"), "POST", {"worker": "w1"}),
        (("work_pools", "default", "claim"), "POST", {"worker": "w1"}),
        (("flow_runs", w1["run"], "state"), "GET", None),
        (("flow_runs", w1["run"], "state"), "POST", {"type": "RUNNING", "name": "Running"}),
        (("flow_runs", w1["run"], "logs", "append"), "POST", {"items": [{"message": "x"}]}),
        (
            ("records",),
            "POST",
            {"items": [encode("set_state", "flow", w1["run"], Running(), 1)]},
        ),
    ]
    for path, method, body in checks:
        kwargs: dict[str, Any] = {"method": method, "headers": as_w2}
        if body is not None:
            kwargs["body"] = body
        status, reply = await api(*path, **kwargs)
        assert status == 403, (path, method, reply)
    # its own: fine
    status, _ = await api(
        "work_pools", "default", "workers", "heartbeat", method="POST",
        body={"worker": "w2"}, headers=as_w2,
    )  # fmt: skip
    assert status == 200
    status, state = await api(
        "flow_runs", w2["run"], "state", method="POST",
        body={"type": "RUNNING", "name": "Running"}, headers=as_w2,
    )  # fmt: skip
    assert status == 200 and state["decision"] == "accept" and state["worker"] == "w2"
    _, run = await api("flow_runs", w1["run"])
    assert run["state_name"] == "Pending"  # nothing w2 tried reached w1's run


async def test_a_run_token_reaches_its_own_run_only(api: Any, jp_root_dir: Path) -> None:
    made = await _setup(api, jp_root_dir)
    mine, other = made["w1"], made["w2"]
    as_run = _as(mine["run_token"])
    status, state = await api("flow_runs", mine["run"], "state", headers=as_run)
    assert status == 200 and state["id"] == mine["run"]
    status, _ = await api("flow_runs", other["run"], "state", headers=as_run)
    assert status == 403
    sub = b.flow_run("sub", parent_flow_run_id=mine["run"])
    task = b.task_run(sub.id, "t")
    own = [
        encode("set_state", "flow", mine["run"], Running(), 1),
        encode("flow_run_created", sub),
        encode("task_run_created", task),
        encode("set_state", "task", task.id, Running(), 1),
    ]
    status, reply = await api("records", method="POST", body={"items": own}, headers=as_run)
    assert status == 200, reply
    foreign = [
        encode("set_state", "flow", other["run"], Running(), 1),
        encode("flow_run_created", b.flow_run("stray")),
        encode("task_run_created", b.task_run(other["run"], "t")),
    ]
    for item in foreign:
        status, reply = await api("records", method="POST", body={"items": [item]}, headers=as_run)
        assert status == 403 and "not this token's" in reply["message"], item
    _, run = await api("flow_runs", other["run"])
    assert run["state_name"] == "Pending" and run["task_runs"] == []


async def test_scoped_tokens_open_none_of_jupyters_own_apis(
    api: Any, jp_fetch: Any, jp_root_dir: Path
) -> None:
    made = await _setup(api, jp_root_dir)
    for token in (made["w1"]["worker_token"], made["w1"]["run_token"]):
        for method, path in (("GET", ("api", "kernels")), ("POST", ("api", "kernels"))):
            kwargs: dict[str, Any] = {"method": method, "headers": _as(token)}
            if method == "POST":
                kwargs["body"] = "{}"
            response = await jp_fetch(*path, raise_error=False, **kwargs)
            assert response.code == 403, (method, path, response.code)


async def test_a_state_without_its_worker_is_refused_for_a_claimed_run(
    api: Any, jp_root_dir: Path
) -> None:
    made = await _setup(api, jp_root_dir)
    run_id = made["w1"]["run"]
    for body in ({"type": "RUNNING", "name": "Running"},  # no worker: the admin's token
                 {"type": "COMPLETED", "name": "Completed", "worker": "w2"}):  # fmt: skip
        status, reply = await api("flow_runs", run_id, "state", method="POST", body=body)
        assert status == 409 and "claimed by 'w1'" in reply["message"], reply
    _, run = await api("flow_runs", run_id)
    assert [s["name"] for s in run["states"]] == ["Scheduled", "Pending"]
