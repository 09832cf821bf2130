"""The dashboard and the events feed in a real JupyterLab, in headless Chromium.

No mocks: flows run in a separate Python process and a deployment run on the lab's embedded
worker (a real kernel); one run three days old is written straight into the run database
(the only way to have a run that old). Screenshots: ``tests/artifacts/dashboard.png``,
``dashboard-dark.png``, ``events.png``.
"""

from __future__ import annotations

import json
import subprocess
from typing import Any

import pytest

from tests.ui.lab import PY, TOKEN, Lab, open_panel, screenshot, wait_for

pytest.importorskip("playwright")
from playwright.sync_api import expect  # noqa: E402

pytestmark = pytest.mark.slow

DASH = ".jp-Flows-dashboard"
EVENTS = ".jp-Flows-events"
SLOW = 60_000

OLD_RUN = """
import sys
from datetime import datetime, timedelta, timezone
from jupyter_flows.orchestration._tables import FLOW_RUN
from jupyter_flows.store.db import open_store

at = datetime.now(timezone.utc) - timedelta(days=3)
with open_store(sys.argv[1]).begin() as conn:
    conn.execute(FLOW_RUN.insert().values(
        id="0" * 31 + "1", name="three-days-ago", flow_name="old_flow", parameters={}, tags=[],
        state_type="FAILED", state_name="Failed", state_message="long ago", created=at,
        start_time=at, end_time=at + timedelta(seconds=5), run_count=1, total_run_time=5.0,
        job_variables={},
    ))
"""


@pytest.fixture(scope="module")
def made(lab: Lab) -> dict[str, Any]:
    """etl, nightly (with its subflow child_report) and a failing broken run, recorded by a
    Python process; a deployment run of quick.ipynb run by the embedded worker; an old run."""
    lab.record_flows()
    lab.api("POST", "deployments", {"name": "quick", "entrypoint": "quick.ipynb"})
    run = lab.api("POST", "deployments/quick/run", {})
    wait_for(
        lambda: lab.api("GET", f"flow_runs/{run['id']}")["state_type"] == "COMPLETED",
        180,
        "the deployment run to complete",
    )
    subprocess.run(
        [PY, "-c", OLD_RUN, lab.env["JUPYTER_FLOWS_DB_URL"]], env=lab.env, check=True,
        capture_output=True, timeout=60,
    )  # fmt: skip
    broken = lab.api("GET", "flow_runs?flow_name=broken")["items"][0]
    return {"broken": broken["id"], "deployment_run": run["id"]}


def card(page: Any, field: str) -> Any:
    return page.locator(f"{DASH} .jp-Flows-card[data-field='{field}'] .jp-Flows-cardValue")


def open_dashboard(page: Any) -> None:
    page.locator("#jupyter-flows-panel button[data-open='dashboard']").click()
    expect(page.locator(f"{DASH} .jp-Flows-cards")).to_be_visible(timeout=SLOW)


class TestDashboard:
    def test_counts_the_runs_the_test_made(self, made: dict[str, Any], page: Any) -> None:
        open_dashboard(page)
        expect(page.locator(DASH)).to_have_attribute("data-window", "24h")
        # etl, nightly, child_report, broken, the deployment run
        expect(card(page, "total")).to_have_text("5", timeout=SLOW)
        expect(card(page, "failed")).to_have_text("1")
        bars = page.locator(f"{DASH} .jp-Flows-chartBar")
        expect(bars).to_have_count(24)
        totals = [int(t) for t in bars.evaluate_all("els => els.map(e => e.dataset.total)")]
        assert sum(totals) == 5, totals
        legend = page.locator(f"{DASH} .jp-Flows-legend li[data-state='FAILED']")
        expect(legend).to_contain_text("Failed 1")
        flows = page.locator(f"{DASH} table[data-kind='flow']")
        broken = flows.locator("tr[data-group='broken']")
        expect(broken.locator("td[data-field='failure-rate']")).to_have_text("100%")
        expect(flows.locator("tr[data-group='etl'] td[data-field='runs']")).to_have_text("1")
        deployments = page.locator(f"{DASH} table[data-kind='deployment']")
        expect(deployments.locator("tr[data-group='quick'] td[data-field='runs']")).to_have_text(
            "1"
        )
        pool = page.locator(f"{DASH} .jp-Flows-dashPools li[data-pool]").first
        expect(pool.locator("[data-field='online']")).to_have_text("1 online", timeout=SLOW)
        screenshot(page, "dashboard.png")

    def test_the_window_selector_changes_the_counts(self, made: dict[str, Any], page: Any) -> None:
        open_dashboard(page)
        expect(card(page, "total")).to_have_text("5", timeout=SLOW)
        page.locator(f"{DASH} button[data-window='7d']").click()
        expect(page.locator(DASH)).to_have_attribute("data-window", "7d")
        # the 7-day figures stay, also if the 24-hour reply comes after them
        expect(page.locator(DASH)).to_have_attribute("data-shown", "7d", timeout=SLOW)
        expect(card(page, "total")).to_have_text("6", timeout=SLOW)  # and the old run
        expect(card(page, "failed")).to_have_text("2")
        expect(page.locator(f"{DASH} .jp-Flows-chartBar")).to_have_count(28)
        expect(page.locator(f"{DASH} .jp-Flows-dashRuns li[data-run-id]").first).to_be_visible()
        page.locator(f"{DASH} button[data-window='1h']").click()
        expect(page.locator(DASH)).to_have_attribute("data-shown", "1h", timeout=SLOW)
        expect(card(page, "total")).to_have_text("5", timeout=SLOW)
        expect(page.locator(f"{DASH} .jp-Flows-chartBar")).to_have_count(12)
        page.locator(f"{DASH} button[data-window='30d']").click()
        expect(page.locator(DASH)).to_have_attribute("data-shown", "30d", timeout=SLOW)
        expect(card(page, "total")).to_have_text("6", timeout=SLOW)

    def test_a_failure_link_opens_the_run(self, made: dict[str, Any], page: Any) -> None:
        open_dashboard(page)
        failure = page.locator(f"{DASH} .jp-Flows-dashRuns li[data-run-id='{made['broken']}']")
        expect(failure).to_contain_text("the source table is empty", timeout=SLOW)
        failure.locator("button.jp-Flows-link").click()
        view = page.locator(f"#jupyter-flows-run-{made['broken']}")
        expect(view).to_be_visible(timeout=SLOW)
        expect(view).to_contain_text("broken")

    def test_the_dark_theme(self, lab: Lab, made: dict[str, Any], page: Any) -> None:
        themes = "/lab/api/settings/@jupyterlab/apputils-extension:themes"
        lab.request("PUT", themes, {"raw": json.dumps({"theme": "JupyterLab Dark"})})
        try:
            page.goto(f"{lab.url}lab?reset&token={TOKEN}", timeout=60_000)
            expect(page.locator("body")).to_have_attribute(
                "data-jp-theme-light", "false", timeout=30_000
            )
            open_panel(page)
            open_dashboard(page)
            expect(card(page, "total")).to_have_text("5", timeout=SLOW)
            background = page.locator(".jp-Flows-dashboardView").evaluate(
                "el => getComputedStyle(el).backgroundColor"
            )
            label = page.locator(f"{DASH} .jp-Flows-chart text").first
            fill = label.evaluate("el => getComputedStyle(el).fill")
            assert _luminance(background) < 0.3, background
            assert _luminance(fill) > 0.5, fill
            screenshot(page, "dashboard-dark.png")
        finally:
            lab.request("PUT", themes, {"raw": "{}"})


def _luminance(css_color: str) -> float:
    import re

    r, g, b = (int(float(v)) for v in re.findall(r"[\d.]+", css_color)[:3])
    return (0.2126 * r + 0.7152 * g + 0.0722 * b) / 255


class TestEventsFeed:
    def test_filters_by_glob_and_links_to_the_run(
        self, lab: Lab, made: dict[str, Any], page: Any
    ) -> None:
        page.locator("#jupyter-flows-panel button[data-open='events']").click()
        feed = page.locator(EVENTS)
        rows = feed.locator("tr[data-event]")
        expect(rows.first).to_be_visible(timeout=SLOW)
        names = rows.evaluate_all("els => els.map(e => e.dataset.event)")
        assert any(n.startswith("task-run.") for n in names), names
        feed.locator("input[name='event']").fill("flow-run.*")
        feed.locator("input[name='event']").press("Enter")
        expect(feed).to_have_attribute("data-event-filter", "flow-run.*", timeout=SLOW)
        names = rows.evaluate_all("els => els.map(e => e.dataset.event)")
        assert names and all(n.startswith("flow-run.") for n in names), names
        feed.locator("input[name='event']").fill("flow-run.Failed")
        feed.locator("button[type='submit']").click()
        expect(feed).to_have_attribute("data-event-filter", "flow-run.Failed", timeout=SLOW)
        expect(rows).to_have_count(1, timeout=SLOW)
        screenshot(page, "events.png")
        rows.first.locator("button.jp-Flows-eventRun").click()
        expect(page.locator(f"#jupyter-flows-run-{made['broken']}")).to_be_visible(timeout=SLOW)

    def test_filters_by_resource(self, made: dict[str, Any], page: Any) -> None:
        page.locator("#jupyter-flows-panel button[data-open='events']").click()
        feed = page.locator(EVENTS)
        feed.locator("input[name='resource']").fill(f"flow-run/{made['deployment_run']}")
        feed.locator("input[name='resource']").press("Enter")
        expect(feed).to_have_attribute(
            "data-resource-filter", f"flow-run/{made['deployment_run']}", timeout=SLOW
        )
        rows = feed.locator("tr[data-event]")
        expect(rows.first).to_be_visible(timeout=SLOW)
        names = rows.evaluate_all("els => els.map(e => e.dataset.event)")
        assert names[0] == "flow-run.Completed" and "flow-run.Running" in names, names
        assert all(n.startswith("flow-run.") for n in names), names
