"""``PUT/GET results/{key}`` and ``GET flow_runs/{id}/results``: the results run processes
without a database upload, kept per deployment, bounded and checked (real server)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest

from jupyter_flows.client.http import ClientError, FlowsClient
from jupyter_flows.client.results import ServerResults

FLOW = "from jupyter_flows import flow\n@flow\ndef etl(n: int = 1) -> int:\n    return n\n"
RESULT = b'{"serializer": "json", "expires": null}\n[1, 2, 3]'


@pytest.fixture
def jp_server_config(jp_server_config: dict[str, Any], tmp_path: Path) -> dict[str, Any]:
    jp_server_config["FlowsApp"]["result_storage_dir"] = str(tmp_path / "uploaded")
    jp_server_config["FlowsApp"]["max_result_size"] = 1000
    return jp_server_config


async def _runs(api: Any, root: Path) -> dict[str, dict[str, str]]:
    """Claimed runs (with their run tokens): two of deployment etl, one of other."""
    (root / "etl.py").write_text(FLOW)
    for name in ("etl", "other"):
        status, _ = await api(
            "deployments", method="POST", body={"name": name, "entrypoint": "etl.py:etl"}
        )
        assert status == 201
    out = {}
    for label, deployment in (("a", "etl"), ("b", "etl"), ("x", "other")):
        status, run = await api("deployments", deployment, "run", method="POST", body={})
        assert status == 201, run
        status, claimed = await api(
            "work_pools", "default", "claim", method="POST", body={"worker": "w1"}
        )
        assert status == 200 and claimed["items"][0]["flow_run"]["id"] == run["id"]
        out[label] = {"run": run["id"], "token": claimed["items"][0]["run_token"]}
    return out


def _as(token: str) -> dict[str, str]:
    return {"Authorization": f"token {token}"}


class TestResults:
    async def test_a_run_stores_a_result_the_runs_of_its_deployment_read(
        self, api: Any, jp_root_dir: Path, tmp_path: Path, jp_http_port: int, jp_base_url: str
    ) -> None:
        runs = await _runs(api, jp_root_dir)
        a, b = runs["a"], runs["b"]
        url = f"http://localhost:{jp_http_port}{jp_base_url}".rstrip("/")
        as_a = ServerResults(FlowsClient(url, a["token"]))
        as_b = ServerResults(FlowsClient(url, b["token"]))
        await asyncio.to_thread(as_a.upload, "parameters/k1", RESULT)  # a key with a "/"
        assert await asyncio.to_thread(as_b.download, "parameters/k1") == RESULT
        assert await asyncio.to_thread(as_b.download, "parameters/none") is None
        files = [p for p in (tmp_path / "uploaded").rglob("*") if p.is_file()]
        assert [p.read_bytes() for p in files] == [RESULT]
        assert "deployments" in files[0].parts  # kept per deployment
        # a user names the run whose deployment's results to read
        status, stored = await api(
            "results", "k1", method="PUT", body=RESULT, params={"flow_run_id": b["run"]}
        )
        assert status == 200 and stored == {"key": "k1", "size": len(RESULT)}
        status, text = await api("results", "k1", params={"flow_run_id": a["run"]})
        assert status == 200 and text == RESULT.decode()
        # the listing a retry reads (no task runs recorded here: empty)
        status, listed = await api("flow_runs", a["run"], "results", headers=_as(b["token"]))
        assert status == 200 and listed == {"items": []}

    async def test_another_deployments_run_cannot_reach_them(
        self, api: Any, jp_root_dir: Path
    ) -> None:
        runs = await _runs(api, jp_root_dir)
        a, x = runs["a"], runs["x"]
        status, _ = await api("results", "k2", method="PUT", body=RESULT, headers=_as(a["token"]))
        assert status == 200
        status, reply = await api("results", "k2", headers=_as(x["token"]))
        assert status == 404 and "k2" in reply["message"]
        status, reply = await api("flow_runs", a["run"], "results", headers=_as(x["token"]))
        assert status == 403 and "deployment" in reply["message"]
        status, reply = await api(
            "results",
            "k2",
            method="PUT",
            body=RESULT,
            params={"flow_run_id": a["run"]},
            headers=_as(x["token"]),
        )
        assert status == 403 and a["run"] in reply["message"]

    async def test_bad_uploads_are_refused_and_the_stored_result_survives(
        self, api: Any, jp_root_dir: Path, jp_http_port: int, jp_base_url: str
    ) -> None:
        runs = await _runs(api, jp_root_dir)
        as_a = _as(runs["a"]["token"])
        assert (await api("results", "k3", method="PUT", body=RESULT, headers=as_a))[0] == 200
        big = RESULT + b"0" * 2000
        status, reply = await api("results", "k3", method="PUT", body=big, headers=as_a)
        assert status == 413 and "max_result_size" in reply["message"]
        status, reply = await api("results", "k3", method="PUT", body=b"no header", headers=as_a)
        assert status == 400 and reply["message"].startswith("body:")
        bad_head = b'{"serializer": "nope"}\n1'
        status, reply = await api("results", "k3", method="PUT", body=bad_head, headers=as_a)
        assert status == 400 and "nope" in reply["message"]
        url = f"http://localhost:{jp_http_port}{jp_base_url}".rstrip("/")
        client = ServerResults(FlowsClient(url, runs["a"]["token"]))
        for key in ("../k3", "a//b", "/abs"):  # sent as one path segment (%2F)
            with pytest.raises(ClientError) as refused:
                await asyncio.to_thread(client.upload, key, RESULT)
            assert refused.value.status == 400 and "key:" in str(refused.value)
        status, reply = await api("results", "k3", method="PUT", body=RESULT)
        assert status == 400 and "flow_run_id" in reply["message"]
        status, text = await api("results", "k3", headers=as_a)
        assert status == 200 and text == RESULT.decode()  # what was stored is intact
        status, _ = await api("results", "missing", headers=as_a)
        assert status == 404

    async def test_a_result_is_written_atomically(
        self, api: Any, jp_root_dir: Path, tmp_path: Path
    ) -> None:
        runs = await _runs(api, jp_root_dir)
        as_a = _as(runs["a"]["token"])
        for n in range(3):
            body = json.dumps({"serializer": "json", "expires": None}).encode() + b"\n%d" % n
            assert (await api("results", "k4", method="PUT", body=body, headers=as_a))[0] == 200
        names = [p.name for p in (tmp_path / "uploaded").rglob("*") if p.is_file()]
        assert names == ["k4"]  # no temporary file left behind
        status, text = await api("results", "k4", headers=as_a)
        assert status == 200 and text.endswith("\n2")


class TestBackgroundThroughTheServer:
    async def test_a_run_queues_and_follows_its_own_background_runs(
        self, api: Any, jp_root_dir: Path
    ) -> None:
        runs = await _runs(api, jp_root_dir)
        as_a, as_b = _as(runs["a"]["token"]), _as(runs["b"]["token"])
        body = {
            "id": "a" * 32,
            "task_key": "add",
            "task_name": "add",
            "name": "add-1",
            "queue_key": "add-123",
            "parameters": {"x": 1},
        }
        status, queued = await api("background_task_runs", method="POST", body=body, headers=as_a)
        assert status == 201, queued
        assert queued["origin_flow_run_id"] == runs["a"]["run"]
        assert queued["state_name"] == "Scheduled" and queued["parameters"] == {"x": 1}
        status, again = await api("background_task_runs", method="POST", body=body, headers=as_a)
        assert status == 409 and again["message"].startswith("id:")
        status, read = await api("background_task_runs", "a" * 32, headers=as_a)
        assert status == 200 and read["id"] == "a" * 32
        status, _ = await api("background_task_runs", "a" * 32, "result", headers=as_a)
        assert status == 404  # no result yet
        status, reply = await api("background_task_runs", "a" * 32, headers=as_b)
        assert status == 403 and "not" in reply["message"]  # another run's

    async def test_bad_background_runs_are_refused_naming_the_field(
        self, api: Any, jp_root_dir: Path
    ) -> None:
        runs = await _runs(api, jp_root_dir)
        as_a = _as(runs["a"]["token"])
        base = {"task_key": "t", "task_name": "t", "name": "t-1", "queue_key": "t-1"}
        for change, field in (
            ({"wait_for": ["nope"]}, "wait_for"),
            ({"name": ""}, "name"),
            ({"parameters_key": "parameters/none"}, "parameters_key"),
            ({"surprise": 1}, "surprise"),
        ):
            status, reply = await api(
                "background_task_runs", method="POST", body=base | change, headers=as_a
            )
            assert status == 400 and field in reply["message"], (change, reply)
        status, page = await api("background_task_runs")
        assert status == 200 and page["total"] == 0  # nothing was queued
