"""The run list's filters (name search, kind, top level, subflows of a run) and ``kind``."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from jupyter_flows.store.db import open_store
from jupyter_flows.store.models import FlowRunRecord


@pytest.fixture
def kinds(flows_db_url: str) -> dict[str, str]:
    """One run of each kind (and a child of the interactive one), inserted as rows."""
    engine = open_store(flows_db_url)
    now = datetime.now(timezone.utc)
    base = {
        "parameters": {},
        "state_type": "COMPLETED",
        "state_name": "Completed",
        "parent_flow_run_id": None,
        "deployment_id": None,
    }  # fmt: skip (every row names every column: executemany takes the first row's keys)
    rows = [
        {"id": "a" * 32, "name": "brave-otter", "flow_name": "etl", "tags": []},
        {"id": "b" * 32, "name": "calm-fox", "flow_name": "child_report", "tags": [],
         "parent_flow_run_id": "a" * 32},
        {"id": "c" * 32, "name": "nightly-1", "flow_name": "etl", "deployment_id": "d1",
         "tags": ["auto-scheduled"], "state_type": "SCHEDULED", "state_name": "Late"},
        {"id": "d" * 32, "name": "asked_100%", "flow_name": "report", "deployment_id": "d1",
         "tags": []},
    ]  # fmt: skip
    with engine.begin() as conn:
        conn.execute(
            FlowRunRecord.__table__.insert(),  # type: ignore[attr-defined]
            [{**base, **r, "created": now - timedelta(seconds=i)} for i, r in enumerate(rows)],
        )
    engine.dispose()
    return {"interactive": "a" * 32, "subflow": "b" * 32, "scheduled": "c" * 32, "manual": "d" * 32}


def _ids(page: Any) -> set[str]:
    return {run["id"] for run in page["items"]}


class TestRunListQuery:
    async def test_kind_is_derived_and_filterable(self, api: Any, kinds: dict[str, str]) -> None:
        status, page = await api("flow_runs")
        assert status == 200
        assert {run["id"]: run["kind"] for run in page["items"]} == {v: k for k, v in kinds.items()}
        for kind, run_id in kinds.items():
            status, page = await api("flow_runs", params={"kind": kind})
            assert (status, _ids(page)) == (200, {run_id})
        status, page = await api("flow_runs", params={"kind": "manual,scheduled"})
        assert _ids(page) == {kinds["manual"], kinds["scheduled"]}

    async def test_top_level_and_subflows(self, api: Any, kinds: dict[str, str]) -> None:
        status, page = await api("flow_runs", params={"top_level": "true"})
        assert status == 200
        assert kinds["subflow"] not in _ids(page) and page["total"] == 3
        parent = next(r for r in page["items"] if r["id"] == kinds["interactive"])
        assert parent["subflow_count"] == 1
        status, page = await api("flow_runs", params={"parent_flow_run_id": kinds["interactive"]})
        assert _ids(page) == {kinds["subflow"]}

    async def test_name_search(self, api: Any, kinds: dict[str, str]) -> None:
        status, page = await api("flow_runs", params={"name": "OTTER"})
        assert _ids(page) == {kinds["interactive"]}
        status, page = await api("flow_runs", params={"name": "etl"})  # the flow's name
        assert _ids(page) == {kinds["interactive"], kinds["scheduled"]}
        status, page = await api("flow_runs", params={"name": "_100%"})  # no LIKE wildcards
        assert _ids(page) == {kinds["manual"]}
        status, page = await api("flow_runs", params={"name": "0%"})
        assert _ids(page) == {kinds["manual"]}
        status, page = await api("flow_runs", params={"name": "%"})
        assert _ids(page) == {kinds["manual"]}

    async def test_every_state_name_filters(self, api: Any, kinds: dict[str, str]) -> None:
        status, page = await api("flow_runs", params={"state": "Late"})
        assert (status, _ids(page)) == (200, {kinds["scheduled"]})
        for state in ("Cancelling", "Paused", "Suspended", "Crashed", "AwaitingRetry"):
            status, page = await api("flow_runs", params={"state": state})
            assert (status, page["total"]) == (200, 0), state

    @pytest.mark.parametrize(
        ("params", "field"),
        [
            ({"state": "Exploded"}, "state"),
            ({"kind": "robot"}, "kind"),
            ({"since": "yesterday"}, "since"),
            ({"until": "2026-13-01"}, "until"),
            ({"top_level": "maybe"}, "top_level"),
            ({"name": "x" * 201}, "name"),
        ],
    )
    async def test_bad_filters_are_400_naming_the_field(
        self, api: Any, kinds: dict[str, str], params: dict[str, str], field: str
    ) -> None:
        status, body = await api("flow_runs", params=params)
        assert status == 400, body
        assert field in body["message"], body
