"""ProcessPoolTaskRunner: task bodies in spawned worker processes, recorded in the run database.

Every test runs real flows on real worker processes and reads what was recorded back from the
default (SQLite) run database, as ``tests/test_dask_runner.py`` does.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from jupyter_flows import flow, get_run_logger, read_flow_run, task
from jupyter_flows.core import settings
from jupyter_flows.core.runners import ProcessPoolTaskRunner


@pytest.fixture(autouse=True)
def recorder() -> Iterator[None]:
    """Record into the run database (overrides the in-memory recorder of ``conftest``)."""
    settings.reset_recorder()
    yield
    settings.reset_recorder()


class InventoryError(ValueError):
    """An exception class importable by the worker processes."""


class TwoArgError(Exception):
    """Cannot be unpickled: ``__init__`` takes two arguments, ``args`` holds one."""

    def __init__(self, sku: str, count: int):
        super().__init__(f"{sku} has {count}")


@task
def inner(x: int) -> int:
    get_run_logger().info("inner %d", x)
    return x * 3


@task
def outer(x: int) -> int:
    # imported in the worker: a Task object shipped by value loses its ``_bound`` sentinel
    from tests.core.test_process_runner import inner as worker_inner

    return worker_inner(x) + 1


def _runs_by_name(run_id: str) -> dict[str, object]:
    return {t.name: t for t in read_flow_run(run_id).task_runs}


class TestProcessPoolTaskRunner:
    def test_mapped_bodies_run_in_processes_with_results_states_and_logs(self) -> None:
        @task
        def square(x: int) -> tuple[int, int, float]:
            get_run_logger().info("squaring %d", x)
            print(f"printed {x}")
            return os.getpid(), x * x, time.time()

        @flow(task_runner=ProcessPoolTaskRunner(max_workers=2), log_prints=True)
        def squares() -> list[tuple[int, int, float]]:
            return [f.result() for f in square.map(range(4))]

        state = squares(return_state=True)
        results = state.result()
        assert [value for _pid, value, _t in results] == [0, 1, 4, 9]
        assert os.getpid() not in {pid for pid, _v, _t in results}
        run = read_flow_run(state.run_id)
        assert run.state_name == "Completed"
        by_key = {t.dynamic_key: t for t in run.task_runs}
        assert sorted(by_key) == [0, 1, 2, 3]
        assert {t.state_name for t in run.task_runs} == {"Completed"}
        for key, task_run in by_key.items():
            logs = [log for log in run.logs if log.task_run_id == task_run.id]
            assert [log.message for log in logs] == [f"squaring {key}", f"printed {key}"]
            assert {log.logger for log in logs} == {"jupyter_flows.task_runs"}
            assert {log.level for log in logs} == {20}
            assert {log.flow_run_id for log in logs} == {run.id}
            returned_at = results[key][2]
            # stamped when written in the worker, before the body returned (not when replayed)
            assert all(log.timestamp.timestamp() <= returned_at for log in logs)

    def test_a_body_exception_keeps_its_type_and_message(self) -> None:
        @task
        def check(sku: str) -> None:
            raise InventoryError(f"no stock of {sku}")

        @flow(task_runner=ProcessPoolTaskRunner(max_workers=1))
        def audit() -> None:
            check.submit("A-1").wait()

        state = audit(return_state=True)
        (task_run,) = read_flow_run(state.run_id).task_runs
        assert task_run.state_name == "Failed"
        assert task_run.state_message == "InventoryError: no stock of A-1"
        error_logs = [log for log in read_flow_run(state.run_id).logs if log.level == 40]
        assert any("Raised in process" in log.message for log in error_logs)

        @flow(task_runner=ProcessPoolTaskRunner(max_workers=1))
        def audit_raises() -> None:
            check("B-2")

        with pytest.raises(InventoryError, match="no stock of B-2"):
            audit_raises()

    def test_an_exception_of_a_class_defined_in_the_notebook_keeps_its_class(self) -> None:
        class NotebookError(RuntimeError):
            pass

        @task
        def fails() -> None:
            raise NotebookError("from a notebook cell")

        @flow(task_runner=ProcessPoolTaskRunner(max_workers=1))
        def cell_flow() -> None:
            fails()

        with pytest.raises(NotebookError, match="from a notebook cell"):
            cell_flow()

    def test_an_exception_that_cannot_be_unpickled_becomes_a_runtime_error(self) -> None:
        @task
        def count() -> None:
            raise TwoArgError("A-1", 0)

        @flow(task_runner=ProcessPoolTaskRunner(max_workers=1))
        def counting() -> None:
            count()

        with pytest.raises(RuntimeError, match="TwoArgError: A-1 has 0"):
            counting()

    def test_retries_of_a_failing_body_run_in_worker_processes(self, tmp_path: Path) -> None:
        attempts = tmp_path / "attempts"

        @task(retries=2)
        def flaky() -> str:
            with attempts.open("a") as f:
                f.write(f"{os.getpid()}\n")
            if len(attempts.read_text().splitlines()) < 3:
                raise ConnectionError("not yet")
            return "ok"

        @flow(task_runner=ProcessPoolTaskRunner(max_workers=2))
        def retrying() -> str:
            return flaky.submit().result()

        state = retrying(return_state=True)
        assert state.result() == "ok"
        pids = {int(line) for line in attempts.read_text().split()}
        assert os.getpid() not in pids
        (task_run,) = read_flow_run(state.run_id).task_runs
        assert task_run.state_name == "Completed"
        assert task_run.run_count == 3
        messages = [log.message for log in read_flow_run(state.run_id).logs]
        assert "ConnectionError: not yet (attempt 1 of 3); retrying" in messages

    @pytest.mark.parametrize("how", ["os._exit", "SIGKILL"])
    def test_a_body_that_kills_its_process_fails_and_the_flow_goes_on(self, how: str) -> None:
        @task
        def dies() -> None:
            if how == "os._exit":
                os._exit(3)
            os.kill(os.getpid(), signal.SIGKILL)

        @task
        def after(x: int) -> int:
            return x + 1

        @flow(task_runner=ProcessPoolTaskRunner(max_workers=1))
        def survives() -> int:
            dies.submit().wait()
            return after.submit(1).result()

        state = survives(return_state=True)
        assert state.result() == 2  # the pool was started again for the next body
        runs = _runs_by_name(state.run_id)
        assert runs["dies-0"].state_name == "Failed"  # type: ignore[attr-defined]
        message = runs["dies-0"].state_message  # type: ignore[attr-defined]
        assert message.startswith("BrokenProcessPool: the worker process running the body of")
        assert "ended abruptly" in message
        assert runs["after-0"].state_name == "Completed"  # type: ignore[attr-defined]

    def test_a_timed_out_body_is_stopped_when_the_flow_ends(self, tmp_path: Path) -> None:
        pid_file = tmp_path / "pid"

        @task(timeout_seconds=0.5)
        def hangs() -> None:
            pid_file.write_text(str(os.getpid()))
            time.sleep(600)

        @flow(task_runner=ProcessPoolTaskRunner(max_workers=1))
        def hanging() -> str:
            future = hangs.submit()
            future.wait()
            return future.state.name

        state = hanging(return_state=True)
        assert state.result() == "TimedOut"
        (task_run,) = read_flow_run(state.run_id).task_runs
        assert task_run.state_name == "TimedOut"
        assert not psutil.pid_exists(int(pid_file.read_text()))

    def test_nested_task_calls_in_a_body_are_recorded(self) -> None:
        @flow(task_runner=ProcessPoolTaskRunner(max_workers=1))
        def nesting() -> int:
            return outer.submit(2).result()

        state = nesting(return_state=True)
        assert state.result() == 7
        run = read_flow_run(state.run_id)
        runs = {t.task_name: t for t in run.task_runs}
        assert runs["inner"].state_name == "Completed"
        assert runs["outer"].state_name == "Completed"
        logs = [log for log in run.logs if log.task_run_id == runs["inner"].id]
        assert [log.message for log in logs] == ["inner 2"]

    def test_arguments_that_cannot_be_sent_fail_the_task_clearly(self) -> None:
        @task
        def uses(lock: object) -> None:
            pass

        @flow(task_runner=ProcessPoolTaskRunner(max_workers=1))
        def sending() -> None:
            uses.submit(threading.Lock()).wait()

        state = sending(return_state=True)
        (task_run,) = read_flow_run(state.run_id).task_runs
        assert task_run.state_name == "Failed"
        assert "cannot send the body of 'uses-0' or its arguments" in task_run.state_message

    def test_duplicate_start_shutdown_and_direct_use(self) -> None:
        runner = ProcessPoolTaskRunner(max_workers=2)
        copy = runner.duplicate()
        assert isinstance(copy, ProcessPoolTaskRunner) and copy is not runner
        assert copy.max_workers == 2
        assert ProcessPoolTaskRunner().max_workers == (os.cpu_count() or 1)
        with pytest.raises(ValueError, match="at least 1"):
            ProcessPoolTaskRunner(max_workers=0)
        with copy as started:
            assert started.call(os.getpid, (), {}) != os.getpid()
            assert started.submit(sum, [1, 2]).result() == 3
        with copy:  # usable again after shutdown
            assert copy.call(divmod, (7, 2), {}) == (3, 1)
