"""Prefect 3's documented semantics, imported through the ``jupyter_flows.*`` Prefect paths.

Each test states the outcome Prefect's docs give (pages: "Write and run flows", "Write and
run tasks", "Manage states", "Configure caching", "Run work concurrently", "Custom run
names", "Tags"); the code is ours.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

import pytest
from pydantic import BaseModel, model_serializer

from jupyter_flows import flow, task
from jupyter_flows.cache_policies import DEFAULT, INPUTS
from jupyter_flows.exceptions import FailedRun
from jupyter_flows.futures import PrefectFutureList, wait
from jupyter_flows.states import Completed, Failed, StateType, get_state_exception
from jupyter_flows.utilities.annotations import allow_failure, opaque, quote, unmapped


class TestReturnedStates:
    """ "Manage states": a run that returns a state ends in that state."""

    def test_task_returning_failed_fails_and_the_flow_raises(self, recorder):
        @task
        def check(x):
            if x < 0:
                return Failed(message="negative input")
            return x

        @flow
        def pipeline(x):
            return check(x)

        with pytest.raises(FailedRun, match="negative input"):
            pipeline(-1)
        assert recorder.final(recorder.task_run("check").id).is_failed()
        assert recorder.final(recorder.task_run("check").id).message == "negative input"
        assert recorder.final(recorder.flow_run("pipeline").id).is_failed()
        assert pipeline(2) == 2

    def test_flow_returning_failed_state_raises_failed_run(self, recorder):
        @flow
        def pipeline():
            return Failed(message="nothing to load")

        with pytest.raises(FailedRun, match="nothing to load"):
            pipeline()
        state = pipeline(return_state=True)
        assert state.is_failed() and state.message == "nothing to load"
        assert isinstance(get_state_exception(state), FailedRun)

    def test_a_returned_failed_state_is_not_retried(self, recorder):
        calls = []

        @task(retries=2)
        def check():
            calls.append(1)
            return Failed(message="no")

        check(return_state=True)
        assert calls == [1]

    def test_completed_keeps_its_message_and_custom_name(self, recorder):
        @task
        def maybe(x):
            if x is None:
                return Completed(message="nothing to do", name="Skipped")
            return x

        @flow
        def pipeline():
            return maybe(None, return_state=True).name, maybe(3)

        assert pipeline() == ("Skipped", 3)
        runs = recorder.task_runs_of("maybe")
        skipped = recorder.final(runs[0].id)
        assert (skipped.type, skipped.name, skipped.message) == (
            StateType.COMPLETED,
            "Skipped",
            "nothing to do",
        )

    def test_completed_with_data_is_the_result(self, recorder):
        @flow
        def pipeline():
            return Completed(data=42, message="done")

        state = pipeline(return_state=True)
        assert state.message == "done" and state.result() == 42

    def test_returning_task_states_aggregates_them(self, recorder):
        @task
        def ok():
            return 1

        @task
        def bad():
            raise ValueError("boom")

        @flow
        def pipeline():
            return [ok(return_state=True), bad(return_state=True), ok(return_state=True)]

        state = pipeline(return_state=True)
        assert state.is_failed() and state.message == "1/3 states failed."
        with pytest.raises(ValueError, match="boom"):  # the first failure's own error
            state.result()

    def test_returning_futures_completes_with_their_results(self, recorder):
        @task
        def double(x):
            return 2 * x

        @flow
        def pipeline():
            return double.map([1, 2, 3])

        assert pipeline() == [2, 4, 6]

    def test_quote_returns_a_state_as_a_value(self, recorder):
        @task
        def bad():
            raise ValueError("boom")

        @flow
        def pipeline():
            return quote(bad(return_state=True))

        inner = pipeline().unquote()
        assert inner.is_failed()
        assert recorder.final(recorder.flow_run("pipeline").id).is_completed()

    def test_a_returned_generator_is_consumed(self, recorder):
        @flow
        def pipeline(n):
            return (i * i for i in range(n))

        assert pipeline(4) == [0, 1, 4, 9]


@dataclass
class Config:
    path: str
    rows: object


class Batch(BaseModel):
    name: str
    values: object = None


class TestNestedFutures:
    """ "Write and run tasks": futures inside collections are resolved, their edges recorded."""

    def test_futures_in_dataclasses_models_dicts_lists_tuples_sets(self, recorder):
        @task
        def load(x):
            return x * 10

        @task
        def combine(cfg, batch, mapping, items, pair, bag):
            return cfg.rows, batch.values, mapping["a"], items, pair, sorted(bag)

        @flow
        def pipeline():
            a, b, c = load.submit(1), load.submit(2), load.submit(3)
            return combine(
                Config("p", a),
                Batch(name="n", values=b),
                {"a": c},
                [a, [b]],
                (c, 5),
                {a, b},
            )

        assert pipeline() == (10, 20, 30, [10, [20]], (30, 5), [10, 20])
        run = recorder.task_run("combine")
        by_param = {(e.parameter, e.kind) for e in run.inputs}
        assert by_param == {
            ("cfg", "data"),
            ("batch", "data"),
            ("mapping", "data"),
            ("items", "data"),
            ("pair", "data"),
            ("bag", "data"),
        }
        loads = {r.id for r in recorder.task_runs_of("load")}
        assert {e.upstream_id for e in run.inputs} == loads

    def test_quote_and_opaque_are_passed_as_is(self, recorder):
        seen = {}

        @task
        def load():
            return 1

        @task
        def keep(q, o):
            seen["q"], seen["o"] = q, o

        @flow
        def pipeline():
            future = load.submit()
            keep(quote([future]), opaque({"f": future}))
            return future

        pipeline()
        assert type(seen["q"][0]).__name__ == "TaskFuture"
        assert type(seen["o"]["f"]).__name__ == "TaskFuture"
        assert recorder.task_run("keep").inputs == []

    def test_allow_failure_passes_the_exception(self, recorder):
        @task
        def bad():
            raise ValueError("boom")

        @task
        def cleanup(x):
            return f"got {type(x).__name__}"

        @flow
        def pipeline():
            return cleanup(allow_failure(bad.submit()))

        assert pipeline() == "got ValueError"

    def test_upstream_failure_fails_the_downstream_without_running_it(self, recorder):
        ran = []

        @task
        def bad():
            raise ValueError("boom")

        @task
        def after(x):
            ran.append(x)

        @flow
        def pipeline():
            return after.submit({"x": [bad.submit()]}).wait()

        state = pipeline(return_state=True)
        assert state.is_failed() and ran == []
        assert recorder.final(recorder.task_run("after").id).is_failed()


class TestWaitFor:
    def test_wait_for_futures_states_and_values(self, recorder):
        order = []

        @task
        def first():
            order.append("first")

        @task
        def second():
            order.append("second")

        @flow
        def pipeline():
            f = first.submit()
            s = first(return_state=True)
            return second.submit(wait_for=[f, s, 3, None]).result()

        pipeline()
        assert order[-1] == "second"

    def test_allow_failure_in_wait_for(self, recorder):
        @task
        def bad():
            raise ValueError("boom")

        @task
        def report():
            return "ran"

        @flow
        def pipeline():
            return report(wait_for=[allow_failure(bad.submit())])

        assert pipeline() == "ran"

    def test_subflow_wait_for(self, recorder):
        @task
        def setup():
            return 1

        @flow
        def child():
            return "child"

        @flow
        def parent():
            return child(wait_for=[setup.submit()])

        assert parent() == "child"


class TestMethods:
    """Flows and tasks on instance, class and static methods."""

    def test_instance_class_and_static_methods(self, recorder):
        class Pipeline:
            factor = 3

            def __init__(self, base):
                self.base = base

            @task
            def scale(self, x):
                return self.base * x

            @flow
            def run(self, x):
                return self.scale(x) + self.scale.submit(1).result()

            @classmethod
            @flow
            def build(cls, x):
                return cls.factor * x

            @staticmethod
            @task
            def add(a, b):
                return a + b

        p = Pipeline(10)
        assert p.run(2) == 30
        assert Pipeline.build(2) == 6
        assert Pipeline.add(1, 2) == 3
        assert [f.result() for f in Pipeline(2).scale.map([1, 2])] == [2, 4]
        run = recorder.flow_run("run")
        assert run.parameters == {"x": 2}  # ``self`` is not a parameter


class TestPersistenceAndDefaultCaching:
    """ "Configure caching": without persistence nothing is cached; persisting uses DEFAULT."""

    def test_plain_tasks_are_not_cached(self, recorder):
        calls = []

        @task
        def add(x):
            calls.append(x)
            return x + 1

        @flow
        def pipeline():
            return add(1), add(1)

        assert pipeline() == (2, 2) and calls == [1, 1]

    def test_persist_result_turns_on_default_within_a_flow_run(self, recorder):
        calls = []

        @task(persist_result=True)
        def add(x):
            calls.append(x)
            return x + 1

        @flow
        def pipeline():
            return add(1), add(1), add(2)

        assert pipeline() == (2, 2, 3) and calls == [1, 2]
        assert pipeline() == (2, 2, 3) and calls == [1, 2, 1, 2]  # RUN_ID: a new run computes
        names = [recorder.final(r.id).name for r in recorder.task_runs_of("add")]
        assert names.count("Cached") == 2

    def test_flow_persist_result_reaches_its_tasks(self, recorder):
        calls = []

        @task
        def add(x):
            calls.append(x)
            return x + 1

        @flow(persist_result=True)
        def pipeline():
            return add(1), add(1)

        assert pipeline() == (2, 2) and calls == [1]

    def test_persist_false_disables_a_policy(self, recorder):
        calls = []

        @task(cache_policy=INPUTS, persist_result=False)
        def add(x):
            calls.append(x)
            return x

        add(1), add(1)
        assert calls == [1, 1]

    def test_default_policy_is_prefects(self):
        from jupyter_flows.cache_policies import RUN_ID, TASK_SOURCE

        assert DEFAULT == INPUTS + TASK_SOURCE + RUN_ID

    def test_inputs_pydantic_serialises_are_hashed(self, recorder):
        class Client(BaseModel):
            url: str
            lock: object = None

            @model_serializer
            def ser(self):
                return {"url": self.url}

        calls = []

        @task(cache_policy=INPUTS)
        def fetch(client):
            calls.append(client.url)
            return client.url

        fetch(Client(url="a", lock=threading.Lock()))
        fetch(Client(url="a", lock=threading.Lock()))
        fetch(Client(url="b", lock=threading.Lock()))
        assert calls == ["a", "b"]


class TestMapAndFutures:
    def test_map_returns_a_future_list(self, recorder):
        @task
        def double(x):
            return 2 * x

        @task
        def add(x, y):
            return x + y

        @flow
        def pipeline():
            futures = double.map([1, 2, 3])
            assert isinstance(futures, PrefectFutureList)
            futures.wait()
            assert all(f.done() for f in futures)
            totals = add.map(futures, unmapped(10))
            return futures.result(), totals.result()

        assert pipeline() == ([2, 4, 6], [12, 14, 16])

    def test_future_list_result_raises_the_failure(self, recorder):
        @task
        def check(x):
            if x == 2:
                raise ValueError("two")
            return x

        @flow
        def pipeline():
            futures = check.map([1, 2, 3])
            wait(futures)
            with pytest.raises(ValueError, match="two"):
                futures.result()
            return futures.result(raise_on_failure=False)[0]

        assert pipeline(return_state=True).is_completed()


class TestRunNames:
    """ "Custom run names": templates from parameters and callables, ``with_options``."""

    def test_flow_run_name_template_and_callable(self, recorder):
        import datetime

        @flow(flow_run_name="{name}-on-{date:%A}")
        def greet(name: str, date: datetime.datetime):
            return name

        greet("marvin", datetime.datetime(2024, 1, 1))
        assert recorder.flow_run("greet").name == "marvin-on-Monday"

        def named():
            from jupyter_flows.context import FlowRunContext

            params = FlowRunContext.get().flow_run.parameters
            return f"run-{params['n']}"

        @flow(flow_run_name=named)
        def counted(n: int):
            return n

        counted(7)
        assert recorder.flow_run("counted").name == "run-7"
        counted.with_options(flow_run_name="other-{n}")(8)
        assert [r.name for r in recorder.flow_runs_of("counted")] == ["run-7", "other-8"]

    def test_task_run_name_template_callable_and_with_options(self, recorder):
        @task(task_run_name="load-{path}")
        def load(path):
            return path

        def with_params(parameters):
            return f"x={parameters['x']}"

        @task(task_run_name=with_params)
        def square(x):
            return x * x

        @flow
        def pipeline():
            load("a.csv")
            square(3)
            load.with_options(task_run_name="again-{path}")("b.csv")

        pipeline()
        names = sorted(r.name for r in recorder.task_runs.values())
        assert names == ["again-b.csv", "load-a.csv", "x=3"]

    def test_a_bad_template_names_the_parameters(self, recorder):
        @flow(flow_run_name="{missing}")
        def pipeline(x: int = 1):
            return x

        with pytest.raises(Exception, match=r"run name '\{missing\}'.*\['x'\]"):
            pipeline()


class TestTags:
    def test_tags_context_adds_to_runs(self, recorder):
        from jupyter_flows import tags

        @task(tags=["own"])
        def work():
            return 1

        @flow
        def pipeline():
            with tags("inner"):
                work()
            work()

        with tags("outer") as current:
            assert current == {"outer"}
            pipeline()
        first, second = recorder.task_runs_of("work")
        assert first.tags == ["inner", "outer", "own"]
        assert second.tags == ["outer", "own"]
        assert recorder.flow_run("pipeline").tags == ["outer"]


class TestGenerators:
    """ "Write and run flows": generator flows and tasks yield values as they come."""

    def test_a_generator_flow_streams_its_values(self, recorder):
        produced = []

        @flow
        def numbers(n: int):
            for i in range(n):
                produced.append(i)
                yield i

        gen = numbers(3)
        assert next(gen) == 0
        assert produced == [0]  # lazy: the next value is made when it is asked for
        assert list(gen) == [1, 2]
        assert recorder.final(recorder.flow_run("numbers").id).is_completed()

    def test_a_generator_task_in_a_flow_and_an_infinite_one(self, recorder):
        @task
        def squares(n):
            for i in range(n):
                yield i * i

        @flow
        def forever():
            i = 0
            while True:
                yield i
                i += 1

        @flow
        def total():
            return sum(squares(4))

        assert total() == 14
        assert recorder.final(recorder.task_run("squares").id).is_completed()
        gen = forever()
        assert [next(gen), next(gen), next(gen)] == [0, 1, 2]
        gen.close()  # the caller stops: the run ends
        run = recorder.flow_run("forever")
        deadline = time.monotonic() + 10
        while not recorder.states(run.id)[-1].is_final():
            assert time.monotonic() < deadline, "the stopped run did not end"
            time.sleep(0.01)
        assert recorder.final(run.id).is_completed()

    def test_a_generator_that_raises_fails_the_run(self, recorder):
        @flow
        def broken():
            yield 1
            raise ValueError("half way")

        gen = broken()
        assert next(gen) == 1
        with pytest.raises(ValueError, match="half way"):
            next(gen)
        assert recorder.final(recorder.flow_run("broken").id).is_failed()

    def test_return_state_collects_the_values(self, recorder):
        @flow
        def numbers():
            yield from range(3)

        assert numbers(return_state=True).result() == [0, 1, 2]


class TestDefinitions:
    def test_flow_and_task_above_classmethod_and_staticmethod(self, recorder):
        class Pipeline:
            factor = 2

            @flow
            @classmethod
            def build(cls, x):
                return cls.factor * x

            @task
            @staticmethod
            def add(a, b):
                return a + b

            @task
            @classmethod
            def scale(cls, x):
                return cls.factor * x

        assert Pipeline.build(3) == 6 and Pipeline().build(3) == 6
        assert Pipeline.add(1, 2) == 3
        assert Pipeline.scale(5) == 10

    def test_defaults_are_task_parameters(self, recorder, tmp_path):
        seen = []

        @task(cache_policy=INPUTS, task_run_name="c-{a}-{b}")
        def c(a, b=2):
            seen.append((a, b))
            return a + b

        assert c(1) == 3 and c(1, b=2) == 3  # one cache key: the default is an input
        assert seen == [(1, 2)]
        assert recorder.task_runs_of("c")[0].name == "c-1-2"
