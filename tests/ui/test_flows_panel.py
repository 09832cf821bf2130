"""The Flows side panel and run views in a real JupyterLab, in headless Chromium.

No mocks: the lab runs the jupyter-flows server extension (with its scheduler and embedded
worker) on a temporary SQLite database; flows are recorded by a separate Python process.
Screenshots go to ``tests/artifacts/`` (panel.png, run-view.png, ...).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from tests.ui.lab import TOKEN, Lab, open_panel, screenshot, wait_for

pytest.importorskip("playwright")
from playwright.sync_api import expect  # noqa: E402

pytestmark = pytest.mark.slow

PANEL = "#jupyter-flows-panel"


def run_row(page: Any, flow_name: str) -> Any:
    """The newest row of ``flow_name`` in the run list."""
    flow = page.locator(".jp-Flows-runFlow", has_text=re.compile(f"^{re.escape(flow_name)}$"))
    return page.locator(f"{PANEL} .jp-Flows-runRow", has=flow).first


def deployment_item(page: Any, name: str) -> Any:
    return page.locator(f"{PANEL} .jp-Flows-deployment[data-deployment='{name}']")


def create_deployment(lab: Lab, name: str, **extra: Any) -> dict[str, Any]:
    body = {"name": name, "entrypoint": "quick.ipynb", "parameters": {"n": 3}, **extra}
    deployment: dict[str, Any] = lab.api("POST", "deployments", body)
    return deployment


@pytest.fixture(scope="module")
def recorded(lab: Lab) -> Lab:
    """The lab, with an ``etl`` run (6 task runs) and a failed ``broken`` run recorded."""
    lab.record_flows()
    return lab


class TestRuns:
    def test_recorded_runs_appear_with_their_states(self, recorded: Lab, page: Any) -> None:
        expect(run_row(page, "etl")).to_have_attribute("data-state", "Completed", timeout=20_000)
        expect(run_row(page, "broken")).to_have_attribute("data-state", "Failed", timeout=20_000)
        expect(page.locator(f"{PANEL} .jp-Flows-more")).to_contain_text("of ")

    def test_a_flow_run_in_a_notebook_appears_live(self, lab: Lab, page: Any) -> None:
        page.goto(f"{lab.url}lab/tree/flow_in_notebook.ipynb?reset&token={TOKEN}")
        # the toolbar can say idle before the kernel is connected: wait for the status bar
        status = page.locator(".jp-StatusBar-TextItem", has_text=re.compile(r"\| Idle"))
        expect(status.first).to_be_visible(timeout=60_000)
        page.locator(".jp-Cell .jp-InputArea-editor").first.click()
        page.keyboard.press("Shift+Enter")
        open_panel(page)
        expect(run_row(page, "from-notebook")).to_have_attribute(
            "data-state", "Completed", timeout=30_000
        )

    def test_filter_by_state_asks_the_server(self, recorded: Lab, page: Any) -> None:
        expect(run_row(page, "etl")).to_be_visible(timeout=20_000)
        page.select_option(f"{PANEL} select[aria-label='Filter by state']", "Failed")
        expect(page.locator(f"{PANEL} .jp-Flows-runRow")).to_have_count(1, timeout=10_000)
        expect(run_row(page, "broken")).to_be_visible()

    def test_run_view_shows_graph_timeline_tasks_and_logs(self, recorded: Lab, page: Any) -> None:
        run_row(page, "etl").click()
        view = page.locator(".jp-Flows-run")
        expect(view.locator(".jp-Flows-runHeader")).to_contain_text("etl", timeout=15_000)
        # extract, square x4, load: the shared layout, coloured as in the report
        nodes = view.locator("svg.jp-Flows-graph .jp-Flows-node")
        expect(nodes).to_have_count(6, timeout=15_000)
        assert set(nodes.evaluate_all("els => els.map(e => e.dataset.state)")) == {"Completed"}
        fill = view.locator(".jp-Flows-node rect").first.get_attribute("fill")
        assert fill == "#2e9e5b"
        assert view.locator("svg.jp-Flows-graph .jp-Flows-edge").count() >= 4
        expect(view.locator("svg.jp-Flows-timeline .jp-Flows-bar")).to_have_count(6)
        expect(view.locator("table.jp-Flows-table tbody tr")).to_have_count(6)
        expect(view.locator(".jp-Flows-parameters")).to_contain_text("4")
        expect(view.locator(".jp-Flows-logBox")).to_contain_text("extracting 4 rows")
        page.wait_for_timeout(300)
        screenshot(page, "run-view.png")

    def test_failed_run_shows_its_error(self, recorded: Lab, page: Any) -> None:
        run_row(page, "broken").click()
        view = page.locator(".jp-Flows-run")
        errors = view.locator(".jp-Flows-errors")
        expect(errors).to_contain_text("the source table is empty", timeout=15_000)
        expect(errors.locator(".jp-Flows-error").first).to_contain_text("Traceback")
        node = view.locator(".jp-Flows-node").first
        expect(node).to_have_attribute("data-state", "Failed")
        assert node.locator("rect").get_attribute("fill") == "#d64545"
        screenshot(page, "failed-run.png")

    def test_open_run_views_come_back_after_reload(self, recorded: Lab, page: Any) -> None:
        run_row(page, "etl").click()
        expect(page.locator(".jp-Flows-run .jp-Flows-node")).to_have_count(6, timeout=15_000)
        page.wait_for_timeout(1500)  # the layout is saved after a short debounce
        page.goto(f"{recorded.url}lab?token={TOKEN}")
        open_panel(page)
        expect(page.locator(".jp-Flows-run .jp-Flows-node")).to_have_count(6, timeout=20_000)


class TestDeployments:
    def test_schedule_this_notebook_creates_a_deployment(self, lab: Lab, page: Any) -> None:
        page.goto(f"{lab.url}lab/tree/quick.ipynb?reset&token={TOKEN}")
        button = page.locator(".jp-Toolbar-item[data-jp-item-name='jupyter-flows-schedule']")
        button.click(timeout=60_000)
        dialog = page.locator(".jp-Dialog .jp-Flows-dialog")
        # parameters come from the notebook's "parameters" cell
        expect(dialog.locator("#jp-Flows-param-n")).to_have_value("3", timeout=15_000)
        expect(dialog.locator("#jp-Flows-param-label")).to_have_value("hello")
        # a bad cron line: the server's reason is shown under the schedule
        dialog.get_by_label("Cron expression").fill("61 * * *")
        # the preview's reason, at the cron field
        cron = dialog.locator(".jp-Flows-field[data-field='Cron expression'] .jp-Flows-fieldError")
        expect(cron).to_contain_text("cron", timeout=10_000)
        dialog.get_by_label("Cron expression").fill("30 6 * * 1-5")
        expect(dialog.locator(".jp-Flows-preview li")).to_have_count(5, timeout=10_000)
        dialog.locator("#jp-Flows-schedule-name").fill("quick-weekdays")
        dialog.locator("#jp-Flows-param-n").fill("7")
        page.locator(".jp-Dialog button.jp-mod-accept").click()
        open_panel(page)
        item = deployment_item(page, "quick-weekdays")
        expect(item).to_be_visible(timeout=15_000)
        expect(item).to_contain_text("cron 30 6 * * 1-5")
        expect(item).to_contain_text("Next run in")
        stored = lab.api("GET", "deployments/quick-weekdays")
        assert stored["entrypoint"] == "quick.ipynb"
        assert stored["parameters"] == {"n": 7, "label": "hello"}
        assert stored["schedules"][0]["cron"] == "30 6 * * 1-5"

    def test_a_duplicate_name_shows_the_servers_reason(self, lab: Lab, page: Any) -> None:
        create_deployment(lab, "taken")
        page.goto(f"{lab.url}lab/tree/quick.ipynb?reset&token={TOKEN}")
        page.locator(".jp-Toolbar-item[data-jp-item-name='jupyter-flows-schedule']").click(
            timeout=60_000
        )
        dialog = page.locator(".jp-Dialog .jp-Flows-dialog")
        expect(dialog.locator("#jp-Flows-param-n")).to_be_visible(timeout=15_000)
        dialog.locator("#jp-Flows-schedule-name").fill("taken")
        page.locator(".jp-Dialog button.jp-mod-accept").click()
        # the dialog comes back with the 409 message, the values kept
        banner = page.locator(".jp-Dialog .jp-Flows-banner-error")
        expect(banner).to_contain_text("already exists", timeout=15_000)
        expect(page.locator("#jp-Flows-schedule-name")).to_have_value("taken")
        page.locator(".jp-Dialog button.jp-mod-reject").click()

    def test_pausing_a_deployment_shows_paused(self, lab: Lab, page: Any) -> None:
        create_deployment(lab, "hourly", schedules=[{"interval_seconds": 3600}])
        item = deployment_item(page, "hourly")
        # the button names the action; the state ("Paused") is said once, in the details
        pause = item.get_by_role("button", name="Pause hourly")
        expect(pause).to_have_text("Pause", timeout=20_000)
        pause.click()
        expect(item).to_have_attribute("data-paused", "true", timeout=10_000)
        resume = item.get_by_role("button", name="Resume hourly")
        expect(resume).to_have_text("Resume")
        expect(item.get_by_text("Paused", exact=True)).to_have_count(1)
        assert lab.api("GET", "deployments/hourly")["paused"] is True
        resume.press("Enter")  # keyboard works too
        expect(item).to_have_attribute("data-paused", "false", timeout=10_000)
        assert lab.api("GET", "deployments/hourly")["paused"] is False

    def test_run_now_produces_a_completed_run(self, lab: Lab, page: Any) -> None:
        deployment = create_deployment(lab, "quick-manual", tags=["ui"])
        item = deployment_item(page, "quick-manual")
        item.get_by_role("button", name="Run now").click(timeout=20_000)
        dialog = page.locator(".jp-Dialog .jp-Flows-dialog")
        expect(dialog.locator("#jp-Flows-param-n")).to_have_value("3", timeout=10_000)
        dialog.locator("#jp-Flows-param-n").fill("5")
        page.locator(".jp-Dialog button.jp-mod-accept").click()
        # show only this deployment's runs, and watch the badge go to Completed
        item.locator(".jp-Flows-deploymentName").click()
        rows = page.locator(f"{PANEL} .jp-Flows-runRow")
        expect(rows).to_have_count(1, timeout=15_000)
        expect(rows.first).to_have_attribute("data-state", "Completed", timeout=120_000)
        runs = lab.api("GET", f"flow_runs?deployment_id={deployment['id']}")["items"]
        assert [r["parameters"].get("n") for r in runs] == [5]
        wait_for(
            lambda: page.locator(f"{PANEL} .jp-Flows-pool .jp-Flows-workerName").count(),
            20,
            "the embedded worker in the work pools",
        )
        rows.first.click()
        view = page.locator(".jp-Flows-run")
        expect(view.locator(".jp-Flows-runHeader")).to_contain_text("Completed", timeout=15_000)
        expect(view.locator(".jp-Flows-parameters")).to_contain_text("5")
        page.select_option(f"{PANEL} select[aria-label='Filter by deployment']", "")
        expect(rows.first).to_be_visible()
        screenshot(page, "panel.png")
        # the executed notebook opens in the lab, with its outputs (label 'hello', 5 * 2)
        view.get_by_role("button", name="Output notebook").click()
        output = page.locator(".jp-NotebookPanel:visible .jp-OutputArea-output")
        expect(output.filter(has_text="hello 10")).to_have_count(1, timeout=30_000)
        tab = page.locator(".lm-DockPanel-tabBar .lm-TabBar-tab.lm-mod-current")
        expect(tab).to_contain_text(f"flow-run-{runs[0]['id']}.ipynb")

    def test_cancel_stops_a_running_run(self, lab: Lab, page: Any) -> None:
        deployment = create_deployment(lab, "slow", entrypoint="slow.ipynb", parameters={})
        run = lab.api("POST", f"deployments/{deployment['id']}/run", {})
        page.locator(f"{PANEL} .jp-Flows-runRow[data-run-id='{run['id']}']").click(timeout=20_000)
        view = page.locator(f".jp-Flows-run[data-run-id='{run['id']}']")
        badge = view.locator(".jp-Flows-runHeader .jp-Flows-badge")
        expect(badge).to_have_text("Running", timeout=60_000)
        view.get_by_role("button", name="Cancel", exact=True).click()
        page.locator(".jp-Dialog").get_by_role("button", name="Cancel run").click()
        expect(badge).to_have_text(re.compile("Cancell(ing|ed)"), timeout=10_000)
        expect(badge).to_have_text("Cancelled", timeout=60_000)
        expect(view.get_by_role("button", name="Cancel", exact=True)).to_have_count(0)
        assert lab.api("GET", f"flow_runs/{run['id']}")["state_name"] == "Cancelled"

    def test_download_report(self, recorded: Lab, page: Any) -> None:
        run_row(page, "etl").click()
        view = page.locator(".jp-Flows-run")
        expect(view.locator(".jp-Flows-node")).to_have_count(6, timeout=15_000)
        with page.expect_download(timeout=20_000) as info:
            view.get_by_role("button", name="Download report").click()
        download = info.value
        assert re.fullmatch(r"flow-run-[0-9a-f]{32}\.html", download.suggested_filename)
        html = Path(download.path()).read_text(encoding="utf-8")
        assert "<svg" in html and "etl" in html


class TestNavigation:
    def test_subflow_and_parent_links(self, recorded: Lab, page: Any) -> None:
        run_row(page, "nightly").click()
        parent = page.locator(".jp-Flows-run:visible")
        expect(parent.locator(".jp-Flows-runHeader")).to_contain_text("nightly", timeout=15_000)
        parent_id = parent.get_attribute("data-run-id")
        # the subflow is a node of the graph and a row of the task table
        expect(parent.locator(".jp-Flows-node")).to_have_count(2)
        parent.get_by_role("button", name="open subflow run").click()
        child = page.locator(".jp-Flows-run:visible")
        expect(child.locator(".jp-Flows-runHeader")).to_contain_text("child-report")
        assert child.get_attribute("data-run-id") != parent_id
        child.get_by_role("button", name="Parent run").click()
        expect(page.locator(".jp-Flows-run:visible")).to_have_attribute(
            "data-run-id", parent_id or ""
        )
        # activating the subflow's graph node opens the child's view as well
        node = page.locator(".jp-Flows-run:visible .jp-Flows-node[aria-label^='child-report']")
        node.click()
        expect(page.locator(".jp-Flows-run:visible .jp-Flows-runHeader")).to_contain_text(
            "child-report"
        )

    def test_keyboard_opens_a_run_and_selects_a_task(self, recorded: Lab, page: Any) -> None:
        row = run_row(page, "etl")
        expect(row).to_be_visible(timeout=20_000)
        row.focus()
        page.keyboard.press("Enter")
        view = page.locator(".jp-Flows-run:visible")
        nodes = view.locator(".jp-Flows-node")
        expect(nodes).to_have_count(6, timeout=15_000)
        nodes.first.focus()
        page.keyboard.press("Enter")
        expect(nodes.first).to_have_attribute("data-selected", "true")
        expect(view.locator("table.jp-Flows-table tr[data-selected='true']")).to_have_count(1)
        page.keyboard.press("Space")  # again: unselected
        expect(view.locator("table.jp-Flows-table tr[data-selected='true']")).to_have_count(0)

    def test_commands_are_in_the_palette(self, lab: Lab, page: Any) -> None:
        page.keyboard.press("Control+Shift+C")
        search = page.locator(".lm-CommandPalette-input")
        expect(search).to_be_focused(timeout=10_000)
        search.fill("flow")
        items = page.locator(".lm-CommandPalette-item .lm-CommandPalette-itemLabel")
        expect(items.filter(has_text="Show Flows Panel")).to_have_count(1)
        expect(items.filter(has_text="Refresh Flows")).to_have_count(1)
        search.fill("schedule this")
        expect(items.filter(has_text="Schedule This Notebook")).to_have_count(1)


def _luminance(css_color: str) -> float:
    """0 (black) .. 1 (white) for an ``rgb(...)``/``rgba(...)`` CSS colour."""
    r, g, b = (int(v) for v in re.findall(r"[\d.]+", css_color)[:3])
    return (0.2126 * r + 0.7152 * g + 0.0722 * b) / 255


class TestThemes:
    def test_the_panel_follows_the_dark_theme(self, recorded: Lab, page: Any) -> None:
        themes = "/lab/api/settings/@jupyterlab/apputils-extension:themes"
        light_text = run_row(page, "etl").evaluate("el => getComputedStyle(el).color")
        recorded.request("PUT", themes, {"raw": json.dumps({"theme": "JupyterLab Dark"})})
        try:
            page.goto(f"{recorded.url}lab?token={TOKEN}", timeout=60_000)
            expect(page.locator("body")).to_have_attribute(
                "data-jp-theme-light", "false", timeout=30_000
            )
            open_panel(page)
            row = run_row(page, "etl")
            expect(row).to_be_visible(timeout=20_000)
            panel = page.locator(PANEL)
            background = panel.evaluate("el => getComputedStyle(el).backgroundColor")
            text = row.evaluate("el => getComputedStyle(el).color")
            assert _luminance(background) < 0.3, background
            assert _luminance(text) > 0.6, text
            assert _luminance(light_text) < 0.4, light_text
            screenshot(page, "panel-dark.png")
        finally:
            recorded.request("PUT", themes, {"raw": "{}"})


class TestErrors:
    def test_missing_server_extension_and_network_drop_are_shown(
        self, tmp_path: Path, browser: Any
    ) -> None:
        bare = Lab(tmp_path, server_extension=False)
        bare.start()
        context = browser.new_context(viewport={"width": 1200, "height": 800})
        try:
            page = context.new_page()
            page.goto(f"{bare.url}lab?reset&token={TOKEN}", timeout=60_000)
            toast = page.locator(".Toastify__toast", has_text="server extension is not available")
            expect(toast).to_be_visible(timeout=30_000)
            open_panel(page)
            banner = page.locator(f"{PANEL} .jp-Flows-banner-error")
            expect(banner).to_contain_text("jupyter server extension enable jupyter_flows")
            screenshot(page, "missing-server-extension.png", dismiss_toasts=False)
            bare.stop()
            # JupyterLab's own modal "Server Connection Error" dialog may cover the page now
            banner.get_by_role("button", name="Retry").dispatch_event("click")
            expect(banner).to_contain_text("Cannot reach the Jupyter server", timeout=20_000)
        finally:
            context.close()
            bare.stop()
