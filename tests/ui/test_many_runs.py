"""The panel with 100,000 flow runs in the database: paged from the server, windowed in the DOM."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from tests.ui.lab import TOKEN, Lab, open_panel, wait_for

RUNS = 100_000


@pytest.fixture(scope="module")
def crowded(lab: Lab) -> Lab:
    from jupyter_flows.store.db import open_store
    from jupyter_flows.store.models import FlowRunRecord

    engine = open_store(lab.env["JUPYTER_FLOWS_DB_URL"])
    now = datetime.now(timezone.utc)
    rows = [
        {
            "id": f"{i:032x}", "name": f"run-{i}", "flow_name": f"flow{i % 20}",
            "parameters": {}, "tags": [], "state_type": "COMPLETED", "state_name": "Completed",
            "created": now - timedelta(seconds=i), "start_time": now - timedelta(seconds=i),
            "end_time": now - timedelta(seconds=i) + timedelta(milliseconds=5),
            "run_count": 1, "total_run_time": 0.005,
        }
        for i in range(RUNS)
    ]  # fmt: skip
    with engine.begin() as conn:
        conn.execute(FlowRunRecord.__table__.insert(), rows)  # type: ignore[attr-defined]
    engine.dispose()
    return lab


class TestManyRuns:
    def test_windowed_list_pages_from_the_server(self, crowded: Lab, page: Any) -> None:
        runs = page.locator("ul.jp-Flows-runs")
        wait_for(lambda: runs.count() == 1, 60, "the run list")
        page.get_by_text(f"of {RUNS}").first.wait_for(timeout=60_000)
        rendered = int(runs.get_attribute("data-rendered") or 0)
        assert 0 < rendered <= 30  # only the rows in view are in the DOM
        assert page.locator("ul.jp-Flows-runs > li").count() == rendered
        viewport = page.locator(".jp-Flows-runsViewport")

        def scrolled_and_loaded() -> bool:  # scrolling to the end asks for the next page
            viewport.evaluate("el => { el.scrollTop = el.scrollHeight; }")
            page.wait_for_timeout(300)
            text = page.locator(".jp-Flows-more").inner_text()
            return int(text.split(" of ")[0].split()[-1]) > 50

        wait_for(scrolled_and_loaded, 90, "the next page of runs")
        assert page.locator("ul.jp-Flows-runs > li").count() <= 40

    def test_page_size_comes_from_the_settings(self, crowded: Lab, page: Any) -> None:
        settings = "/lab/api/settings/jupyter-flows:plugin"
        crowded.request("PUT", settings, {"raw": json.dumps({"pageSize": 120})})
        try:

            def first_page(request: Any) -> bool:
                return "/jupyter-flows/api/flow_runs?" in request.url

            with page.expect_request(first_page, timeout=60_000) as asked:
                page.goto(f"{crowded.url}lab?token={TOKEN}", timeout=60_000)
            assert "limit=120" in asked.value.url, asked.value.url
            open_panel(page)
            more = page.locator(".jp-Flows-more > span")
            wait_for(lambda: more.inner_text() == f"120 of {RUNS}", 60, "120 runs loaded")
        finally:
            crowded.request("PUT", settings, {"raw": "{}"})
