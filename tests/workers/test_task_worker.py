"""Background tasks with real processes: ``Task.delay`` here, task workers in subprocesses,
on SQLite and PostgreSQL. Executions are counted through files the tasks append to."""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path

import pytest

from jupyter_flows import flow
from jupyter_flows.client.http import ClientError
from jupyter_flows.core import settings
from jupyter_flows.exceptions import CrashedRun, UnstorableParameter
from jupyter_flows.store import background as queue
from jupyter_flows.store.api import close_store, run_store
from tests.helpers import wait
from tests.workers.background_harness import Harness


@pytest.fixture
def bg(tmp_path: Path, db_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Harness]:
    monkeypatch.setenv("JUPYTER_FLOWS_DB_URL", db_url)
    settings.reset_recorder()  # this process records into the test's database too
    harness = Harness(tmp_path, db_url)
    try:
        yield harness
    finally:
        harness.close()
        settings.reset_recorder()
        close_store(db_url)


class TestDelay:
    """What ``.delay()`` leaves in the database, before any task worker runs."""

    def test_queues_a_scheduled_task_run_of_no_flow_run(self, bg: Harness) -> None:
        tasks = bg.tasks()
        future = tasks.add.delay(1, b=2)
        assert future.state.name == "Scheduled"
        (run,) = bg.rows("task_run", id=future.task_run_id)
        assert run["flow_run_id"] is None and run["task_name"] == "add"
        (queued,) = bg.rows("queue", task_run_id=future.task_run_id)
        assert queued["parameters"] == {"a": 1, "b": 2}
        assert queued["worker"] is None and queued["parameters_location"] is None
        assert future.wait(0.3) is None
        with pytest.raises(TimeoutError):
            future.result(timeout=0.2)

    def test_a_value_that_cannot_be_stored_queues_nothing(self, bg: Harness) -> None:
        tasks = bg.tasks()
        with pytest.raises(UnstorableParameter) as caught:
            tasks.echo.delay(threading.Lock())
        assert caught.value.parameter == "value" and "nothing was queued" in str(caught.value)
        with pytest.raises(TypeError, match="add.delay"):
            tasks.add.delay(1)  # a call the function refuses: refused now, not by a worker
        assert bg.rows("task_run") == [] and bg.rows("queue") == []

    def test_a_run_process_without_database_access_delays_through_the_server(
        self, bg: Harness, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        tasks = bg.tasks()
        monkeypatch.delenv("JUPYTER_FLOWS_DB_URL")
        monkeypatch.setenv("JUPYTER_FLOWS_RECORD_URL", "http://127.0.0.1:1/")
        with pytest.raises(ClientError, match="POST background_task_runs"):
            tasks.add.delay(1, 2)  # to the server (away here), not some local database
        monkeypatch.setenv("JUPYTER_FLOWS_DB_URL", bg.db_url)
        assert bg.rows("task_run") == []

    def test_other_values_are_pickled_to_result_storage(self, bg: Harness) -> None:
        future = bg.tasks().echo.delay((1, 2))
        (queued,) = bg.rows("queue", task_run_id=future.task_run_id)
        assert queued["parameters"] is None
        assert Path(queued["parameters_location"]).is_file()


class TestTaskWorker:
    def test_runs_a_delayed_run_and_the_result_comes_back_here(self, bg: Harness) -> None:
        tasks = bg.tasks()
        worker = bg.start_worker("add", "echo")
        future = tasks.add.delay(1, 2)
        assert future.result(timeout=60) == 3
        assert bg.state_names(future.task_run_id) == [
            "Scheduled", "Pending", "Running", "Completed"
        ]  # fmt: skip
        assert "1 + 2 = 3" in bg.messages(future.task_run_id)
        (queued,) = bg.rows("queue", task_run_id=future.task_run_id)
        assert queued["claims"] == 1 and queued["lease_expires"] is None
        value = (1, datetime(2026, 1, 2, tzinfo=timezone.utc), {3: "x"})
        assert tasks.echo.delay(value).result(timeout=60) == value  # pickled both ways
        assert bg.stop(worker) == 0

    def test_several_task_workers_never_run_one_twice(self, bg: Harness) -> None:
        tasks = bg.tasks()
        log = bg.dir / "executions.txt"
        futures = [tasks.record.delay(str(log), i) for i in range(40)]
        workers = [bg.start_worker("record", limit=4) for _ in range(3)]
        assert [f.result(timeout=120) for f in futures] == list(range(40))
        assert sorted(int(line) for line in log.read_text().split()) == list(range(40))
        assert {r["claims"] for r in bg.rows("queue")} == {1}
        assert all(bg.stop(w) == 0 for w in workers)

    def test_retries_run_in_the_task_worker(self, bg: Harness) -> None:
        tasks = bg.tasks()
        bg.start_worker("flaky")
        future = tasks.flaky.delay(str(bg.dir / "attempts.txt"))
        assert future.result(timeout=60) == 3
        names = bg.state_names(future.task_run_id)
        assert names.count("AwaitingRetry") == 2 and names[-1] == "Completed"
        assert bg.rows("task_run", id=future.task_run_id)[0]["run_count"] == 3

    def test_a_failed_run_raises_its_exception_here(self, bg: Harness) -> None:
        tasks = bg.tasks()
        bg.start_worker("fail")
        future = tasks.fail.delay()
        with pytest.raises(ZeroDivisionError, match="no dice"):
            future.result(timeout=60)
        assert future.state.name == "Failed"
        assert isinstance(future.result(raise_on_failure=False), ZeroDivisionError)

    def test_kill_9_mid_run_ends_crashed_and_it_does_not_run_again(self, bg: Harness) -> None:
        tasks = bg.tasks()
        started = bg.dir / "started.txt"
        doomed = bg.start_worker("hang", lease=1.0)
        future = tasks.hang.delay(str(started))
        wait(lambda: started.exists(), 60, "the run to start")
        wait(lambda: future.state.name == "Running", 30, "Running recorded")
        os.kill(doomed.pid, signal.SIGKILL)
        doomed.wait(timeout=30)
        bg.start_worker("hang", lease=1.0)  # takes the expired claim back
        final = future.wait(timeout=60)
        assert final is not None and final.name == "Crashed"
        assert "stopped renewing its claim" in (final.message or "")
        with pytest.raises(CrashedRun):
            future.result()
        assert started.read_text().count("started") == 1

    def test_a_dead_workers_claim_that_never_started_is_re_queued(self, bg: Harness) -> None:
        tasks = bg.tasks()
        future = tasks.add.delay(2, 3)
        engine = run_store(bg.db_url).engine
        (ghost,) = queue.claim(engine, "ghost-worker", [ghost_key(tasks)], 1, 0.2)
        assert future.state.name == "Pending"  # claimed by a worker that will never run it
        bg.start_worker("add")
        assert future.result(timeout=60) == 5
        assert bg.state_names(ghost.task_run_id) == [
            "Scheduled", "Pending", "Scheduled", "Pending", "Running", "Completed"
        ]  # fmt: skip
        assert bg.rows("queue", task_run_id=ghost.task_run_id)[0]["claims"] == 2

    def test_wait_for_runs_after_its_upstream_or_fails_with_it(self, bg: Harness) -> None:
        tasks = bg.tasks()
        first = tasks.slow.delay(0.5)
        second = tasks.add.apply_async((2, 3), wait_for=[first])
        broken = tasks.fail.delay()
        after_broken = tasks.add.apply_async(args=(1,), kwargs={"b": 1}, wait_for=[broken])
        bg.start_worker("slow", "add", "fail")
        assert second.result(timeout=60) == 5
        up = bg.rows("task_run", id=first.task_run_id)[0]
        down = bg.rows("task_run", id=second.task_run_id)[0]
        assert down["start_time"] >= up["end_time"]
        state = after_broken.wait(timeout=60)
        assert state is not None and state.name == "Failed"
        assert "upstream" in (state.message or "")

    def test_delay_inside_a_flow_does_not_wait_and_is_not_the_flows(self, bg: Harness) -> None:
        tasks = bg.tasks()

        @flow
        def enqueue_welcome() -> str:
            return str(tasks.add.delay(20, 22).task_run_id)

        state = enqueue_welcome(return_state=True)
        run_id = state.result()
        assert state.name == "Completed"
        (queued,) = bg.rows("queue", task_run_id=run_id)
        assert queued["origin_flow_run_id"] == state.run_id
        assert bg.rows("task_run", id=run_id)[0]["flow_run_id"] is None
        bg.start_worker("add")
        from jupyter_flows.core.background import PrefectDistributedFuture

        assert PrefectDistributedFuture(run_id).result(timeout=60) == 42

    def test_sigterm_lets_the_run_in_flight_finish(self, bg: Harness) -> None:
        tasks = bg.tasks()
        worker = bg.start_worker("slow")
        future = tasks.slow.delay(1.5)
        wait(lambda: future.state.name == "Running", 60, "the run to start")
        assert bg.stop(worker) == 0
        assert future.state.name == "Completed" and future.result() == "done"


def ghost_key(tasks: object) -> str:
    from jupyter_flows.core.background import queue_key

    return queue_key(tasks.add)  # type: ignore[attr-defined]
