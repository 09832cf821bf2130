"""Run logs: ``get_run_logger()`` stores logs per run; ``log_prints=True`` captures ``print``."""

from __future__ import annotations

import logging
import sys

import pytest

from jupyter_flows import flow, get_run_logger, task


class TestRunLogger:
    def test_flow_logs_are_stored_with_the_flow_run(self, recorder):
        @flow
        def etl():
            get_run_logger().info("loading %d rows", 3)
            get_run_logger().warning("careful")

        etl()
        run = recorder.flow_run("etl")
        messages = recorder.messages(flow_run_id=run.id)
        assert "loading 3 rows" in messages
        assert "careful" in messages
        (record,) = [log for log in recorder.logs if log.message == "careful"]
        assert record.level == logging.WARNING
        assert record.logger == "jupyter_flows.flow_runs"
        assert record.task_run_id is None
        assert record.timestamp.tzinfo is not None

    def test_task_logs_are_stored_with_the_task_run(self, recorder):
        @task
        def step(i):
            get_run_logger().info("step %d", i)

        @flow
        def etl():
            step(1)
            step.submit(2).wait()

        etl()
        flow_run = recorder.flow_run("etl")
        for run in recorder.task_runs_of("step"):
            assert recorder.messages(task_run_id=run.id) == [f"step {run.dynamic_key + 1}"]
        (record,) = [log for log in recorder.logs if log.message == "step 1"]
        assert record.flow_run_id == flow_run.id
        assert record.logger == "jupyter_flows.task_runs"
        assert "step 1" not in recorder.messages(flow_run_id=flow_run.id)

    def test_logs_of_separate_runs_stay_apart(self, recorder):
        @flow
        def etl(tag):
            get_run_logger().info("run %s", tag)

        etl("a")
        etl("b")
        first, second = recorder.flow_runs_of("etl")
        assert "run a" in recorder.messages(flow_run_id=first.id)
        assert "run b" not in recorder.messages(flow_run_id=first.id)
        assert "run b" in recorder.messages(flow_run_id=second.id)

    def test_standalone_task_logs(self, recorder):
        @task
        def step():
            get_run_logger().info("on my own")

        step()
        run = recorder.task_run("step")
        assert recorder.messages(task_run_id=run.id) == ["on my own"]
        (record,) = [log for log in recorder.logs if log.message == "on my own"]
        assert record.flow_run_id is None

    def test_exceptions_are_logged_with_their_traceback(self, recorder):
        @flow
        def etl():
            try:
                raise ValueError("inner problem")
            except ValueError:
                get_run_logger().exception("caught it")

        etl()
        (message,) = [
            m
            for m in recorder.messages(flow_run_id=recorder.flow_run("etl").id)
            if "caught it" in m
        ]
        assert "Traceback" in message and "ValueError: inner problem" in message

    def test_failed_task_logs_its_traceback(self, recorder):
        @task
        def broken():
            raise KeyError("the key")

        with pytest.raises(KeyError):
            broken()
        (message,) = recorder.messages(task_run_id=recorder.task_run("broken").id)
        assert "KeyError: 'the key' (attempt 1 of 1)" in message
        assert "Traceback" in message

    def test_debug_is_below_the_default_level(self, recorder):
        @flow
        def etl():
            get_run_logger().debug("noise")
            get_run_logger().info("signal")

        etl()
        messages = recorder.messages(flow_run_id=recorder.flow_run("etl").id)
        assert "signal" in messages and "noise" not in messages

    def test_outside_a_run_logs_nothing_and_does_not_fail(self, recorder):
        log = get_run_logger()
        log.info("nobody records this")
        assert recorder.logs == []
        assert log.logger.name == "jupyter_flows.no_run"

    def test_extra_fields(self, recorder):
        @flow
        def etl():
            get_run_logger(component="loader").info("with extra")

        etl()
        assert "with extra" in recorder.messages(flow_run_id=recorder.flow_run("etl").id)


class TestLogPrints:
    def test_flow_captures_print(self, recorder, capsys):
        @flow(log_prints=True)
        def etl():
            print("hello", "world")
            print("a", "b", sep="-")

        etl()
        messages = recorder.messages(flow_run_id=recorder.flow_run("etl").id)
        assert "hello world" in messages
        assert "a-b" in messages
        assert "hello world" not in capsys.readouterr().out  # logged instead, as in Prefect

    def test_tasks_of_a_printing_flow_are_captured(self, recorder):
        @task
        def step():
            print("from the task")

        @flow(log_prints=True)
        def etl():
            step()
            step.submit().wait()

        etl()
        for run in recorder.task_runs_of("step"):
            assert recorder.messages(task_run_id=run.id) == ["from the task"]

    def test_off_by_default(self, recorder):
        @task
        def step():
            print("not captured")

        @flow
        def etl():
            print("not captured either")
            step()

        etl()
        assert not any("captured" in log.message for log in recorder.logs)

    def test_task_can_opt_in(self, recorder):
        @task(log_prints=True)
        def step():
            print("task prints")

        @flow
        def etl():
            print("flow does not")
            step()

        etl()
        assert recorder.messages(task_run_id=recorder.task_run("step").id) == ["task prints"]
        assert "flow does not" not in recorder.messages(flow_run_id=recorder.flow_run("etl").id)

    def test_task_can_opt_out(self, recorder):
        @task(log_prints=False)
        def step():
            print("quiet task")

        @flow(log_prints=True)
        def etl():
            step()

        etl()
        assert recorder.messages(task_run_id=recorder.task_run("step").id) == []

    def test_prints_to_other_files_are_not_captured(self, recorder):
        @flow(log_prints=True)
        def etl():
            print("to stderr", file=sys.stderr)

        etl()
        assert "to stderr" not in recorder.messages(flow_run_id=recorder.flow_run("etl").id)

    def test_prints_after_the_flow_are_not_captured(self, recorder):
        @flow(log_prints=True)
        def etl():
            print("inside")

        etl()
        print("outside")
        assert not any(log.message == "outside" for log in recorder.logs)
