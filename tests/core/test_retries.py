"""Retries of tasks and flows: delays, backoff, jitter, conditions, and every attempt recorded."""

from __future__ import annotations

import pytest

from jupyter_flows import exponential_backoff, flow, task
from jupyter_flows.exceptions import FlowDefinitionError


def flaky(failures: int, exc: type[Exception] = ValueError):
    """A function failing its first ``failures`` calls, then returning the attempt number."""
    calls: list[int] = []

    def fn():
        calls.append(1)
        if len(calls) <= failures:
            raise exc(f"failure {len(calls)}")
        return len(calls)

    return fn, calls


def retry_delays(recorder, run_id):
    """The delays announced by the run's AwaitingRetry states, in seconds."""
    return [
        (s.scheduled_time - s.timestamp).total_seconds()
        for s in recorder.states(run_id)
        if s.name == "AwaitingRetry"
    ]


class TestTaskRetries:
    def test_succeeds_after_failures_and_records_each_attempt(self, recorder):
        fn, calls = flaky(2)
        step = task(retries=2)(fn)

        @flow
        def etl():
            return step()

        assert etl() == 3
        run = recorder.task_run("fn")
        assert recorder.state_names(run.id) == [
            "Pending",
            "Running",
            "AwaitingRetry",
            "Retrying",
            "AwaitingRetry",
            "Retrying",
            "Completed",
        ]
        assert recorder.run_counts(run.id) == [0, 1, 1, 2, 2, 3, 3]
        assert len(calls) == 3

    def test_awaiting_retry_keeps_the_failure_message(self, recorder):
        fn, _ = flaky(1)
        step = task(retries=1)(fn)
        step()
        awaiting = [
            s for s in recorder.states(recorder.task_run("fn").id) if s.name == "AwaitingRetry"
        ]
        assert [s.message for s in awaiting] == ["ValueError: failure 1"]
        assert awaiting[0].is_scheduled()

    def test_gives_up_after_the_last_retry(self, recorder):
        fn, calls = flaky(10)
        step = task(retries=2)(fn)

        @flow
        def etl():
            return step()

        with pytest.raises(ValueError, match="failure 3"):
            etl()
        run = recorder.task_run("fn")
        assert recorder.state_names(run.id)[-2:] == ["Retrying", "Failed"]
        assert recorder.final(run.id).message == "ValueError: failure 3"
        assert len(calls) == 3

    def test_every_attempt_is_logged(self, recorder):
        fn, _ = flaky(10)
        step = task(retries=1)(fn)
        with pytest.raises(ValueError):
            step()
        messages = recorder.messages(task_run_id=recorder.task_run("fn").id)
        assert any("failure 1 (attempt 1 of 2); retrying" in m for m in messages)
        assert any("failure 2 (attempt 2 of 2)" in m and "Traceback" in m for m in messages)

    def test_no_retries_by_default(self, recorder):
        fn, calls = flaky(1)
        step = task(fn)
        with pytest.raises(ValueError):
            step()
        assert len(calls) == 1
        assert "AwaitingRetry" not in recorder.state_names(recorder.task_run("fn").id)

    def test_retries_of_submitted_tasks(self, recorder):
        fn, calls = flaky(1)
        step = task(retries=1)(fn)

        @flow
        def etl():
            return step.submit().result()

        assert etl() == 2
        assert recorder.state_names(recorder.task_run("fn").id).count("Retrying") == 1

    def test_retries_of_async_tasks(self, recorder):
        calls = []

        @task(retries=2)
        async def step():
            calls.append(1)
            if len(calls) < 3:
                raise ValueError("not yet")
            return "ok"

        @flow
        def etl():
            return step()

        assert etl() == "ok"
        assert recorder.state_names(recorder.task_run("step").id).count("Retrying") == 2


class TestRetryDelays:
    def test_a_number_is_used_for_every_retry(self, recorder):
        fn, _ = flaky(2)
        step = task(retries=2, retry_delay_seconds=0.02)(fn)
        assert step.retry_delays == (0.02, 0.02)
        step()
        assert retry_delays(recorder, recorder.task_run("fn").id) == [0.02, 0.02]

    def test_a_list_gives_one_delay_per_attempt(self, recorder):
        fn, _ = flaky(3)
        step = task(retries=3, retry_delay_seconds=[0.01, 0.02, 0.03])(fn)
        step()
        assert retry_delays(recorder, recorder.task_run("fn").id) == [0.01, 0.02, 0.03]

    def test_a_short_list_repeats_its_last_delay(self):
        step = task(retries=4, retry_delay_seconds=[1, 5])(lambda: None)
        assert step.retry_delays == (1.0, 5.0, 5.0, 5.0)

    def test_a_long_list_is_cut_to_the_retries(self):
        step = task(retries=1, retry_delay_seconds=[1, 5, 9])(lambda: None)
        assert step.retry_delays == (1.0,)

    def test_exponential_backoff(self, recorder):
        fn, _ = flaky(3)
        step = task(retries=3, retry_delay_seconds=exponential_backoff(0.01))(fn)
        assert step.retry_delays == (0.01, 0.02, 0.04)
        step()
        assert retry_delays(recorder, recorder.task_run("fn").id) == [0.01, 0.02, 0.04]

    def test_exponential_backoff_rejects_a_negative_factor(self):
        with pytest.raises(FlowDefinitionError, match="backoff_factor must be >= 0"):
            exponential_backoff(-1)

    def test_a_callable_gets_the_number_of_retries(self):
        seen = []

        def delays(retries):
            seen.append(retries)
            return [7] * retries

        step = task(retries=2, retry_delay_seconds=delays)(lambda: None)
        assert seen == [2]
        assert step.retry_delays == (7.0, 7.0)

    def test_jitter_stays_within_its_bounds(self, recorder):
        fn, _ = flaky(20)
        step = task(retries=20, retry_delay_seconds=0.005, retry_jitter_factor=1.0)(fn)
        step()
        delays = retry_delays(recorder, recorder.task_run("fn").id)
        assert len(delays) == 20
        assert all(0.005 <= d <= 0.010 + 1e-9 for d in delays)
        assert len(set(delays)) > 1  # really jittered

    def test_no_jitter_on_a_zero_delay(self, recorder):
        fn, _ = flaky(2)
        step = task(retries=2, retry_jitter_factor=5.0)(fn)
        step()
        assert retry_delays(recorder, recorder.task_run("fn").id) == [0.0, 0.0]


class TestRetryCondition:
    def test_false_stops_retrying(self, recorder):
        fn, calls = flaky(5, exc=KeyError)
        step = task(retries=5, retry_condition_fn=lambda t, run, state: False)(fn)
        with pytest.raises(KeyError):
            step()
        assert len(calls) == 1
        assert recorder.state_names(recorder.task_run("fn").id) == ["Pending", "Running", "Failed"]

    def test_retries_only_matching_errors(self, recorder):
        calls = []

        def only_on_timeouts(t, run, state):
            return isinstance(state.result(raise_on_failure=False), TimeoutError)

        @task(retries=5, retry_condition_fn=only_on_timeouts)
        def step():
            calls.append(1)
            if len(calls) < 3:
                raise TimeoutError("slow service")
            raise PermissionError("denied")

        with pytest.raises(PermissionError):
            step()
        assert len(calls) == 3
        assert recorder.state_names(recorder.task_run("step").id).count("Retrying") == 2

    def test_condition_gets_the_task_its_run_and_the_failed_state(self, recorder):
        seen = []

        def condition(t, run, state):
            seen.append((t, run.id, state.name, state.message))
            return True

        fn, _ = flaky(1)
        step = task(retries=1, retry_condition_fn=condition)(fn)
        step()
        assert seen == [(step, recorder.task_run("fn").id, "Failed", "ValueError: failure 1")]

    def test_a_raising_condition_means_no_retry(self, recorder, caplog):
        def condition(t, run, state):
            raise RuntimeError("bad condition")

        fn, calls = flaky(5)
        step = task(retries=5, retry_condition_fn=condition)(fn)
        with pytest.raises(ValueError):
            step()
        assert len(calls) == 1
        assert "retry_condition_fn of task 'fn' raised" in caplog.text


class TestCancellationDuringRetries:
    def test_cancelling_while_awaiting_a_retry_ends_the_task_cancelled(self, recorder):
        import jupyter_flows
        from jupyter_flows.core.context import flow_run_context
        from jupyter_flows.exceptions import RunCancelled

        def cancel_then_retry(t, run, state):
            jupyter_flows.cancel_flow_run(flow_run_context.get().flow_run.id)
            return True

        calls = []

        @task(retries=3, retry_delay_seconds=30, retry_condition_fn=cancel_then_retry)
        def step():
            calls.append(1)
            raise ValueError("fails")

        @flow
        def etl():
            step()

        with pytest.raises(RunCancelled):
            etl()  # returns without sitting out the 30 s delay
        assert len(calls) == 1
        run = recorder.task_run("step")
        assert recorder.state_names(run.id) == ["Pending", "Running", "AwaitingRetry", "Cancelled"]
        assert recorder.final(recorder.flow_run("etl").id).is_cancelled()


class TestFlowRetries:
    def test_flow_is_rerun_and_each_attempt_recorded(self, recorder):
        fn, calls = flaky(2)
        etl = flow(retries=2)(fn)
        assert etl() == 3
        run = recorder.flow_run("fn")
        assert recorder.state_names(run.id) == [
            "Pending",
            "Running",
            "AwaitingRetry",
            "Retrying",
            "AwaitingRetry",
            "Retrying",
            "Completed",
        ]
        assert recorder.run_counts(run.id) == [0, 1, 1, 2, 2, 3, 3]
        assert len(calls) == 3

    def test_flow_gives_up(self, recorder):
        fn, calls = flaky(10)
        etl = flow(retries=1, retry_delay_seconds=0.01)(fn)
        with pytest.raises(ValueError, match="failure 2"):
            etl()
        run = recorder.flow_run("fn")
        assert recorder.final(run.id).is_failed()
        assert retry_delays(recorder, run.id) == [0.01]
        assert len(calls) == 2

    def test_flow_retry_delay_list(self, recorder):
        fn, _ = flaky(2)
        etl = flow(retries=2, retry_delay_seconds=[0.01, 0.02])(fn)
        etl()
        assert retry_delays(recorder, recorder.flow_run("fn").id) == [0.01, 0.02]

    def test_each_flow_attempt_reruns_its_tasks(self, recorder):
        attempts = []

        @task
        def step():
            return len(attempts)

        @flow(retries=1)
        def etl():
            attempts.append(1)
            value = step()
            if len(attempts) == 1:
                raise RuntimeError("first attempt fails after its task")
            return value

        assert etl() == 2
        runs = recorder.task_runs_of("step")
        assert [r.name for r in runs] == ["step-0", "step-1"]
        assert all(recorder.final(r.id).is_completed() for r in runs)
