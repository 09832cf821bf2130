"""Async flows and tasks, and calling flows from inside a running event loop (a Jupyter kernel).

Each test that needs a running loop runs its body with ``asyncio.run(main())``, which is
what a notebook cell's top-level ``await`` amounts to.
"""

from __future__ import annotations

import asyncio
import inspect
import threading

import pytest

from jupyter_flows import State, flow, task


class TestSyncFlowInARunningLoop:
    def test_returns_the_value_not_a_coroutine(self, recorder):
        @task
        def double(x):
            return 2 * x

        @flow
        def etl(x):
            return double(x)

        async def main():
            return etl(21)

        result = asyncio.run(main())
        assert result == 42
        assert recorder.final(recorder.flow_run("etl").id).is_completed()

    def test_raises_the_flow_error(self):
        @flow
        def etl():
            raise ValueError("bad")

        async def main():
            etl()

        with pytest.raises(ValueError, match="bad"):
            asyncio.run(main())

    def test_submit_and_map_inside_the_loop(self):
        @task
        def double(x):
            return 2 * x

        @flow
        def etl():
            return [f.result() for f in double.map([1, 2, 3])]

        async def main():
            return etl()

        assert asyncio.run(main()) == [2, 4, 6]

    def test_async_task_in_a_sync_flow_returns_its_value(self, recorder):
        @task
        async def double(x):
            await asyncio.sleep(0)
            return 2 * x

        @flow
        def etl(x):
            return double(x)

        assert etl(2) == 4  # no loop running

        async def main():
            return etl(3)  # the same flow, called from a running loop

        assert asyncio.run(main()) == 6
        assert all(recorder.final(r.id).is_completed() for r in recorder.task_runs_of("double"))

    def test_task_outside_a_flow_in_a_running_loop(self):
        @task
        def double(x):
            return 2 * x

        async def main():
            return double(4)

        assert asyncio.run(main()) == 8


class TestAsyncFlows:
    def test_calling_returns_an_awaitable(self):
        @flow
        async def etl():
            return 1

        pending = etl()
        assert inspect.isawaitable(pending)
        assert asyncio.run(pending) == 1

    def test_await_inside_a_running_loop(self, recorder):
        @flow
        async def etl(x: int):
            await asyncio.sleep(0)
            return x + 1

        async def main():
            return await etl("1")

        assert asyncio.run(main()) == 2
        run = recorder.flow_run("etl")
        assert recorder.state_names(run.id) == ["Pending", "Running", "Completed"]

    def test_does_not_block_the_callers_loop(self):
        release = threading.Event()

        @flow
        async def etl():
            while not release.is_set():
                await asyncio.sleep(0.01)
            return "done"

        async def main():
            running = asyncio.ensure_future(etl())

            async def other():
                await asyncio.sleep(0.01)
                release.set()  # runs while the flow is still running
                return "other"

            return await asyncio.gather(running, other())

        assert asyncio.run(main()) == ["done", "other"]

    def test_return_state(self):
        @flow
        async def etl():
            raise KeyError("missing")

        async def main():
            return await etl(return_state=True)

        state = asyncio.run(main())
        assert isinstance(state, State)
        assert state.is_failed()

    def test_raises_on_await(self):
        @flow
        async def etl():
            raise KeyError("missing")

        async def main():
            await etl()

        with pytest.raises(KeyError, match="missing"):
            asyncio.run(main())

    def test_async_tasks_are_awaited(self, recorder):
        @task
        async def double(x):
            await asyncio.sleep(0)
            return 2 * x

        @flow
        async def etl():
            a = await double(1)
            b = await double(a)
            return b

        assert asyncio.run(etl()) == 4
        runs = recorder.task_runs_of("double")
        assert len(runs) == 2
        assert all(recorder.state_names(r.id) == ["Pending", "Running", "Completed"] for r in runs)
        assert [e.parameter for e in runs[1].inputs] == []  # a small int carries no edge

    def test_async_tasks_gathered_run_concurrently(self):
        barrier = threading.Barrier(2, timeout=10)

        @task
        async def meet(i):
            await asyncio.to_thread(barrier.wait)
            return i

        @flow
        async def etl():
            return await asyncio.gather(meet(1), meet(2))

        assert asyncio.run(etl()) == [1, 2]

    def test_sync_tasks_inside_an_async_flow(self, recorder):
        @task
        def double(x):
            return 2 * x

        @flow
        async def etl():
            direct = double(1)
            submitted = double.submit(2).result()
            mapped = [f.result() for f in double.map([3, 4])]
            return direct, submitted, mapped

        assert asyncio.run(etl()) == (2, 4, [6, 8])
        assert len(recorder.task_runs_of("double")) == 4

    def test_async_task_called_by_a_sync_task_in_an_async_flow(self):
        @task
        async def double(x):
            await asyncio.sleep(0)
            return 2 * x

        @task
        def outer(x):
            return double(x) + 1  # a sync body: gets the value

        @flow
        async def etl():
            return outer(3)

        assert asyncio.run(etl()) == 7

    def test_async_task_submitted_in_an_async_flow(self):
        @task
        async def double(x):
            await asyncio.sleep(0)
            return 2 * x

        @flow
        async def etl():
            return double.submit(5).result()

        assert asyncio.run(etl()) == 10

    def test_failing_async_task(self, recorder):
        @task
        async def broken():
            raise ValueError("async failure")

        @flow
        async def etl():
            await broken()

        with pytest.raises(ValueError, match="async failure"):
            asyncio.run(etl())
        run = recorder.task_run("broken")
        assert recorder.final(run.id).message == "ValueError: async failure"

    def test_async_task_outside_a_flow_in_a_running_loop(self, recorder):
        @task
        async def double(x):
            return 2 * x

        async def main():
            return await double(4)

        assert asyncio.run(main()) == 8
        assert recorder.task_run("double").flow_run_id is None
