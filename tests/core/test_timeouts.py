"""``timeout_seconds``: runs end ``TimedOut`` (a FAILED state) and the caller is never left hung.

No wall time is asserted: each slow body would run for 30 s, far beyond the whole suite's
budget, so a test returning at all (within pytest-timeout) shows the timeout worked.
"""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

from jupyter_flows import flow, task
from jupyter_flows.core.annotations import quote
from jupyter_flows.core.states import StateType
from jupyter_flows.exceptions import TaskTimeout

LONG = 30.0


def busy(stopped: threading.Event | None = None, release: threading.Event | None = None) -> None:
    """Work for ``LONG`` seconds in small steps (interruptible), flagging when it stops.

    ``release`` ends the work early: tests set it once they have seen the caller return.
    """
    try:
        deadline = time.monotonic() + LONG
        while time.monotonic() < deadline and not (release is not None and release.is_set()):
            time.sleep(0.01)
    finally:
        if stopped is not None:
            stopped.set()


class TestTaskTimeouts:
    def test_sync_task_times_out(self, recorder):
        @task(timeout_seconds=0.3)
        def slow():
            busy()

        @flow
        def etl():
            return quote(slow(return_state=True))  # a state returned as a value

        state = etl().unquote()
        assert state.name == "TimedOut"
        assert state.type is StateType.FAILED
        assert state.message == "'slow' exceeded its timeout of 0.3 s"
        run = recorder.task_run("slow")
        assert recorder.state_names(run.id) == ["Pending", "Running", "TimedOut"]

    def test_timeout_raises_a_timeout_error_in_the_flow(self, recorder):
        @task(timeout_seconds=0.3)
        def slow():
            busy()

        @flow
        def etl():
            slow()

        with pytest.raises(TaskTimeout) as info:
            etl()
        assert isinstance(info.value, TimeoutError)
        assert (info.value.name, info.value.seconds) == ("slow", 0.3)
        assert recorder.final(recorder.flow_run("etl").id).is_failed()

    def test_the_timed_out_function_is_stopped(self):
        stopped = threading.Event()

        @task(timeout_seconds=0.3)
        def slow():
            busy(stopped)

        slow(return_state=True)
        assert stopped.wait(10), "the timed-out function kept running"

    def test_uninterruptible_call_still_returns_to_the_caller(self, recorder):
        @task(timeout_seconds=0.3)
        def slow():
            time.sleep(LONG)  # one C-level sleep: cannot be interrupted, only abandoned

        state = slow(return_state=True)
        assert state.name == "TimedOut"

    def test_async_task_times_out(self, recorder):
        cancelled = threading.Event()

        @task(timeout_seconds=0.3)
        async def slow():
            try:
                await asyncio.sleep(LONG)
            except asyncio.CancelledError:
                cancelled.set()
                raise

        @flow
        def etl():
            return quote(slow(return_state=True))  # a state returned as a value

        state = etl().unquote()
        assert state.name == "TimedOut"
        assert state.is_failed()
        assert recorder.state_names(recorder.task_run("slow").id)[-1] == "TimedOut"
        assert cancelled.is_set()

    def test_submitted_task_times_out(self, recorder):
        @task(timeout_seconds=0.3)
        def slow():
            busy()

        @flow
        def etl():
            return slow.submit().wait()

        # as Prefect: a flow returning a failed state of a task run fails, raising its error
        with pytest.raises(TaskTimeout):
            etl()
        assert recorder.final(recorder.task_run("slow").id).name == "TimedOut"

    def test_standalone_task_times_out(self, recorder):
        @task(timeout_seconds=0.3)
        def slow():
            busy()

        with pytest.raises(TaskTimeout):
            slow()
        assert recorder.final(recorder.task_run("slow").id).name == "TimedOut"

    def test_fast_task_completes_within_its_timeout(self, recorder):
        @task(timeout_seconds=30)
        def quick(x):
            return x * 2

        @flow
        def etl():
            return quick(21)

        assert etl() == 42
        assert recorder.final(recorder.task_run("quick").id).is_completed()

    def test_errors_inside_a_timed_task_are_kept(self):
        @task(timeout_seconds=30)
        def broken():
            raise KeyError("inner")

        with pytest.raises(KeyError, match="inner"):
            broken()

    def test_timed_task_sees_its_run_context(self, recorder):
        from jupyter_flows import get_run_logger

        @task(timeout_seconds=30)
        def chatty():
            get_run_logger().info("inside the timeout thread")

        @flow
        def etl():
            chatty()

        etl()
        run = recorder.task_run("chatty")
        assert "inside the timeout thread" in recorder.messages(task_run_id=run.id)

    def test_timed_out_task_is_retried(self, recorder):
        attempts = []

        @task(timeout_seconds=0.3, retries=1)
        def sometimes_slow():
            attempts.append(1)
            if len(attempts) == 1:
                busy()
            return "second time lucky"

        assert sometimes_slow() == "second time lucky"
        assert recorder.state_names(recorder.task_run("sometimes_slow").id) == [
            "Pending",
            "Running",
            "AwaitingRetry",
            "Retrying",
            "Completed",
        ]


class TestFlowTimeouts:
    def test_sync_flow_times_out(self, recorder):
        @flow(timeout_seconds=0.3)
        def etl():
            busy()

        state = etl(return_state=True)
        assert state.name == "TimedOut"
        assert state.type is StateType.FAILED
        assert state.message == "'etl' exceeded its timeout of 0.3 s"
        assert recorder.state_names(recorder.flow_run("etl").id) == [
            "Pending",
            "Running",
            "TimedOut",
        ]

    def test_sync_flow_timeout_raises(self):
        @flow(timeout_seconds=0.3)
        def etl():
            busy()

        with pytest.raises(TaskTimeout, match="'etl' exceeded its timeout"):
            etl()

    def test_async_flow_times_out(self, recorder):
        @flow(timeout_seconds=0.3)
        async def etl():
            await asyncio.sleep(LONG)

        state = asyncio.run(etl(return_state=True))
        assert state.name == "TimedOut"
        assert state.is_failed()
        assert recorder.final(recorder.flow_run("etl").id).name == "TimedOut"

    def test_flow_timeout_while_a_task_runs(self, recorder):
        @task
        def slow():
            busy()

        @flow(timeout_seconds=0.3)
        def etl():
            slow()

        state = etl(return_state=True)
        assert state.name == "TimedOut"

    def test_flow_timeout_while_waiting_for_a_submitted_task(self, recorder):
        # The submitted task runs on the flow's thread pool, not in the flow's own thread:
        # the caller must not wait for it when the flow's time is up.
        stopped, release = threading.Event(), threading.Event()

        @task
        def slow():
            busy(stopped, release)

        @flow(timeout_seconds=0.3)
        def etl():
            return slow.submit().result()

        try:
            state = etl(return_state=True)
            assert state.name == "TimedOut"
            assert recorder.final(recorder.flow_run("etl").id).name == "TimedOut"
            assert not stopped.is_set()  # returned although the task still runs
        finally:
            release.set()
        assert stopped.wait(10)

    def test_tasks_after_a_flow_timeout_do_not_start(self, recorder):
        started = []

        @task
        def slow():
            busy()

        @task
        def later():
            started.append(1)

        @flow(timeout_seconds=0.3)
        def etl():
            slow()
            later()

        etl(return_state=True)
        assert started == []

    def test_flow_timeout_then_retry(self, recorder):
        attempts = []

        @flow(timeout_seconds=0.3, retries=1)
        def etl():
            attempts.append(1)
            if len(attempts) == 1:
                busy()
            return "done"

        assert etl() == "done"
        names = recorder.state_names(recorder.flow_run("etl").id)
        assert names == ["Pending", "Running", "AwaitingRetry", "Retrying", "Completed"]
