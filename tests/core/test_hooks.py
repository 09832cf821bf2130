"""State-change hooks of flows and tasks; a hook that raises never changes the run's outcome."""

from __future__ import annotations

import logging
import threading
import time

import pytest

import jupyter_flows
from jupyter_flows import INPUTS, flow, task
from jupyter_flows.core.context import flow_run_context
from jupyter_flows.exceptions import FlowDefinitionError, RunCancelled


class Calls:
    """A hook that remembers each call as (hook name, run name/id, state name)."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str, str]] = []
        self.args: list[tuple] = []
        self._lock = threading.Lock()

    def hook(self, label: str):
        def record(definition, run, state):
            with self._lock:
                self.calls.append((label, run.id, state.name))
                self.args.append((definition, run, state))

        return record

    @property
    def labels(self) -> list[str]:
        return [label for label, _id, _state in self.calls]


def boom(*_args):
    raise RuntimeError("hook exploded")


def cancel_current_flow_run() -> None:
    """What a user (or the UI) does to cancel the flow run the code is part of."""
    flow_run_id = flow_run_context.get().flow_run.id
    assert jupyter_flows.cancel_flow_run(flow_run_id) is True


class TestFlowHooks:
    def test_on_running_and_on_completion(self, recorder):
        seen = Calls()

        @flow(on_running=seen.hook("running"), on_completion=seen.hook("completed"))
        def etl():
            return 1

        etl()
        run = recorder.flow_run("etl")
        assert seen.calls == [("running", run.id, "Running"), ("completed", run.id, "Completed")]
        definition, info, state = seen.args[-1]
        assert definition is etl
        assert info is recorder.flow_runs[run.id]
        assert state.result() == 1

    def test_on_failure(self, recorder):
        seen = Calls()

        @flow(on_failure=seen.hook("failed"), on_completion=seen.hook("completed"))
        def etl():
            raise ValueError("bad")

        with pytest.raises(ValueError):
            etl()
        assert seen.labels == ["failed"]
        _flow, _info, state = seen.args[0]
        assert state.message == "ValueError: bad"

    def test_hooks_run_after_the_final_state_is_recorded(self, recorder):
        at_hook_time = []

        def check(definition, run, state):
            at_hook_time.append(recorder.final(run.id).name)

        @flow(on_completion=check)
        def etl():
            return 1

        etl()
        assert at_hook_time == ["Completed"]

    def test_several_hooks_run_in_order(self):
        seen = Calls()

        @flow(on_completion=[seen.hook("first"), seen.hook("second")])
        def etl():
            return 1

        etl()
        assert seen.labels == ["first", "second"]

    def test_on_running_for_each_attempt(self):
        seen = Calls()
        attempts = []

        @flow(retries=2, on_running=seen.hook("running"), on_failure=seen.hook("failed"))
        def etl():
            attempts.append(1)
            if len(attempts) < 3:
                raise ValueError("again")

        etl()
        assert [state for _label, _id, state in seen.calls] == ["Running", "Retrying", "Retrying"]

    def test_timed_out_flow_calls_on_failure(self):
        seen = Calls()

        @flow(timeout_seconds=0.2, on_failure=seen.hook("failed"))
        def etl():
            for _ in range(3000):  # 30 s in interruptible steps
                time.sleep(0.01)

        etl(return_state=True)
        assert [(label, state) for label, _id, state in seen.calls] == [("failed", "TimedOut")]

    def test_invalid_parameters_call_on_failure(self):
        seen = Calls()

        @flow(on_failure=seen.hook("failed"), on_running=seen.hook("running"))
        def etl(x: int):
            return x

        etl("x", return_state=True)
        assert seen.labels == ["failed"]

    def test_on_cancellation(self, recorder):
        seen = Calls()

        @task
        def cancel():
            cancel_current_flow_run()

        @task
        def after():
            return "should not run"

        @flow(on_cancellation=seen.hook("cancelled"), on_completion=seen.hook("completed"))
        def etl():
            cancel()
            return after()

        with pytest.raises(RunCancelled):
            etl()
        run = recorder.flow_run("etl")
        assert seen.calls == [("cancelled", run.id, "Cancelled")]
        assert recorder.final(run.id).is_cancelled()
        assert recorder.final(recorder.task_run("cancel").id).is_completed()
        after_run = recorder.task_run("after")
        assert recorder.state_names(after_run.id) == ["Pending", "Cancelled"]

    def test_cancelling_an_unknown_run_returns_false(self):
        assert jupyter_flows.cancel_flow_run("no-such-run") is False

    def test_on_crashed(self, recorder):
        seen = Calls()

        @task
        def interrupted():
            raise KeyboardInterrupt

        @flow(on_crashed=seen.hook("crashed"), on_failure=seen.hook("failed"))
        def etl():
            interrupted()

        with pytest.raises(KeyboardInterrupt):
            etl()
        run = recorder.flow_run("etl")
        assert seen.calls == [("crashed", run.id, "Crashed")]
        assert recorder.state_names(run.id) == ["Pending", "Running", "Crashed"]
        assert recorder.final(run.id).message == "KeyboardInterrupt: "
        task_run = recorder.task_run("interrupted")
        assert recorder.state_names(task_run.id) == ["Pending", "Running", "Crashed"]
        assert recorder.flushes >= 1

    def test_crash_in_the_flow_body(self, recorder):
        seen = Calls()

        @flow(on_crashed=seen.hook("crashed"))
        def etl():
            raise SystemExit(3)

        with pytest.raises(SystemExit):
            etl()
        assert seen.labels == ["crashed"]
        assert recorder.final(recorder.flow_run("etl").id).name == "Crashed"


class TestTaskHooks:
    def test_on_running_and_on_completion(self, recorder):
        seen = Calls()

        @task(on_running=seen.hook("running"), on_completion=seen.hook("completed"))
        def step():
            return 2

        @flow
        def etl():
            return step()

        etl()
        run = recorder.task_run("step")
        assert seen.calls == [("running", run.id, "Running"), ("completed", run.id, "Completed")]
        definition, info, state = seen.args[-1]
        assert definition is step
        assert info is recorder.task_runs[run.id]
        assert state.result() == 2

    def test_on_failure(self, recorder):
        seen = Calls()

        @task(on_failure=seen.hook("failed"), on_completion=seen.hook("completed"))
        def step():
            raise ValueError("bad")

        with pytest.raises(ValueError):
            step()
        run = recorder.task_run("step")
        assert seen.calls == [("failed", run.id, "Failed")]

    def test_on_failure_once_after_the_last_retry(self):
        seen = Calls()

        @task(retries=2, on_failure=seen.hook("failed"), on_running=seen.hook("running"))
        def step():
            raise ValueError("bad")

        with pytest.raises(ValueError):
            step()
        assert seen.labels == ["running", "running", "running", "failed"]

    def test_timed_out_task_calls_on_failure(self):
        seen = Calls()

        @task(timeout_seconds=0.2, on_failure=seen.hook("failed"))
        def step():
            for _ in range(3000):  # 30 s in interruptible steps
                time.sleep(0.01)

        step(return_state=True)
        assert [state for _label, _id, state in seen.calls] == ["TimedOut"]

    def test_cached_run_calls_on_completion(self):
        seen = Calls()

        @task(cache_policy=INPUTS, on_completion=seen.hook("completed"))
        def step(x):
            return x

        step(1)
        step(1)
        assert [state for _label, _id, state in seen.calls] == ["Completed", "Cached"]

    def test_failed_upstream_calls_on_failure(self):
        seen = Calls()

        @task
        def broken():
            raise ValueError("bad")

        @task(on_failure=seen.hook("failed"), on_running=seen.hook("running"))
        def after(x):
            return x

        @flow
        def etl():
            return after.submit(broken.submit()).wait()

        assert etl(return_state=True).is_failed()
        assert seen.labels == ["failed"]

    def test_hooks_of_submitted_tasks(self):
        seen = Calls()

        @task(on_completion=seen.hook("completed"))
        def step(i):
            return i

        @flow
        def etl():
            for f in step.map(range(4)):
                f.wait()

        etl()
        assert seen.labels == ["completed"] * 4


class TestRaisingHooks:
    def test_completion_hook_error_does_not_fail_the_flow(self, recorder, caplog):
        @flow(on_completion=boom)
        def etl():
            return "fine"

        with caplog.at_level(logging.ERROR):
            assert etl() == "fine"
        assert recorder.final(recorder.flow_run("etl").id).is_completed()
        assert "hook" in caplog.text and "raised" in caplog.text
        assert "hook exploded" in caplog.text

    def test_failure_hook_error_does_not_mask_the_flow_error(self, recorder, caplog):
        @flow(on_failure=boom)
        def etl():
            raise KeyError("the real problem")

        with pytest.raises(KeyError, match="the real problem"):
            etl()
        assert "hook exploded" in caplog.text
        assert recorder.final(recorder.flow_run("etl").id).message == "KeyError: 'the real problem'"

    def test_running_hook_error_does_not_stop_the_flow(self):
        @flow(on_running=boom)
        def etl():
            return "still ran"

        assert etl() == "still ran"

    def test_later_hooks_still_run(self):
        seen = Calls()

        @flow(on_completion=[boom, seen.hook("after")])
        def etl():
            return 1

        etl()
        assert seen.labels == ["after"]

    def test_task_hook_errors(self, recorder, caplog):
        @task(on_running=boom, on_completion=boom)
        def fine():
            return 1

        @task(on_failure=boom)
        def broken():
            raise ValueError("real")

        @flow
        def etl():
            assert fine() == 1
            broken()

        with pytest.raises(ValueError, match="real"):
            etl()
        assert recorder.final(recorder.task_run("fine").id).is_completed()
        assert recorder.final(recorder.task_run("broken").id).message == "ValueError: real"
        hook_errors = [r for r in caplog.records if "the run's state is unchanged" in r.message]
        assert len(hook_errors) == 3
        assert all(r.exc_info[1].args == ("hook exploded",) for r in hook_errors)


class TestInvalidHooks:
    def test_flow_hook_must_be_callable(self):
        with pytest.raises(FlowDefinitionError, match="flow 'etl': on_completion hooks must"):

            @flow(on_completion="print")
            def etl():
                pass

    def test_task_hook_must_be_callable(self):
        with pytest.raises(FlowDefinitionError, match="task 'step': on_failure hooks must"):

            @task(on_failure=[None])
            def step():
                pass

    def test_tasks_have_no_flow_only_hooks(self):
        with pytest.raises(TypeError):
            task(on_crashed=print)(lambda: None)
