"""``jupyter_flows.concurrency.sync`` and ``.asyncio`` with Prefect's rules, in a process with
the database (SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from typing import Any

import pytest

from jupyter_flows import flow, task
from jupyter_flows.concurrency import asyncio as aconcurrency
from jupyter_flows.concurrency.sync import (
    AcquireConcurrencySlotTimeoutError,
    ConcurrencySlotAcquisitionError,
    concurrency,
    rate_limit,
)
from tests.concurrency.conftest import max_overlap


class TestConcurrency:
    def test_holds_then_releases_with_its_holder(self, limits: Any) -> None:
        limits("db", 2)
        with concurrency("db", occupy=2):
            seen = limits.read("db")
            assert seen.active_slots == 2
            (holder,) = seen.holders
            assert holder.holder.type == "process" and holder.slots == 2
        assert limits.read("db").active_slots == 0 and limits.read("db").holders == []

    def test_released_when_the_block_raises(self, limits: Any) -> None:
        limits("db", 1)
        with pytest.raises(KeyError), concurrency("db"):
            raise KeyError("boom")
        assert limits.read("db").active_slots == 0

    def test_inside_a_task_the_holder_is_the_task_run(self, limits: Any) -> None:
        limits("db", 1)
        seen: list[Any] = []

        @task
        def work() -> None:
            with concurrency("db"):
                seen.extend(limits.read("db").holders)

        @flow
        def pipeline() -> None:
            work()

        pipeline()
        assert [(h.holder.type, h.holder.name) for h in seen] == [("task_run", "work-0")]

    def test_missing_limit_warns_and_runs_unless_strict(
        self, default_db: str, caplog: pytest.LogCaptureFixture
    ) -> None:
        with caplog.at_level(logging.WARNING), concurrency("nothing"):
            pass
        assert "Concurrency limits ['nothing'] do not exist - skipping acquisition." in caplog.text
        with pytest.raises(ConcurrencySlotAcquisitionError, match="must be created before"):
            with concurrency("nothing", strict=True):
                pytest.fail("must not run")

    def test_an_inactive_limit_admits_without_counting(self, limits: Any) -> None:
        limits("off", 1, active=False)
        with concurrency("off", occupy=1), concurrency("off", occupy=1):
            assert limits.read("off").active_slots == 0

    def test_more_slots_than_the_limit_is_an_error(self, limits: Any) -> None:
        limits("db", 2)
        with pytest.raises(ConcurrencySlotAcquisitionError, match="more than the limit of 2"):
            with concurrency("db", occupy=3):
                pytest.fail("must not run")

    def test_timeout_is_a_timeout_error(self, limits: Any) -> None:
        limits("db", 1)
        with concurrency("db"):
            with pytest.raises(TimeoutError, match="timed out after 0.2 second") as caught:
                with concurrency("db", timeout_seconds=0.2):
                    pytest.fail("must not run")
        assert isinstance(caught.value, AcquireConcurrencySlotTimeoutError)

    def test_max_retries(self, limits: Any) -> None:
        limits("db", 1)
        with concurrency("db"):
            with pytest.raises(ConcurrencySlotAcquisitionError, match="after 2 retries"):
                with concurrency("db", max_retries=2):
                    pytest.fail("must not run")
        assert limits.read("db").denied_slots == 3

    def test_several_names_all_or_nothing(self, limits: Any) -> None:
        limits("a", 1)
        limits("b", 1)
        with concurrency("a"):
            with pytest.raises(TimeoutError), concurrency(["a", "b"], timeout_seconds=0.2):
                pass
            assert limits.read("b").active_slots == 0  # nothing of b was taken
        with concurrency(["a", "b"]):
            assert (limits.read("a").active_slots, limits.read("b").active_slots) == (1, 1)

    def test_a_waiter_gets_the_slot_when_it_is_released(self, limits: Any) -> None:
        limits("db", 1)
        intervals: list[tuple[float, float]] = []
        lock = threading.Lock()

        def worker() -> None:
            for _ in range(3):
                with concurrency("db", timeout_seconds=60):
                    start = time.monotonic()
                    time.sleep(0.01)
                    with lock:
                        intervals.append((start, time.monotonic()))

        threads = [threading.Thread(target=worker) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert len(intervals) == 12 and max_overlap(intervals) == 1

    def test_no_names_is_a_no_op(self, default_db: str) -> None:
        with concurrency([]):
            pass
        rate_limit([])


class TestRateLimit:
    def test_needs_a_decaying_limit(self, limits: Any) -> None:
        limits("steady", 5)
        with pytest.raises(ConcurrencySlotAcquisitionError, match="slot decay"):
            rate_limit("steady")

    def test_slots_decay_instead_of_being_released(self, limits: Any) -> None:
        limits("api", 2, slot_decay_per_second=20)
        rate_limit("api")
        rate_limit("api")
        assert limits.read("api").active_slots == 2 and limits.read("api").holders == []
        rate_limit("api", timeout_seconds=10)  # waits for a slot to decay (1/20 s)
        time.sleep(0.2)
        assert limits.read("api").active_slots == 0

    def test_the_fastest_decay_over_minutes_reads_and_admits(self, limits: Any) -> None:
        """1e9 slots a second over 100 s is more slots than PostgreSQL's integer holds: it
        was an "integer out of range" 500 on the limit's routes (found by the API fuzzer)."""
        from sqlalchemy import update

        from jupyter_flows.orchestration._tables import CONCURRENCY_LIMIT
        from jupyter_flows.store.api import run_store

        limits("burst", 3, slot_decay_per_second=1e9)
        rate_limit("burst")
        engine = run_store().engine
        with engine.begin() as conn:  # the slot was taken 100 s ago
            conn.execute(
                update(CONCURRENCY_LIMIT)
                .where(CONCURRENCY_LIMIT.c.name == "burst")
                .values(decayed_at=time.time() - 100)
            )
        assert limits.read("burst").active_slots == 0
        rate_limit("burst", timeout_seconds=5)  # admitted, and decayed at once
        assert limits.read("burst").active_slots == 0

    def test_timeout(self, limits: Any) -> None:
        limits("slow", 1, slot_decay_per_second=0.01)
        rate_limit("slow")
        with pytest.raises(AcquireConcurrencySlotTimeoutError):
            rate_limit("slow", timeout_seconds=0.1)


class TestAsync:
    def test_async_concurrency_and_rate_limit(self, limits: Any) -> None:
        limits("db", 1)
        limits("api", 5, slot_decay_per_second=10)

        async def main() -> list[int]:
            seen = []

            async def one(i: int) -> None:
                async with aconcurrency.concurrency("db", timeout_seconds=60):
                    seen.append(limits.read("db").active_slots)
                    await asyncio.sleep(0.01)

            await asyncio.gather(*(one(i) for i in range(3)))
            await aconcurrency.rate_limit("api", occupy=2)
            return seen

        assert asyncio.run(main()) == [1, 1, 1]
        assert limits.read("db").active_slots == 0

    def test_cancelling_a_waiter_takes_nothing(self, limits: Any) -> None:
        limits("db", 1)

        async def main() -> None:
            with concurrency("db"):
                waiter = asyncio.ensure_future(aconcurrency.concurrency("db").__aenter__())
                await asyncio.sleep(0.1)
                waiter.cancel()
                with pytest.raises(asyncio.CancelledError):
                    await waiter

        asyncio.run(main())
        assert limits.read("db").active_slots == 0

    def test_async_errors_are_prefects(self, limits: Any) -> None:
        limits("db", 1)

        async def main() -> None:
            async with aconcurrency.concurrency("db"):
                with pytest.raises(TimeoutError):
                    async with aconcurrency.concurrency("db", timeout_seconds=0.1):
                        pass
            with pytest.raises(ConcurrencySlotAcquisitionError):
                async with aconcurrency.concurrency("db", occupy=2):
                    pass

        asyncio.run(main())
