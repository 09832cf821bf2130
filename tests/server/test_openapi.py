"""The served OpenAPI document: complete, valid, and matching real requests and responses."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from openapi_core.validation.response.exceptions import InvalidData
from tornado import web
from tornado.httpclient import HTTPResponse

from jupyter_flows.server.app import API_BASE, ROUTES
from jupyter_flows.server.handlers import FlowsAPIHandler
from jupyter_flows.server.openapi import openapi_document
from tests.helpers import write_notebook
from tests.server.contract import OPERATIONS


def _operations(document: dict[str, Any]) -> set[tuple[str, str]]:
    import re

    prefix = f"/{API_BASE}/"
    return {
        (method, re.sub(r"\{\w+\}", "{}", path[len(prefix) :]))
        for path, item in document["paths"].items()
        for method in item
    }


class TestDocument:
    async def test_every_contract_route_is_documented(self, api: Any) -> None:
        status, document = await api("openapi.json")
        assert status == 200 and document["openapi"] == "3.1.0"
        assert _operations(document) == OPERATIONS
        schemas = document["components"]["schemas"]
        assert {"CreateDeployment", "DescribeFlowRun", "ListFlowRunsQuery", "ErrorReply"} <= set(
            schemas
        )
        run = document["paths"][f"/{API_BASE}/deployments/{{deployment_id}}/run"]["post"]
        assert run["x-jupyter-flows-action"] == "execute"
        assert run["requestBody"]["content"]["application/json"]["schema"] == {
            "$ref": "#/components/schemas/CreateDeploymentRun"
        }

    def test_the_document_is_built_from_the_route_table(self) -> None:
        document = openapi_document(ROUTES, "/" + API_BASE)
        assert len(_operations(document)) == len(OPERATIONS)

        class Undocumented(FlowsAPIHandler):
            @web.authenticated
            async def get(self) -> None:
                self.finish("{}")

        with pytest.raises(TypeError, match="Undocumented.get has no @doc"):
            openapi_document([*ROUTES, ("extra", Undocumented)], "/" + API_BASE)

    def test_the_document_is_json(self) -> None:
        json.dumps(openapi_document(ROUTES, "/" + API_BASE))


class TestResponsesMatchTheDocument:
    async def test_read_routes(self, jp_fetch: Any, openapi: Any, recorded: list[str]) -> None:
        run_id = recorded[0]

        async def get(*path: str, valid: bool = True, **params: str) -> HTTPResponse:
            response = await jp_fetch(
                "jupyter-flows", "api", *path, params=params, raise_error=False
            )
            openapi(response, valid)
            return response

        await get("health")
        await get("flows")
        await get("flow_runs", tags="demo,other", state="completed", limit="10")
        detail = await get("flow_runs", run_id)
        await get("flow_runs", run_id, "graph")
        await get("flow_runs", run_id, "logs", after_id="0")
        await get("flow_runs", run_id, "report", format="md")
        await get("flow_runs", run_id, "report")
        task_run_id = json.loads(detail.body)["task_runs"][0]["id"]
        await get("task_runs", task_run_id)
        assert (await get("flow_runs", "0" * 32)).code == 404  # the error body too
        assert (await get("flow_runs", limit="0", valid=False)).code == 400
        assert (await get("flow_runs", run_id, "report", format="pdf", valid=False)).code == 400

    async def test_a_wrong_body_does_not_match(
        self, jp_fetch: Any, openapi: Any, recorded: list[str]
    ) -> None:
        response = await jp_fetch("jupyter-flows", "api", "flow_runs", recorded[0])
        broken = copy.copy(response)
        body = json.loads(response.body)
        body["state_type"] = "NOT-A-STATE"
        broken._body = json.dumps(body).encode()
        with pytest.raises(InvalidData):
            openapi(broken)

    async def test_orchestration_routes(
        self, jp_fetch: Any, openapi: Any, jp_root_dir: Path
    ) -> None:
        write_notebook(jp_root_dir / "etl.ipynb", "n = 3", "print(n)")

        async def call(
            *path: str, method: str = "GET", body: Any = None, valid: bool = True, **params: str
        ) -> Any:
            kwargs: dict[str, Any] = {"method": method, "params": params, "raise_error": False}
            if method != "GET" and method != "DELETE":
                kwargs["body"] = json.dumps(body if body is not None else {})
                kwargs["headers"] = {"Content-Type": "application/json"}
            response = await jp_fetch("jupyter-flows", "api", *path, **kwargs)
            openapi(response, valid)
            return json.loads(response.body) if response.body else None

        create = {"name": "etl", "entrypoint": "etl.ipynb", "schedules": [{"cron": "0 6 * * *"}]}
        dep = await call("deployments", method="POST", body=create)
        await call("deployments", method="POST", body=create)  # 409
        await call("deployments", method="POST", body={"name": "x"}, valid=False)  # 400
        await call("deployments", work_pool="default", paused="false", limit="5")
        await call("deployments", dep["id"])
        await call("deployments", dep["id"], method="PATCH", body={"tags": ["t"]})
        await call("deployments", dep["id"], "pause", method="POST")
        await call("deployments", dep["id"], "resume", method="POST")
        await call("deployments", dep["id"], "next_runs", n="2")
        await call("schedules/preview", method="POST", body={"interval_seconds": 60, "n": 2})
        await call("notebooks/parameters", method="POST", body={"path": "etl.ipynb"})
        await call("work_pools", method="POST", body={"name": "gpu", "concurrency_limit": 2})
        await call("work_pools")
        await call("work_pools", "gpu")
        await call("work_pools", "gpu", method="PATCH", body={"description": "GPUs"})
        await call("work_pools", "gpu", "pause", method="POST")
        await call("work_pools", "gpu", "resume", method="POST")
        await call(
            "work_pools", "default", "workers", "heartbeat", method="POST", body={"worker": "w"}
        )
        await call("workers", work_pool="default")
        run = await call(
            "deployments", dep["id"], "run", method="POST", body={"parameters": {"n": 4}}
        )
        claimed = await call("work_pools", "default", "claim", method="POST", body={"worker": "w"})
        assert [c["flow_run"]["id"] for c in claimed["items"]] == [run["id"]]
        running = {"type": "RUNNING", "name": "Running", "worker": "w"}
        await call("flow_runs", run["id"], "state", method="POST", body=running)
        lines = {"items": [{"message": "hi", "level": 20}]}
        await call("flow_runs", run["id"], "logs", "append", method="POST", body=lines)
        await call("flow_runs", run["id"], "cancel", method="POST")
        await call("deployments", dep["id"], method="DELETE")
