"""Run processes without database access record through ``POST records`` (real server)."""

from __future__ import annotations

import asyncio
from typing import Any

from jupyter_flows.client.http import FlowsClient
from jupyter_flows.core import settings
from jupyter_flows.workers.http_recorder import HttpRecorder
from tests.server.conftest import demo


def _run_demo(recorder: HttpRecorder, n: int) -> str:
    previous = settings.set_recorder(recorder)
    try:
        state = demo(n, return_state=True)
        recorder.flush()
    finally:
        settings.set_recorder(previous)
    assert state.run_id
    return state.run_id


def _server(jp_serverapp: Any, jp_http_port: int, jp_base_url: str) -> tuple[str, str]:
    url = f"http://127.0.0.1:{jp_http_port}{jp_base_url.rstrip('/')}"
    return url, jp_serverapp.identity_provider.token


async def test_a_flow_run_recorded_over_http(
    api: Any, jp_serverapp: Any, jp_http_port: int, jp_base_url: str
) -> None:
    url, token = _server(jp_serverapp, jp_http_port, jp_base_url)
    recorder = HttpRecorder(url, token)
    try:
        run_id = await asyncio.to_thread(_run_demo, recorder, 3)
    finally:
        await asyncio.to_thread(recorder.close)
    status, run = await api("flow_runs", run_id)
    assert status == 200, run
    assert (run["flow_name"], run["state_name"], run["parameters"]) == (
        "api-demo",
        "Completed",
        {"n": 3},
    )
    assert {t["task_name"]: t["state_name"] for t in run["task_runs"]} == {
        "double": "Completed",
        "boom": "Failed",
    }
    assert run["edges"], "the graph's edges came along"
    status, logs = await api("flow_runs", run_id, "logs")
    assert any("bad values" in line["message"] for line in logs["items"])


async def test_records_wait_for_an_unreachable_server(
    api: Any, jp_serverapp: Any, jp_http_port: int, jp_base_url: str
) -> None:
    recorder = HttpRecorder("http://127.0.0.1:9", "no-token", interval=3600)
    try:
        run_id = await asyncio.to_thread(_run_demo, recorder, 4)  # flush fails: kept
        status, _ = await api("flow_runs", run_id)
        assert status == 404
        recorder.client = FlowsClient(*_server(jp_serverapp, jp_http_port, jp_base_url))
        await asyncio.to_thread(recorder.flush)
    finally:
        await asyncio.to_thread(recorder.close)
    status, run = await api("flow_runs", run_id)
    assert status == 200 and run["parameters"] == {"n": 4} and len(run["task_runs"]) == 2


async def test_bad_records_are_400_and_change_nothing(api: Any) -> None:
    body = {
        "items": [
            {"op": "set_state", "kind": "flow", "run_id": "r1",
             "state": {"type": "RUNNING", "name": "Running"}},
            {"op": "drop_table"},
        ]
    }  # fmt: skip
    status, reply = await api("records", method="POST", body=body)
    assert status == 400 and "items[1].op" in reply["message"], reply
    status, page = await api("flow_runs")
    assert page["items"] == []
    status, reply = await api("records", method="POST", body={"items": "nope"})
    assert status == 400 and "items" in reply["message"]


def test_log_lines_beyond_the_limit_are_dropped_while_away() -> None:
    from jupyter_flows.core.records import LogInfo
    from jupyter_flows.core.states import State, StateType

    recorder = HttpRecorder("http://127.0.0.1:9", "no-token", interval=3600, max_kept=3)
    try:
        line = LogInfo("r", None, 20, "x", "hello", State(StateType.RUNNING, "R").timestamp)
        for _ in range(5):
            recorder.log(line)
        recorder.set_state("flow", "r", State(StateType.COMPLETED, "Completed"), 1)
        assert recorder.dropped_logs == 2
        assert [i["op"] for i in recorder._items] == ["log", "log", "log", "set_state"]
    finally:
        recorder._closed = True  # nothing to send to: do not wait for the unreachable server


async def test_a_record_the_database_refuses_is_reported_and_blocks_nothing(api: Any) -> None:
    from jupyter_flows.core.record_codec import encode
    from jupyter_flows.core.states import Running
    from tests.store import builders as b

    flow = b.flow_run()
    good, bad = b.task_run(flow.id, "good"), b.task_run(flow.id, "bad")
    bad.name = "bad-\udc80"  # a lone surrogate: no database stores it
    first = [
        encode("flow_run_created", flow),
        encode("set_state", "flow", flow.id, Running(), 1),
        encode("task_run_created", good),
        encode("task_run_created", bad),
    ]
    status, reply = await api("records", method="POST", body={"items": first})
    assert status == 200, reply
    assert [(d["what"], d["run_id"]) for d in reply["dropped"]] == [("task_run", bad.id)]
    later = b.task_run(flow.id, "later")
    status, reply = await api(
        "records", method="POST", body={"items": [encode("task_run_created", later)]}
    )
    assert status == 200 and reply["dropped"] == [], reply
    status, run = await api("flow_runs", flow.id)
    assert sorted(t["task_name"] for t in run["task_runs"]) == ["good", "later"]
    assert run["state_name"] == "Running"


async def test_a_record_the_server_refuses_is_dropped_and_the_rest_sent(
    api: Any, jp_serverapp: Any, jp_http_port: int, jp_base_url: str, caplog: Any
) -> None:
    from jupyter_flows.core.records import LogInfo
    from tests.store import builders as b

    url, token = _server(jp_serverapp, jp_http_port, jp_base_url)
    recorder = HttpRecorder(url, token, interval=3600)
    try:
        flow = b.flow_run()
        recorder.flow_run_created(flow)
        recorder._items.append({"op": "drop_table"})  # what no server takes: a 400
        big = "x" * 9000
        for i in range(600):  # ~5.4 MB of log lines: more than one request's worth
            recorder.log(LogInfo(flow.id, None, 20, "t", f"{i} {big}", b.at(i)))
        await asyncio.to_thread(recorder.flush)
        assert recorder._items == []  # nothing kept to be refused again forever
    finally:
        await asyncio.to_thread(recorder.close)
    status, run = await api("flow_runs", flow.id)
    assert status == 200 and run["log_total"] == 600
    assert "refused a drop_table record" in caplog.text
