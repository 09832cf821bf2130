"""``GET api/dashboard`` and the events feed's filters, on SQLite and PostgreSQL (a real
in-process server; runs are rows of known times and states)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy import insert

from jupyter_flows.orchestration._tables import DEPLOYMENT, FLOW_RUN, POOL, WORKER

Api = Callable[..., Awaitable[tuple[int, Any]]]
NOW = datetime.now(timezone.utc).replace(microsecond=0)
T0 = NOW - timedelta(hours=6)
HOUR = timedelta(hours=1)


@pytest.fixture
def flows_db_url(db_url: str) -> str:
    """The server's database: a SQLite file, then a PostgreSQL database (``db_url``)."""
    return db_url


def run_row(run_id: str, flow: str, state: str, created: datetime, **extra: Any) -> dict[str, Any]:
    name = {"SCHEDULED": "Scheduled", "CRASHED": "Crashed"}.get(state, state.title())
    return {
        "id": run_id, "name": f"run-{run_id}", "flow_name": flow, "parameters": {}, "tags": [],
        "state_type": state, "state_name": extra.pop("state_name", name), "created": created,
        "run_count": 1, "total_run_time": 0.0, "job_variables": {}, "state_message": None,
        "start_time": None, "end_time": None, "expected_start_time": None, "deployment_id": None,
        "work_pool": None, **extra,
    }  # fmt: skip


def timed(start: datetime, seconds: float) -> dict[str, Any]:
    return {"start_time": start, "end_time": start + timedelta(seconds=seconds)}


@pytest.fixture
def known(flows_app: Any) -> dict[str, Any]:
    """Runs in the window [T0, T0 + 4 h), two outside it, two scheduled runs, a pool with
    an online and an offline worker."""
    engine = flows_app.services.engine
    b = [T0 + i * HOUR + timedelta(minutes=10) for i in range(4)]
    rows = [
        run_row("e1", "etl", "COMPLETED", b[0], **timed(b[0], 10)),
        run_row("e2", "etl", "COMPLETED", b[0], **timed(b[0], 20)),
        run_row("e3", "etl", "FAILED", b[1], state_message="boom", **timed(b[1], 30)),
        run_row("e4", "etl", "CRASHED", b[2], end_time=b[2] + timedelta(minutes=1)),
        run_row("r1", "report", "COMPLETED", b[0], deployment_id="D", **timed(b[0], 5)),
        run_row("r2", "report", "RUNNING", b[3], deployment_id="D", work_pool="main",
                start_time=b[3]),
        run_row("old", "etl", "FAILED", T0 - timedelta(minutes=10)),
        run_row("edge", "etl", "FAILED", T0 + 4 * HOUR),
        run_row("late", "report", "SCHEDULED", NOW - 2 * HOUR, deployment_id="D",
                expected_start_time=NOW - HOUR),
        run_row("soon", "report", "SCHEDULED", NOW - 2 * HOUR, deployment_id="D",
                expected_start_time=NOW + HOUR),
    ]  # fmt: skip
    with engine.begin() as conn:
        conn.execute(
            insert(DEPLOYMENT).values(
                id="D", name="nightly", entrypoint="report.py:report",
                kind="python", parameters={}, tags=[], paused=False, created=NOW, updated=NOW,
            )
        )  # fmt: skip
        conn.execute(insert(FLOW_RUN), rows)
        conn.execute(insert(POOL).values(name="main", type="process", paused=False, created=NOW))
        conn.execute(
            insert(WORKER),
            [
                {"name": "w1", "work_pool": "main", "last_heartbeat": datetime.now(timezone.utc)},
                {"name": "w2", "work_pool": "main", "last_heartbeat": NOW - HOUR},
            ],
        )
    return {"since": T0.isoformat(), "until": (T0 + 4 * HOUR).isoformat(), "bucket": "3600"}


class TestDashboard:
    async def test_aggregates_of_known_runs(self, api: Api, known: dict[str, str]) -> None:
        status, d = await api("dashboard", params=known)
        assert status == 200, d
        assert d["totals"] == {"COMPLETED": 3, "FAILED": 1, "CRASHED": 1, "RUNNING": 1}
        assert (d["total_runs"], d["failed"], d["failure_rate"]) == (6, 2, 0.4)
        assert d["bucket"] == 3600
        assert [b["counts"] for b in d["buckets"]] == [
            {"COMPLETED": 3},
            {"FAILED": 1},
            {"CRASHED": 1},
            {"RUNNING": 1},
        ]
        assert d["buckets"][1]["start"].startswith((T0 + HOUR).strftime("%Y-%m-%dT%H:%M"))
        flows = {f["name"]: f for f in d["flows"]}
        assert [f["name"] for f in d["flows"]] == ["etl", "report"]
        etl = flows["etl"]
        assert (etl["runs"], etl["failed"], etl["failure_rate"]) == (4, 2, 0.5)
        assert etl["mean_duration"] == pytest.approx(20.0)
        assert [(p["runs"], p["failed"]) for p in etl["series"]] == [(2, 0), (1, 1), (1, 1)]
        assert etl["series"][0]["mean_duration"] == pytest.approx(15.0)
        assert flows["report"]["mean_duration"] == pytest.approx(5.0)
        assert len(d["deployments"]) == 1, d["deployments"]
        dep = d["deployments"][0]
        assert (dep["key"], dep["name"], dep["runs"], dep["failed"]) == ("D", "nightly", 2, 0)
        assert [r["id"] for r in d["failures"]] == ["e4", "e3"]
        assert d["failures"][1]["state_message"] == "boom"
        assert d["late_runs"] == 1 and [r["id"] for r in d["late"]] == ["late"]
        assert d["late"][0]["deployment"] == "nightly"
        pool = {p["name"]: p for p in d["pools"]}["main"]  # (and the server's "default")
        assert (pool["name"], pool["running"], pool["online"], pool["offline"]) == (
            "main", 1, 1, 1,
        )  # fmt: skip
        assert {(w["name"], w["status"]) for w in d["workers"]} == {
            ("w1", "online"),
            ("w2", "offline"),
        }

    async def test_a_smaller_window_counts_less(self, api: Api, known: dict[str, str]) -> None:
        window = {**known, "until": (T0 + HOUR).isoformat(), "bucket": "600"}
        status, d = await api("dashboard", params=window)
        assert status == 200, d
        assert d["totals"] == {"COMPLETED": 3} and len(d["buckets"]) == 6
        assert d["buckets"][1]["counts"] == {"COMPLETED": 3}  # 10 minutes in
        assert d["failures"] == [] and d["failure_rate"] == 0.0

    async def test_defaults_to_the_last_24_hours(self, api: Api, known: dict[str, str]) -> None:
        status, d = await api("dashboard")
        assert status == 200, d
        assert len(d["buckets"]) == 24 and d["bucket"] == 3600
        assert d["total_runs"] == 10  # every run was created in the last 24 hours
        assert d["totals"]["SCHEDULED"] == 2 and d["totals"]["FAILED"] == 3

    @pytest.mark.parametrize(
        ("params", "field"),
        [
            ({"since": "yesterday"}, "since"),
            ({"until": "2026-01-01T00:00:00"}, "until"),
            ({"since": "2026-01-02T00:00:00Z", "until": "2026-01-01T00:00:00Z"}, "until"),
            ({"bucket": "0"}, "bucket"),
            ({"bucket": "x"}, "bucket"),
            ({"since": "2026-01-01T00:00:00Z", "until": "2026-01-02T00:00:00Z", "bucket": "60"},
             "bucket"),
            ({"since": "2020-01-01T00:00:00Z", "until": "2026-01-01T00:00:00Z"}, "since"),
            ({"window": "1h"}, "window"),
        ],
    )  # fmt: skip
    async def test_bad_params_are_400_naming_the_field(
        self, api: Api, params: dict[str, str], field: str
    ) -> None:
        status, reply = await api("dashboard", params=params)
        assert status == 400, reply
        assert field in reply["message"], reply


class TestEventsFeed:
    async def test_filters_and_pages(self, api: Api, flows_app: Any) -> None:
        sent = [
            ("flow-run.Completed", "flow-run/A", T0),
            ("flow-run.Failed", "flow-run/B", T0 + HOUR),
            ("task-run.Completed", "task-run/A", T0 + 2 * HOUR),
            ("data.ready", None, T0 + 3 * HOUR),
        ]
        for event, resource, at in sent:
            body = {"event": event, "resource": resource, "occurred": at.isoformat()}
            status, reply = await api("events", method="POST", body=body)
            assert status == 201, reply

        async def names(**params: str) -> list[str]:
            status, reply = await api("events", params=params)
            assert status == 200, reply
            return [e["event"] for e in reply["items"]]

        assert await names(event="flow-run.*") == ["flow-run.Failed", "flow-run.Completed"]
        assert await names(resource="flow-run/B") == ["flow-run.Failed"]
        assert await names(resource="A") == ["task-run.Completed", "flow-run.Completed"]
        assert await names(resource="task-run/*") == ["task-run.Completed"]
        window = {"since": (T0 + HOUR).isoformat(), "until": (T0 + 3 * HOUR).isoformat()}
        assert await names(**window) == ["task-run.Completed", "flow-run.Failed"]
        status, first = await api("events", params={"limit": "2"})
        assert [e["event"] for e in first["items"]] == ["data.ready", "task-run.Completed"]
        before = str(first["items"][-1]["id"])
        assert await names(limit="2", before_id=before) == [
            "flow-run.Failed",
            "flow-run.Completed",
        ]

    @pytest.mark.parametrize(
        ("params", "field"),
        [
            ({"since": "soon"}, "since"),
            ({"until": "2026-01-01T00:00:00"}, "until"),
            ({"since": "2026-01-02T00:00:00Z", "until": "2026-01-01T00:00:00Z"}, "until"),
            ({"before_id": "0"}, "before_id"),
            ({"resource": "x" * 300}, "resource"),
        ],
    )
    async def test_bad_params_are_400_naming_the_field(
        self, api: Api, params: dict[str, str], field: str
    ) -> None:
        status, reply = await api("events", params=params)
        assert status == 400, reply
        assert field in reply["message"], reply
