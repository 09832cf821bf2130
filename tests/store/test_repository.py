"""RunStore: filters, pages, run graphs, NotFound, and the module-level API."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import timedelta, timezone

import pytest
from pydantic import ValidationError

from jupyter_flows.core import settings
from jupyter_flows.core.records import FlowRunInfo
from jupyter_flows.core.states import StateType
from jupyter_flows.exceptions import NotFound
from jupyter_flows.store import ListFlowRunsQuery, RunStore, SqlRecorder, api

from . import builders as b

RUNNING, COMPLETED, FAILED = StateType.RUNNING, StateType.COMPLETED, StateType.FAILED


@pytest.fixture
def runs(recorder: SqlRecorder) -> list[FlowRunInfo]:
    """Six flow runs, one a minute from T0: etl x4 (nightly tagged), report x2."""
    specs = [
        ("etl", ["nightly"], COMPLETED, "Completed", None),
        ("etl", ["nightly", "prod"], FAILED, "Failed", "dep-1"),
        ("report", [], COMPLETED, "Cached", None),
        ("etl", ["prod"], RUNNING, "Running", "dep-1"),
        ("report", ["prod", "nightly"], FAILED, "TimedOut", None),
        ("etl", [], COMPLETED, "Completed", "dep-2"),
    ]
    created = []
    for minute, (flow_name, tags, type_, name, deployment) in enumerate(specs):
        run = b.flow_run(
            flow_name,
            name=f"{flow_name}-{minute}",
            tags=tags,
            created=b.at(60 * minute),
            deployment_id=deployment,
        )
        recorder.flow_run_created(run)
        recorder.set_state("flow", run.id, b.state(RUNNING, "Running", 60 * minute), 1)
        if type_ is not RUNNING:
            recorder.set_state("flow", run.id, b.state(type_, name, 60 * minute + 30), 1)
        created.append(run)
    recorder.flush()
    return created


class TestReadFlowRuns:
    def test_newest_first_with_total(self, store: RunStore, runs: list[FlowRunInfo]) -> None:
        page = store.read_flow_runs()
        assert [r.name for r in page.items] == [r.name for r in reversed(runs)]
        assert (page.total, page.limit, page.offset) == (6, 50, 0)
        assert "task_runs" not in page.items[0].model_dump()  # light items

    def test_pagination(self, store: RunStore, runs: list[FlowRunInfo]) -> None:
        names = [r.name for r in reversed(runs)]
        first = store.read_flow_runs(limit=4)
        second = store.read_flow_runs(limit=4, offset=4)
        assert [r.name for r in first.items] == names[:4]
        assert [r.name for r in second.items] == names[4:]
        assert first.total == second.total == 6
        assert store.read_flow_runs(offset=10).items == []

    @pytest.mark.parametrize(
        ("filters", "expected"),
        [
            ({"flow_name": "report"}, ["report-4", "report-2"]),
            ({"state": "failed"}, ["report-4", "etl-1"]),  # by type, any case
            ({"state": "timedout"}, ["report-4"]),  # by name
            ({"state": ["Cached", "running"]}, ["etl-3", "report-2"]),
            ({"tags": "nightly"}, ["report-4", "etl-1", "etl-0"]),
            ({"tags": ["nightly", "prod"]}, ["report-4", "etl-1"]),
            ({"deployment_id": "dep-1"}, ["etl-3", "etl-1"]),
            ({"flow_name": "etl", "state": "COMPLETED"}, ["etl-5", "etl-0"]),
        ],
    )
    def test_filters(
        self,
        store: RunStore,
        runs: list[FlowRunInfo],
        filters: dict[str, object],
        expected: list[str],
    ) -> None:
        page = store.read_flow_runs(**filters)  # type: ignore[arg-type]
        assert [r.name for r in page.items] == expected
        assert page.total == len(expected)

    def test_time_window(self, store: RunStore, runs: list[FlowRunInfo]) -> None:
        page = store.read_flow_runs(since=b.at(60), until=b.at(180))
        assert [r.name for r in page.items] == ["report-2", "etl-1"]
        query = ListFlowRunsQuery(since=b.at(240).astimezone(timezone(timedelta(hours=5))))
        assert [r.name for r in store.read_flow_runs(query).items] == ["etl-5", "report-4"]

    def test_invalid_page(self, store: RunStore) -> None:
        with pytest.raises(ValidationError):
            store.read_flow_runs(limit=0)
        with pytest.raises(ValidationError):
            store.read_flow_runs(offset=-1)


class TestReadFlowRun:
    def test_unknown_ids_raise_not_found(self, store: RunStore) -> None:
        with pytest.raises(NotFound):
            store.read_flow_run("0" * 32)
        with pytest.raises(NotFound):
            store.read_task_run("0" * 32)
        with pytest.raises(NotFound):
            store.flow_run_graph("0" * 32)
        with pytest.raises(NotFound):
            store.read_result_record("nope")
        assert store.read_states("0" * 32) == []
        assert store.read_task_runs("0" * 32) == []


class TestGraph:
    def test_diamond(self, recorder: SqlRecorder, store: RunStore) -> None:
        flow_run = b.flow_run()
        recorder.flow_run_created(flow_run)
        top = b.task_run(flow_run.id, "top", created=b.at(1))
        left = b.task_run(flow_run.id, "left", created=b.at(2), inputs=[b.data(top, "x")])
        right = b.task_run(flow_run.id, "right", created=b.at(3), inputs=[b.data(top, "x")])
        bottom = b.task_run(
            flow_run.id,
            "bottom",
            created=b.at(4),
            inputs=[b.data(left, "a"), b.wait_for(right)],
        )
        for i, task in enumerate((top, left, right, bottom)):
            recorder.task_run_created(task)
            recorder.set_state("task", task.id, b.state(RUNNING, "Running", 10 + i), 1)
            recorder.set_state("task", task.id, b.state(COMPLETED, "Completed", 11 + i), 1)
        recorder.flush()

        graph = store.flow_run_graph(flow_run.id)
        assert graph.graph["flow_run_id"] == flow_run.id
        assert set(graph.nodes) == {top.id, left.id, right.id, bottom.id}
        assert set(graph.edges) == {
            (top.id, left.id),
            (top.id, right.id),
            (left.id, bottom.id),
            (right.id, bottom.id),
        }
        assert graph.edges[left.id, bottom.id] == {"kind": "data", "parameter": "a"}
        assert graph.edges[right.id, bottom.id]["kind"] == "wait_for"
        node = graph.nodes[bottom.id]
        assert (node["name"], node["task_name"], node["state_type"]) == (
            "bottom-0",
            "bottom",
            "COMPLETED",
        )
        assert (node["start"], node["end"], node["run_count"]) == (b.at(13), b.at(14), 1)

    def test_empty_flow_run(self, recorder: SqlRecorder, store: RunStore) -> None:
        flow_run = b.flow_run()
        recorder.flow_run_created(flow_run)
        recorder.flush()
        assert store.flow_run_graph(flow_run.id).number_of_nodes() == 0


class TestModuleApi:
    @pytest.fixture
    def process_recorder(
        self, monkeypatch: pytest.MonkeyPatch, db_url: str
    ) -> Iterator[SqlRecorder]:
        monkeypatch.setenv("JUPYTER_FLOWS_DB_URL", db_url)
        recorder = SqlRecorder.from_url(db_url, flush_interval=60)
        previous = settings.set_recorder(recorder)
        try:
            yield recorder
        finally:
            settings.set_recorder(previous)
            recorder.close()
            store = api._stores.pop((os.getpid(), db_url), None)
            if store is not None:
                store.engine.dispose()

    def test_reads_see_own_unflushed_writes(self, process_recorder: SqlRecorder) -> None:
        flow_run = b.flow_run()
        process_recorder.flow_run_created(flow_run)  # not flushed yet
        assert [r.id for r in api.read_flow_runs()] == [flow_run.id]
        assert api.read_flow_run(flow_run.id).flow_name == "etl"
        with pytest.raises(NotFound):
            api.read_flow_run("missing")
