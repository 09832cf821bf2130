"""The run list, its filters, deep links, the log view's filters, the forms' field errors and
the toasts, in a real JupyterLab (server, embedded worker, kernels) in headless Chromium.

No mocks: runs are recorded by a Python process and by the lab's worker, deployments and
automations made through the REST API. Screenshots (``tests/artifacts/``): ``run-list-250.png``
(the panel at JupyterLab's default 250 px sidebar), ``run-list-subflows.png``,
``run-list-wide.png``, ``run-view-link.png``, ``log-filter.png``, ``run-dialog-invalid.png``,
``schedule-dialog.png``, ``toasts.png``, ``deployment-paused.png``, ``timeline.png``.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

import pytest

from tests.ui.lab import QUICK_NOTEBOOK, TOKEN, Lab, panel_screenshot, screenshot

pytest.importorskip("playwright")
from playwright.sync_api import expect  # noqa: E402

pytestmark = pytest.mark.slow

PANEL = "#jupyter-flows-panel"
SLOW = 60_000

ETL_PY = """
from jupyter_flows import flow, task

@task
def double(x: int) -> int:
    return 2 * x

@flow
def py_etl(n: int = 2) -> int:
    return double(n)
"""

FAILING_NOTEBOOK = {
    **QUICK_NOTEBOOK,
    "cells": [
        {
            "cell_type": "code", "id": "boom", "metadata": {}, "outputs": [],
            "execution_count": None, "source": "raise RuntimeError('the warehouse is closed')",
        }
    ],
}  # fmt: skip


def row(page: Any, flow_name: str) -> Any:
    flow = page.locator(".jp-Flows-runFlow", has_text=re.compile(f"^{flow_name}$"))
    return page.locator(f"{PANEL} .jp-Flows-runRow", has=flow).first


def run_item(page: Any, flow_name: str) -> Any:
    """The list item (toggle and row) of the newest run of ``flow_name``."""
    flow = page.locator(".jp-Flows-runFlow", has_text=re.compile(f"^{flow_name}$"))
    return page.locator(f"{PANEL} li.jp-Flows-runItem", has=flow).first


def set_sidebar_width(page: Any, width: int) -> None:
    """Drag the split handle right of the left sidebar until the panel is ``width`` px wide."""
    panel = page.locator(PANEL)
    for _ in range(3):
        box = panel.bounding_box()
        right = box["x"] + box["width"]
        handles = page.locator("#jp-main-split-panel > .lm-SplitPanel-handle").all()
        boxes = [h.bounding_box() for h in handles]
        hb = min((b for b in boxes if b and b["width"] > 0), key=lambda b: abs(b["x"] - right))
        y = hb["y"] + hb["height"] / 2
        page.mouse.move(hb["x"] + hb["width"] / 2, y)
        page.mouse.down()
        page.mouse.move(hb["x"] + hb["width"] / 2 + (box["x"] + width - right), y, steps=5)
        page.mouse.up()
        page.wait_for_timeout(300)
        if abs(panel.bounding_box()["width"] - width) <= 2:
            return


@pytest.fixture(scope="module")
def world(lab: Lab) -> dict[str, Any]:
    """Recorded runs (etl, nightly with subflow child_report, broken), a manual deployment run
    of a notebook, a Python deployment run, and a notebook scheduled every 3 s that fails, with
    an automation that pauses its deployment when it fails."""
    lab.record_flows()
    (lab.root / "etl_flows.py").write_text(ETL_PY)
    (lab.root / "fail.ipynb").write_text(json.dumps(FAILING_NOTEBOOK))
    manual = lab.api("POST", "deployments", {"name": "quick-manual", "entrypoint": "quick.ipynb"})
    python = lab.api("POST", "deployments", {"name": "py-etl", "entrypoint": "etl_flows.py:py_etl"})
    runs = {
        "manual": lab.api("POST", f"deployments/{manual['id']}/run", {}),
        "python": lab.api("POST", f"deployments/{python['id']}/run", {}),
    }
    return {"manual": manual, "python": python, "runs": runs}


class TestRunList:
    def test_rows_show_kind_deployment_duration_at_250px(
        self, world: dict[str, Any], page: Any
    ) -> None:
        set_sidebar_width(page, 250)
        manual = page.locator(
            f"{PANEL} .jp-Flows-runRow[data-run-id='{world['runs']['manual']['id']}']"
        )
        expect(manual).to_have_attribute("data-state", "Completed", timeout=120_000)
        expect(manual.locator(".jp-Flows-kind")).to_have_text("manual")
        expect(manual.locator(".jp-Flows-runDeployment")).to_have_text("quick-manual")
        expect(manual.locator(".jp-Flows-duration")).to_have_text(re.compile(r"\d"))
        expect(row(page, "etl").locator(".jp-Flows-kind")).to_have_text("interactive")
        # every column is inside the row: nothing pushed out of a 250 px panel
        width = page.locator(PANEL).evaluate("el => el.getBoundingClientRect().width")
        assert 240 <= width <= 262, width
        overflow = page.locator(PANEL).evaluate("el => el.scrollWidth - el.clientWidth")
        assert overflow <= 0, overflow
        for cell in (
            ".jp-Flows-kind",
            ".jp-Flows-runDeployment",
            ".jp-Flows-duration",
            ".jp-Flows-badge",
        ):
            box = manual.locator(cell).bounding_box()
            outer = manual.bounding_box()
            assert (
                box["x"] >= outer["x"] - 1
                and box["x"] + box["width"] <= outer["x"] + outer["width"] + 1
            ), cell
        panel_screenshot(page, "run-list-250.png")

    def test_subflows_are_nested_under_their_parent(self, world: dict[str, Any], page: Any) -> None:
        nightly = row(page, "nightly")
        expect(nightly).to_be_visible(timeout=SLOW)
        # not listed at the top level
        expect(row(page, "child[-_]report")).to_have_count(0)
        item = run_item(page, "nightly")
        toggle = item.get_by_role("button", name=re.compile("Show 1 subflow runs of"))
        toggle.click()
        child = row(page, "child[-_]report")
        expect(child).to_be_visible(timeout=15_000)
        expect(child.locator(".jp-Flows-kind")).to_have_text("subflow")
        assert run_item(page, "child[-_]report").get_attribute("data-depth") == "1"
        panel_screenshot(page, "run-list-subflows.png")
        item.get_by_role("button", name=re.compile("Hide 1 subflow runs of")).click()
        expect(row(page, "child[-_]report")).to_have_count(0)

    def test_filters_go_to_the_server(self, world: dict[str, Any], page: Any) -> None:
        expect(row(page, "etl")).to_be_visible(timeout=SLOW)
        states = page.locator(
            f"{PANEL} select[aria-label='Filter by state'] option"
        ).all_inner_texts()
        for state in ("Scheduled", "Late", "Pending", "Running", "Cancelling", "Completed",
                      "Failed", "Crashed", "Cancelled", "Paused", "Suspended"):  # fmt: skip
            assert state in states, state
        with page.expect_request(lambda r: "name=brok" in r.url, timeout=15_000):
            page.fill(f"{PANEL} input[aria-label='Search runs by name']", "brok")
        rows = page.locator(f"{PANEL} .jp-Flows-runRow")
        expect(rows).to_have_count(1, timeout=15_000)
        expect(row(page, "broken")).to_be_visible()
        page.fill(f"{PANEL} input[aria-label='Search runs by name']", "")
        with page.expect_request(lambda r: "kind=manual" in r.url, timeout=15_000):
            page.select_option(f"{PANEL} select[aria-label='Filter by kind']", "manual")
        expect(rows).to_have_count(2, timeout=15_000)  # the notebook and the Python deployment runs
        page.select_option(f"{PANEL} select[aria-label='Filter by kind']", "")
        # a date range in the future: nothing; today: the runs again
        with page.expect_request(lambda r: "since=" in r.url, timeout=15_000):
            page.fill(f"{PANEL} input[aria-label='Created from']", "2999-01-01")
        expect(
            page.locator(f"{PANEL} .jp-Flows-empty", has_text="No flow runs match.")
        ).to_be_visible(timeout=15_000)
        page.fill(f"{PANEL} input[aria-label='Created from']", "")
        expect(row(page, "etl")).to_be_visible(timeout=15_000)
        set_sidebar_width(page, 480)
        panel_screenshot(page, "run-list-wide.png")


class TestRunView:
    def test_deep_link_opens_the_run_and_copy_link_gives_it(
        self, world: dict[str, Any], lab: Lab, page: Any
    ) -> None:
        run_id = world["runs"]["manual"]["id"]
        page.goto(f"{lab.url}lab?flows-run={run_id}&token={TOKEN}", timeout=60_000)
        view = page.locator(f".jp-Flows-run[data-run-id='{run_id}']")
        expect(view.locator(".jp-Flows-runHeader")).to_contain_text("quick-manual", timeout=SLOW)
        expect(view.locator(".jp-Flows-runHeader")).to_contain_text("manual")
        view.get_by_role("button", name="Copy link").click()
        toast = page.locator(".Toastify__toast", has_text="Copied")
        expect(toast).to_contain_text(f"lab?flows-run={run_id}", timeout=10_000)
        text = toast.inner_text()
        link = re.search(r"(http\S+|/\S*lab\?flows-run=\S+)", text)
        assert link, text
        screenshot(page, "run-view-link.png", dismiss_toasts=False)
        # the notebook run has its output notebook; a Python run has none: no button
        expect(view.get_by_role("button", name="Output notebook")).to_be_visible()
        python_id = world["runs"]["python"]["id"]
        page.goto(f"{lab.url}lab?flows-run={python_id}&token={TOKEN}", timeout=60_000)
        py_view = page.locator(f".jp-Flows-run[data-run-id='{python_id}']")
        expect(py_view.locator(".jp-Flows-runHeader")).to_contain_text("py_etl", timeout=SLOW)
        expect(py_view.get_by_role("button", name="Copy link")).to_be_visible()
        expect(py_view.get_by_role("button", name="Output notebook")).to_have_count(0)

    def test_log_level_filter_and_search(self, world: dict[str, Any], page: Any) -> None:
        row(page, "etl").click()
        view = page.locator(".jp-Flows-run:visible")
        logs = view.locator(".jp-Flows-logLine")
        expect(logs.filter(has_text="extracting 4 rows")).to_have_count(1, timeout=SLOW)
        total = logs.count()
        assert total > 1
        view.locator("input[aria-label='Search logs']").fill("EXTRACTING")
        expect(logs).to_have_count(1)
        expect(view.locator(".jp-Flows-logTools")).to_contain_text(f"1 of {total} lines")
        view.locator("input[aria-label='Search logs']").fill("")
        view.locator("select[aria-label='Log level']").select_option("30")
        expect(logs).to_have_count(
            sum(
                1
                for lv in logs.evaluate_all("els => els.map(e => e.dataset.level)")
                if lv in ("WARNING", "ERROR", "CRITICAL")
            )
        )
        view.locator("select[aria-label='Log level']").select_option("20")
        expect(logs.filter(has_text="extracting 4 rows")).to_have_count(1)
        view.locator(".jp-Flows-logBox").scroll_into_view_if_needed()
        screenshot(page, "log-filter.png")

    def test_timeline_ticks_are_round_and_fill_the_view(
        self, world: dict[str, Any], page: Any
    ) -> None:
        row(page, "etl").click()
        view = page.locator(".jp-Flows-run:visible")
        svg = view.locator("svg.jp-Flows-timeline")
        expect(svg).to_be_visible(timeout=SLOW)
        seconds = [
            float(s)
            for s in svg.locator(".jp-Flows-tick").evaluate_all(
                "els => els.map(e => e.dataset.seconds)"
            )
        ]
        assert seconds[0] == 0 and len(seconds) >= 2
        step = seconds[1]
        mantissa = step / 10 ** math.floor(math.log10(step))
        assert round(mantissa, 6) in (1, 2, 5, 10), step
        for a, b in zip(seconds, seconds[1:], strict=False):
            assert abs((b - a) - step) < step * 1e-6
        inner = svg.evaluate(
            "svg => { const el = svg.parentElement; const s = getComputedStyle(el);"
            " return el.clientWidth - parseFloat(s.paddingLeft) - parseFloat(s.paddingRight); }"
        )
        assert abs(float(svg.get_attribute("width")) - inner) <= 2
        svg.scroll_into_view_if_needed()
        screenshot(page, "timeline.png")


class TestForms:
    def test_an_invalid_number_says_why_at_the_field(
        self, world: dict[str, Any], page: Any
    ) -> None:
        item = page.locator(f"{PANEL} li.jp-Flows-deployment[data-deployment='quick-manual']")
        item.get_by_role("button", name="Run now").click(timeout=SLOW)
        dialog = page.locator(".jp-Dialog .jp-Flows-dialog")
        field = dialog.locator("#jp-Flows-param-n")
        expect(field).to_have_value("3", timeout=15_000)
        field.fill("3x")
        error = dialog.locator(".jp-Flows-field[data-invalid='true'] .jp-Flows-fieldError")
        expect(error).to_have_text("“3x” is not an integer.")
        expect(field).to_have_attribute("aria-invalid", "true")
        screenshot(page, "run-dialog-invalid.png")
        page.locator(".jp-Dialog button.jp-mod-accept").click()
        # the dialog comes back, the value and the reason at the field kept
        expect(page.locator(".jp-Dialog #jp-Flows-param-n")).to_have_value("3x", timeout=10_000)
        expect(page.locator(".jp-Dialog .jp-Flows-fieldError")).to_have_text(
            "“3x” is not an integer."
        )
        page.locator(".jp-Dialog button.jp-mod-reject").click()

    def test_schedule_dialog_parameters_in_view_labels_and_server_errors(
        self, world: dict[str, Any], lab: Lab, page: Any
    ) -> None:
        page.goto(f"{lab.url}lab/tree/quick.ipynb?reset&token={TOKEN}")
        page.locator(".jp-Toolbar-item[data-jp-item-name='jupyter-flows-schedule']").click(
            timeout=SLOW
        )
        dialog = page.locator(".jp-Dialog .jp-Flows-dialog")
        n = dialog.locator("#jp-Flows-param-n")
        expect(n).to_be_visible(timeout=15_000)
        expect(n).to_be_in_viewport()
        expect(dialog.get_by_label("Cron expression")).to_be_visible()
        expect(dialog.get_by_label("Time zone")).to_be_visible()
        # a server 400 about a parameter is shown at that parameter
        n.fill("1.5")
        expect(dialog.locator(".jp-Flows-fieldError")).to_have_text("“1.5” is not an integer.")
        n.fill("7")
        dialog.get_by_label("Time zone").fill("Mars/Olympus")
        page.locator(".jp-Dialog button.jp-mod-accept").click()
        expect(page.locator(".jp-Dialog .jp-Flows-dialog")).to_be_visible(timeout=15_000)
        # the server's reason at the time zone field, said once (not also in a banner)
        zone = page.locator(".jp-Dialog .jp-Flows-field[data-field='Time zone']")
        expect(zone.locator(".jp-Flows-fieldError")).to_contain_text("Mars/Olympus", timeout=15_000)
        expect(page.locator(".jp-Dialog").get_by_text(re.compile("Mars/Olympus'"))).to_have_count(1)
        screenshot(page, "schedule-dialog.png")
        page.locator(".jp-Dialog button.jp-mod-reject").click()


class TestToasts:
    def test_a_failed_scheduled_run_and_an_automation_pause_are_toasted_once(
        self, world: dict[str, Any], lab: Lab, page: Any
    ) -> None:
        expect(row(page, "etl")).to_be_visible(timeout=SLOW)
        page.wait_for_timeout(6000)  # the first poll is the baseline: only later news is toasted
        lab.api("POST", "deployments", {
            "name": "failing", "entrypoint": "fail.ipynb", "schedules": [{"interval_seconds": 3}],
        })  # fmt: skip
        # (a run takes longer than this to fail: its kernel has to start)
        trigger = {"event": "flow-run.Failed", "match": {"deployment": "failing"}}
        lab.api("POST", "automations", {
            "name": "stop-failing", "trigger": trigger,
            "action": {"type": "pause-deployment", "deployment": "failing"},
        })  # fmt: skip
        failed = page.locator(
            ".Toastify__toast",
            has_text=re.compile("Scheduled run .* of deployment “failing” failed"),
        )
        expect(failed.first).to_be_visible(timeout=180_000)
        expect(failed.first).to_contain_text("the warehouse is closed")
        paused = page.locator(
            ".Toastify__toast", has_text="Automation “stop-failing” paused deployment “failing”"
        )
        expect(paused).to_have_count(1, timeout=120_000)
        expect(paused).to_contain_text("after flow-run.Failed")
        screenshot(page, "toasts.png", dismiss_toasts=False)
        page.wait_for_timeout(12_000)  # two more polls: still one toast each
        expect(paused).to_have_count(1)
        failed_runs = lab.api("GET", "flow_runs?kind=scheduled&state=Failed")["total"]
        assert failed.count() <= failed_runs
        item = page.locator(f"{PANEL} li.jp-Flows-deployment[data-deployment='failing']")
        expect(item).to_have_attribute("data-paused", "true", timeout=SLOW)
        expect(item.get_by_role("button", name="Resume failing")).to_have_text("Resume")
        expect(item.get_by_text("Paused", exact=True)).to_have_count(1)
        for close in page.locator(".jp-Notification-Toast-Close").all():
            close.click()
        item.scroll_into_view_if_needed()
        panel_screenshot(page, "deployment-paused.png", focus=item)
