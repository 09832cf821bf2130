"""The run view of a 10,000-task run: bounded responses, the graph by task, paged task runs."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from tests.server.big_run import BigRun, insert_big_run
from tests.ui.lab import Lab, screenshot

N_TASKS = 10_000
MB = 1_000_000


@pytest.fixture(scope="module")
def big(lab: Lab) -> BigRun:
    from jupyter_flows.store.db import open_store

    engine = open_store(lab.env["JUPYTER_FLOWS_DB_URL"])
    try:
        return insert_big_run(engine, N_TASKS, run_id="e" * 32)
    finally:
        engine.dispose()


class TestBigRunView:
    def test_the_run_view_opens_with_bounded_responses(self, big: BigRun, page: Any) -> None:
        sizes: dict[str, int] = {}

        def record(response: Any) -> None:
            if f"/jupyter-flows/api/flow_runs/{big.id}" in response.url:
                sizes[response.url] = max(sizes.get(response.url, 0), len(response.body()))

        page.on("response", record)
        page.locator(f".jp-Flows-runRow[data-run-id='{big.id}']").click(timeout=30_000)
        view = page.locator(f".jp-Flows-run[data-run-id='{big.id}']")
        expect(view.locator(".jp-Flows-runHeader")).to_contain_text("big-run", timeout=20_000)
        # the graph: one node per task, with its count of runs
        nodes = view.locator("svg.jp-Flows-graph .jp-Flows-node")
        expect(nodes).to_have_count(4, timeout=20_000)
        check = view.locator(".jp-Flows-node[data-id='group:big.check']")
        expect(check).to_have_attribute("data-state", "Failed")
        expect(check).to_have_attribute("data-count", str(big.per_key["big.check"]))
        # one page of task runs, the total, the error box, the latest log lines
        rows = view.locator("table.jp-Flows-table tbody tr")
        expect(rows).to_have_count(100, timeout=20_000)
        expect(view.locator(".jp-Flows-pageRange")).to_have_text("1–100 of 10,000")
        errors = view.locator(".jp-Flows-errors .jp-Flows-error")
        expect(errors.first).to_contain_text("Traceback")
        expect(view.locator(".jp-Flows-logBox")).to_contain_text("summarize 0 done")
        assert view.locator(".jp-Flows-logLine").count() <= 500
        view.get_by_role("button", name="Next").click()
        expect(view.locator(".jp-Flows-pageRange")).to_have_text("101–200 of 10,000")
        # selecting the group node lists the runs of that task
        check.click()
        expect(view.locator(".jp-Flows-pageRange")).to_contain_text(
            f"of {big.per_key['big.check']:,}", timeout=10_000
        )
        expect(rows.first).to_contain_text("check-0")
        view.locator(".jp-Flows-taskPager").scroll_into_view_if_needed()
        screenshot(page, "big-run-view.png")
        page.wait_for_timeout(500)  # the last responses are read
        routes = {url.split(big.id, 1)[1].split("?", 1)[0] for url in sizes}
        assert {"", "/graph", "/task_runs", "/logs"} <= routes, routes
        too_big = {url: size for url, size in sizes.items() if size > MB}
        assert not too_big, too_big
        assert max(sizes.values()) < 200_000, sizes
