"""Caching: composable policies, key functions, expiry, refresh, persistence and bad entries."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import textwrap
import threading
import time
from datetime import timedelta

import pytest

from jupyter_flows import (
    DEFAULT,
    FLOW_PARAMETERS,
    INPUTS,
    NONE,
    RUN_ID,
    TASK_SOURCE,
    flow,
    task,
)
from jupyter_flows.core.caching import CompoundCachePolicy, Inputs
from jupyter_flows.exceptions import ResultPersistenceError


class Counter:
    """Counts calls of a task body (thread-safe)."""

    def __init__(self) -> None:
        self.n = 0
        self._lock = threading.Lock()

    def __call__(self) -> int:
        with self._lock:
            self.n += 1
            return self.n


def result_files(results_dir):
    return sorted(p for p in results_dir.rglob("*") if p.is_file() and not p.name.startswith("."))


class TestPolicies:
    def test_inputs_hit_on_the_same_arguments(self, recorder):
        calls = Counter()

        @task(cache_policy=INPUTS)
        def double(x):
            calls()
            return 2 * x

        @flow
        def etl():
            return double(2), double(2), double(3)

        assert etl() == (4, 4, 6)
        assert calls.n == 2
        names = [recorder.final(r.id).name for r in recorder.task_runs_of("double")]
        assert names == ["Completed", "Cached", "Completed"]

    def test_cached_state_is_recorded_without_running(self, recorder):
        @task(cache_policy=INPUTS)
        def double(x):
            return 2 * x

        double(1)
        double(1)
        second = recorder.task_runs_of("double")[1]
        assert recorder.state_names(second.id) == ["Pending", "Cached"]
        cached = recorder.final(second.id)
        assert cached.is_completed()
        assert cached.result() == 2
        assert cached.message.startswith("cache hit ")

    def test_cache_hits_across_flow_runs(self):
        calls = Counter()

        @task(cache_policy=INPUTS)
        def double(x):
            calls()
            return 2 * x

        @flow
        def etl(x):
            return double(x)

        assert (etl(5), etl(5)) == (10, 10)
        assert calls.n == 1

    def test_inputs_with_an_excluded_argument(self):
        calls = Counter()

        @task(cache_policy=INPUTS - "verbose")
        def double(x, verbose=False):
            calls()
            return 2 * x

        assert (double(1, verbose=True), double(1, verbose=False)) == (2, 2)
        assert calls.n == 1
        assert (INPUTS - "verbose") == Inputs(exclude=("verbose",))

    def test_inputs_key_on_keyword_or_positional_alike(self):
        calls = Counter()

        @task(cache_policy=INPUTS)
        def double(x):
            calls()
            return 2 * x

        double(4)
        double(x=4)
        assert calls.n == 1

    def test_task_source_ignores_inputs(self):
        calls = Counter()

        @task(cache_policy=TASK_SOURCE)
        def constant(x):
            calls()
            return "first"

        assert (constant(1), constant(2)) == ("first", "first")
        assert calls.n == 1

    def test_flow_parameters(self):
        calls = Counter()

        @task(cache_policy=FLOW_PARAMETERS)
        def load():
            return calls()

        @flow
        def etl(day):
            return load()

        assert [etl("mon"), etl("mon"), etl("tue")] == [1, 1, 2]

    def test_run_id_caches_within_one_flow_run(self):
        calls = Counter()

        @task(cache_policy=RUN_ID)
        def load():
            return calls()

        @flow
        def etl():
            return load(), load()

        assert etl() == (1, 1)
        assert etl() == (2, 2)

    def test_default_is_inputs_source_and_run_id(self):
        assert isinstance(DEFAULT, CompoundCachePolicy)
        assert DEFAULT.policies == (INPUTS, TASK_SOURCE, RUN_ID)
        calls = Counter()

        @task(cache_policy=DEFAULT)
        def double(x):
            calls()
            return 2 * x

        @flow
        def etl():
            return double(1), double(1), double(2)

        assert etl() == (2, 2, 4)
        assert etl() == (2, 2, 4)
        assert calls.n == 4  # a new flow run is a new cache scope

    def test_none_never_caches(self, results_dir):
        calls = Counter()

        @task(cache_policy=NONE)
        def double(x):
            calls()
            return 2 * x

        double(1)
        double(1)
        assert calls.n == 2
        assert result_files(results_dir) == []

    def test_no_policy_means_no_caching(self):
        calls = Counter()

        @task
        def double(x):
            calls()
            return 2 * x

        double(1)
        double(1)
        assert calls.n == 2


class TestComposition:
    def test_plus_combines_keys(self):
        calls = Counter()

        @task(cache_policy=INPUTS + FLOW_PARAMETERS)
        def load(x):
            return calls()

        @flow
        def etl(day, x):
            return load(x)

        assert etl("mon", 1) == 1
        assert etl("mon", 1) == 1  # both parts equal: hit
        assert etl("mon", 2) == 2  # inputs differ
        assert etl("tue", 1) == 3  # flow parameters differ

    def test_plus_flattens_and_deduplicates(self):
        combined = INPUTS + TASK_SOURCE + INPUTS
        assert combined.policies == (INPUTS, TASK_SOURCE)
        assert (INPUTS + (TASK_SOURCE + FLOW_PARAMETERS)).policies == (
            INPUTS,
            TASK_SOURCE,
            FLOW_PARAMETERS,
        )

    def test_plus_none_is_none(self):
        assert INPUTS + NONE is NONE
        assert NONE + DEFAULT is NONE

    def test_a_none_key_part_disables_caching(self):
        calls = Counter()

        class Unhashable:
            def __reduce__(self):
                raise TypeError("no pickling")

        @task(cache_policy=INPUTS + TASK_SOURCE)
        def use(obj):
            return calls()

        thing = Unhashable()
        assert (use(thing), use(thing)) == (1, 2)


class TestCacheKeyFn:
    def test_custom_key(self, recorder):
        calls = Counter()
        seen = []

        def by_name(context, inputs):
            seen.append((context.task.name, context.task_run.id, dict(inputs)))
            return inputs["name"].lower()

        @task(cache_key_fn=by_name)
        def greet(name):
            calls()
            return f"hello {name}"

        assert greet("Ada") == "hello Ada"
        assert greet("ADA") == "hello Ada"  # same key: the cached value
        assert calls.n == 1
        first_run = recorder.task_runs_of("greet")[0]
        assert seen[0] == ("greet", first_run.id, {"name": "Ada"})

    def test_none_key_means_no_caching(self):
        calls = Counter()

        @task(cache_key_fn=lambda context, inputs: None)
        def greet(name):
            return calls()

        assert (greet("a"), greet("a")) == (1, 2)

    def test_raising_key_fn_runs_uncached_and_logs(self, recorder):
        calls = Counter()

        def broken(context, inputs):
            raise RuntimeError("no key today")

        @task(cache_key_fn=broken)
        def greet(name):
            return calls()

        assert (greet("a"), greet("a")) == (1, 2)
        messages = recorder.messages(task_run_id=recorder.task_runs_of("greet")[0].id)
        assert any("cache key of task 'greet' could not be computed" in m for m in messages)


class TestExpirationAndRefresh:
    def test_unexpired_entry_is_a_hit(self):
        calls = Counter()

        @task(cache_policy=INPUTS, cache_expiration=timedelta(hours=1))
        def load(x):
            return calls()

        assert (load(1), load(1)) == (1, 1)

    def test_expired_entry_is_a_miss(self, recorder):
        calls = Counter()

        @task(cache_policy=INPUTS, cache_expiration=0.2)
        def load(x):
            return calls()

        assert load.cache_expiration == timedelta(seconds=0.2)
        assert load(1) == 1
        time.sleep(0.3)
        assert load(1) == 2
        assert [recorder.final(r.id).name for r in recorder.task_runs_of("load")] == [
            "Completed",
            "Completed",
        ]

    def test_expiry_is_recorded_with_the_result(self, recorder):
        @task(cache_policy=INPUTS, cache_expiration=timedelta(minutes=5))
        def load(x):
            return x

        load(1)
        (info,) = recorder.results
        assert info.expires is not None
        assert info.expires - info.created <= timedelta(minutes=5)
        assert info.expires - info.created > timedelta(minutes=4)

    def test_refresh_cache_recomputes_and_overwrites(self):
        calls = Counter()

        @task(cache_policy=INPUTS)
        def load(x):
            return calls()

        assert load(1) == 1
        refreshing = load.with_options(refresh_cache=True)
        assert refreshing(1) == 2
        assert refreshing(1) == 3
        assert load(1) == 3  # the refreshed value is what is cached now


class TestCachedRuns:
    def test_cached_run_does_not_call_the_function(self):
        calls = Counter()

        @task(cache_policy=INPUTS)
        def expensive(x):
            calls()
            return {"value": x}

        first = expensive(1)
        second = expensive(1)
        assert calls.n == 1
        assert second == first == {"value": 1}

    def test_cached_future(self, recorder):
        calls = Counter()

        @task(cache_policy=INPUTS)
        def double(x):
            calls()
            return 2 * x

        @flow
        def etl():
            a = double.submit(1).result()
            b = double.submit(1)
            return a, b.result(), b.state.name

        assert etl() == (2, 2, "Cached")
        assert calls.n == 1

    def test_cached_result_records_edges_downstream(self, recorder):
        @task(cache_policy=INPUTS)
        def rows(n):
            return list(range(n))

        @task
        def count(values):
            return len(values)

        @flow
        def etl():
            return count(rows(3))

        etl()
        etl()  # rows() is a cache hit the second time
        second_count = recorder.task_runs_of("count")[1]
        (edge,) = second_count.inputs
        assert recorder.task_runs[edge.upstream_id].task_name == "rows"

    def test_result_metadata_is_recorded(self, recorder, results_dir):
        @task(cache_policy=INPUTS)
        def double(x):
            return 2 * x

        @flow
        def etl():
            return double(4)

        etl()
        (info,) = recorder.results
        run = recorder.task_run("double")
        assert info.task_run_id == run.id
        assert info.flow_run_id == recorder.flow_run("etl").id
        assert info.serializer == "pickle"
        assert info.location.startswith(str(results_dir))
        assert os.path.exists(info.location)


class TestSourcePolicy:
    def test_key_changes_when_the_source_changes(self):
        calls = Counter()

        def make(body: str):
            namespace: dict = {"task": task, "TASK_SOURCE": TASK_SOURCE, "calls": calls}
            exec(
                textwrap.dedent(
                    f"""
                    @task(cache_policy=TASK_SOURCE, name="step")
                    def step():
                        calls()
                        return {body}
                    """
                ),
                namespace,
            )
            return namespace["step"]

        assert make("1")() == 1
        assert make("1")() == 1  # same code: hit
        assert make("2")() == 2  # new code: miss
        assert calls.n == 2

    def test_works_without_source_code_and_follows_globals(self):
        # ``exec`` has no source file, like a plain REPL: ``inspect.getsource`` fails there.
        calls = Counter()
        namespace: dict = {"task": task, "TASK_SOURCE": TASK_SOURCE, "calls": calls, "FACTOR": 2}
        exec(
            textwrap.dedent(
                """
                @task(cache_policy=TASK_SOURCE)
                def scaled():
                    calls()
                    return 10 * FACTOR
                """
            ),
            namespace,
        )
        scaled = namespace["scaled"]
        import inspect

        with pytest.raises(OSError):
            inspect.getsource(scaled.fn)
        assert scaled() == 20
        assert scaled() == 20
        assert calls.n == 1
        namespace["FACTOR"] = 3  # a global the function reads changed: a new key
        assert scaled() == 30
        assert calls.n == 2
        namespace["FACTOR"] = 2
        assert scaled() == 20  # and the old entry is still there
        assert calls.n == 2

    def test_follows_helper_functions(self):
        calls = Counter()
        namespace: dict = {"task": task, "TASK_SOURCE": TASK_SOURCE, "calls": calls}
        exec(
            textwrap.dedent(
                """
                def helper():
                    return 1

                @task(cache_policy=TASK_SOURCE)
                def step():
                    calls()
                    return helper()
                """
            ),
            namespace,
        )
        step = namespace["step"]
        assert (step(), step()) == (1, 1)
        exec("def helper():\n    return 2\n", namespace)
        assert step() == 2
        assert calls.n == 2


class TestSerializers:
    def test_json_serializer(self, recorder, results_dir):
        calls = Counter()

        @task(cache_policy=INPUTS, result_serializer="json")
        def load(x):
            calls()
            return {"x": x, "items": [1, 2]}

        assert load(1) == {"x": 1, "items": [1, 2]}
        assert load(1) == {"x": 1, "items": [1, 2]}
        assert calls.n == 1
        (info,) = recorder.results
        assert info.serializer == "json"
        (path,) = result_files(results_dir)
        header, _, payload = path.read_bytes().partition(b"\n")
        assert json.loads(header)["serializer"] == "json"
        assert json.loads(payload) == {"x": 1, "items": [1, 2]}

    def test_value_json_cannot_hold_fails_the_task(self, recorder):
        @task(cache_policy=INPUTS, result_serializer="json")
        def load(x):
            return object()  # JSON (even pydantic's encoder, which takes sets) cannot hold it

        with pytest.raises(ResultPersistenceError, match="task 'load'.*'json'.*Serialization"):
            load(1)
        assert recorder.final(recorder.task_run("load").id).is_failed()

    def test_pickle_serializer_handles_lambdas(self):
        calls = Counter()

        @task(cache_policy=INPUTS)
        def make(x):
            calls()
            return lambda y: x + y

        assert make(1)(1) == 2
        assert make(1)(2) == 3
        assert calls.n == 1


class TestPersistence:
    def test_persist_result_writes_the_result(self, recorder, results_dir):
        @task(persist_result=True)
        def load():
            return [1, 2, 3]

        load()
        (info,) = recorder.results
        # as Prefect, persisting turns on the DEFAULT cache policy: the key is its cache key
        assert info.task_run_id == recorder.task_run("load").id and len(info.key) == 64
        assert [str(p) for p in result_files(results_dir)] == [info.location]

    def test_results_are_not_written_by_default(self, recorder, results_dir):
        @task
        def load():
            return [1, 2, 3]

        load()
        assert recorder.results == []
        assert result_files(results_dir) == []

    def test_unpicklable_result_fails_the_task_and_keeps_other_records(self, recorder):
        @task
        def fine():
            return "ok"

        @task(persist_result=True)
        def lock():
            return threading.Lock()

        @flow
        def etl():
            fine()
            return lock()

        with pytest.raises(ResultPersistenceError) as info:
            etl()
        message = str(info.value)
        assert "task 'lock'" in message
        assert "could not be serialized with 'pickle'" in message
        assert "TypeError" in message and "_thread.lock" in message  # says what and why
        run = recorder.task_run("lock")
        assert recorder.state_names(run.id) == ["Pending", "Running", "Failed"]
        assert recorder.final(run.id).message == message
        assert recorder.final(recorder.task_run("fine").id).is_completed()
        flow_run = recorder.flow_run("etl")
        assert recorder.final(flow_run.id).is_failed()
        assert recorder.results == []

    def test_corrupt_result_file_is_a_logged_miss(self, recorder, results_dir, caplog):
        calls = Counter()

        @task(cache_policy=INPUTS)
        def load(x):
            return calls()

        assert load(1) == 1
        (path,) = result_files(results_dir)
        path.write_bytes(b"\x00garbage, not a header\n\x01\x02")
        with caplog.at_level(logging.WARNING, logger="jupyter_flows.core.results"):
            assert load(1) == 2
        assert calls.n == 2
        assert "corrupt cached result" in caplog.text
        assert "treating as a miss" in caplog.text
        assert recorder.final(recorder.task_runs_of("load")[1].id).name == "Completed"
        assert load(1) == 2  # the entry was rewritten: a hit again

    def test_truncated_payload_is_a_miss(self, results_dir, caplog):
        calls = Counter()

        @task(cache_policy=INPUTS)
        def load(x):
            calls()
            return list(range(100))

        load(1)
        (path,) = result_files(results_dir)
        path.write_bytes(path.read_bytes()[:-20])
        with caplog.at_level(logging.WARNING, logger="jupyter_flows.core.results"):
            assert load(1) == list(range(100))
        assert calls.n == 2
        assert "corrupt cached result" in caplog.text


CROSS_PROCESS_SCRIPT = """
from jupyter_flows import INPUTS, TASK_SOURCE, flow, task

@task(cache_policy=INPUTS + TASK_SOURCE)
def expensive(x):
    print("computed")
    return x * 100

@flow
def etl(x):
    return expensive(x, return_state=True)

state = etl(3)
print(state.name, state.result())
"""


class TestAcrossProcesses:
    def run_script(self, home):
        env = {**os.environ, "JUPYTER_FLOWS_HOME": str(home), "JUPYTER_FLOWS_RECORD": "0"}
        proc = subprocess.run(
            [sys.executable, "-c", CROSS_PROCESS_SCRIPT],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert proc.returncode == 0, proc.stderr
        return proc.stdout.split()

    def test_second_process_hits_the_cache(self, tmp_path):
        home = tmp_path / "shared_home"
        assert self.run_script(home) == ["computed", "Completed", "300"]
        assert self.run_script(home) == ["Cached", "300"]
        assert list((home / "results").rglob("*"))

    def test_separate_homes_do_not_share(self, tmp_path):
        assert self.run_script(tmp_path / "a") == ["computed", "Completed", "300"]
        assert self.run_script(tmp_path / "b") == ["computed", "Completed", "300"]
