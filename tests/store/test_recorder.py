"""SqlRecorder: what the engine records is what the read API returns."""

from __future__ import annotations

import os
import threading
from datetime import timezone

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine

from jupyter_flows.core.records import LogInfo, ResultInfo
from jupyter_flows.core.states import StateType
from jupyter_flows.exceptions import StoreError
from jupyter_flows.store import DescribeEdge, RunStore, SqlRecorder

from . import builders as b

PENDING, RUNNING, COMPLETED, FAILED, SCHEDULED = (
    StateType.PENDING,
    StateType.RUNNING,
    StateType.COMPLETED,
    StateType.FAILED,
    StateType.SCHEDULED,
)


def _count(engine: Engine, table: str) -> int:
    with engine.connect() as conn:
        return int(conn.exec_driver_sql(f"SELECT count(*) FROM {table}").scalar_one())


class TestRecorder:
    def test_round_trip(self, recorder: SqlRecorder, store: RunStore) -> None:
        flow_run = b.flow_run(tags=["nightly", "etl"], parameters={"n": 3, "path": "/data"})
        recorder.flow_run_created(flow_run)
        recorder.set_state("flow", flow_run.id, b.state(PENDING, "Pending", 0), 0)
        recorder.set_state("flow", flow_run.id, b.state(RUNNING, "Running", 1), 1)
        extract = b.task_run(flow_run.id, "extract", created=b.at(1.5), tags=["io"])
        load = b.task_run(
            flow_run.id,
            "load",
            created=b.at(2),
            inputs=[b.data(extract, "rows"), b.wait_for(extract)],
            cache_key="k1",
            description="Load rows.",
            version="2",
        )
        for task in (extract, load):
            recorder.task_run_created(task)
        recorder.set_state("task", extract.id, b.state(PENDING, "Pending", 1.5), 0)
        recorder.set_state("task", extract.id, b.state(RUNNING, "Running", 2), 1)
        recorder.set_state("task", extract.id, b.state(COMPLETED, "Completed", 3), 1)
        recorder.set_state("task", load.id, b.state(PENDING, "Pending", 3), 0)
        recorder.set_state("task", load.id, b.state(RUNNING, "Running", 3.5), 1)
        recorder.set_state("task", load.id, b.state(FAILED, "Failed", 4, "boom"), 1)
        recorder.log(LogInfo(flow_run.id, None, 20, "flows", "flow started", b.at(1)))
        recorder.log(LogInfo(flow_run.id, load.id, 40, "flows.task", "load failed", b.at(4)))
        recorder.result_stored(
            ResultInfo("key-1", extract.id, flow_run.id, "/results/key-1", "pickle", b.at(3))
        )
        recorder.set_state("flow", flow_run.id, b.state(FAILED, "Failed", 5, "1 task failed"), 1)
        recorder.flush()

        run = store.read_flow_run(flow_run.id)
        assert (run.name, run.flow_name, run.flow_version) == ("etl-run", "etl", "1")
        assert run.parameters == {"n": 3, "path": "/data"}
        assert run.tags == ["nightly", "etl"]
        assert (run.state_type, run.state_name, run.state_message) == (
            FAILED,
            "Failed",
            "1 task failed",
        )
        assert (run.created, run.start_time, run.end_time) == (b.T0, b.at(1), b.at(5))
        assert run.total_run_time == pytest.approx(4.0)
        assert run.run_count == 1
        assert [s.name for s in run.states] == ["Pending", "Running", "Failed"]
        assert [s.timestamp for s in run.states] == [b.at(0), b.at(1), b.at(5)]
        for moment in (run.created, run.start_time, run.states[0].timestamp):
            assert moment is not None and moment.tzinfo is timezone.utc

        assert [t.id for t in run.task_runs] == [extract.id, load.id]
        first, second = run.task_runs
        assert first.tags == ["io"]
        assert (first.state_type, first.start_time, first.end_time) == (COMPLETED, b.at(2), b.at(3))
        assert first.total_run_time == pytest.approx(1.0)
        assert (second.state_name, second.state_message) == ("Failed", "boom")
        assert (second.cache_key, second.description, second.version) == ("k1", "Load rows.", "2")
        assert run.edges == [
            DescribeEdge(
                upstream_id=extract.id, downstream_id=load.id, kind="data", parameter="rows"
            ),
            DescribeEdge(upstream_id=extract.id, downstream_id=load.id, kind="wait_for"),
        ]
        assert [(log.level, log.message) for log in run.logs] == [
            (20, "flow started"),
            (40, "load failed"),
        ]
        assert [log.message for log in store.read_logs(flow_run.id, load.id)] == ["load failed"]
        assert [s.name for s in store.read_states(load.id)] == ["Pending", "Running", "Failed"]
        result = store.read_result_record("key-1")
        assert (result.location, result.serializer, result.created) == (
            "/results/key-1",
            "pickle",
            b.at(3),
        )
        flows = store.read_flows()
        assert [(f.name, f.description) for f in flows] == [("etl", "The etl flow.")]

    def test_state_after_a_flush_updates_the_run(
        self, recorder: SqlRecorder, store: RunStore, engine: Engine
    ) -> None:
        flow_run = b.flow_run()
        task = b.task_run(flow_run.id)
        recorder.flow_run_created(flow_run)
        recorder.task_run_created(task)
        recorder.set_state("task", task.id, b.state(PENDING, "Pending", 0), 0)
        recorder.set_state("task", task.id, b.state(RUNNING, "Running", 1), 1)
        recorder.flush()
        running = store.read_task_run(task.id)
        assert (running.state_type, running.start_time, running.end_time) == (
            RUNNING,
            b.at(1),
            None,
        )

        recorder.set_state("task", task.id, b.state(COMPLETED, "Completed", 3.5), 1)
        recorder.flush()
        done = store.read_task_run(task.id)
        assert (done.state_type, done.start_time, done.end_time) == (COMPLETED, b.at(1), b.at(3.5))
        assert done.total_run_time == pytest.approx(2.5)
        assert [s.name for s in store.read_states(task.id)] == ["Pending", "Running", "Completed"]
        assert _count(engine, "task_run") == 1
        assert _count(engine, "flow") == 1

    def test_retries_accumulate_run_time_and_keep_every_state(
        self, recorder: SqlRecorder, store: RunStore
    ) -> None:
        task = b.task_run(None)
        recorder.task_run_created(task)
        recorder.set_state("task", task.id, b.state(PENDING, "Pending", 0), 0)
        recorder.set_state("task", task.id, b.state(RUNNING, "Running", 1), 1)
        retry = b.state(SCHEDULED, "AwaitingRetry", 2)
        retry = type(retry)(retry.type, retry.name, retry.timestamp, None, None, b.at(10))
        recorder.set_state("task", task.id, retry, 1)
        recorder.flush()  # the retry happens in a later batch
        recorder.set_state("task", task.id, b.state(RUNNING, "Retrying", 10), 2)
        recorder.set_state("task", task.id, b.state(COMPLETED, "Completed", 13), 2)
        recorder.flush()
        run = store.read_task_run(task.id)
        assert (run.run_count, run.start_time, run.end_time) == (2, b.at(1), b.at(13))
        assert run.expected_start_time == b.at(10)
        assert run.total_run_time == pytest.approx(4.0)
        names = [s.name for s in store.read_states(task.id)]
        assert names == ["Pending", "Running", "AwaitingRetry", "Retrying", "Completed"]

    def test_states_of_a_run_created_by_another_recorder(
        self, engine: Engine, store: RunStore
    ) -> None:
        first = SqlRecorder(engine)
        flow_run = b.flow_run()
        first.flow_run_created(flow_run)
        first.set_state("flow", flow_run.id, b.state(SCHEDULED, "Scheduled", 0), 0)
        first.close()

        second = SqlRecorder(engine)
        second.set_state("flow", flow_run.id, b.state(RUNNING, "Running", 5), 1)
        second.set_state("flow", flow_run.id, b.state(COMPLETED, "Completed", 7), 1)
        second.close()
        run = store.read_flow_run(flow_run.id)
        assert (run.state_name, run.start_time, run.end_time) == ("Completed", b.at(5), b.at(7))
        assert run.total_run_time == pytest.approx(2.0)
        assert [s.name for s in run.states] == ["Scheduled", "Running", "Completed"]

    def test_a_late_process_does_not_undo_crashed_or_cancelled(
        self, engine: Engine, store: RunStore
    ) -> None:
        """The orphaned run process of a killed worker finishes after the server's verdict."""
        orphan = SqlRecorder(engine)
        crashed, cancelled = b.flow_run(), b.flow_run()
        for run in (crashed, cancelled):
            orphan.flow_run_created(run)
            orphan.set_state("flow", run.id, b.state(RUNNING, "Running", 1), 1)
        orphan.flush()
        with engine.begin() as conn:  # what the server's crash check and a cancel write
            for run, state in ((crashed, "CRASHED"), (cancelled, "CANCELLED")):
                conn.execute(
                    text("UPDATE flow_run SET state_type = :t, state_name = :n WHERE id = :id"),
                    {"t": state, "n": state.title(), "id": run.id},
                )
        orphan.set_state("flow", crashed.id, b.state(COMPLETED, "Completed", 9), 1)
        orphan.set_state("flow", cancelled.id, b.state(FAILED, "Failed", 9), 1)
        orphan.close()
        assert store.read_flow_run(crashed.id).state_name == "Crashed"
        assert store.read_flow_run(cancelled.id).state_name == "Cancelled"

    def test_failed_flush_keeps_the_records_for_a_retry(
        self, recorder: SqlRecorder, store: RunStore, engine: Engine, db_url: str
    ) -> None:
        with engine.begin() as conn:
            conn.exec_driver_sql("ALTER TABLE run_state RENAME TO run_state_hidden")
        flow_run = b.flow_run()
        task = b.task_run(flow_run.id)
        recorder.flow_run_created(flow_run)
        recorder.task_run_created(task)
        for i, (type_, name) in enumerate([(PENDING, "Pending"), (RUNNING, "Running")]):
            recorder.set_state("task", task.id, b.state(type_, name, i), i)
        with pytest.raises(StoreError) as info:
            recorder.flush()
        assert db_url.split("/")[-1] in str(info.value)
        assert "run_state" in str(info.value)
        assert _count(engine, "task_run") == 0  # the whole batch was rolled back

        recorder.set_state("task", task.id, b.state(COMPLETED, "Completed", 2), 1)
        with pytest.raises(StoreError):
            recorder.flush()
        with engine.begin() as conn:
            conn.exec_driver_sql("ALTER TABLE run_state_hidden RENAME TO run_state")
        recorder.flush()
        assert store.read_task_run(task.id).state_name == "Completed"
        assert [s.name for s in store.read_states(task.id)] == ["Pending", "Running", "Completed"]
        assert (_count(engine, "task_run"), _count(engine, "flow_run")) == (1, 1)

    def test_writer_thread_commits_without_flush(self, engine: Engine, store: RunStore) -> None:
        recorder = SqlRecorder(engine, flush_interval=0.01)
        try:
            flow_run = b.flow_run()
            recorder.flow_run_created(flow_run)
            for _ in range(500):
                if store.read_flow_runs().total == 1:
                    break
                threading.Event().wait(0.01)
            assert store.read_flow_runs().total == 1
        finally:
            recorder.close()

    def test_many_threads(self, recorder: SqlRecorder, store: RunStore, engine: Engine) -> None:
        flow_run = b.flow_run()
        recorder.flow_run_created(flow_run)

        def work(n: int) -> None:
            for i in range(n):
                task = b.task_run(flow_run.id, name=f"t{i}")
                recorder.task_run_created(task)
                recorder.set_state("task", task.id, b.state(PENDING, "Pending", 0), 0)
                recorder.set_state("task", task.id, b.state(RUNNING, "Running", 1), 1)
                recorder.set_state("task", task.id, b.state(COMPLETED, "Completed", 2), 1)

        threads = [threading.Thread(target=work, args=(300,)) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        recorder.flush()
        runs = store.read_task_runs(flow_run.id)
        assert len(runs) == 2400
        assert {r.state_name for r in runs} == {"Completed"}
        assert _count(engine, "run_state") == 7200

    @pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
    def test_forked_child_writes_only_its_own_records(
        self, engine: Engine, store: RunStore
    ) -> None:
        recorder = SqlRecorder(engine, flush_interval=60)  # nothing written before close()
        try:
            parent_run = b.flow_run("parent")
            recorder.flow_run_created(parent_run)
            pid = os.fork()
            if pid == 0:  # child: must not write (or lose) the parent's queued run
                code = 1
                try:
                    recorder.flow_run_created(b.flow_run("child"))
                    recorder.flush()
                    code = 0
                finally:
                    os._exit(code)
            _, status = os.waitpid(pid, 0)
            assert os.waitstatus_to_exitcode(status) == 0
            assert [r.flow_name for r in store.read_flow_runs().items] == ["child"]
            recorder.flush()
            names = sorted(r.flow_name for r in store.read_flow_runs().items)
            assert names == ["child", "parent"]
        finally:
            recorder.close()

    def test_results_are_upserted_by_key(self, recorder: SqlRecorder, store: RunStore) -> None:
        recorder.result_stored(ResultInfo("k", "t1", None, "/a", "json", b.at(0)))
        recorder.flush()
        recorder.result_stored(ResultInfo("k", "t2", None, "/b", "pickle", b.at(1), b.at(9)))
        recorder.flush()
        record = store.read_result_record("k")
        assert (record.task_run_id, record.location, record.expires) == ("t2", "/b", b.at(9))

    def test_unserializable_parameters_are_recorded_as_text(
        self, recorder: SqlRecorder, store: RunStore
    ) -> None:
        flow_run = b.flow_run(parameters={"obj": object(), "x": float("nan"), "ok": [1, 2]})
        recorder.flow_run_created(flow_run)
        recorder.flush()
        parameters = store.read_flow_run(flow_run.id).parameters
        assert parameters["ok"] == [1, 2]
        assert parameters["x"] == "nan"
        assert parameters["obj"].startswith("<object object")

    def test_text_the_databases_reject_is_escaped(
        self, recorder: SqlRecorder, store: RunStore
    ) -> None:
        flow_run = b.flow_run()
        recorder.flow_run_created(flow_run)
        recorder.log(LogInfo(flow_run.id, None, 20, "x", "nul\x00 and \udc80", b.at(0)))
        recorder.set_state("flow", flow_run.id, b.state(FAILED, "Failed", 1, "bad\x00"), 1)
        recorder.flush()
        run = store.read_flow_run(flow_run.id)
        assert run.logs[0].message == "nul\\x00 and \\udc80"
        assert run.state_message == run.states[0].message == "bad\\x00"

    def test_a_run_created_twice_keeps_its_state(
        self, recorder: SqlRecorder, store: RunStore
    ) -> None:
        task = b.task_run(None)
        recorder.task_run_created(task)
        recorder.set_state("task", task.id, b.state(COMPLETED, "Completed", 1), 1)
        recorder.flush()
        recorder.task_run_created(task)
        recorder.flush()
        assert store.read_task_run(task.id).state_name == "Completed"

    def test_memory_is_released_for_finished_and_scheduled_runs(
        self, recorder: SqlRecorder, store: RunStore
    ) -> None:
        scheduled = b.flow_run("later")
        recorder.flow_run_created(scheduled)
        recorder.set_state("flow", scheduled.id, b.state(SCHEDULED, "Scheduled", 0), 0)
        task = b.task_run(None)
        recorder.task_run_created(task)
        recorder.set_state("task", task.id, b.state(COMPLETED, "Completed", 1), 1)
        recorder.flush()
        assert recorder._batcher._runs == {} and recorder._batcher._flow_runs == {}

        recorder.set_state("flow", scheduled.id, b.state(RUNNING, "Running", 10), 1)
        recorder.flush()
        recorder.set_state("flow", scheduled.id, b.state(COMPLETED, "Completed", 12), 1)
        recorder.flush()
        run = store.read_flow_run(scheduled.id)
        assert (run.start_time, run.end_time, run.total_run_time) == (b.at(10), b.at(12), 2.0)
        assert recorder._batcher._flow_runs == {}
