"""``GET background_task_runs`` on a real in-process server, and its crash check taking back
an expired task-worker claim."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from jupyter_flows import task
from jupyter_flows.core import settings
from jupyter_flows.core.background import queue_key
from jupyter_flows.store import background as queue
from jupyter_flows.store.api import close_store, run_store


@task
def send_email(to: str) -> str:
    return f"sent to {to}"


@pytest.fixture
def delayed(flows_db_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Two background runs delayed into the server's database (no task worker runs them)."""
    monkeypatch.setenv("JUPYTER_FLOWS_DB_URL", flows_db_url)
    settings.reset_recorder()
    try:
        yield [send_email.delay(f"user{i}@example.com").task_run_id for i in range(2)]
    finally:
        settings.reset_recorder()
        close_store(flows_db_url)


class TestBackgroundTaskRuns:
    async def test_lists_them_newest_first_with_filters(self, api: Any, delayed: list[str]) -> None:
        status, page = await api("background_task_runs")
        assert status == 200, page
        assert [r["id"] for r in page["items"]] == delayed[::-1] and page["total"] == 2
        first = page["items"][1]
        assert first["state_name"] == "Scheduled" and first["flow_run_id"] is None
        assert first["parameters"] == {"to": "user0@example.com"} and first["worker"] is None
        status, page = await api(
            "background_task_runs", params={"state": "running", "task_name": "send_email"}
        )
        assert (status, page["total"]) == (200, 0)
        status, page = await api(
            "background_task_runs", params={"state": "SCHEDULED,failed", "limit": "1"}
        )
        assert (status, page["total"], len(page["items"])) == (200, 2, 1)
        status, one = await api("task_runs", delayed[0])
        assert status == 200 and one["task_name"] == "send_email"

    async def test_bad_query_is_400(self, api: Any, delayed: list[str]) -> None:
        status, body = await api("background_task_runs", params={"limit": "0"})
        assert status == 400 and "limit" in body["message"]
        status, body = await api("background_task_runs", params={"colour": "blue"})
        assert status == 400

    async def test_the_crash_check_ends_a_started_run_of_a_vanished_worker(
        self, flows_app: Any, delayed: list[str], flows_db_url: str
    ) -> None:
        engine = run_store(flows_db_url).engine
        won = queue.claim(engine, "gone", [queue_key(send_email)], 2, 0.0)
        assert len(won) == 2
        from jupyter_flows.core.states import Running
        from jupyter_flows.store.recorder import SqlRecorder

        recorder = SqlRecorder(engine)  # the vanished worker had started the first one
        recorder.set_state("task", won[0].task_run_id, Running(), 1)
        recorder.close()
        crashed = flows_app.services.orchestration.mark_crashed_runs(3600.0)
        assert crashed == [won[0].task_run_id]
        states = {r: run_store(flows_db_url).read_task_run(r).state_name for r in delayed}
        assert states == {won[0].task_run_id: "Crashed", won[1].task_run_id: "Scheduled"}
