"""One record the database refuses is left out, reported, and blocks nothing else."""

from __future__ import annotations

from typing import Any

import pytest

from jupyter_flows.core.records import LogInfo
from jupyter_flows.core.states import StateType
from jupyter_flows.store import open_store
from jupyter_flows.store.recorder import SqlRecorder
from jupyter_flows.store.repository import RunStore

from . import builders as b

LONE_SURROGATE = "bad-\udc80-name"  # no database can store it: not encodable as UTF-8


def _log(flow_run_id: str, task_run_id: str | None, message: str, level: Any = 20) -> LogInfo:
    return LogInfo(flow_run_id, task_run_id, level, "tests", message, b.at(1))


@pytest.fixture
def store(db_url: str) -> Any:
    engine = open_store(db_url)
    recorder = SqlRecorder(engine, flush_interval=60)
    yield recorder, RunStore(engine)
    recorder.close()
    engine.dispose()


class TestOneBadRecord:
    def test_a_refused_task_run_is_left_out_and_the_rest_is_written(self, store: Any) -> None:
        recorder, runs = store
        flow = b.flow_run()
        good, bad, later = (
            b.task_run(flow.id, "good"),
            b.task_run(flow.id, "x"),
            b.task_run(flow.id, "later"),
        )
        bad.name = LONE_SURROGATE
        recorder.flow_run_created(flow)
        recorder.set_state("flow", flow.id, b.state(StateType.RUNNING, "Running", 0), 1)
        for task in (good, bad):
            recorder.task_run_created(task)
            recorder.set_state("task", task.id, b.state(StateType.RUNNING, "Running", 1), 1)
            recorder.log(_log(flow.id, task.id, f"line of {task.task_name}"))
        recorder.flush()  # no StoreError: the bad record is left out

        assert [(d.what, d.run_id) for d in recorder.dropped] == [("task_run", bad.id)]
        assert "Unicode" in recorder.dropped[0].reason or "surrogate" in recorder.dropped[0].reason
        detail = runs.read_flow_run(flow.id)
        assert [t.task_name for t in detail.task_runs] == ["good"]
        assert [log.message for log in detail.logs] == ["line of good"]  # not the bad run's
        assert detail.state_name == "Running"

        # and later records flow as before, in the same recorder
        recorder.task_run_created(later)
        recorder.set_state("task", later.id, b.state(StateType.COMPLETED, "Completed", 2), 1)
        recorder.set_state("flow", flow.id, b.state(StateType.COMPLETED, "Completed", 3), 1)
        recorder.flush()
        detail = runs.read_flow_run(flow.id)
        assert sorted(t.task_name for t in detail.task_runs) == ["good", "later"]
        assert detail.state_name == "Completed"
        assert len(recorder.dropped) == 1

    def test_a_refused_log_line_drops_only_that_line(self, store: Any) -> None:
        recorder, runs = store
        flow = b.flow_run()
        recorder.flow_run_created(flow)
        recorder.log(_log(flow.id, None, "first"))
        recorder.log(_log(flow.id, None, "second", level="not-a-level"))
        recorder.log(_log(flow.id, None, "third"))
        recorder.flush()
        messages = [log.message for log in runs.read_flow_run(flow.id).logs]
        if recorder.dropped:  # PostgreSQL refuses the text level; SQLite stores anything
            assert messages == ["first", "third"]
            assert [(d.what, d.run_id) for d in recorder.dropped] == [("log", flow.id)]
        else:
            assert messages == ["first", "second", "third"]

    @pytest.mark.postgres
    def test_nul_in_a_task_name_on_postgresql(self, fresh_postgres_url: str) -> None:
        engine = open_store(fresh_postgres_url)
        recorder = SqlRecorder(engine, flush_interval=60)
        try:
            flow = b.flow_run()
            nul, fine = b.task_run(flow.id, "nul"), b.task_run(flow.id, "fine")
            nul.task_name = "nul\x00name"
            recorder.flow_run_created(flow)
            recorder.task_run_created(nul)
            recorder.task_run_created(fine)
            recorder.flush()
            assert [(d.what, d.run_id) for d in recorder.dropped] == [("task_run", nul.id)]
            names = [t.task_name for t in RunStore(engine).read_flow_run(flow.id).task_runs]
            assert names == ["fine"]
        finally:
            recorder.close()
            engine.dispose()
