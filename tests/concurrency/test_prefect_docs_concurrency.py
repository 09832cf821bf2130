"""The examples of Prefect's "Global concurrency limits" and "Tag-based concurrency limits"
pages (``prefect`` spelled ``jupyter_flows``), each asserting the outcome the page states."""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any

import pytest

from jupyter_flows import flow, read_flow_run, task
from jupyter_flows.concurrency.asyncio import concurrency as async_concurrency
from jupyter_flows.concurrency.sync import concurrency, rate_limit
from tests.concurrency.conftest import max_overlap


class _Tracker:
    """Who is inside a block at once (the overlap the pages promise to bound)."""

    def __init__(self) -> None:
        self.cond = threading.Condition()
        self.now = self.peak = 0
        self.intervals: list[tuple[float, float]] = []

    def inside(self, hold: float = 0.05, together: int = 1) -> None:
        """Stay ``hold`` seconds; the first ones also wait (10 s at most) until
        ``together`` are inside at once, so that a loaded machine starting them late
        does not make the overlap look smaller than the limit admits."""
        start = time.monotonic()
        with self.cond:
            self.now += 1
            self.peak = max(self.peak, self.now)
            self.cond.notify_all()
            self.cond.wait_for(lambda: self.peak >= together, timeout=10)
        time.sleep(hold)
        with self.cond:
            self.now -= 1
            self.intervals.append((start, time.monotonic()))


class TestGlobalConcurrencyLimitsPage:
    def test_concurrency_in_a_task_limits_database_connections(self, limits: Any) -> None:
        """ "we never exceed the maximum number of database connections"."""
        limits("database", 2)
        db = _Tracker()

        @task
        def database_query(query: str) -> str:
            with concurrency("database", occupy=1):
                db.inside(together=2)
                return f"rows of {query}"

        @flow
        def my_flow() -> list[str]:
            queries = ["SELECT * FROM table1", "SELECT * FROM table2", "SELECT * FROM table3"]
            return [f.result() for f in [database_query.submit(q) for q in queries]]

        assert my_flow() == [f"rows of SELECT * FROM table{i}" for i in (1, 2, 3)]
        assert max_overlap(db.intervals) == 2

    def test_process_data_occupies_one_slot_per_call(self, limits: Any) -> None:
        limits("database", 1)
        db = _Tracker()

        @task
        def process_data(x: int, y: int) -> int:
            with concurrency("database", occupy=1):
                db.inside(0.02)
                return x + y

        @flow
        def my_flow() -> list[int]:
            pairs = [(1, 2), (2, 3), (3, 4), (4, 5)]
            return [f.result() for f in [process_data.submit(x, y) for x, y in pairs]]

        assert my_flow() == [3, 5, 7, 9] and max_overlap(db.intervals) == 1

    def test_rate_limit_in_tasks_spaces_the_requests(self, limits: Any) -> None:
        """A limit of 5 decaying 5 slots/s: 10 requests take at least 1 s of decay."""
        limits("rate-limited-api", 5, slot_decay_per_second=5)
        sent: list[float] = []

        @task
        def make_http_request() -> None:
            rate_limit("rate-limited-api")
            sent.append(time.monotonic())

        @flow
        def my_flow() -> None:
            for f in [make_http_request.submit() for _ in range(10)]:
                f.wait()

        before = time.monotonic()  # earlier than any acquisition: delays only add to it
        my_flow()
        sent.sort()
        assert len(sent) == 10
        # the first 5 take the free slots; the other 5 each wait for one to decay (1/5 s):
        # the 10th cannot have been admitted before 1 s of decay, however slow the machine
        assert sent[9] - before >= 0.95

    def test_rate_limit_outside_of_a_flow(self, limits: Any) -> None:
        limits("rate-limited-api", 10, slot_decay_per_second=100)
        made = 0
        for _ in range(10):
            rate_limit("rate-limited-api")
            made += 1
        assert made == 10

    def test_async_parallel_data_processing_five_at_a_time(self, limits: Any) -> None:
        """The page's asyncio example: chunks of 5 under a limit of 10 slots."""
        limits("data-processing", 10)
        inside = {"now": 0, "most": 0}

        async def process_data(data: int) -> str:
            inside["now"] += 1
            inside["most"] = max(inside["most"], inside["now"])
            await asyncio.sleep(0.001)
            inside["now"] -= 1
            return f"Processed: {data}"

        async def main() -> list[str]:
            data_items = list(range(20))
            processed_data: list[str] = []
            while data_items:
                async with async_concurrency("data-processing", occupy=5):
                    chunk = [data_items.pop() for _ in range(5)]
                    processed_data += await asyncio.gather(*[process_data(i) for i in chunk])
            return processed_data

        out = asyncio.run(main())
        assert len(out) == 20 and inside["most"] == 5
        assert limits.read("data-processing").active_slots == 0

    def test_strict_raises_for_a_limit_that_does_not_exist(self, default_db: str) -> None:
        from jupyter_flows.concurrency.sync import ConcurrencySlotAcquisitionError

        with pytest.raises(ConcurrencySlotAcquisitionError):
            with concurrency("does-not-exist", occupy=1, strict=True):
                pass


class TestTagBasedConcurrencyLimitsPage:
    def test_fetch_data_respects_the_database_tag(self, limits: Any) -> None:
        limits("tag:database", 10)

        @task(tags=["database"])
        def fetch_data() -> str:
            return "data"

        @flow
        def my_workflow() -> str:
            return fetch_data()

        assert my_workflow() == "data"

    def test_only_that_many_tasks_with_the_tag_run_at_once(self, limits: Any) -> None:
        limits("tag:database", 2)
        db = _Tracker()

        @task(tags=["database"])
        def query_database(query: str) -> str:
            db.inside(hold=0.3, together=2)  # the third one comes while two are inside
            return f"Results for {query}"

        @flow
        def data_pipeline() -> list[str]:
            queries = ["SELECT * FROM users", "SELECT * FROM orders", "SELECT * FROM products"]
            return [f.result() for f in [query_database.submit(q) for q in queries]]

        state = data_pipeline(return_state=True)
        assert state.result()[0] == "Results for SELECT * FROM users"
        assert max_overlap(db.intervals) == 2
        names = {s.name for s in read_flow_run(state.run_id).task_states}
        assert "AwaitingConcurrencySlot" in names  # the third one waited

    def test_a_task_needs_slots_in_all_its_tags(self, limits: Any) -> None:
        limits("tag:database", 5)
        limits("tag:analytics", 1)
        both = _Tracker()

        @task(tags=["database", "analytics"])
        def complex_query() -> str:
            both.inside()
            return "complex results"

        @flow
        def run_them() -> list[str]:
            return [f.result() for f in [complex_query.submit() for _ in range(3)]]

        assert run_them() == ["complex results"] * 3
        assert max_overlap(both.intervals) == 1  # analytics' single slot bounds them

    def test_tags_without_a_limit_are_unlimited(self, default_db: str) -> None:
        free = _Tracker()

        @task(tags=["no-limit"])
        def anything() -> None:
            free.inside(together=3)

        @flow
        def run_them() -> None:
            for f in [anything.submit() for _ in range(3)]:
                f.wait()

        run_them()
        assert max_overlap(free.intervals) == 3

    def test_a_limit_of_zero_aborts_instead_of_delaying(self, limits: Any) -> None:
        limits("tag:database", 0)

        @task(tags=["database"])
        def fetch_data() -> str:
            return "data"

        @flow
        def my_workflow() -> Any:
            return fetch_data(return_state=True).message

        assert "is 0 and will deadlock" in my_workflow()
