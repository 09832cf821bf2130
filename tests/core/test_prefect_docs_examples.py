"""Prefect 3's documentation examples, run through the ``jupyter_flows.*`` Prefect paths.

One test (or a small group) per example of a page of Prefect's docs (``PrefectHQ/prefect``,
``docs/v3/...``), asserting the outcome the page states: a return value, a raised exception,
a state's name or message, a hook that ran, a cache hit (the body ran once), a log line, a
file. The code is ours, written from the page; sleeps and retry delays are shortened, and
network calls are replaced by local stand-ins. Examples that do not behave as their page says
have no test here (they are reported instead).
"""

from __future__ import annotations

import asyncio
import datetime
import inspect
import logging
import os
import random
import re
import threading
import time
from dataclasses import dataclass
from functools import partial
from typing import Any

import httpx
import pytest
from pydantic import BaseModel, ConfigDict, model_serializer

from jupyter_flows import Flow, Task, exponential_backoff, flow, runtime, task, unmapped
from jupyter_flows.cache_policies import INPUTS, RUN_ID, TASK_SOURCE
from jupyter_flows.context import FlowRunContext, TaskRunContext, get_run_context
from jupyter_flows.events import emit_event
from jupyter_flows.exceptions import FailedRun, MissingContextError, ParameterTypeError
from jupyter_flows.futures import PrefectFuture, PrefectFutureList, wait
from jupyter_flows.locking.memory import MemoryLockManager
from jupyter_flows.logging import disable_run_logger, get_run_logger
from jupyter_flows.runtime import flow_run
from jupyter_flows.states import Completed, Failed, State, StateType
from jupyter_flows.task_runners import ThreadPoolTaskRunner
from jupyter_flows.testing.utilities import prefect_test_harness
from jupyter_flows.transactions import IsolationLevel, transaction


def _final_task_states(recorder: Any, task_name: str) -> list[State]:
    return [recorder.final(run.id) for run in recorder.task_runs_of(task_name)]


def _log_lines(recorder: Any) -> list[tuple[int, str, str | None]]:
    return [(log.level, log.message, log.task_run_id) for log in recorder.logs]


# --------------------------------------------------------------------------------------------
# docs/v3/how-to-guides/workflows/write-and-run.mdx (and organize-workflows.mdx)


def test_write_and_run_define_a_workflow(recorder):
    """docs/v3/how-to-guides/workflows/write-and-run.mdx: "Define a workflow"."""

    @flow
    def my_workflow() -> str:
        return "Hello, world!"

    assert my_workflow() == "Hello, world!"
    assert recorder.final(recorder.flow_run("my-workflow").id).is_completed()


def test_write_and_run_generator_flow(recorder):
    """docs/v3/how-to-guides/workflows/write-and-run.mdx: a flow from a generator function
    (``for val in generator(): print(val)`` prints 0..9)."""

    @flow
    def generator():
        for i in range(10):  # noqa: UP028 - the page's code
            yield i

    assert [val for val in generator()] == list(range(10))
    assert recorder.final(recorder.flow_run("generator").id).is_completed()


def test_write_and_run_tasks_and_child_flows(recorder, capsys):
    """docs/v3/how-to-guides/workflows/write-and-run.mdx and
    docs/v3/how-to-guides/workflows/organize-workflows.mdx: a task and a child flow, each a
    separate unit of work."""

    @task
    def generate_a_number():
        return random.randint(0, 100)

    @flow
    def is_number_even(number: int):
        return number % 2 == 0

    @flow
    def even_or_odd():
        number = generate_a_number()
        if is_number_even(number):
            print("The number is even")
        else:
            print("The number is odd")
        return number

    number = even_or_odd()
    expected = "The number is even" if number % 2 == 0 else "The number is odd"
    assert expected in capsys.readouterr().out
    parent = recorder.flow_run("even-or-odd")
    child = recorder.flow_run("is-number-even")
    assert child.parent_flow_run_id == parent.id
    assert child.parameters == {"number": number}
    assert recorder.task_run("generate_a_number").flow_run_id == parent.id


def test_write_and_run_timeout(recorder):
    """docs/v3/how-to-guides/workflows/write-and-run.mdx: "Cancel a workflow if it runs for
    too long" (``timeout_seconds``: the run is marked failed)."""

    @flow(timeout_seconds=0.05, log_prints=True)
    def show_timeouts():
        print("I will execute")
        time.sleep(0.3)
        print("I will not execute")

    state = show_timeouts(return_state=True)
    assert state.is_failed()
    assert state.name == "TimedOut"
    messages = recorder.messages(flow_run_id=recorder.flow_run("show-timeouts").id)
    assert "I will execute" in messages
    assert "I will not execute" not in messages


def test_write_and_run_task_name_and_description(recorder, capsys):
    """docs/v3/how-to-guides/workflows/write-and-run.mdx: ``@task(name=, description=)``."""

    @task(name="hello-task", description="This task says hello.")
    def my_task():
        print("Hello, I'm a task")

    assert my_task.name == "hello-task"
    assert my_task.description == "This task says hello."
    my_task()
    assert "Hello, I'm a task" in capsys.readouterr().out
    assert recorder.final(recorder.task_run("hello-task").id).is_completed()


def test_write_and_run_task_run_name_template(recorder):
    """docs/v3/how-to-guides/workflows/write-and-run.mdx: ``task_run_name=
    "hello-{name}-on-{date:%A}"`` gives a run named like "hello-marvin-on-Thursday"."""

    @task(
        name="My Example Task",
        description="An example task for a tutorial.",
        task_run_name="hello-{name}-on-{date:%A}",
    )
    def my_task(name, date):
        pass

    date = datetime.datetime(2024, 1, 4, tzinfo=datetime.timezone.utc)  # a Thursday

    @flow
    def my_flow():
        my_task(name="marvin", date=date)

    my_flow()
    assert recorder.task_run("My Example Task").name == "hello-marvin-on-Thursday"


def test_write_and_run_task_run_name_function(recorder):
    """docs/v3/how-to-guides/workflows/write-and-run.mdx: ``task_run_name`` as a function
    ("Thursday-is-a-lovely-day")."""

    def generate_task_name():
        date = datetime.datetime.now(datetime.timezone.utc)
        return f"{date:%A}-is-a-lovely-day"

    @task(
        name="My Example Task",
        description="An example task for the docs.",
        task_run_name=generate_task_name,
    )
    def my_task(name):
        pass

    @flow
    def my_flow():
        my_task(name="marvin")

    my_flow()
    name = recorder.task_run("My Example Task").name
    assert re.fullmatch(r"(Mon|Tues|Wednes|Thurs|Fri|Satur|Sun)day-is-a-lovely-day", name)


# --------------------------------------------------------------------------------------------
# docs/v3/how-to-guides/workflows/pass-inputs.mdx


def test_pass_inputs_define_workflow_inputs(recorder):
    """docs/v3/how-to-guides/workflows/pass-inputs.mdx: "Define workflow inputs"."""

    @flow
    def my_workflow(name: str = "World"):
        return f"Hello, {name}!"

    assert my_workflow(name="Marvin") == "Hello, Marvin!"
    assert my_workflow() == "Hello, World!"
    assert recorder.flow_runs_of("my-workflow")[0].parameters == {"name": "Marvin"}


def test_pass_inputs_validate_inputs(recorder):
    """docs/v3/how-to-guides/workflows/pass-inputs.mdx: ``my_workflow(name=1)`` "will fail
    with a type validation error"."""

    @flow
    def my_workflow(name: str = "World"):
        return f"Hello, {name}!"

    with pytest.raises(ParameterTypeError, match="name"):
        my_workflow(name=1)
    assert recorder.final(recorder.flow_run("my-workflow").id).is_failed()


def test_pass_inputs_turn_off_validation(recorder):
    """docs/v3/how-to-guides/workflows/pass-inputs.mdx: ``validate_parameters=False``."""

    @flow(validate_parameters=False)
    def my_workflow(name: str = "World"):
        return f"Hello, {name}!"

    assert my_workflow(name=1) == "Hello, 1!"


class Model(BaseModel):  # module level: annotations are strings in this file
    a: int
    b: str


def test_pass_inputs_pydantic_model_coerced_and_validated(recorder):
    """docs/v3/how-to-guides/workflows/pass-inputs.mdx: a ``BaseModel`` parameter is coerced
    and validated (``{"a": "WRONG", "b": "fine"}`` fails)."""

    @flow
    def flow_that_validates_parameters(model: Model):
        return model

    with pytest.raises(ParameterTypeError, match="model.a"):
        flow_that_validates_parameters(model={"a": "WRONG", "b": "fine"})
    assert flow_that_validates_parameters(model={"a": "3", "b": "fine"}) == Model(a=3, b="fine")


# --------------------------------------------------------------------------------------------
# docs/v3/how-to-guides/workflows/retries.mdx


def test_retries_flow_retries(recorder):
    """docs/v3/how-to-guides/workflows/retries.mdx: "Set the number of retries"
    (``@flow(retries=3)`` reruns the workflow when it raises)."""
    calls = []

    @flow(retries=3)
    def troublesome_workflow():
        calls.append(1)
        raise Exception("oopsie daisy")

    with pytest.raises(Exception, match="oopsie daisy"):
        troublesome_workflow()
    assert len(calls) == 4
    run = recorder.flow_run("troublesome-workflow")
    assert recorder.final(run.id).is_failed()
    assert max(recorder.run_counts(run.id)) == 4


def test_retries_wait_between_retries(recorder):
    """docs/v3/how-to-guides/workflows/retries.mdx: "Wait between retries"
    (``retry_delay_seconds``; the delay is shortened here)."""
    calls = []

    @flow(retries=3, retry_delay_seconds=0.01)
    def troublesome_workflow():
        calls.append(1)
        raise Exception("oopsie daisy")

    state = troublesome_workflow(return_state=True)
    assert state.is_failed() and len(calls) == 4
    assert "AwaitingRetry" in recorder.state_names(recorder.flow_run("troublesome-workflow").id)


def test_retries_retry_parts_of_a_workflow(recorder, capsys):
    """docs/v3/how-to-guides/workflows/retries.mdx: "Retry parts of a workflow" (the task
    before the flaky one does not rerun; the HTTP call is replaced by a local failure)."""
    calls = {"consistent": 0, "mercurial": 0}

    @task
    def consistent_task() -> dict:
        calls["consistent"] += 1
        print("I won't rerun even if the task after me fails")

    @task(retries=4, retry_delay_seconds=0.01)
    def mercurial_task() -> dict:
        calls["mercurial"] += 1
        if calls["mercurial"] < 3:
            raise httpx.HTTPStatusError(
                "500", request=httpx.Request("GET", "http://x"), response=httpx.Response(500)
            )

    @flow
    def my_workflow():
        consistent_task()
        mercurial_task()

    assert my_workflow(return_state=True).is_completed()
    assert calls == {"consistent": 1, "mercurial": 3}
    assert capsys.readouterr().out.count("I won't rerun") == 1
    assert recorder.final(recorder.task_run("mercurial_task").id).is_completed()


def test_retries_list_of_delays(recorder):
    """docs/v3/how-to-guides/workflows/retries.mdx: "Retry with configurable delay"
    (``retry_delay_seconds=[1, 2, 4, 8]``, shortened)."""
    calls = []

    @task(retries=4, retry_delay_seconds=[0.001, 0.002, 0.004, 0.008])
    def melancholic_task():
        calls.append(1)
        raise Exception("We used to see each other so much more often")

    state = melancholic_task(return_state=True)
    assert state.is_failed() and len(calls) == 5
    assert "We used to see each other" in state.message


def test_retries_exponential_backoff_values():
    """docs/v3/how-to-guides/workflows/retries.mdx: ``exponential_backoff(backoff_factor=2)``
    (imported from the top level: ``prefect.tasks`` has no counterpart)."""
    assert exponential_backoff(backoff_factor=2)(4) == [2, 4, 8, 16]


def test_retries_custom_condition(recorder):
    """docs/v3/how-to-guides/workflows/retries.mdx: "Retry with a custom condition" (no retry
    on 401/404, a retry otherwise; HTTP answered by ``httpx.MockTransport``)."""
    calls = []

    def retry_handler(task, task_run, state) -> bool:
        try:
            state.result()
        except httpx.HTTPStatusError as exc:
            do_not_retry_on_these_codes = [401, 404]
            return exc.response.status_code not in do_not_retry_on_these_codes
        except httpx.ConnectError:
            return False
        except Exception:
            return True

    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(int(request.url.path.rsplit("/", 1)[1]), json={"ok": True})

    @task(retries=1, retry_condition_fn=retry_handler)
    def api_call_task(url):
        calls.append(url)
        with httpx.Client(transport=httpx.MockTransport(answer)) as client:
            response = client.get(url)
        response.raise_for_status()
        return response.json()

    @flow
    def my_workflow(url):
        return api_call_task(url=url)

    assert my_workflow("http://api/status/404", return_state=True).is_failed()
    assert len(calls) == 1
    calls.clear()
    assert my_workflow("http://api/status/500", return_state=True).is_failed()
    assert len(calls) == 2
    calls.clear()
    assert my_workflow("http://api/status/200") == {"ok": True}
    assert len(calls) == 1


# --------------------------------------------------------------------------------------------
# docs/v3/how-to-guides/workflows/state-change-hooks.mdx


def test_state_change_hooks_on_failure_after_all_retries(recorder):
    """docs/v3/how-to-guides/workflows/state-change-hooks.mdx: "Send a notification when a
    workflow run fails": the ``on_failure`` hook runs once, after all retries (the Slack
    block is replaced by a list)."""
    calls = []

    @flow(retries=1)
    def failing_flow():
        calls.append("body")
        raise ValueError("oops!")

    @failing_flow.on_failure
    def notify_slack(flow, flow_run, state):
        calls.append(f"Your job {flow_run.name} entered {state.name}")

    with pytest.raises(ValueError, match="oops!"):
        failing_flow()
    run = recorder.flow_run("failing-flow")
    assert calls == ["body", "body", f"Your job {run.name} entered Failed"]


def test_state_change_hooks_on_running(recorder):
    """docs/v3/how-to-guides/workflows/state-change-hooks.mdx: "Execute code when a task
    starts running" (``on_running=[...]`` and ``@task.on_running``, before the body)."""
    events = []

    def record_start_time(task, task_run, state):
        events.append(f"Task {task.name} started ({state.type.value})")

    @task(on_running=[record_start_time])
    def my_task():
        events.append("my_task body")
        return "hello"

    @task
    def another_task():
        events.append("another_task body")
        return "world"

    @another_task.on_running
    def log_start(task, task_run, state):
        events.append(f"Starting {task.name}!")

    @flow
    def my_flow():
        return my_task(), another_task()

    assert my_flow() == ("hello", "world")
    assert events == [
        "Task my_task started (RUNNING)",
        "my_task body",
        "Starting another_task!",
        "another_task body",
    ]


def test_state_change_hooks_on_running_fires_on_each_retry(recorder):
    """docs/v3/how-to-guides/workflows/state-change-hooks.mdx: with ``retries=2`` the
    ``on_running`` hooks fire up to three times."""
    fired = []
    attempts = []

    @task(retries=2, on_running=[lambda task, task_run, state: fired.append(state.type)])
    def flaky():
        attempts.append(1)
        if len(attempts) < 3:
            raise ValueError("not yet")
        return "done"

    assert flaky() == "done"
    assert fired == [StateType.RUNNING] * 3


def test_state_change_hooks_pass_kwargs(recorder):
    """docs/v3/how-to-guides/workflows/state-change-hooks.mdx: "Pass ``kwargs`` to state
    change hooks" (``with_options(on_failure=[partial(...)])``)."""
    data = {}

    def my_hook(task, task_run, state, **kwargs):
        data.update(state=state, **kwargs)

    @task
    def bad_task():
        raise ValueError("meh")

    @flow
    def ok_with_failure_flow(x: str = "foo", y: int = 42):
        bad_task_with_a_hook = bad_task.with_options(
            on_failure=[partial(my_hook, **dict(x=x, y=y))]
        )
        return "bar", bad_task_with_a_hook(return_state=True)

    bar, task_run_state = ok_with_failure_flow()
    assert bar == "bar"
    assert data == {"x": "foo", "y": 42, "state": task_run_state}
    assert task_run_state.is_failed()


# --------------------------------------------------------------------------------------------
# docs/v3/how-to-guides/workflows/cache-workflow-steps.mdx


def test_cache_workflow_steps_persist_result(recorder):
    """docs/v3/how-to-guides/workflows/cache-workflow-steps.mdx: ``persist_result=True``
    uses DEFAULT: ``add_one(1)`` twice in one flow run is a cache hit the second time."""
    bodies = []

    @task(persist_result=True)
    def add_one(x: int):
        bodies.append(x)
        return x + 1

    @flow
    def my_flow():
        return add_one(1), add_one(1), add_one(2)

    assert my_flow() == (2, 2, 3)
    assert bodies == [1, 2]
    assert [s.name for s in _final_task_states(recorder, "add_one")] == [
        "Completed",
        "Cached",
        "Completed",
    ]
    assert my_flow() == (2, 2, 3)  # a new flow run: DEFAULT keys on the run id
    assert bodies == [1, 2, 1, 2]


def test_cache_workflow_steps_cache_based_on_inputs(recorder, capsys):
    """docs/v3/how-to-guides/workflows/cache-workflow-steps.mdx: "Cache based on inputs"."""

    @task(cache_policy=INPUTS)
    def my_stateful_task(x: int):
        print("sleeping")
        return x + 1

    assert [my_stateful_task(x=1), my_stateful_task(x=1), my_stateful_task(x=2)] == [2, 2, 3]
    assert capsys.readouterr().out.count("sleeping") == 2


def test_cache_workflow_steps_cache_based_on_a_subset_of_inputs(recorder, capsys):
    """docs/v3/how-to-guides/workflows/cache-workflow-steps.mdx: ``INPUTS - 'debug'``."""

    @task(cache_policy=INPUTS - "debug")
    def my_stateful_task(x: int, debug: bool = False):
        print("sleeping")
        return x + 1

    my_stateful_task(x=1)
    my_stateful_task(x=1, debug=True)
    my_stateful_task(x=1, debug=False)
    assert capsys.readouterr().out.count("sleeping") == 1


def test_cache_workflow_steps_cache_with_an_expiration(recorder, capsys):
    """docs/v3/how-to-guides/workflows/cache-workflow-steps.mdx: ``cache_expiration``
    (10 s in the page, 0.2 s here)."""

    @task(cache_policy=INPUTS, cache_expiration=datetime.timedelta(seconds=0.2))
    def my_stateful_task(x: int):
        print("sleeping")
        return x + 1

    my_stateful_task(x=1)
    my_stateful_task(x=1)
    assert capsys.readouterr().out.count("sleeping") == 1
    time.sleep(0.25)
    my_stateful_task(x=1)
    assert capsys.readouterr().out.count("sleeping") == 1


def test_cache_workflow_steps_refresh_cache(recorder):
    """docs/v3/how-to-guides/workflows/cache-workflow-steps.mdx: "Ignore the cache"
    (``refresh_cache=True`` never reads it; ``refresh_cache=False`` does)."""

    @task(cache_policy=TASK_SOURCE, refresh_cache=True)
    def never_caching_task():
        return random.random()

    @task(cache_policy=TASK_SOURCE, refresh_cache=False)
    def caching_task():
        return random.random()

    assert never_caching_task() != never_caching_task()
    assert caching_task() == caching_task()


def test_cache_workflow_steps_cache_on_multiple_criteria(recorder):
    """docs/v3/how-to-guides/workflows/cache-workflow-steps.mdx: ``INPUTS + TASK_SOURCE``."""
    bodies = []

    @task(cache_policy=INPUTS + TASK_SOURCE)
    def my_task(x: int):
        bodies.append(x)
        return x + 1

    assert [my_task(1), my_task(1), my_task(2)] == [2, 2, 3]
    assert bodies == [1, 2]


# --------------------------------------------------------------------------------------------
# docs/v3/how-to-guides/workflows/access-runtime-info.mdx


def test_access_runtime_info_flow_run_name(recorder):
    """docs/v3/how-to-guides/workflows/access-runtime-info.mdx: ``flow_run.name`` is the
    run's name and changes between runs."""

    @flow
    def moody_workflow(name: str):
        return f"I wish my parents had named me {name} instead of {flow_run.name}."

    first = moody_workflow("Marvin")
    second = moody_workflow("Marvin")
    runs = recorder.flow_runs_of("moody-workflow")
    assert first == f"I wish my parents had named me Marvin instead of {runs[0].name}."
    assert second == f"I wish my parents had named me Marvin instead of {runs[1].name}."
    assert runs[0].name != runs[1].name


def test_access_runtime_info_none_outside_a_run():
    """docs/v3/how-to-guides/workflows/access-runtime-info.mdx: attributes are ``None``
    when not available (``assert flow_run.name is None``)."""
    assert flow_run.name is None
    assert runtime.task_run.name is None
    assert runtime.deployment.name is None


# --------------------------------------------------------------------------------------------
# docs/v3/how-to-guides/workflows/add-logging.mdx


def test_add_logging_get_run_logger(recorder):
    """docs/v3/how-to-guides/workflows/add-logging.mdx: "Emit custom logs": a flow's logger
    is associated with the flow run, a task's with the task run."""

    @task(name="log-example-task")
    def logger_task():
        logger = get_run_logger()
        logger.info("INFO level log message from a task.")

    @flow(name="log-example-flow")
    def logger_flow():
        logger = get_run_logger()
        logger.info("INFO level log message.")
        logger.error("ERROR level log message.")
        logger.critical("CRITICAL level log message.")
        logger_task()

    logger_flow()
    run = recorder.flow_run("log-example-flow")
    task_run = recorder.task_run("log-example-task")
    lines = _log_lines(recorder)
    assert (logging.INFO, "INFO level log message.", None) in lines
    assert (logging.ERROR, "ERROR level log message.", None) in lines
    assert (logging.CRITICAL, "CRITICAL level log message.", None) in lines
    assert (logging.INFO, "INFO level log message from a task.", task_run.id) in lines
    assert "INFO level log message." in recorder.messages(flow_run_id=run.id)
    assert recorder.messages(task_run_id=task_run.id) == ["INFO level log message from a task."]


def test_add_logging_log_prints(recorder):
    """docs/v3/how-to-guides/workflows/add-logging.mdx: ``log_prints=True`` on the flow logs
    its prints and, inherited, its tasks' prints."""

    @task
    def my_task():
        print("we're logging print statements from a task")

    @flow(log_prints=True)
    def my_flow():
        print("we're logging print statements from a flow")
        my_task()

    my_flow()
    run = recorder.flow_run("my-flow")
    assert "we're logging print statements from a flow" in recorder.messages(flow_run_id=run.id)
    assert recorder.messages(task_run_id=recorder.task_run("my_task").id) == [
        "we're logging print statements from a task"
    ]


def test_add_logging_log_prints_opt_out(recorder, capsys):
    """docs/v3/how-to-guides/workflows/add-logging.mdx: ``@task(log_prints=False)`` opts out
    of the flow's ``log_prints=True``."""

    @task(log_prints=False)
    def my_task():
        print("not logging print statements in this task")

    @flow(log_prints=True)
    def my_flow():
        print("we're logging print statements from a flow")
        my_task()

    my_flow()
    assert recorder.messages(task_run_id=recorder.task_run("my_task").id) == []
    assert "not logging print statements in this task" in capsys.readouterr().out


# --------------------------------------------------------------------------------------------
# docs/v3/how-to-guides/workflows/run-work-concurrently.mdx


@task
def _stop_at_floor(floor: float):
    print(f"elevator moving to floor {floor}")
    time.sleep(floor)
    print(f"elevator stops on floor {floor}")
    return floor


def test_run_work_concurrently_calling_tasks_directly(recorder, capsys):
    """docs/v3/how-to-guides/workflows/run-work-concurrently.mdx: "Calling tasks directly"
    blocks until each task completes (the runs do not overlap)."""
    _stop_at_floor(0.01)
    _stop_at_floor(0.02)
    assert capsys.readouterr().out.splitlines() == [
        "elevator moving to floor 0.01",
        "elevator stops on floor 0.01",
        "elevator moving to floor 0.02",
        "elevator stops on floor 0.02",
    ]


def test_run_work_concurrently_using_submit(recorder):
    """docs/v3/how-to-guides/workflows/run-work-concurrently.mdx: "Using ``.submit``" and
    ``wait(floors)`` (floors 10..1, as hundredths of a second)."""

    @flow
    def elevator():
        floors = []
        for floor in range(10, 0, -1):
            floors.append(_stop_at_floor.submit(floor / 1000))
        done, not_done = wait(floors)
        return len(done), len(not_done)

    assert elevator() == (10, 0)
    states = _final_task_states(recorder, "_stop_at_floor")
    assert len(states) == 10 and all(s.is_completed() for s in states)


def test_run_work_concurrently_handling_futures(recorder, capsys):
    """docs/v3/how-to-guides/workflows/run-work-concurrently.mdx: "Handling futures"
    (``.result()``, ``.wait()``, ``wait(futures)``)."""

    @task
    def cool_task():
        return "sup"

    @flow
    def my_workflow():
        future = cool_task.submit()
        print(future.result())
        other = cool_task.submit()
        other.wait()
        assert other.state.is_completed()
        futures = [cool_task.submit() for _ in range(10)]
        done, not_done = wait(futures)
        return len(done), len(not_done)

    assert my_workflow() == (10, 0)
    assert capsys.readouterr().out.splitlines() == ["sup"]


def test_run_work_concurrently_passing_futures_between_tasks(recorder):
    """docs/v3/how-to-guides/workflows/run-work-concurrently.mdx: a task given a future waits
    for it and receives its value."""

    @task
    def cool_task():
        return "sup"

    @task
    def what_did_cool_task_say(what_it_said: str):
        return f"cool task said {what_it_said}"

    @flow
    def my_workflow():
        future = cool_task.submit()
        return what_did_cool_task_say(future)

    assert my_workflow() == "cool task said sup"


def test_run_work_concurrently_using_map(recorder):
    """docs/v3/how-to-guides/workflows/run-work-concurrently.mdx: "Using ``.map``"."""

    @flow
    def elevator():
        floors = list(range(10, 0, -1))
        floors = _stop_at_floor.map([f / 1000 for f in floors])
        assert isinstance(floors, PrefectFutureList)
        wait(floors)
        return floors.result()

    assert elevator() == [f / 1000 for f in range(10, 0, -1)]


def test_run_work_concurrently_map_with_a_static_value(recorder):
    """docs/v3/how-to-guides/workflows/run-work-concurrently.mdx: a non-iterable argument is
    not mapped over (``assert resulting_sum == [6, 7, 8]``)."""

    @task
    def add_together(x, y):
        return x + y

    @flow
    def sum_it(numbers: list[int], static_value: int):
        futures = add_together.map(numbers, static_value)
        return futures.result()

    assert sum_it([1, 2, 3], 5) == [6, 7, 8]


def test_run_work_concurrently_unmapped(recorder):
    """docs/v3/how-to-guides/workflows/run-work-concurrently.mdx: "Using the ``unmapped``
    annotation" (``assert resulting_sum == [10, 11, 12]``)."""

    @task
    def sum_plus(x, static_iterable):
        return x + sum(static_iterable)

    @flow
    def sum_it(numbers, static_iterable):
        futures = sum_plus.map(numbers, unmapped(static_iterable))
        return futures.result()

    assert sum_it([4, 5, 6], [1, 2, 3]) == [10, 11, 12]


def _count_words(text: str) -> int:
    """Count the number of words in a text."""
    return len(text.split())


def _extract_emails(text: str) -> list[str]:
    return re.findall(r"[\w.+-]+@[\w-]+\.[\w.-]+", text)


def test_run_work_concurrently_nested_mapped_tasks(recorder):
    """docs/v3/how-to-guides/workflows/run-work-concurrently.mdx: "Nested mapped tasks"
    (word counts [9, 11, 10] and one email per post)."""

    @task
    def analyze_texts(texts: list[str]) -> dict[str, list[Any]]:
        futures = {op.__name__: task(op).map(texts) for op in [_count_words, _extract_emails]}
        wait([f for futs in futures.values() for f in futs])
        return {name: [f.result() for f in futs] for name, futs in futures.items()}

    @flow
    def run_text_analysis():
        return analyze_texts(
            texts=[
                "Just visited #Paris! Contact me at visitor@example.com #travel #vacation",
                "Working on my new #project. Reach out at developer@example.com if interested!",
                "Happy to announce our company event #celebration #milestone email: "
                "events@company.org",
            ]
        )

    results = run_text_analysis()
    assert results["_count_words"] == [9, 11, 10]
    assert results["_extract_emails"] == [
        ["visitor@example.com"],
        ["developer@example.com"],
        ["events@company.org"],
    ]
    assert len(recorder.task_runs_of("_count_words")) == 3
    assert len(recorder.task_runs_of("_extract_emails")) == 3


def test_run_work_concurrently_wait_for(recorder):
    """docs/v3/how-to-guides/workflows/run-work-concurrently.mdx: "Creating state
    dependencies" (``task_c`` waits for a and b, ``task_d`` for c)."""
    order = []

    @task
    def task_a():
        time.sleep(0.02)
        order.append("a")

    @task
    def task_b():
        order.append("b")

    @task
    def task_c():
        order.append("c")

    @task
    def task_d():
        order.append("d")

    @flow
    def my_flow():
        a = task_a.submit()
        b = task_b.submit()
        c = task_c.submit(wait_for=[a, b])
        task_d(wait_for=[c])

    my_flow()
    assert sorted(order[:2]) == ["a", "b"]
    assert order[2:] == ["c", "d"]


def test_run_work_concurrently_handling_failures(recorder, capsys):
    """docs/v3/how-to-guides/workflows/run-work-concurrently.mdx: "Handling failures in
    concurrent work" (3 processed, 2 failed, the flow completes)."""

    @task
    def process_data(item: int) -> str:
        if item < 0:
            raise ValueError(f"Cannot process negative value: {item}")
        return f"Processed {item}"

    @flow
    def batch_processing():
        items = [1, -2, 3, -4, 5]
        futures = process_data.map(items)
        done, not_done = wait(futures)
        successful: list[Any] = []
        failed: list[State] = []
        for future in done:
            if future.state.is_completed():
                successful.append(future.result())
            else:
                failed.append(future.state)
        print(f"Processed {len(successful)} items successfully")
        print(f"Failed to process {len(failed)} items")
        return successful

    state = batch_processing(return_state=True)
    assert state.is_completed()
    assert sorted(state.result()) == ["Processed 1", "Processed 3", "Processed 5"]
    out = capsys.readouterr().out
    assert "Processed 3 items successfully" in out
    assert "Failed to process 2 items" in out


def test_run_work_concurrently_using_asyncio(recorder, capsys):
    """docs/v3/how-to-guides/workflows/run-work-concurrently.mdx: "Using ``asyncio``"
    (``asyncio.gather`` of async task calls; the floors overlap)."""

    @task
    async def stop_at_floor(floor: int):
        print(f"elevator moving to floor {floor}")
        await asyncio.sleep(floor / 200)
        print(f"elevator stops on floor {floor}")
        return floor

    @flow
    async def elevator():
        floors = list(range(4, 0, -1))
        return await asyncio.gather(*[stop_at_floor(floor) for floor in floors])

    assert asyncio.run(elevator()) == [4, 3, 2, 1]
    lines = capsys.readouterr().out.splitlines()
    assert lines.index("elevator moving to floor 1") < lines.index("elevator stops on floor 4")
    assert len(recorder.task_runs_of("stop_at_floor")) == 4


def test_run_work_concurrently_real_world_application(recorder):
    """docs/v3/how-to-guides/workflows/run-work-concurrently.mdx: "Real-world applications"
    (six runs named "train on {dataset.name} with {model_config.name}")."""

    @dataclass
    class Dataset:
        name: str

    @dataclass
    class ModelConfig:
        name: str

    @task(task_run_name="train on {dataset.name} with {model_config.name}")
    def train_model(dataset: Dataset, model_config: ModelConfig) -> dict:
        return {"dataset": dataset.name, "model": model_config.name, "score": random.random()}

    @flow
    def evaluate_models(datasets: list[Dataset], model_configs: list[ModelConfig]):
        all_futures: list[PrefectFuture[dict[str, object]]] = []
        for dataset in datasets:
            futures = train_model.map(dataset=dataset, model_config=model_configs)
            all_futures.extend(futures)
        results = [future.result() for future in wait(all_futures).done]
        return max(results, key=lambda r: r["score"]), len(results)

    best, count = evaluate_models(
        datasets=[Dataset("customers"), Dataset("products"), Dataset("orders")],
        model_configs=[ModelConfig("random_forest"), ModelConfig("gradient_boosting")],
    )
    assert count == 6
    assert set(best) == {"dataset", "model", "score"}
    assert sorted(run.name for run in recorder.task_runs_of("train_model")) == sorted(
        f"train on {d} with {m}"
        for d in ("customers", "products", "orders")
        for m in ("random_forest", "gradient_boosting")
    )


# --------------------------------------------------------------------------------------------
# docs/v3/how-to-guides/workflows/test-workflows.mdx


def test_test_workflows_ephemeral_backend(recorder):
    """docs/v3/how-to-guides/workflows/test-workflows.mdx: "Isolate tests with an ephemeral
    backend" (``with prefect_test_harness(): assert my_favorite_flow() == 42``)."""

    @flow
    def my_favorite_flow():
        return 42

    with prefect_test_harness() as environment:
        assert my_favorite_flow() == 42
        home = environment.home
    assert not os.path.exists(home)


def test_test_workflows_unit_testing_underlying_functions():
    """docs/v3/how-to-guides/workflows/test-workflows.mdx: "Unit testing underlying
    functions" (``.fn``, and ``disable_run_logger`` for a task that logs)."""

    @task
    def my_favorite_task():
        get_run_logger().info("computing")
        return 42

    @flow
    def my_favorite_flow():
        return my_favorite_task()

    assert my_favorite_task.fn() == 42
    with disable_run_logger():
        assert my_favorite_task.fn() == 42
        assert my_favorite_flow.fn() == 42


# --------------------------------------------------------------------------------------------
# docs/v3/how-to-guides/workflows/custom-metadata.mdx


def test_custom_metadata_name_and_description(recorder):
    """docs/v3/how-to-guides/workflows/custom-metadata.mdx: ``name=``, ``description=``, and
    the docstring as the description when none is given."""

    @flow(name="My Flow", description="My flow with a name and description")
    def my_workflow() -> str:
        return "Hello, world!"

    @flow
    def documented():
        """What this flow does."""

    assert my_workflow.name == "My Flow"
    assert my_workflow.description == "My flow with a name and description"
    assert documented.description == "What this flow does."
    my_workflow()
    assert recorder.flow_run("My Flow").flow_description == "My flow with a name and description"


def test_custom_metadata_flow_run_name_template(recorder):
    """docs/v3/how-to-guides/workflows/custom-metadata.mdx: ``flow_run_name=
    "hello-{name}-on-{date:%A}"``."""

    @flow(flow_run_name="hello-{name}-on-{date:%A}")
    def my_workflow(name: str, date: datetime.datetime):
        return f"I said hello to {name} on {date:%A}!"

    thursday = datetime.datetime(2024, 1, 4)
    assert my_workflow("marvin", thursday) == "I said hello to marvin on Thursday!"
    assert recorder.flow_run("my-workflow").name == "hello-marvin-on-Thursday"


def test_custom_metadata_flow_run_name_function(recorder):
    """docs/v3/how-to-guides/workflows/custom-metadata.mdx: ``flow_run_name`` as a function."""

    def generate_flow_run_name():
        date = datetime.datetime.now(datetime.timezone.utc)
        return f"{date:%A}-is-a-nice-day"

    @flow(flow_run_name=generate_flow_run_name)
    def my_workflow(name: str):
        return f"Hello, {name}!"

    assert my_workflow("Marvin") == "Hello, Marvin!"
    assert recorder.flow_run("my-workflow").name.endswith("day-is-a-nice-day")


# --------------------------------------------------------------------------------------------
# docs/v3/how-to-guides/workflows/visualize-workflow-structure.mdx


def test_visualize_workflow_structure(recorder, capsys):
    """docs/v3/how-to-guides/workflows/visualize-workflow-structure.mdx: ``visualize()``
    draws "Print Hello" -> "Print Hello Again" without running the tasks."""

    @task(name="Print Hello")
    def print_hello(name):
        msg = f"Hello {name}!"
        print(msg)
        return msg

    @task(name="Print Hello Again")
    def print_hello_again(name):
        msg = f"Hello {name}!"
        print(msg)
        return msg

    @flow(name="Hello Flow")
    def hello_world(name="world"):
        message = print_hello(name)
        print_hello_again(message)

    graph = hello_world.visualize()
    mermaid = graph.mermaid()
    assert '["Print Hello-0"]' in mermaid
    assert '["Print Hello Again-0"]' in mermaid
    assert "n0 --> n1" in mermaid
    assert "Hello world!" not in capsys.readouterr().out
    assert recorder.task_runs == {}


def test_visualize_workflow_structure_viz_return_value(recorder):
    """docs/v3/how-to-guides/workflows/visualize-workflow-structure.mdx: ``viz_return_value``
    picks the code path drawn (get_list feeding three append_one runs)."""

    @task(viz_return_value=[4])
    def get_list():
        return [1, 2, 3]

    @task
    def append_one(n):
        return n.append(6)

    @flow
    def viz_return_value_tracked():
        lst = get_list()
        for _ in range(3):
            lst.append(5)
            append_one(lst)

    edges = sorted(viz_return_value_tracked.visualize().graph.edges)
    assert edges == [("get_list-0", f"append_one-{i}") for i in range(3)]


# --------------------------------------------------------------------------------------------
# docs/v3/concepts/flows.mdx


def test_flows_log_prints_and_calling_a_flow(recorder, capsys):
    """docs/v3/concepts/flows.mdx: ``explain_flows`` (``log_prints=True``) and ``beep()``."""

    @flow(log_prints=True)
    def explain_flows():
        print("run any python code here!")
        print("encapsulate that business logic!")

    @flow
    def beep():
        print("boop")

    explain_flows()
    messages = recorder.messages(flow_run_id=recorder.flow_run("explain-flows").id)
    assert "run any python code here!" in messages
    assert "encapsulate that business logic!" in messages
    beep()
    assert "boop" in capsys.readouterr().out


def test_flows_parameter_signature():
    """docs/v3/concepts/flows.mdx: ``inspect.signature(schleeb)``."""

    @flow
    def schleeb(x: int, y: str, z: bool | None = None):
        print(f"x: {x}, y: {y}, z: {z}")

    signature = str(inspect.signature(schleeb)).replace("'", "")  # string annotations here
    assert signature == "(x: int, y: str, z: bool | None = None)"


def test_flows_returned_generator_is_consumed(recorder, capsys):
    """docs/v3/concepts/flows.mdx: a generator returned from a flow is consumed ("prints
    'Generator consumed!'") and its values returned as a list."""

    def gen():
        yield from [1, 2, 3]
        print("Generator consumed!")

    @flow
    def f():
        return gen()

    assert f() == [1, 2, 3]
    assert "Generator consumed!" in capsys.readouterr().out


def test_flows_final_state_return_a_future(recorder):
    """docs/v3/concepts/flows.mdx: "Return a future" (finishes Completed)."""

    @task
    def always_fails_task():
        raise ValueError("I fail successfully")

    @task
    def always_succeeds_task():
        return "success"

    @flow
    def always_succeeds_flow():
        x = always_fails_task.submit().result(raise_on_failure=False)
        y = always_succeeds_task.submit(wait_for=[x])
        return y

    state = always_succeeds_flow(return_state=True)
    assert state.is_completed()
    assert state.result() == "success"
    assert recorder.final(recorder.task_run("always_fails_task").id).is_failed()


def test_flows_final_state_return_multiple_states(recorder):
    """docs/v3/concepts/flows.mdx: "Return multiple states or futures" (fails)."""

    @task
    def always_fails_task():
        raise ValueError("I am bad task")

    @task
    def always_succeeds_task():
        return "foo"

    @flow
    def always_succeeds_flow():
        return "bar"

    @flow
    def always_fails_flow():
        x = always_fails_task()
        y = always_succeeds_task()
        z = always_succeeds_flow()
        return x, y, z

    assert always_fails_flow(return_state=True).is_failed()


def test_flows_final_state_return_a_manual_state(recorder):
    """docs/v3/concepts/flows.mdx: "Return a manual state"."""

    @task
    def always_fails_task():
        raise ValueError("I fail successfully")

    @task
    def always_succeeds_task():
        return "success"

    @flow
    def always_succeeds_flow():
        always_fails_task.submit()
        y = always_succeeds_task.submit()
        if y.result() == "success":
            return Completed(message="I am happy with this result")
        return Failed(message="How did this happen!?")

    state = always_succeeds_flow(return_state=True)
    assert state.is_completed()
    assert state.message == "I am happy with this result"


def test_flows_custom_named_states(recorder):
    """docs/v3/concepts/flows.mdx: "Custom named states" (a ``Skipped`` completed run)."""

    @flow
    def my_flow(work_to_do: bool):
        if not work_to_do:
            return Completed(message="No work to do 💤", name="Skipped")
        return Completed(message="Work was done 💪")

    state = my_flow(work_to_do=False, return_state=True)
    assert (state.name, state.type, state.message) == (
        "Skipped",
        StateType.COMPLETED,
        "No work to do 💤",
    )
    assert recorder.final(recorder.flow_runs_of("my-flow")[0].id).name == "Skipped"
    assert my_flow(work_to_do=True, return_state=True).message == "Work was done 💪"


def test_flows_final_state_snippet_return_state_flag(recorder):
    """docs/v3/concepts/flows.mdx (snippets/final-flow-state.mdx): a task failing under
    ``return_state=True`` does not fail the flow, unless its state is returned."""

    @task
    def add_one(x):
        return x + 1

    @flow
    def my_flow():
        state = add_one("1", return_state=True)
        assert state.is_failed()
        return

    @flow
    def returns_the_state():
        return add_one("1", return_state=True)

    assert my_flow(return_state=True).is_completed()
    assert returns_the_state(return_state=True).is_failed()


# --------------------------------------------------------------------------------------------
# docs/v3/concepts/tasks.mdx


def test_tasks_log_prints_and_calling_a_task(recorder):
    """docs/v3/concepts/tasks.mdx: ``explain_tasks`` (``log_prints=True``) and
    ``add_integers(1, 2)`` (a task run outside a flow)."""

    @task(log_prints=True)
    def explain_tasks():
        print("run any python code here!")
        print("but maybe just a little bit")

    @task
    def add_integers(a: int, b: int) -> int:
        return a + b

    explain_tasks()
    assert recorder.messages(task_run_id=recorder.task_run("explain_tasks").id) == [
        "run any python code here!",
        "but maybe just a little bit",
    ]
    assert add_integers(1, 2) == 3
    assert recorder.final(recorder.task_run("add_integers").id).is_completed()


# --------------------------------------------------------------------------------------------
# docs/v3/concepts/states.mdx


def test_states_task_return_values(recorder):
    """docs/v3/concepts/states.mdx: "Task return values" (a returned ``Failed`` fails the
    task run, and the flow run fails)."""

    @task
    def toggle_task(fail: bool):
        if fail:
            return Failed(message="I was instructed to fail.")
        return Completed(message="I was instructed to succeed.")

    @flow
    def example():
        state_one = toggle_task(fail=True)
        state_two = toggle_task(fail=False)
        return state_one, state_two

    with pytest.raises(FailedRun, match="I was instructed to fail."):
        example()
    task_state = recorder.final(recorder.task_runs_of("toggle_task")[0].id)
    assert task_state.is_failed() and task_state.message == "I was instructed to fail."
    assert recorder.final(recorder.flow_run("example").id).is_failed()


def test_states_return_state_flag(recorder):
    """docs/v3/concepts/states.mdx: ``add_one(1, return_state=True)``."""

    @task
    def add_one(x):
        return x + 1

    @flow
    def my_flow():
        result = add_one(1)
        assert isinstance(result, int) and result == 2
        state = add_one(1, return_state=True)
        assert state.is_completed() is True
        assert state.result() == 2
        return "checked"

    assert my_flow() == "checked"


def test_states_hook_signature_classes():
    """docs/v3/concepts/states.mdx: hooks typed with ``Task`` and ``Flow`` from the top level
    (``prefect.client.schemas.objects`` has no counterpart)."""

    @task
    def t():
        return 1

    @flow
    def f():
        return 1

    assert isinstance(t, Task) and isinstance(f, Flow)


# --------------------------------------------------------------------------------------------
# docs/v3/concepts/caching.mdx


def test_caching_task_source_plus_inputs(recorder):
    """docs/v3/concepts/caching.mdx: ``TASK_SOURCE + INPUTS`` reruns for a new ``x``."""
    bodies = []

    @task(cache_policy=TASK_SOURCE + INPUTS)
    def my_cached_task(x: int):
        bodies.append(x)
        return x + 42

    assert [my_cached_task(1), my_cached_task(1), my_cached_task(2)] == [43, 43, 44]
    assert bodies == [1, 2]


def test_caching_inputs_minus_an_argument(recorder, capsys):
    """docs/v3/concepts/caching.mdx: ``INPUTS - 'debug'`` ("still uses the cache")."""
    my_custom_policy = INPUTS - "debug"

    @task(cache_policy=my_custom_policy)
    def my_cached_task(x: int, debug: bool = False):
        print("running...")
        return x + 42

    assert my_cached_task(1) == 43
    assert my_cached_task(1, debug=True) == 43
    assert capsys.readouterr().out.count("running...") == 1


def test_caching_cache_key_function(recorder):
    """docs/v3/concepts/caching.mdx: "Cache key functions" (a constant key: the second call
    is a cache hit whatever its input)."""

    def static_cache_key(context, parameters):
        return "static cache key"

    @task(cache_key_fn=static_cache_key)
    def my_cached_task(x: int):
        return x + 1

    assert my_cached_task(1) == 2
    assert my_cached_task(2) == 2
    assert [s.name for s in _final_task_states(recorder, "my_cached_task")] == [
        "Completed",
        "Cached",
    ]


# --------------------------------------------------------------------------------------------
# docs/v3/advanced/caching.mdx


def test_advanced_caching_separate_key_storage(recorder, tmp_path):
    """docs/v3/advanced/caching.mdx: ``.configure(key_storage=<directory>)`` keeps cache
    records in that directory."""
    key_dir = tmp_path / "cache-records"
    cache_policy = (TASK_SOURCE + INPUTS).configure(key_storage=str(key_dir))
    bodies = []

    @task(cache_policy=cache_policy)
    def my_cached_task(x: int):
        bodies.append(x)
        return x + 42

    assert my_cached_task(1) == 43
    assert my_cached_task(1) == 43
    assert bodies == [1]
    assert [p for p in key_dir.rglob("*") if p.is_file()]


def _race(policy: Any, x: int) -> list[str]:
    ran = []

    @task(cache_policy=policy)
    def my_task_version_1(x: int):
        ran.append("my_task_version_1 running")
        time.sleep(0.05)
        return x + 42

    @task(cache_policy=policy)
    def my_task_version_2(x: int):
        ran.append("my_task_version_2 running")
        time.sleep(0.05)
        return x + 43

    thread_1 = threading.Thread(target=my_task_version_1, args=(x,))
    thread_2 = threading.Thread(target=my_task_version_2, args=(x,))
    thread_1.start()
    thread_2.start()
    thread_1.join()
    thread_2.join()
    return ran


def test_advanced_caching_read_committed_runs_both(recorder):
    """docs/v3/advanced/caching.mdx: "Isolate cache access": by default both tasks with the
    same cache key run in parallel."""
    assert sorted(_race(INPUTS, 1)) == ["my_task_version_1 running", "my_task_version_2 running"]


def test_advanced_caching_serializable_runs_one(recorder):
    """docs/v3/advanced/caching.mdx: ``SERIALIZABLE`` with a ``MemoryLockManager``: "only one
    of the tasks will run and the other will use the cached value"."""
    cache_policy = INPUTS.configure(
        isolation_level=IsolationLevel.SERIALIZABLE, lock_manager=MemoryLockManager()
    )
    assert len(_race(cache_policy, 2)) == 1


def test_advanced_caching_multi_task_transaction(recorder):
    """docs/v3/advanced/caching.mdx: "Coordinate caching across multiple tasks" (a failed
    transaction writes no cache; with ``fail=False`` both rerun and are cached)."""
    bodies = []

    @task(cache_key_fn=lambda *args, **kwargs: "static-key-1")
    def load_data():
        bodies.append("load_data")
        return "some-data"

    @task(cache_key_fn=lambda *args, **kwargs: "static-key-2")
    def process_data(data, fail):
        bodies.append("process_data")
        if fail:
            raise RuntimeError("Error! Abort!")
        return len(data)

    @flow
    def multi_task_cache(fail: bool = True):
        with transaction():
            data = load_data()
            process_data(data=data, fail=fail)

    assert multi_task_cache(return_state=True).is_failed()
    assert multi_task_cache(fail=False, return_state=True).is_completed()
    assert bodies == ["load_data", "process_data", "load_data", "process_data"]
    assert multi_task_cache(fail=False, return_state=True).is_completed()
    assert len(bodies) == 4  # cached now


def test_advanced_caching_pydantic_custom_serializer(recorder):
    """docs/v3/advanced/caching.mdx: "Handling Non-Serializable Objects" with a pydantic
    ``model_serializer`` (first call Completed, second Cached, same result)."""

    class NotSerializable:
        def __getstate__(self):
            raise TypeError("NooOoOOo! I will not be serialized!")

    class ContainsNonSerializableObject(BaseModel):
        model_config = ConfigDict(arbitrary_types_allowed=True)

        name: str
        bad_object: NotSerializable

        @model_serializer
        def ser_model(self) -> dict:
            return {"name": self.name}

    @task(cache_policy=INPUTS + RUN_ID)
    def use_object(some_object: ContainsNonSerializableObject) -> str:
        return f"Used {some_object.name}"

    @flow
    def demo_flow():
        some_object = ContainsNonSerializableObject(name="test", bad_object=NotSerializable())
        state = use_object(some_object, return_state=True)
        other_state = use_object(some_object, return_state=True)
        return state.name, other_state.name, state.result(), other_state.result()

    assert demo_flow() == ("Completed", "Cached", "Used test", "Used test")


# --------------------------------------------------------------------------------------------
# docs/v3/advanced/results.mdx


def test_results_cache_result_in_memory(recorder):
    """docs/v3/advanced/results.mdx: "Caching results in memory" (``cache_result_in_memory=
    False`` on a flow and a task)."""

    @flow(cache_result_in_memory=False)
    def foo():
        return "pretend this is large data"

    @task(cache_result_in_memory=False)
    def bar():
        return "pretend this is biiiig data"

    assert foo() == "pretend this is large data"
    assert bar() == "pretend this is biiiig data"
    assert foo(return_state=True).result() == "pretend this is large data"


# --------------------------------------------------------------------------------------------
# docs/v3/advanced/transactions.mdx


def test_transactions_rollback_and_commit_hooks(recorder, tmp_path):
    """docs/v3/advanced/transactions.mdx: "Write your first transaction": the failing
    ``quality_test`` rolls back ``write_file`` (no side-effect.txt afterwards); a passing
    run commits and runs the ``on_commit`` hook."""
    side_effect = tmp_path / "side-effect.txt"
    hooks = []

    @task
    def write_file(contents: str):
        side_effect.write_text(contents)

    @write_file.on_rollback
    def del_file(transaction):
        hooks.append("rollback")
        os.unlink(side_effect)

    @write_file.on_commit
    def confirmation(transaction):
        hooks.append("commit")

    @task
    def quality_test():
        if len(side_effect.read_text().splitlines()) < 2:
            raise ValueError("Not enough data!")

    @flow
    def pipeline(contents: str):
        with transaction():
            write_file(contents)
            quality_test()

    with pytest.raises(ValueError, match="Not enough data!"):
        pipeline(contents="hello world")
    assert not side_effect.exists()
    assert hooks == ["rollback"]
    pipeline(contents="hello\nworld\n")
    assert side_effect.exists()
    assert hooks == ["rollback", "commit"]


def test_transactions_read_committed_race(recorder, tmp_path):
    """docs/v3/advanced/transactions.mdx: "Handling race conditions": under READ_COMMITTED
    two transactions with the same key both run; one thread's text ends in the file."""
    target = tmp_path / "race-condition.txt"
    written = []

    @task
    def download_data():
        return f"{threading.current_thread().name} is the winner!"

    @task
    def write_file(contents: str):
        written.append(contents)
        target.write_text(contents)

    @flow
    def pipeline(transaction_key: str):
        with transaction(key=transaction_key) as txn:
            if txn.is_committed():
                return
            data = download_data()
            write_file(data)

    key = f"race-condition-{random.random()}"
    threads = [threading.Thread(target=pipeline, name=f"Thread {i}", args=(key,)) for i in (1, 2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert target.read_text() in {"Thread 1 is the winner!", "Thread 2 is the winner!"}
    assert written  # at least one ran


def test_transactions_access_data_within_transactions(recorder, tmp_path):
    """docs/v3/advanced/transactions.mdx: "Access data within transactions" (``txn.set`` in
    the flow, ``txn.get`` in the ``on_rollback`` hook)."""
    filename = str(tmp_path / "side-effect.txt")
    seen = []

    @task
    def write_file(filename: str, contents: str):
        with open(filename, "w") as f:
            f.write(contents)

    @write_file.on_rollback
    def del_file(txn):
        seen.append(txn.get("filename"))
        os.unlink(txn.get("filename"))

    @task
    def quality_test(filename):
        with open(filename) as f:
            data = f.readlines()
        if len(data) < 2:
            raise ValueError("Not enough data!")

    @flow
    def pipeline(filename: str, contents: str):
        with transaction() as txn:
            txn.set("filename", filename)
            write_file(filename, contents)
            quality_test(filename)

    with pytest.raises(ValueError, match="Not enough data!"):
        pipeline(filename=filename, contents="hello world")
    assert seen == [filename]
    assert not os.path.exists(filename)


# --------------------------------------------------------------------------------------------
# docs/v3/concepts/runtime-context.mdx


def test_runtime_context_access_runtime_information(recorder):
    """docs/v3/concepts/runtime-context.mdx: ``my_runtime_info.py`` ("My name is ...",
    "I belong to deployment None", "Flow run parameters: {'x': 1}")."""

    @flow(log_prints=True)
    def my_flow(x):
        print("My name is", runtime.flow_run.name)
        print("I belong to deployment", runtime.deployment.name)
        my_task(2)

    @task
    def my_task(y):
        print("My name is", runtime.task_run.name)
        print("Flow run parameters:", runtime.flow_run.parameters)

    my_flow(1)
    run = recorder.flow_run("my-flow")
    task_run = recorder.task_run("my_task")
    flow_messages = recorder.messages(flow_run_id=run.id)
    assert f"My name is {run.name}" in flow_messages
    assert "I belong to deployment None" in flow_messages
    assert recorder.messages(task_run_id=task_run.id) == [
        f"My name is {task_run.name}",
        "Flow run parameters: {'x': 1}",
    ]


def test_runtime_context_access_the_run_context_directly(recorder):
    """docs/v3/concepts/runtime-context.mdx: ``get_run_context()`` raises outside a run;
    ``FlowRunContext.get()`` / ``TaskRunContext.get()`` return ``None``; a task sees both."""
    assert FlowRunContext.get() is None
    assert TaskRunContext.get() is None
    with pytest.raises(MissingContextError):
        get_run_context()

    @task
    def inner():
        return (
            isinstance(get_run_context(), TaskRunContext),
            FlowRunContext.get() is not None,
        )

    @flow
    def outer():
        return isinstance(get_run_context(), FlowRunContext), inner()

    assert outer() == (True, (True, True))


# --------------------------------------------------------------------------------------------
# docs/v3/concepts/task-runners.mdx


def test_task_runners_thread_pool_max_workers(recorder):
    """docs/v3/concepts/task-runners.mdx: ``ThreadPoolTaskRunner(max_workers=3)`` runs at
    most three tasks at a time."""
    lock = threading.Lock()
    running = [0]
    peak = [0]

    @task
    def stop_at_floor(floor):
        with lock:
            running[0] += 1
            peak[0] = max(peak[0], running[0])
        time.sleep(floor / 1000)
        with lock:
            running[0] -= 1

    @flow(task_runner=ThreadPoolTaskRunner(max_workers=3))
    def elevator():
        floors = [stop_at_floor.submit(floor) for floor in range(10, 0, -1)]
        wait(floors)

    elevator()
    assert 1 <= peak[0] <= 3
    assert len(recorder.task_runs_of("stop_at_floor")) == 10


def test_task_runners_futures_are_resolved_for_downstream_tasks(recorder, capsys):
    """docs/v3/concepts/task-runners.mdx: the downstream task receives the value, not the
    future (prints ``<class 'str'>`` and "Hello Marvin!")."""

    @task
    def say_hello(name):
        return f"Hello {name}!"

    @task
    def print_result(result):
        print(type(result))
        print(result)

    @flow(name="hello-flow")
    def hello_world():
        future = say_hello.submit("Marvin")
        print_result.submit(future).wait()

    hello_world()
    assert capsys.readouterr().out.splitlines() == ["<class 'str'>", "Hello Marvin!"]


def test_task_runners_access_results(recorder):
    """docs/v3/concepts/task-runners.mdx: ``future.result()``, and ``raise_on_failure=False``
    returning the exception of a failed run."""

    @task
    def my_task():
        return 42

    @task
    def failing():
        raise ValueError("I'm a failing task!")

    @flow
    def my_flow():
        future = my_task.submit()
        bad = failing.submit()
        result = bad.result(raise_on_failure=False)
        return future.result(), bad.state.is_failed(), result

    value, failed, exc = my_flow()
    assert value == 42 and failed
    assert isinstance(exc, ValueError) and str(exc) == "I'm a failing task!"


# --------------------------------------------------------------------------------------------
# docs/v3/advanced/use-custom-event-grammar.mdx


def test_custom_event_grammar_simulate_events(recorder):
    """docs/v3/advanced/use-custom-event-grammar.mdx: "Simulate events" (``emit_event``
    returns the event; ``follows=`` links the completion to the creation)."""
    user_id_1, user_id_2 = "123", "456"
    order_created_1 = emit_event(event="order.created", resource={"prefect.resource.id": user_id_1})
    emit_event(event="order.created", resource={"prefect.resource.id": user_id_2})
    completed = emit_event(
        event="order.complete",
        resource={"prefect.resource.id": user_id_1},
        follows=order_created_1,
    )
    assert order_created_1.event == "order.created"
    assert order_created_1.resource.id == user_id_1
    assert completed.follows == order_created_1.id
