"""The read side of the REST API (runs, logs, graph, report, output) on a real in-process server."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from tornado.httpclient import HTTPClientError

from tests.helpers import write_notebook


class TestReadRoutes:
    async def test_health(self, api: Any) -> None:
        status, body = await api("health")
        assert status == 200
        assert body["status"] == "ok"
        assert body["db_url"].endswith("server-flows.sqlite")
        assert (body["scheduler"], body["embedded_worker"]) == (False, False)

    async def test_list_and_filter_flow_runs(self, api: Any, recorded: list[str]) -> None:
        status, page = await api("flow_runs")
        assert status == 200
        assert page["total"] == 2
        assert [r["id"] for r in page["items"]] == list(reversed(recorded))  # newest first
        status, page = await api("flow_runs", params={"flow_name": "nope"})
        assert (status, page["total"]) == (200, 0)
        status, page = await api("flow_runs", params={"tags": "demo", "limit": "1"})
        assert (page["total"], len(page["items"]), page["limit"]) == (2, 1, 1)
        status, page = await api("flow_runs", params={"state": "completed,failed"})
        assert page["total"] == 2
        status, page = await api("flow_runs", params={"offset": "1", "limit": "5"})
        assert [r["id"] for r in page["items"]] == [recorded[0]]
        status, page = await api("flow_runs", params={"since": "2999-01-01T00:00:00Z"})
        assert page["total"] == 0

    async def test_flow_run_detail_graph_logs_task_run(self, api: Any, recorded: list[str]) -> None:
        run_id = recorded[0]
        status, run = await api("flow_runs", run_id)
        assert status == 200
        assert run["flow_name"] == "api-demo" and run["state_name"] == "Completed"
        assert [s["name"] for s in run["states"]][-1] == "Completed"
        names = {t["task_name"]: t for t in run["task_runs"]}
        assert names["boom"]["state_name"] == "Failed"
        assert run["edges"] and run["edges"][0]["kind"] == "data"
        status, graph = await api("flow_runs", run_id, "graph")
        assert status == 200
        assert {n["state"] for n in graph["nodes"]} == {"Completed", "Failed"}
        assert [(e["source"], e["target"]) for e in graph["edges"]] == [
            (names["double"]["id"], names["boom"]["id"])
        ]
        assert graph["edges"][0]["points"] == [[160.0, 18.0], [220.0, 18.0]]  # right to left side
        assert graph["width"] > 0 and graph["nodes"][0]["details"]["task_name"]
        status, logs = await api("flow_runs", run_id, "logs")
        assert status == 200
        assert any("bad values" in log["message"] for log in logs["items"])
        last = logs["items"][-1]["id"]
        status, tail = await api("flow_runs", run_id, "logs", params={"after_id": str(last)})
        assert tail["items"] == []
        only = names["boom"]["id"]
        status, task_logs = await api("flow_runs", run_id, "logs", params={"task_run_id": only})
        assert {log["task_run_id"] for log in task_logs["items"]} == {only}
        status, task_run = await api("task_runs", names["boom"]["id"])
        assert (status, task_run["state_message"]) == (200, "ValueError: bad values")
        assert [s["name"] for s in task_run["states"]][-1] == "Failed"  # its state history

    async def test_flows(self, api: Any, recorded: list[str]) -> None:
        status, body = await api("flows")
        assert status == 200
        assert [f["name"] for f in body["items"]] == ["api-demo"]

    async def test_report_downloads(self, jp_fetch: Any, recorded: list[str]) -> None:
        html = await jp_fetch("jupyter-flows", "api", "flow_runs", recorded[0], "report")
        assert html.headers["Content-Type"].startswith("text/html")
        assert html.headers["Content-Disposition"].startswith("attachment;")
        assert b"api-demo" in html.body and b"<html" in html.body.lower()
        md = await jp_fetch(
            "jupyter-flows", "api", "flow_runs", recorded[0], "report", params={"format": "md"}
        )
        assert md.headers["Content-Type"].startswith("text/markdown")
        assert b"api-demo" in md.body and b"<html" not in md.body.lower()


async def _notebook_run(api: Any, root: Path, outputs: Path) -> str:
    """A notebook deployment's run, claimed by worker w (which writes executed notebooks
    into ``outputs``), and Completed."""
    write_notebook(root / "nb.ipynb", "n = 1", "print(n * 2)")
    status, dep = await api(
        "deployments", method="POST", body={"name": "nb", "entrypoint": "nb.ipynb"}
    )
    assert status == 201, dep
    status, run = await api("deployments", "nb", "run", method="POST", body={})
    claim = {"worker": "w", "outputs_dir": str(outputs)}
    status, claimed = await api("work_pools", "default", "claim", method="POST", body=claim)
    assert status == 200 and claimed["items"][0]["flow_run"]["output_path"] == str(
        outputs / run["id"] / "nb.ipynb"
    )
    done = {"type": "COMPLETED", "name": "Completed", "worker": "w"}
    status, _ = await api("flow_runs", run["id"], "state", method="POST", body=done)
    assert status == 200
    return str(run["id"])


class TestOutputNotebook:
    async def test_output_as_ipynb_and_html(
        self, api: Any, jp_fetch: Any, jp_root_dir: Path, tmp_path: Path
    ) -> None:
        outputs = tmp_path / "outputs"
        run_id = await _notebook_run(api, jp_root_dir, outputs)
        status, body = await api("flow_runs", run_id, "output")
        assert status == 404 and "no output notebook" in body["message"]
        (outputs / run_id).mkdir(parents=True)
        write_notebook(outputs / run_id / "nb.ipynb", "n = 1", "print(n * 2)")
        response = await jp_fetch("jupyter-flows", "api", "flow_runs", run_id, "output")
        assert response.headers["Content-Type"] == "application/x-ipynb+json"
        assert b"print(n * 2)" in response.body
        html = await jp_fetch(
            "jupyter-flows", "api", "flow_runs", run_id, "output", params={"format": "html"}
        )
        assert html.headers["Content-Type"].startswith("text/html")
        assert b"print" in html.body and b"<html" in html.body.lower()

    async def test_output_outside_the_output_and_root_dirs_is_not_served(
        self, api: Any, jp_root_dir: Path, tmp_path: Path
    ) -> None:
        elsewhere = tmp_path / "elsewhere"  # a worker's outputs the server must not serve
        run_id = await _notebook_run(api, jp_root_dir, elsewhere)
        (elsewhere / run_id).mkdir(parents=True)
        write_notebook(elsewhere / run_id / "nb.ipynb", None, "password = 1")
        status, run = await api("flow_runs", run_id)
        assert run["output_path"] == str(elsewhere / run_id / "nb.ipynb")
        status, body = await api("flow_runs", run_id, "output")
        assert status == 404, body

    async def test_the_output_path_is_a_column_of_the_run(
        self, api: Any, jp_root_dir: Path
    ) -> None:
        outputs = jp_root_dir / "results"  # under the root, not the server's outputs dir
        run_id = await _notebook_run(api, jp_root_dir, outputs)
        out = outputs / run_id / "nb.ipynb"
        out.parent.mkdir(parents=True)
        write_notebook(out, "n = 1", "print('from the worker')")
        status, run = await api("flow_runs", run_id)
        assert status == 200
        assert run["output_path"] == str(out)
        assert run["state_name"] == "Completed" and run["state_message"] is None
        _, page = await api("flow_runs")
        assert [r["output_path"] for r in page["items"] if r["id"] == run_id] == [str(out)]
        status, served = await api("flow_runs", run_id, "output")
        assert status == 200 and "from the worker" in json.dumps(served)


class TestBadInput:
    @pytest.mark.parametrize(
        "path",
        [
            ("flow_runs", "0" * 32),
            ("flow_runs", "0" * 32, "graph"),
            ("flow_runs", "0" * 32, "logs"),
            ("flow_runs", "0" * 32, "report"),
            ("flow_runs", "0" * 32, "output"),
            ("task_runs", "0" * 32),
        ],
    )
    async def test_unknown_ids_are_404_with_json_message(
        self, api: Any, path: tuple[str, ...]
    ) -> None:
        status, body = await api(*path)
        assert status == 404
        assert "0" * 32 in body["message"] and body["reason"]

    async def test_cancel_unknown_run_is_404(self, api: Any) -> None:
        status, body = await api("flow_runs", "f" * 32, "cancel", method="POST", body="")
        assert status == 404 and "f" * 32 in body["message"]

    @pytest.mark.parametrize(
        "route, params, field",
        [
            ("flow_runs", {"limit": "0"}, "limit"),
            ("flow_runs", {"limit": "100000"}, "limit"),
            ("flow_runs", {"since": "yesterday"}, "since"),
            ("flow_runs", {"offset": "x"}, "offset"),
            ("logs", {"after_id": "-1"}, "after_id"),
            ("logs", {"limit": "many"}, "limit"),
            ("logs", {"tail": "1"}, "tail"),
            ("report", {"format": "pdf"}, "format"),
            ("output", {"format": "pdf"}, "format"),
        ],
    )
    async def test_invalid_query_is_400_naming_the_field(
        self, api: Any, recorded: list[str], route: str, params: dict[str, str], field: str
    ) -> None:
        path = ("flow_runs",) if route == "flow_runs" else ("flow_runs", recorded[0], route)
        status, body = await api(*path, params=params)
        assert status == 400, body
        assert field in body["message"] and field in body["reason"]


class TestAuth:
    async def test_requests_without_credentials_are_refused(self, jp_fetch: Any) -> None:
        with pytest.raises(HTTPClientError) as info:
            await jp_fetch("jupyter-flows", "api", "flow_runs", headers={"Authorization": ""})
        assert info.value.code == 403
