"""The read side of the REST API against a real in-process Jupyter server."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import jsonschema
import pytest
from tornado.httpclient import HTTPClientError

from jupyter_flows import flow, task
from jupyter_flows.core import settings
from jupyter_flows.store.recorder import SqlRecorder


@task(retries=1)
def double(x: int) -> list[int]:
    return [x, x]


@task
def boom(values: list[int]) -> None:
    raise ValueError("bad values")


@flow(name="api-demo", tags=["demo"])
def demo(n: int = 2) -> int:
    values = double(n)
    boom.submit(values).wait()
    return len(values)


@pytest.fixture
def recorded(flows_db_url: str) -> Iterator[list[str]]:
    """Two runs of ``demo`` recorded into the server's database."""
    recorder = SqlRecorder.from_url(flows_db_url)
    previous = settings.set_recorder(recorder)
    try:
        ids = [demo(n, return_state=True).run_id for n in (2, 3)]
        recorder.flush()
        yield [i for i in ids if i]
    finally:
        settings.set_recorder(previous)
        recorder.close()


class TestReadRoutes:
    async def test_health(self, api: Any, flows_db_url: str) -> None:
        status, body = await api("health")
        assert status == 200
        assert body["status"] == "ok"
        assert body["db_url"].endswith("server-flows.sqlite")

    async def test_list_and_filter_flow_runs(self, api: Any, recorded: list[str]) -> None:
        status, page = await api("flow_runs")
        assert status == 200
        assert page["total"] == 2
        assert [r["id"] for r in page["items"]] == list(reversed(recorded))  # newest first
        status, page = await api("flow_runs", params={"flow_name": "nope"})
        assert (status, page["total"]) == (200, 0)
        status, page = await api("flow_runs", params={"tags": "demo", "limit": "1"})
        assert (page["total"], len(page["items"])) == (2, 1)
        status, page = await api("flow_runs", params={"state": "completed"})
        assert page["total"] == 2

    async def test_flow_run_detail_graph_logs_task_run(self, api: Any, recorded: list[str]) -> None:
        run_id = recorded[0]
        status, run = await api("flow_runs", run_id)
        assert status == 200
        assert run["flow_name"] == "api-demo" and run["state_name"] == "Completed"
        names = {t["task_name"]: t for t in run["task_runs"]}
        assert names["boom"]["state_name"] == "Failed"
        assert run["edges"] and run["edges"][0]["kind"] == "data"
        status, graph = await api("flow_runs", run_id, "graph")
        assert status == 200
        assert {n["state"] for n in graph["nodes"]} == {"Completed", "Failed"}
        assert graph["edges"] == [{"source": names["double"]["id"], "target": names["boom"]["id"]}]
        status, logs = await api("flow_runs", run_id, "logs")
        assert status == 200
        assert any("bad values" in log["message"] for log in logs["items"])
        last = logs["items"][-1]["id"]
        status, tail = await api("flow_runs", run_id, "logs", params={"after_id": str(last)})
        assert tail["items"] == []
        status, task_run = await api("task_runs", names["boom"]["id"])
        assert (status, task_run["state_message"]) == (200, "ValueError: bad values")

    async def test_flows(self, api: Any, recorded: list[str]) -> None:
        status, body = await api("flows")
        assert status == 200
        assert [f["name"] for f in body["items"]] == ["api-demo"]


class TestBadInput:
    async def test_unknown_run_is_404_with_json_reason(self, api: Any) -> None:
        status, body = await api("flow_runs", "0" * 32)
        assert status == 404
        assert "no flow run" in body["message"]

    @pytest.mark.parametrize(
        "params, field",
        [({"limit": "0"}, "limit"), ({"since": "yesterday"}, "since"), ({"offset": "x"}, "offset")],
    )
    async def test_invalid_query_is_400_naming_the_field(
        self, api: Any, params: dict[str, str], field: str
    ) -> None:
        status, body = await api("flow_runs", params=params)
        assert status == 400
        assert field in body["message"]

    async def test_unknown_report_format_is_400(self, api: Any, recorded: list[str]) -> None:
        status, body = await api("flow_runs", recorded[0], "report", params={"format": "pdf"})
        assert status == 400
        assert "format" in body["message"]


class TestAuth:
    async def test_requests_without_credentials_are_refused(self, jp_fetch: Any) -> None:
        with pytest.raises(HTTPClientError) as info:
            await jp_fetch("jupyter-flows", "api", "flow_runs", headers={"Authorization": ""})
        assert info.value.code == 403


class TestOpenAPI:
    async def test_responses_match_the_served_document(self, api: Any, recorded: list[str]) -> None:
        status, doc = await api("openapi.json")
        assert status == 200
        assert doc["openapi"].startswith("3.1")
        components = doc["components"]["schemas"]

        def check(path: str, value: Any) -> None:
            schema = doc["paths"][path]["get"]["responses"]["200"]["content"]["application/json"][
                "schema"
            ]
            resolver_doc = {"components": {"schemas": components}, **schema}
            jsonschema.validate(value, resolver_doc)

        base = "/jupyter-flows/api/"
        _, page = await api("flow_runs")
        check(base + "flow_runs", page)
        _, run = await api("flow_runs", recorded[0])
        check(base + "flow_runs/{flow_run_id}", run)
        bad = dict(run, state_type="NOT-A-STATE")
        with pytest.raises(jsonschema.ValidationError):
            check(base + "flow_runs/{flow_run_id}", bad)
