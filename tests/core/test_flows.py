"""``@flow``: definition, calling, results and errors, and what a flow run records."""

from __future__ import annotations

import pytest

from jupyter_flows import (
    Flow,
    SequentialTaskRunner,
    State,
    ThreadPoolTaskRunner,
    flow,
    task,
)
from jupyter_flows.exceptions import FlowDefinitionError


class TestDefinition:
    def test_bare_decorator(self):
        @flow
        def etl():
            return 1

        assert isinstance(etl, Flow)
        assert etl.name == "etl"
        assert etl.isasync is False

    def test_decorator_with_options(self):
        @flow(
            name="nightly",
            description="explicit",
            version="1.2",
            tags=["a", "b"],
            retries=2,
            retry_delay_seconds=0,
            timeout_seconds=10,
            log_prints=True,
            persist_result=False,
        )
        def etl():
            """Docstring that loses to the explicit description."""

        assert etl.name == "nightly"
        assert etl.description == "explicit"
        assert etl.version == "1.2"
        assert etl.tags == {"a", "b"}
        assert etl.retries == 2
        assert etl.retry_delays == (0.0, 0.0)
        assert etl.timeout_seconds == 10.0
        assert etl.log_prints is True
        assert etl.persist_result is False

    def test_empty_parentheses(self):
        @flow()
        def etl():
            return 1

        assert etl.name == "etl"
        assert etl() == 1

    def test_async_function(self):
        @flow
        async def etl():
            return 1

        assert etl.isasync is True

    def test_async_function_with_options(self):
        @flow(name="async-etl", retries=1)
        async def etl():
            return 1

        assert (etl.name, etl.isasync, etl.retries) == ("async-etl", True, 1)

    def test_description_from_docstring(self):
        @flow
        def etl():
            """Extract, transform, load.

            More details.
            """

        assert etl.description == "Extract, transform, load.\n\nMore details."

    def test_no_docstring_means_no_description(self):
        @flow
        def etl():
            pass

        assert etl.description is None

    def test_keeps_the_function_metadata(self):
        def etl(x: int) -> int:
            """Doc."""
            return x

        wrapped = flow(etl)
        assert wrapped.fn is etl
        assert wrapped.__name__ == "etl"
        assert wrapped.__doc__ == "Doc."
        assert wrapped.__wrapped__ is etl

    def test_default_task_runner_is_a_thread_pool(self):
        @flow
        def etl():
            pass

        assert isinstance(etl.task_runner, ThreadPoolTaskRunner)

    def test_with_options_copies_and_overrides(self):
        @flow(retries=1, tags=["x"])
        def etl():
            return 1

        other = etl.with_options(name="other", retries=3)
        assert (other.name, other.retries, other.tags) == ("other", 3, {"x"})
        assert (etl.name, etl.retries) == ("etl", 1)
        assert other() == 1

    def test_repr(self):
        @flow(name="etl")
        def f():
            pass

        assert repr(f) == "Flow(name='etl')"


class TestInvalidDefinition:
    @pytest.mark.parametrize("retries", [-1, 1.5, "2", True])
    def test_bad_retries(self, retries):
        with pytest.raises(FlowDefinitionError, match="retries must be an integer >= 0"):

            @flow(retries=retries)
            def etl():
                pass

    @pytest.mark.parametrize("timeout", [0, -1, "10", True])
    def test_bad_timeout(self, timeout):
        with pytest.raises(FlowDefinitionError, match="timeout_seconds must be > 0"):

            @flow(timeout_seconds=timeout)
            def etl():
                pass

    def test_negative_retry_delay(self):
        with pytest.raises(FlowDefinitionError, match="retry_delay_seconds must be >= 0"):

            @flow(retries=1, retry_delay_seconds=-1)
            def etl():
                pass

    @pytest.mark.parametrize(
        "hook_option",
        ["on_completion", "on_failure", "on_cancellation", "on_crashed", "on_running"],
    )
    def test_non_callable_hook(self, hook_option):
        with pytest.raises(FlowDefinitionError, match=f"{hook_option} hooks must be callables"):

            @flow(**{hook_option: ["not a function"]})
            def etl():
                pass

    def test_bad_task_runner(self):
        with pytest.raises(FlowDefinitionError, match="task_runner must be a TaskRunner"):

            @flow(task_runner=ThreadPoolTaskRunner)  # the class, not an instance
            def etl():
                pass

    def test_not_a_function(self):
        with pytest.raises(FlowDefinitionError, match="needs a function"):
            flow(42)

    def test_error_names_the_flow(self):
        with pytest.raises(FlowDefinitionError, match="flow 'etl'"):

            @flow(retries=-1)
            def etl():
                pass

    def test_definition_errors_are_value_errors(self):
        with pytest.raises(ValueError):
            flow(retries=-1)(lambda: None)


class TestCalling:
    def test_returns_the_result(self):
        @flow
        def add(x, y):
            return x + y

        assert add(1, 2) == 3
        assert add(x=1, y=2) == 3

    def test_raises_the_flow_exception(self):
        class Boom(Exception):
            pass

        @flow
        def etl():
            raise Boom("no luck")

        with pytest.raises(Boom, match="no luck"):
            etl()

    def test_raises_a_failed_task_exception(self):
        @task
        def broken():
            raise KeyError("missing")

        @flow
        def etl():
            return broken()

        with pytest.raises(KeyError, match="missing"):
            etl()

    def test_return_state_completed(self):
        @flow
        def etl():
            return [1, 2]

        state = etl(return_state=True)
        assert isinstance(state, State)
        assert state.is_completed()
        assert state.name == "Completed"
        assert state.result() == [1, 2]

    def test_return_state_failed_does_not_raise(self, recorder):
        @flow
        def etl():
            raise RuntimeError("bad")

        state = etl(return_state=True)
        assert state.is_failed()
        assert state.message == "RuntimeError: bad"
        assert isinstance(state.result(raise_on_failure=False), RuntimeError)
        with pytest.raises(RuntimeError, match="bad"):
            state.result()

    def test_state_carries_the_run_id(self, recorder):
        @flow
        def etl():
            return 1

        state = etl(return_state=True)
        assert state.run_id == recorder.flow_run("etl").id

    def test_returning_a_future_returns_its_result(self):
        @task
        def one():
            return 1

        @flow
        def etl():
            return one.submit()

        assert etl() == 1

    def test_each_call_is_a_new_run(self, recorder):
        @flow
        def etl():
            return 1

        etl()
        etl()
        runs = recorder.flow_runs_of("etl")
        assert len(runs) == 2
        assert runs[0].id != runs[1].id


class TestRecording:
    def test_completed_run_transitions(self, recorder):
        @flow
        def etl():
            return 1

        etl()
        run = recorder.flow_run("etl")
        assert recorder.state_names(run.id) == ["Pending", "Running", "Completed"]
        assert recorder.run_counts(run.id) == [0, 1, 1]
        assert recorder.final(run.id).result() == 1

    def test_failed_run_transitions_and_message(self, recorder):
        @flow
        def etl():
            raise ValueError("bad input")

        with pytest.raises(ValueError):
            etl()
        run = recorder.flow_run("etl")
        assert recorder.state_names(run.id) == ["Pending", "Running", "Failed"]
        assert recorder.final(run.id).message == "ValueError: bad input"

    def test_run_metadata(self, recorder):
        @flow(version="7", tags=["b", "a"])
        def etl(x, y=2):
            """Describe me."""
            return x

        etl(1)
        run = recorder.flow_run("etl")
        assert run.flow_version == "7"
        assert run.flow_description == "Describe me."
        assert run.tags == ["a", "b"]
        assert run.parameters == {"x": 1, "y": 2}
        assert run.parent_flow_run_id is None
        assert run.parent_task_run_id is None
        assert run.name  # a generated, readable name
        assert run.created.tzinfo is not None

    def test_parameters_are_recorded_as_json_friendly_values(self, recorder):
        class Thing:
            def __repr__(self):
                return "Thing()"

        @flow
        def etl(a, b, c):
            pass

        etl([1, "x", Thing()], Thing(), None)
        assert recorder.flow_run("etl").parameters == {
            "a": [1, "x", "Thing()"],
            "b": "Thing()",
            "c": None,
        }

    def test_records_are_flushed_before_the_call_returns(self, recorder):
        @flow
        def etl():
            return 1

        etl()
        assert recorder.flushes >= 1

    def test_task_runs_belong_to_the_flow_run(self, recorder):
        @task
        def step():
            return 1

        @flow
        def etl():
            step()
            step.submit().result()

        etl()
        run = recorder.flow_run("etl")
        assert [r.flow_run_id for r in recorder.task_runs_of("step")] == [run.id, run.id]

    def test_unwaited_futures_finish_before_the_flow_completes(self, recorder):
        @task
        def step(i):
            return i

        @flow
        def etl():
            for i in range(5):
                step.submit(i)  # never waited on

        state = etl(return_state=True)
        assert state.is_completed()
        runs = recorder.task_runs_of("step")
        assert len(runs) == 5
        assert all(recorder.final(r.id).name == "Completed" for r in runs)
        # every task run finished before the flow's final state was recorded
        last_task_transition = max(
            i for i, (kind, *_rest) in enumerate(recorder.transitions) if kind == "task"
        )
        flow_final = next(
            i
            for i, (kind, rid, state, _n) in enumerate(recorder.transitions)
            if kind == "flow" and state.is_final()
        )
        assert last_task_transition < flow_final

    def test_flow_logs_its_start_and_end(self, recorder):
        @flow
        def etl():
            return 1

        etl()
        run = recorder.flow_run("etl")
        messages = recorder.messages(flow_run_id=run.id)
        assert any("Beginning flow run" in m for m in messages)
        assert any("Finished in state Completed" in m for m in messages)

    def test_sequential_task_runner_option(self, recorder):
        @task
        def step(i):
            return i * 2

        @flow(task_runner=SequentialTaskRunner())
        def etl():
            return [f.result() for f in step.map([1, 2, 3])]

        assert etl() == [2, 4, 6]
