"""Task tag limits (the global limits named ``tag:TAG``): a tagged task run waits in
``AwaitingConcurrencySlot`` while its tag's limit is full, recorded in its state history."""

from __future__ import annotations

import threading
import time
from typing import Any

from jupyter_flows import ThreadPoolTaskRunner, flow, read_flow_run, tags, task
from tests.concurrency.conftest import max_overlap


def _pipeline(tag_list: list[str], n: int, hold: float = 0.05) -> tuple[Any, list[Any]]:
    intervals: list[tuple[float, float]] = []
    lock = threading.Lock()

    @task(tags=tag_list)
    def query(i: int) -> int:
        start = time.monotonic()
        time.sleep(hold)
        with lock:
            intervals.append((start, time.monotonic()))
        return i

    @flow(task_runner=ThreadPoolTaskRunner(max_workers=n))
    def pipeline() -> list[int]:
        return [f.result() for f in [query.submit(i) for i in range(n)]]

    return pipeline(return_state=True), intervals


class TestTagLimits:
    def test_a_full_limit_makes_task_runs_wait_in_awaiting_concurrency_slot(
        self, limits: Any
    ) -> None:
        limits("tag:db", 1)
        state, intervals = _pipeline(["db"], 3)
        assert state.result() == [0, 1, 2]
        assert max_overlap(intervals) == 1
        run = read_flow_run(state.run_id)
        history: dict[str, list[str]] = {}
        for s in run.task_states:
            history.setdefault(s.run_id, []).append(s.name)
        waited = [names for names in history.values() if "AwaitingConcurrencySlot" in names]
        assert len(waited) >= 1  # at least two of the three had to wait for the first
        for names in waited:
            assert names == ["Pending", "AwaitingConcurrencySlot", "Running", "Completed"]
        message = next(s.message for s in run.task_states if s.name == "AwaitingConcurrencySlot")
        assert message == "Concurrency limit for the db tag has been reached"
        assert limits.read("tag:db").active_slots == 0

    def test_the_holder_is_the_task_run(self, limits: Any) -> None:
        limits("tag:db", 2)
        seen: list[Any] = []

        @task(tags=["db"])
        def look() -> None:
            seen.extend(limits.read("tag:db").holders)

        @flow
        def pipeline() -> None:
            look()

        state = pipeline(return_state=True)
        (task_run,) = read_flow_run(state.run_id).task_runs
        assert [(h.holder.type, h.holder.id, h.holder.name) for h in seen] == [
            ("task_run", task_run.id, "look-0")
        ]

    def test_a_limit_of_zero_fails_the_task_run_without_running_it(self, limits: Any) -> None:
        limits("tag:zero", 0)
        ran: list[int] = []

        @task(tags=["zero"])
        def never() -> None:
            ran.append(1)

        @flow
        def pipeline() -> tuple[bool, str | None]:
            inner = never(return_state=True)
            return inner.is_failed(), inner.message

        failed, message = pipeline()
        assert failed and ran == []
        assert message == (
            'The concurrency limit on tag "zero" is 0 and will deadlock if the task tries to '
            "run again."
        )

    def test_every_tag_needs_a_slot(self, limits: Any) -> None:
        limits("tag:database", 1)
        limits("tag:analytics", 5)
        state, intervals = _pipeline(["database", "analytics"], 3)
        assert state.is_completed() and max_overlap(intervals) == 1

    def test_tags_without_limits_run_freely_and_hold_nothing(self, limits: Any) -> None:
        limits("tag:other", 1)
        state, intervals = _pipeline(["unlimited"], 3, hold=0.2)
        assert state.is_completed() and max_overlap(intervals) == 3
        assert limits.read("tag:other").denied_slots == 0

    def test_tags_from_the_tags_context_count(self, limits: Any) -> None:
        limits("tag:ctx", 1)
        seen: list[int] = []

        @task
        def look() -> None:
            seen.append(limits.read("tag:ctx").active_slots)

        @flow
        def pipeline() -> None:
            with tags("ctx"):
                look()

        pipeline()
        assert seen == [1]

    def test_the_slot_is_held_across_retries(self, limits: Any) -> None:
        limits("tag:db", 1)
        seen: list[int] = []

        @task(tags=["db"], retries=2, retry_delay_seconds=0)
        def flaky() -> str:
            seen.append(limits.read("tag:db").active_slots)
            if len(seen) < 3:
                raise RuntimeError("again")
            return "ok"

        @flow
        def pipeline() -> str:
            return flaky()

        assert pipeline() == "ok" and seen == [1, 1, 1]
        assert limits.read("tag:db").active_slots == 0
