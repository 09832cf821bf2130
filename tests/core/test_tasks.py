"""``@task``: definition, task runs in flows, futures, ``map``, dependencies, standalone calls."""

from __future__ import annotations

import pytest

from jupyter_flows import State, Task, TaskFuture, flow, task, unmapped, wait
from jupyter_flows.core.annotations import quote
from jupyter_flows.exceptions import FlowDefinitionError


def edges(recorder, run_id):
    """The (upstream task name, kind, parameter) edges recorded for a task run."""
    return [
        (recorder.task_runs[e.upstream_id].task_name, e.kind, e.parameter)
        for e in recorder.task_runs[run_id].inputs
    ]


class TestDefinition:
    def test_bare_decorator(self):
        @task
        def extract():
            return 1

        assert isinstance(extract, Task)
        assert extract.name == "extract"
        assert extract.isasync is False

    def test_decorator_with_options(self):
        @task(
            name="load",
            description="explicit",
            tags=["io"],
            version="2",
            retries=3,
            retry_delay_seconds=[1, 2],
            retry_jitter_factor=0.5,
            timeout_seconds=5,
            persist_result=True,
            log_prints=True,
        )
        def extract():
            """Ignored docstring."""

        assert extract.name == "load"
        assert extract.description == "explicit"
        assert extract.tags == {"io"}
        assert extract.version == "2"
        assert extract.retries == 3
        assert extract.retry_delays == (1.0, 2.0, 2.0)
        assert extract.retry_jitter_factor == 0.5
        assert extract.timeout_seconds == 5.0
        assert extract.persist_result is True
        assert extract.log_prints is True

    def test_async_function(self):
        @task
        async def extract():
            return 1

        assert extract.isasync is True

    def test_async_function_with_options(self):
        @task(name="aextract", retries=1)
        async def extract():
            return 1

        assert (extract.name, extract.isasync, extract.retries) == ("aextract", True, 1)

    def test_description_from_docstring(self):
        @task
        def extract():
            """Read the rows."""

        assert extract.description == "Read the rows."

    def test_keeps_the_function_metadata(self):
        def extract(path: str) -> str:
            """Doc."""
            return path

        wrapped = task(extract)
        assert wrapped.fn is extract
        assert wrapped.__name__ == "extract"
        assert wrapped.__doc__ == "Doc."

    def test_task_key_is_module_and_qualname(self):
        @task
        def extract():
            pass

        assert extract.task_key == (
            f"{__name__}.TestDefinition.test_task_key_is_module_and_qualname.<locals>.extract"
        )

    def test_with_options(self):
        @task(retries=1)
        def extract():
            return 1

        other = extract.with_options(name="other", retries=2)
        assert (other.name, other.retries) == ("other", 2)
        assert (extract.name, extract.retries) == ("extract", 1)
        assert other() == 1

    def test_repr(self):
        @task
        def extract():
            pass

        assert repr(extract) == "Task(name='extract')"


class TestInvalidDefinition:
    def test_negative_retries(self):
        with pytest.raises(FlowDefinitionError, match="task 'extract': retries must be"):

            @task(retries=-1)
            def extract():
                pass

    def test_negative_timeout(self):
        with pytest.raises(FlowDefinitionError, match="task 'extract': timeout_seconds must be"):

            @task(timeout_seconds=-0.5)
            def extract():
                pass

    def test_negative_jitter(self):
        with pytest.raises(FlowDefinitionError, match="retry_jitter_factor must be >= 0"):

            @task(retries=1, retry_jitter_factor=-1)
            def extract():
                pass

    def test_bad_retry_delay_type(self):
        with pytest.raises(FlowDefinitionError, match="retry_delay_seconds must be a number"):

            @task(retries=1, retry_delay_seconds="soon")
            def extract():
                pass

    def test_empty_retry_delay_list(self):
        with pytest.raises(FlowDefinitionError, match="retry_delay_seconds list is empty"):

            @task(retries=1, retry_delay_seconds=[])
            def extract():
                pass

    @pytest.mark.parametrize("hook_option", ["on_completion", "on_failure", "on_running"])
    def test_non_callable_hook(self, hook_option):
        with pytest.raises(FlowDefinitionError, match=f"{hook_option} hooks must be callables"):

            @task(**{hook_option: [print, 3]})
            def extract():
                pass

    def test_bad_cache_policy(self):
        with pytest.raises(FlowDefinitionError, match="cache_policy must be a CachePolicy"):

            @task(cache_policy="inputs")
            def extract():
                pass

    def test_unknown_serializer(self):
        with pytest.raises(ValueError, match="unknown serializer 'yaml'"):

            @task(result_serializer="yaml")
            def extract():
                pass

    def test_not_a_function(self):
        with pytest.raises(FlowDefinitionError, match="needs a function"):
            task("extract")


class TestTaskRunsInFlows:
    def test_call_returns_the_result_and_records_a_run(self, recorder):
        @task
        def double(x):
            return 2 * x

        @flow
        def etl():
            return double(21)

        assert etl() == 42
        run = recorder.task_run("double")
        assert recorder.state_names(run.id) == ["Pending", "Running", "Completed"]
        assert recorder.run_counts(run.id) == [0, 1, 1]
        assert recorder.final(run.id).result() == 42

    def test_run_metadata(self, recorder):
        @task(tags=["b", "a"], version="3")
        def double(x):
            """Twice x."""
            return 2 * x

        @flow
        def etl():
            double(1)

        etl()
        run = recorder.task_run("double")
        assert run.flow_run_id == recorder.flow_run("etl").id
        assert run.task_name == "double"
        assert run.name == "double-0"
        assert run.task_key == double.task_key
        assert run.tags == ["a", "b"]
        assert run.version == "3"
        assert run.description == "Twice x."
        assert run.subflow_run_id is None

    def test_dynamic_keys_count_calls_per_task(self, recorder):
        @task
        def a():
            pass

        @task
        def b():
            pass

        @flow
        def etl():
            a()
            b()
            a()
            a.submit().wait()

        etl()
        assert [r.name for r in recorder.task_runs_of("a")] == ["a-0", "a-1", "a-2"]
        assert [r.dynamic_key for r in recorder.task_runs_of("a")] == [0, 1, 2]
        assert [r.name for r in recorder.task_runs_of("b")] == ["b-0"]

    def test_failed_task_is_recorded_and_raises_in_the_flow(self, recorder):
        @task
        def broken():
            raise ZeroDivisionError("division by zero")

        @flow
        def etl():
            broken()

        with pytest.raises(ZeroDivisionError):
            etl()
        run = recorder.task_run("broken")
        assert recorder.state_names(run.id) == ["Pending", "Running", "Failed"]
        assert recorder.final(run.id).message == "ZeroDivisionError: division by zero"
        assert recorder.final(recorder.flow_run("etl").id).is_failed()

    def test_flow_can_handle_a_task_failure(self, recorder):
        @task
        def broken():
            raise ValueError("nope")

        @flow
        def etl():
            try:
                broken()
            except ValueError:
                return "recovered"

        assert etl() == "recovered"
        assert recorder.final(recorder.task_run("broken").id).is_failed()
        assert recorder.final(recorder.flow_run("etl").id).is_completed()

    def test_return_state(self, recorder):
        @task
        def broken():
            raise ValueError("nope")

        @task
        def fine():
            return 5

        @flow
        def etl():
            return quote((broken(return_state=True), fine(return_state=True)))

        bad, good = etl().unquote()
        assert isinstance(bad, State) and bad.is_failed()
        assert bad.run_id == recorder.task_run("broken").id
        assert good.is_completed() and good.result() == 5


class TestSubmit:
    def test_future_result_wait_and_state(self, recorder):
        @task
        def double(x):
            return 2 * x

        @flow
        def etl():
            future = double.submit(4)
            assert isinstance(future, TaskFuture)
            state = future.wait()
            return quote(future), state, future.result()

        future, state, result = etl()  # as Prefect: returned futures become states
        assert result == 8
        assert state.is_completed() and state.result() == 8
        future = future.unquote()  # quote(): returned as it is, not as its state
        assert future.state.is_completed() and future.done()
        assert future.task_run_id == recorder.task_run("double").id
        assert future.task_name == "double-0"
        assert recorder.state_names(future.task_run_id) == ["Pending", "Running", "Completed"]

    def test_failed_future(self, recorder):
        @task
        def broken():
            raise ValueError("nope")

        @flow
        def etl():
            future = broken.submit()
            state = future.wait()
            assert state.is_failed()
            assert future.state.is_failed()
            assert isinstance(future.result(raise_on_failure=False), ValueError)
            future.result()

        with pytest.raises(ValueError, match="nope"):
            etl()

    def test_wait_with_timeout_returns_none_while_running(self):
        import threading

        release = threading.Event()

        @task
        def blocked():
            release.wait(10)
            return 1

        @flow
        def etl():
            future = blocked.submit()
            early = future.wait(timeout=0.01)
            pending_state = future.state
            release.set()
            return early, pending_state, future.result()

        early, pending_state, result = etl()
        assert early is None
        assert not pending_state.is_final()
        assert result == 1

    def test_wait_helper(self):
        @task
        def one(i):
            return i

        @flow
        def etl():
            futures = [one.submit(i) for i in range(3)]
            done, not_done = wait(futures)
            return len(done), len(not_done)

        assert etl() == (3, 0)

    def test_submitted_runs_are_pending_before_they_run(self, recorder):
        @task
        def step():
            return 1

        @flow
        def etl():
            step.submit().result()

        etl()
        assert recorder.state_names(recorder.task_run("step").id)[0] == "Pending"


class TestMap:
    def test_one_run_per_element(self, recorder):
        @task
        def double(x):
            return 2 * x

        @flow
        def etl():
            futures = double.map([1, 2, 3])
            return [f.result() for f in futures]

        assert etl() == [2, 4, 6]
        runs = recorder.task_runs_of("double")
        assert len(runs) == 3
        assert all(recorder.final(r.id).is_completed() for r in runs)

    def test_unmapped_and_scalars_are_passed_whole(self):
        @task
        def combine(x, items, factor):
            return x * factor + len(items)

        @flow
        def etl():
            futures = combine.map([1, 2], unmapped([0, 0, 0]), factor=10)
            return [f.result() for f in futures]

        assert etl() == [13, 23]

    def test_several_iterables_are_zipped(self):
        @task
        def add(x, y):
            return x + y

        @flow
        def etl():
            return [f.result() for f in add.map([1, 2], y=[10, 20])]

        assert etl() == [11, 22]

    def test_strings_and_dicts_are_not_iterated(self):
        @task
        def show(x, label, opts):
            return f"{label}{x}{opts['k']}"

        @flow
        def etl():
            return [f.result() for f in show.map([1, 2], "n", {"k": "!"})]

        assert etl() == ["n1!", "n2!"]

    def test_map_over_a_future(self):
        @task
        def numbers():
            return [1, 2, 3]

        @task
        def double(x):
            return 2 * x

        @flow
        def etl():
            return [f.result() for f in double.map(numbers.submit())]

        assert etl() == [2, 4, 6]

    def test_different_lengths(self):
        @task
        def add(x, y):
            return x + y

        @flow
        def etl():
            add.map([1, 2], [1, 2, 3])

        with pytest.raises(ValueError, match=r"different lengths \[2, 3\]"):
            etl()

    def test_nothing_to_map(self):
        @task
        def add(x, y):
            return x + y

        @flow
        def etl():
            add.map(1, unmapped([2]))

        with pytest.raises(TypeError, match="needs at least one iterable"):
            etl()

    def test_empty_iterable_maps_to_no_runs(self, recorder):
        @task
        def double(x):
            return 2 * x

        @flow
        def etl():
            return double.map([])

        assert etl() == []
        assert recorder.task_runs_of("double") == []


class TestDependencies:
    def test_edge_from_a_future(self, recorder):
        @task
        def extract():
            return 1

        @task
        def load(value):
            return value

        @flow
        def etl():
            return load.submit(extract.submit()).result()

        assert etl() == 1
        assert edges(recorder, recorder.task_run("load").id) == [("extract", "data", "value")]

    def test_edge_from_a_passed_result(self, recorder):
        @task
        def extract():
            return [1, 2, 3]

        @task
        def load(rows):
            return len(rows)

        @flow
        def etl():
            rows = extract()
            return load(rows)

        assert etl() == 3
        assert edges(recorder, recorder.task_run("load").id) == [("extract", "data", "rows")]

    def test_edge_from_a_large_int_result(self, recorder):
        @task
        def extract():
            return 10**6

        @task
        def load(n):
            return n

        @flow
        def etl():
            return load(extract())

        etl()
        assert edges(recorder, recorder.task_run("load").id) == [("extract", "data", "n")]

    def test_no_edge_from_small_ints_and_booleans(self, recorder):
        @task
        def extract():
            return 1

        @task
        def flag():
            return True

        @task
        def load(n, ok):
            return n

        @flow
        def etl():
            extract()
            flag()
            return load(1, True)  # the same objects, but not data from those runs

        etl()
        assert edges(recorder, recorder.task_run("load").id) == []

    def test_edges_from_futures_inside_containers(self, recorder):
        @task
        def part(i):
            return i

        @task
        def total(parts, named):
            return sum(parts) + named["x"]

        @flow
        def etl():
            a, b, c = part.submit(1), part.submit(2), part.submit(3)
            return total([a, b], {"x": c})

        assert etl() == 6
        found = edges(recorder, recorder.task_run("total").id)
        assert sorted(found) == [
            ("part", "data", "named"),
            ("part", "data", "parts"),
            ("part", "data", "parts"),
        ]

    def test_wait_for_adds_edges(self, recorder):
        @task
        def setup():
            return None

        @task
        def work(x):
            return x

        @flow
        def etl():
            ready = setup.submit()
            return work.submit(1, wait_for=[ready]).result()

        assert etl() == 1
        assert edges(recorder, recorder.task_run("work").id) == [("setup", "wait_for", None)]

    def test_wait_for_on_a_direct_call(self, recorder):
        @task
        def setup():
            return None

        @task
        def work():
            return "done"

        @flow
        def etl():
            ready = setup.submit()
            return work(wait_for=[ready])

        assert etl() == "done"
        assert edges(recorder, recorder.task_run("work").id) == [("setup", "wait_for", None)]

    def test_wait_for_waits_for_the_upstream(self, recorder):
        import threading

        log: list[str] = []
        lock = threading.Lock()

        @task
        def first():
            import time

            time.sleep(0.05)
            with lock:
                log.append("first")

        @task
        def second():
            with lock:
                log.append("second")

        @flow
        def etl():
            f = first.submit()
            second.submit(wait_for=[f]).wait()

        etl()
        assert log == ["first", "second"]

    def test_wait_for_takes_values_and_states_as_prefect(self, recorder):
        @task
        def setup():
            return 1

        @task
        def work():
            return 2

        @flow
        def etl():
            value = setup()
            state = setup(return_state=True)
            return work.submit(wait_for=[value, state, "anything"]).result()

        assert etl() == 2
        run = recorder.task_run("work")
        assert [e.kind for e in run.inputs] == ["wait_for"]  # the state's run; values add none

    def test_failed_upstream_fails_the_downstream_without_running_it(self, recorder):
        calls = []

        @task
        def broken():
            raise ValueError("nope")

        @task
        def after(x):
            calls.append(x)

        @flow
        def etl():
            by_data = after.submit(broken.submit())
            by_wait_for = after.submit(1, wait_for=[broken.submit()])
            assert by_wait_for.wait().is_failed()
            by_data.result()

        with pytest.raises(RuntimeError, match="upstream"):
            etl()
        assert calls == []
        assert len(recorder.task_runs_of("after")) == 2
        for run in recorder.task_runs_of("after"):
            assert recorder.state_names(run.id) == ["Pending", "Failed"]
            assert "upstream" in recorder.final(run.id).message

    def test_unused_failed_future_does_not_fail_the_flow(self, recorder):
        # As in Prefect 3: the flow's own return value or exception decides its state.
        @task
        def broken():
            raise ValueError("nope")

        @flow
        def etl():
            broken.submit()
            return "ok"

        assert etl() == "ok"
        assert recorder.final(recorder.task_run("broken").id).is_failed()


class TestRunGraph:
    """The recorded task runs and edges of a flow run form a DAG (``core.graph``)."""

    def graph_of(self, recorder, flow_run_id):
        from jupyter_flows.core.graph import build_graph

        runs = [r for r in recorder.task_runs.values() if r.flow_run_id == flow_run_id]
        return build_graph(
            ((r.id, {"name": r.name, "state": recorder.final(r.id).name}) for r in runs),
            ((e.upstream_id, r.id, {"kind": e.kind}) for r in runs for e in r.inputs),
        )

    def test_diamond(self, recorder):
        from jupyter_flows.core.graph import topological_order

        @task
        def source():
            return [1, 2]

        @task
        def left(rows):
            return [r * 2 for r in rows]

        @task
        def right(rows):
            return [r * 3 for r in rows]

        @task
        def join(a, b):
            return a + b

        @flow
        def etl():
            rows = source.submit()
            a, b = left.submit(rows), right.submit(rows)
            return join.submit(a, b, wait_for=[rows]).result()

        assert etl() == [2, 4, 3, 6]
        graph = self.graph_of(recorder, recorder.flow_run("etl").id)
        names = {node: data["name"] for node, data in graph.nodes(data=True)}
        named_edges = {(names[u], names[v], d["kind"]) for u, v, d in graph.edges(data=True)}
        assert named_edges == {
            ("source-0", "left-0", "data"),
            ("source-0", "right-0", "data"),
            ("left-0", "join-0", "data"),
            ("right-0", "join-0", "data"),
            ("source-0", "join-0", "wait_for"),
        }
        assert all(data["state"] == "Completed" for _n, data in graph.nodes(data=True))
        order = [names[n] for n in topological_order(graph)]
        assert order[0] == "source-0" and order[-1] == "join-0"

    def test_a_cycle_is_a_clear_error(self):
        from jupyter_flows.core.graph import build_graph
        from jupyter_flows.exceptions import CycleError

        nodes = [(n, {"name": n}) for n in ("a", "b", "c")]
        edges = [("a", "b", {}), ("b", "c", {}), ("c", "a", {})]
        with pytest.raises(CycleError, match="dependency cycle: a -> b -> c -> a") as info:
            build_graph(nodes, edges)
        assert info.value.cycle == ["a", "b", "c", "a"]


class TestOutsideAFlow:
    def test_call_just_runs(self):
        @task
        def double(x):
            return 2 * x

        assert double(4) == 8

    def test_is_recorded_as_a_standalone_task_run(self, recorder):
        @task
        def double(x):
            return 2 * x

        double(4)
        run = recorder.task_run("double")
        assert run.flow_run_id is None
        assert recorder.state_names(run.id) == ["Pending", "Running", "Completed"]
        assert recorder.flow_runs == {}
        assert recorder.flushes >= 1

    def test_failure_raises(self, recorder):
        @task
        def broken():
            raise ValueError("nope")

        with pytest.raises(ValueError, match="nope"):
            broken()
        assert recorder.final(recorder.task_run("broken").id).is_failed()

    def test_return_state(self):
        @task
        def double(x):
            return 2 * x

        state = double(2, return_state=True)
        assert state.is_completed() and state.result() == 4

    def test_submit_and_map(self, recorder):
        @task
        def double(x):
            return 2 * x

        assert double.submit(3).result() == 6
        assert [f.result() for f in double.map([1, 2])] == [2, 4]
        assert len(recorder.task_runs_of("double")) == 3

    def test_async_task_outside_a_loop_returns_its_value(self):
        @task
        async def double(x):
            return 2 * x

        assert double(5) == 10


class TestTaskParameterValidation:
    def test_off_by_default(self):
        @task
        def double(x: int):
            return x * 2

        assert double("3") == "33"

    def test_validate_parameters_coerces(self):
        @task(validate_parameters=True)
        def double(x: int):
            return x * 2

        assert double("3") == 6

    def test_invalid_parameter_names_it(self):
        from jupyter_flows.exceptions import ParameterValidationError

        @task(validate_parameters=True)
        def double(x: int):
            return x * 2

        with pytest.raises(ParameterValidationError, match="x: Input should be a valid integer"):
            double("three")
