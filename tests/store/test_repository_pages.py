"""RunStore's bounded reads of one run: detail, task-run and log pages, the graph by task."""

from __future__ import annotations

import pytest
from pydantic import ValidationError
from sqlalchemy.engine import Engine

from jupyter_flows.core.records import LogInfo
from jupyter_flows.core.states import StateType
from jupyter_flows.exceptions import NotFound
from jupyter_flows.store import RunStore, SqlRecorder
from jupyter_flows.store._run_pages import DETAIL_TASK_RUNS
from jupyter_flows.store.schemas import ListTaskRunsQuery
from tests.server.big_run import BigRun, insert_big_run

from . import builders as b

RUNNING, COMPLETED, FAILED = StateType.RUNNING, StateType.COMPLETED, StateType.FAILED


@pytest.fixture
def big(engine: Engine) -> BigRun:
    """A run of 1,000 task runs (more than the detail lists), two of them Failed."""
    return insert_big_run(engine, 1000, fail_every=200)


@pytest.fixture
def small(recorder: SqlRecorder) -> str:
    """A flow run of three task runs (one Failed), with log lines."""
    flow_run = b.flow_run()
    recorder.flow_run_created(flow_run)
    recorder.set_state("flow", flow_run.id, b.state(RUNNING, "Running", 0), 1)
    top = b.task_run(flow_run.id, "top", created=b.at(1))
    left = b.task_run(flow_run.id, "left", created=b.at(2), inputs=[b.data(top, "x")])
    right = b.task_run(flow_run.id, "right", created=b.at(3), inputs=[b.wait_for(top)])
    for i, (task, end) in enumerate(((top, COMPLETED), (left, COMPLETED), (right, FAILED))):
        recorder.task_run_created(task)
        recorder.set_state("task", task.id, b.state(RUNNING, "Running", 10 + i), 1)
        recorder.set_state("task", task.id, b.state(end, end.value.title(), 11 + i), 1)
        recorder.log(LogInfo(flow_run.id, task.id, 20, "tests", f"{task.task_name} ran", b.at(12)))
    recorder.set_state("flow", flow_run.id, b.state(FAILED, "Failed", 20), 1)
    recorder.flush()
    return flow_run.id


class TestDetail:
    def test_a_small_run_lists_its_task_runs_and_edges(self, store: RunStore, small: str) -> None:
        detail = store.read_flow_run_detail(small)
        assert (detail.id, detail.state_name) == (small, "Failed")
        assert [s.name for s in detail.states] == ["Running", "Failed"]  # its own only
        assert {s.run_kind for s in detail.states} == {"flow"}
        assert [t.task_name for t in detail.task_runs] == ["top", "left", "right"]
        assert detail.task_runs_complete and detail.task_run_total == 3
        assert detail.task_run_counts == {"COMPLETED": 2, "FAILED": 1}
        assert {(e.kind, e.parameter) for e in detail.edges} == {("data", "x"), ("wait_for", None)}
        assert detail.log_total == 3
        assert not hasattr(detail, "logs")

    def test_a_large_run_is_counted_not_listed(self, store: RunStore, big: BigRun) -> None:
        detail = store.read_flow_run_detail(big.id)
        assert big.n_tasks > DETAIL_TASK_RUNS
        assert detail.task_runs == [] and detail.edges == []
        assert not detail.task_runs_complete
        assert detail.task_run_total == big.n_tasks
        assert detail.task_run_counts == big.counts
        assert detail.log_total == big.n_logs
        assert [s.name for s in detail.states] == ["Pending", "Running", "Failed"]

    def test_the_python_api_still_reads_everything(self, store: RunStore, big: BigRun) -> None:
        run = store.read_flow_run(big.id)
        assert len(run.task_runs) == big.n_tasks
        assert len(run.logs) == big.n_logs
        assert len(run.task_states) == 3 * big.n_tasks
        assert run.graph.number_of_nodes() == big.n_tasks

    def test_the_run_list_items_are_light(self, store: RunStore, big: BigRun) -> None:
        (item,) = store.read_flow_runs().items
        assert item.id == big.id and item.flow_name == "big"
        for heavy in ("task_runs", "states", "task_states", "logs", "edges"):
            assert heavy not in item.model_dump()

    def test_unknown_runs_raise_not_found(self, store: RunStore) -> None:
        missing = "0" * 32
        with pytest.raises(NotFound, match=missing):
            store.read_flow_run_detail(missing)
        with pytest.raises(NotFound, match=missing):
            store.read_task_run_page(missing)
        with pytest.raises(NotFound, match=missing):
            store.read_log_page(missing)
        with pytest.raises(NotFound, match=missing):
            store.read_task_groups(missing)
        assert store.count_task_runs(missing) == 0


class TestTaskRunPage:
    def test_pages_cover_every_task_run_once_in_creation_order(
        self, store: RunStore, big: BigRun
    ) -> None:
        seen: list[str] = []
        for offset in range(0, big.n_tasks, 300):
            page = store.read_task_run_page(big.id, limit=300, offset=offset)
            assert (page.total, page.limit, page.offset) == (big.n_tasks, 300, offset)
            seen += [t.id for t in page.items]
        assert len(seen) == len(set(seen)) == big.n_tasks
        assert seen == [t.id for t in store.read_task_runs(big.id)]
        assert store.read_task_run_page(big.id, offset=big.n_tasks).items == []

    @pytest.mark.parametrize("state", ["failed", "FAILED", "Failed", ["failed", "Crashed"]])
    def test_state_filter_by_type_or_name(
        self, store: RunStore, big: BigRun, state: str | list[str]
    ) -> None:
        page = store.read_task_run_page(big.id, state=state)
        assert [t.id for t in page.items] == big.failed_ids
        assert page.total == len(big.failed_ids) == 2

    def test_task_key_filter(self, store: RunStore, big: BigRun) -> None:
        page = store.read_task_run_page(big.id, task_key="big.check", limit=5)
        assert page.total == big.per_key["big.check"]
        assert {t.task_key for t in page.items} == {"big.check"}
        query = ListTaskRunsQuery(task_key="big.check", state=["completed"])
        assert store.read_task_run_page(big.id, query).total == page.total - 2

    def test_with_states_adds_the_history_of_the_page_only(
        self, store: RunStore, big: BigRun
    ) -> None:
        page = store.read_task_run_page(big.id, limit=7, offset=10, with_states=True)
        ids = {t.id for t in page.items}
        assert len(page.states) == 3 * 7
        assert {s.run_id for s in page.states} == ids
        assert store.read_task_run_page(big.id, limit=7).states == []

    @pytest.mark.parametrize(
        "fields",
        [{"limit": 0}, {"limit": 501}, {"offset": -1}, {"with_states": "maybe"}, {"tail": 1}],
    )
    def test_bad_pages_are_refused(
        self, store: RunStore, big: BigRun, fields: dict[str, object]
    ) -> None:
        with pytest.raises(ValidationError, match=next(iter(fields))):
            store.read_task_run_page(big.id, **fields)


class TestLogPage:
    def test_tail_follow_with_after_id(self, store: RunStore, big: BigRun) -> None:
        seen: list[int] = []
        after, more = 0, True
        while more:
            lines, more = store.read_log_page(big.id, after_id=after, limit=400)
            assert len(lines) <= 400
            seen += [line.id for line in lines]
            after = lines[-1].id
        assert seen == sorted(seen) and len(seen) == len(set(seen)) == big.n_logs
        assert store.read_log_page(big.id, after_id=after) == ([], False)

    def test_newest_and_before_id_page_back(self, store: RunStore, big: BigRun) -> None:
        every = [line.id for line in store.read_log_page(big.id, limit=10_000)[0]]
        last, more = store.read_log_page(big.id, newest=True, limit=50)
        assert [line.id for line in last] == every[-50:] and more
        before, more = store.read_log_page(big.id, before_id=last[0].id, newest=True, limit=50)
        assert [line.id for line in before] == every[-100:-50] and more
        first, more = store.read_log_page(big.id, before_id=every[3], newest=True, limit=50)
        assert [line.id for line in first] == every[:3] and not more

    def test_min_level_and_task_run_filters(self, store: RunStore, big: BigRun) -> None:
        errors, more = store.read_log_page(big.id, min_level=40, newest=True, limit=50)
        assert not more
        assert [line.task_run_id for line in errors] == big.failed_ids
        assert all(line.level == 40 and "Traceback" in line.message for line in errors)
        one, _ = store.read_log_page(big.id, task_run_id=big.failed_ids[0])
        assert [line.level for line in one] == [20, 40]


class TestTaskGroups:
    def test_groups_by_task_key_with_state_counts_and_edges(
        self, store: RunStore, big: BigRun
    ) -> None:
        groups = store.read_task_groups(big.id)
        assert (groups.flow_run_id, groups.name) == (big.id, "big-run")
        assert [g.task_key for g in groups.groups] == [  # in order of their first run
            "big.prepare",
            "big.work",
            "big.check",
            "big.summarize",
        ]
        by_key = {g.task_key: g for g in groups.groups}
        assert {k: g.count for k, g in by_key.items()} == big.per_key
        pairs = big.per_key["big.work"]
        assert by_key["big.check"].states == {"Completed": pairs - 2, "Failed": 2}
        assert by_key["big.work"].task_name == "work"
        edges = {(e.upstream_key, e.downstream_key): e.count for e in groups.edges}
        assert edges == {
            ("big.prepare", "big.work"): pairs,
            ("big.work", "big.check"): pairs,
            ("big.check", "big.summarize"): pairs,
        }

    def test_a_run_without_task_runs_has_no_groups(
        self, recorder: SqlRecorder, store: RunStore
    ) -> None:
        flow_run = b.flow_run()
        recorder.flow_run_created(flow_run)
        recorder.flush()
        groups = store.read_task_groups(flow_run.id)
        assert (groups.groups, groups.edges) == ([], [])
