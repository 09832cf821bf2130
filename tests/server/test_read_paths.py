"""The run view's reads of a 10,000-task run on a real server: bounded bodies, paged task
runs and logs, the graph aggregated by task, JSON encoded off the event loop."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from jupyter_flows.server.handlers_runs import GRAPH_GROUP_ABOVE
from jupyter_flows.store import open_store
from jupyter_flows.store.schemas import DescribeFlowRunDetail
from tests.server.big_run import BigRun, insert_big_run

MB = 1_000_000
N_TASKS = 10_000


@pytest.fixture
def big(flows_db_url: str) -> Iterator[BigRun]:
    engine = open_store(flows_db_url)
    try:
        yield insert_big_run(engine, N_TASKS)
    finally:
        engine.dispose()


@pytest.fixture
def get(jp_fetch: Any) -> Any:
    """``await get(*path, **params)`` -> (status, parsed body, body size in bytes)."""

    async def call(*path: str, **params: str) -> tuple[int, Any, int]:
        response = await jp_fetch("jupyter-flows", "api", *path, params=params, raise_error=False)
        return response.code, json.loads(response.body), len(response.body)

    return call


class TestBigRun:
    async def test_detail_counts_instead_of_listing(self, get: Any, big: BigRun) -> None:
        status, run, size = await get("flow_runs", big.id)
        assert status == 200 and size < 10_000
        assert (run["state_name"], run["task_run_total"]) == ("Failed", N_TASKS)
        assert run["task_run_counts"] == big.counts
        assert run["task_runs"] == [] and run["task_runs_complete"] is False
        assert run["log_total"] == big.n_logs
        assert "logs" not in run and "task_states" not in run
        assert [s["name"] for s in run["states"]] == ["Pending", "Running", "Failed"]

    async def test_the_list_items_are_light(self, get: Any, big: BigRun) -> None:
        status, page, _ = await get("flow_runs")
        assert status == 200 and page["total"] == 1
        assert page["items"][0]["id"] == big.id
        assert not {"task_runs", "states", "logs", "edges"} & set(page["items"][0])

    async def test_task_runs_in_pages(self, get: Any, big: BigRun) -> None:
        status, first, _ = await get("flow_runs", big.id, "task_runs")
        assert status == 200
        assert (len(first["items"]), first["total"], first["limit"]) == (100, N_TASKS, 100)
        assert first["items"][0]["task_key"] == "big.prepare" and first["states"] == []
        _, last, _ = await get("flow_runs", big.id, "task_runs", offset=str(N_TASKS - 3))
        assert [t["task_key"] for t in last["items"]] == ["big.check", "big.check", "big.summarize"]
        _, biggest, size = await get(
            "flow_runs", big.id, "task_runs", limit="500", offset="5000", with_states="true"
        )
        assert len(biggest["items"]) == 500 and len(biggest["states"]) == 1500
        assert size < MB
        _, failed, _ = await get("flow_runs", big.id, "task_runs", state="failed,crashed")
        assert [t["id"] for t in failed["items"]] == big.failed_ids
        assert failed["total"] == len(big.failed_ids) == 9
        _, checks, _ = await get("flow_runs", big.id, "task_runs", task_key="big.check", limit="1")
        assert checks["total"] == big.per_key["big.check"]

    async def test_logs_in_pages(self, get: Any, big: BigRun) -> None:
        status, tail, size = await get("flow_runs", big.id, "logs", newest="true", limit="200")
        assert status == 200 and size < MB
        assert len(tail["items"]) == 200 and tail["has_more"] is True
        ids = [line["id"] for line in tail["items"]]
        assert ids == sorted(ids)
        _, earlier, _ = await get(
            "flow_runs", big.id, "logs", before_id=str(ids[0]), newest="true", limit="200"
        )
        assert earlier["items"][-1]["id"] < ids[0] and len(earlier["items"]) == 200
        _, after, _ = await get("flow_runs", big.id, "logs", after_id=str(ids[-1]))
        assert after == {"items": [], "has_more": False}
        _, errors, _ = await get("flow_runs", big.id, "logs", min_level="40", limit="50")
        assert [line["task_run_id"] for line in errors["items"]] == big.failed_ids
        _, page, size = await get("flow_runs", big.id, "logs")  # the default page: 1,000
        assert len(page["items"]) == 1000 and page["has_more"] and size < MB

    async def test_the_graph_is_aggregated_by_task(self, get: Any, big: BigRun) -> None:
        assert N_TASKS > GRAPH_GROUP_ABOVE
        status, graph, size = await get("flow_runs", big.id, "graph")
        assert status == 200 and size < 10_000
        assert graph["aggregated"] is True and graph["task_run_total"] == N_TASKS
        nodes = {n["task_key"]: n for n in graph["nodes"]}
        assert {k: n["count"] for k, n in nodes.items()} == big.per_key
        check = nodes["big.check"]
        assert check["state"] == "Failed" and check["states"]["Failed"] == 9
        assert check["label"] == f"check ×{big.per_key['big.check']}"
        assert [n["layer"] for n in graph["nodes"]] == [0, 1, 2, 3]
        edges = {(e["source"], e["target"]) for e in graph["edges"]}
        assert edges == {
            ("group:big.prepare", "group:big.work"),
            ("group:big.work", "group:big.check"),
            ("group:big.check", "group:big.summarize"),
        }

    async def test_json_is_encoded_off_the_event_loop(
        self, get: Any, big: BigRun, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        threads: list[threading.Thread] = []
        encode = DescribeFlowRunDetail.model_dump_json

        def spy(self: DescribeFlowRunDetail, **kwargs: Any) -> str:
            threads.append(threading.current_thread())
            return encode(self, **kwargs)

        monkeypatch.setattr(DescribeFlowRunDetail, "model_dump_json", spy)
        status, _, _ = await get("flow_runs", big.id)
        assert status == 200 and len(threads) == 1
        assert threads[0] is not threading.main_thread()  # the loop runs in the main thread


class TestSmallRun:
    async def test_the_detail_lists_a_small_run(self, api: Any, recorded: list[str]) -> None:
        status, run = await api("flow_runs", recorded[0])
        assert status == 200 and run["task_runs_complete"] is True
        assert {t["task_name"] for t in run["task_runs"]} == {"double", "boom"}
        assert run["task_run_total"] == 2 and run["task_run_counts"] == {
            "COMPLETED": 1,
            "FAILED": 1,
        }

    async def test_the_graph_keeps_one_node_per_task_run(
        self, api: Any, recorded: list[str]
    ) -> None:
        status, graph = await api("flow_runs", recorded[0], "graph")
        assert status == 200 and graph["aggregated"] is False
        assert {n["task_key"].rsplit(".", 1)[-1] for n in graph["nodes"]} == {"double", "boom"}
        assert all(n["count"] == 1 and n["details"] for n in graph["nodes"])


class TestBadQueries:
    @pytest.mark.parametrize(
        "route, params, field",
        [
            ("task_runs", {"limit": "0"}, "limit"),
            ("task_runs", {"limit": "501"}, "limit"),
            ("task_runs", {"offset": "-1"}, "offset"),
            ("task_runs", {"with_states": "maybe"}, "with_states"),
            ("task_runs", {"tail": "1"}, "tail"),
            ("logs", {"before_id": "0"}, "before_id"),
            ("logs", {"min_level": "200"}, "min_level"),
            ("logs", {"newest": "maybe"}, "newest"),
        ],
    )
    async def test_a_400_names_the_field(
        self, api: Any, recorded: list[str], route: str, params: dict[str, str], field: str
    ) -> None:
        status, body = await api("flow_runs", recorded[0], route, params=params)
        assert status == 400, body
        assert field in body["message"] and field in body["reason"]

    async def test_an_unknown_run_is_404(self, api: Any) -> None:
        status, body = await api("flow_runs", "0" * 32, "task_runs")
        assert status == 404 and "0" * 32 in body["message"]


class TestDocumented:
    async def test_responses_match_the_openapi_document(
        self, jp_fetch: Any, openapi: Any, big: BigRun
    ) -> None:
        for path, params in [
            (("flow_runs", big.id), {}),
            (("flow_runs", big.id, "task_runs"), {"state": "failed", "with_states": "true"}),
            (("flow_runs", big.id, "logs"), {"newest": "true", "min_level": "40"}),
            (("flow_runs", big.id, "graph"), {}),
            (("flow_runs",), {"limit": "5"}),
        ]:
            response = await jp_fetch("jupyter-flows", "api", *path, params=params)
            openapi(response)
