"""Task runners: the bounded thread pool, the sequential runner, and concurrent flow runs."""

from __future__ import annotations

import concurrent.futures
import threading
import time

import pytest

from jupyter_flows import (
    SequentialTaskRunner,
    TaskRunner,
    ThreadPoolTaskRunner,
    flow,
    get_run_logger,
    task,
)


class Gauge:
    """Counts how many task bodies are inside at once (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.current = 0
        self.peak = 0

    def __enter__(self) -> None:
        with self._lock:
            self.current += 1
            self.peak = max(self.peak, self.current)

    def __exit__(self, *exc: object) -> None:
        with self._lock:
            self.current -= 1


class TestThreadPoolTaskRunner:
    def test_runs_tasks_concurrently(self):
        # Both tasks must be inside at once to pass the barrier; run one after the other,
        # the barrier would break (after its timeout) and the flow would fail.
        barrier = threading.Barrier(2, timeout=10)

        @task
        def meet(i):
            barrier.wait()
            return i

        @flow(task_runner=ThreadPoolTaskRunner(max_workers=2))
        def etl():
            return [f.result() for f in meet.map([1, 2])]

        assert etl() == [1, 2]

    def test_max_workers_bounds_concurrency(self, recorder):
        gauge = Gauge()
        pairs = threading.Barrier(2, timeout=10)  # ensures two do run together

        @task
        def work(i):
            with gauge:
                pairs.wait()
                time.sleep(0.02)
            return i

        @flow(task_runner=ThreadPoolTaskRunner(max_workers=2))
        def etl():
            return [f.result() for f in work.map(range(8))]

        assert etl() == list(range(8))
        assert gauge.peak == 2
        assert all(recorder.final(r.id).is_completed() for r in recorder.task_runs_of("work"))

    def test_tasks_run_in_worker_threads(self):
        @task
        def where():
            return threading.current_thread().name

        @flow
        def etl():
            return where.submit().result(), threading.current_thread().name

        worker, flow_thread = etl()
        assert worker.startswith("jupyter-flows-task")
        assert worker != flow_thread

    def test_default_max_workers(self):
        runner = ThreadPoolTaskRunner()
        assert 1 <= runner.max_workers <= 32

    def test_rejects_zero_workers(self):
        with pytest.raises(ValueError, match="max_workers must be at least 1"):
            ThreadPoolTaskRunner(max_workers=0)

    def test_each_flow_run_gets_a_fresh_runner(self):
        runner = ThreadPoolTaskRunner(max_workers=3)
        copy = runner.duplicate()
        assert copy is not runner
        assert isinstance(copy, ThreadPoolTaskRunner)
        assert copy.max_workers == 3

        @task
        def one():
            return 1

        @flow(task_runner=runner)
        def etl():
            return one.submit().result()

        assert (etl(), etl()) == (1, 1)
        assert runner._pool is None  # the definition's runner is only a template

    def test_repr(self):
        assert repr(ThreadPoolTaskRunner(max_workers=2)) == "ThreadPoolTaskRunner(max_workers=2)"

    def test_context_reaches_worker_threads(self, recorder):
        @task
        def chatty(i):
            get_run_logger().info("task %d here", i)

        @flow
        def etl():
            for f in chatty.map(range(3)):
                f.wait()

        etl()
        for run in recorder.task_runs_of("chatty"):
            assert recorder.messages(task_run_id=run.id) == [f"task {run.dynamic_key} here"]
            assert run.flow_run_id == recorder.flow_run("etl").id


class TestSequentialTaskRunner:
    def test_runs_each_task_at_submit_in_order(self):
        order = []

        @task
        def step(i):
            order.append(("run", i))
            return threading.current_thread()

        @flow(task_runner=SequentialTaskRunner())
        def etl():
            threads = []
            for i in range(3):
                future = step.submit(i)
                order.append(("submitted", i))
                assert future.done()
                threads.append(future.result())
            return threads, threading.current_thread()

        threads, flow_thread = etl()
        assert order == [
            ("run", 0),
            ("submitted", 0),
            ("run", 1),
            ("submitted", 1),
            ("run", 2),
            ("submitted", 2),
        ]
        assert all(t is flow_thread for t in threads)

    def test_failures_are_delivered_through_the_future(self, recorder):
        @task
        def broken():
            raise ValueError("bad")

        @flow(task_runner=SequentialTaskRunner())
        def etl():
            future = broken.submit()
            return future.state.name

        assert etl() == "Failed"

    def test_runner_submit_outside_the_engine(self):
        runner = SequentialTaskRunner()
        with runner:
            assert runner.submit(lambda x: x + 1, 1).result() == 2
            failed = runner.submit(lambda: 1 / 0)
            assert isinstance(failed.exception(), ZeroDivisionError)


class TestCustomRunner:
    def test_a_subclass_of_the_abc_is_a_task_runner(self, recorder):
        events = []

        class RecordingRunner(TaskRunner):
            """Runs submissions on a one-thread pool and remembers its lifecycle."""

            def __init__(self) -> None:
                self._pool: concurrent.futures.ThreadPoolExecutor | None = None

            def duplicate(self) -> RecordingRunner:
                return RecordingRunner()

            def start(self) -> None:
                events.append("start")
                self._pool = concurrent.futures.ThreadPoolExecutor(1)

            def submit(self, fn, *args):
                events.append("submit")
                return self._pool.submit(fn, *args)

            def call(self, fn, args, kwargs):
                events.append("call")
                return fn(*args, **kwargs)

            def shutdown(self) -> None:
                events.append("shutdown")
                self._pool.shutdown(wait=True)

        @task
        def double(x):
            return 2 * x

        @flow(task_runner=RecordingRunner())
        def etl():
            return double(1), double.submit(2).result()

        assert etl() == (2, 4)
        assert events == ["start", "call", "submit", "call", "shutdown"]

    def test_the_abc_cannot_be_instantiated(self):
        with pytest.raises(TypeError):
            TaskRunner()


class TestConcurrentFlowRuns:
    def test_flow_runs_in_threads_are_isolated(self, recorder):
        barrier = threading.Barrier(3, timeout=10)

        @task
        def step(x):
            barrier.wait()
            return x * 10

        @flow
        def etl(x):
            return step(x)

        with concurrent.futures.ThreadPoolExecutor(3) as pool:
            results = list(pool.map(etl, [1, 2, 3]))
        assert results == [10, 20, 30]
        runs = recorder.flow_runs_of("etl")
        assert len(runs) == 3
        for run in runs:
            (task_run,) = recorder.task_runs_of("step", flow_run_id=run.id)
            assert recorder.final(task_run.id).result() == run.parameters["x"] * 10
            assert recorder.final(run.id).is_completed()

    def test_many_submitted_tasks_are_all_recorded(self, recorder):
        @task
        def noop(i):
            return i

        @flow(task_runner=ThreadPoolTaskRunner(max_workers=8))
        def etl():
            return sum(f.result() for f in noop.map(range(200)))

        assert etl() == sum(range(200))
        runs = recorder.task_runs_of("noop")
        assert len(runs) == 200
        assert sorted(r.dynamic_key for r in runs) == list(range(200))
        assert all(recorder.state_names(r.id) == ["Pending", "Running", "Completed"] for r in runs)
