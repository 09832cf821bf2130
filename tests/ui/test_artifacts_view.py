"""Artifacts in a real JupyterLab (headless Chromium): the panel lists the newest version of
each key, a click opens the run that made it, and the run view renders each artifact:
markdown through JupyterLab's sanitizer, a sortable table, a progress bar, an image, a link.
Screenshot: ``tests/artifacts/run-artifacts.png``."""

from __future__ import annotations

import subprocess
from typing import Any

import pytest

from tests.ui.lab import PY, Lab, screenshot

pytest.importorskip("playwright")
from playwright.sync_api import expect  # noqa: E402

pytestmark = pytest.mark.slow

PANEL = "#jupyter-flows-panel"
PIXEL = (
    "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk"
    "+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)
SCRIPT = f"""
from jupyter_flows import flow, task
from jupyter_flows.artifacts import (
    create_image_artifact, create_link_artifact, create_markdown_artifact,
    create_progress_artifact, create_table_artifact, update_progress_artifact,
)

@task
def regions() -> list[dict]:
    return [{{"region": "eu", "sales": 120}}, {{"region": "us", "sales": 300}},
            {{"region": "apac", "sales": 45}}]

@flow(name="sales-report")
def sales_report() -> None:
    bar = create_progress_artifact(0, key="sales-progress", description="regions loaded")
    rows = regions()
    update_progress_artifact(bar, 100)
    create_table_artifact(rows, key="sales-by-region", description="Sales by region")
    create_markdown_artifact(
        "# Quarterly sales\\n\\n**Total**: 465 <script>window.pwned = 1</script>"
        "<img src=x onerror='window.pwned = 2'>",
        key="sales-summary",
    )
    create_link_artifact("https://example.com/data.csv", "the raw data", key="sales-data")
    create_image_artifact("{PIXEL}", key="sales-chart")

sales_report()
"""


@pytest.fixture(scope="module")
def recorded(lab: Lab) -> Lab:
    subprocess.run([PY, "-c", SCRIPT], env=lab.env, cwd=lab.root, check=True,
                   capture_output=True, timeout=120)  # fmt: skip
    return lab


def test_the_panel_lists_keys_and_the_run_view_renders_artifacts(recorded: Lab, page: Any) -> None:
    keys = page.locator(f"{PANEL} .jp-Flows-artifactKeys li")
    expect(keys).to_have_count(5, timeout=20_000)
    expect(page.locator(f"{PANEL} [data-artifact-key='sales-progress']")).to_contain_text("100%")
    page.locator(f"{PANEL} [data-artifact-key='sales-summary'] button").click()
    # the key's history (test_artifact_history.py) links each version's run
    page.locator(f"{PANEL} .jp-Flows-versionRun").first.click()

    view = page.locator(".jp-Flows-run")
    expect(view.locator(".jp-Flows-runHeader")).to_contain_text("sales-report", timeout=15_000)
    cards = view.locator(".jp-Flows-artifact")
    expect(cards).to_have_count(5, timeout=15_000)

    summary = view.locator(".jp-Flows-artifact[data-artifact-key='sales-summary']")
    expect(summary.locator(".jp-Flows-markdown h1")).to_contain_text("Quarterly sales")
    expect(summary.locator("strong", has_text="Total")).to_be_visible()
    assert summary.locator("script").count() == 0
    assert page.evaluate("window.pwned === undefined"), "markdown ran a script"

    link = view.locator(".jp-Flows-artifact[data-artifact-key='sales-data'] a")
    expect(link).to_have_text("the raw data")
    expect(link).to_have_attribute("href", "https://example.com/data.csv")

    table = view.locator(".jp-Flows-artifact[data-artifact-key='sales-by-region'] table")
    first_cells = table.locator("tbody tr td:first-child")
    expect(first_cells).to_have_text(["eu", "us", "apac"])
    table.locator("th button", has_text="sales").click()
    expect(first_cells).to_have_text(["apac", "eu", "us"])
    table.locator("th button", has_text="sales").click()
    expect(first_cells).to_have_text(["us", "eu", "apac"])
    expect(table.locator("th").nth(1)).to_have_attribute("aria-sort", "descending")

    progress = view.locator(".jp-Flows-artifact[data-artifact-key='sales-progress'] progress")
    expect(progress).to_have_attribute("value", "100")
    expect(view.locator(".jp-Flows-artifact[data-artifact-key='sales-progress']")).to_contain_text(
        "regions loaded"
    )
    image = view.locator(".jp-Flows-artifact[data-artifact-key='sales-chart'] img")
    expect(image).to_have_attribute("src", PIXEL)
    # the task's artifact names its task run
    expect(view.locator(".jp-Flows-artifact[data-artifact-key='sales-progress']")).to_contain_text(
        "sales-progress"
    )
    view.locator("[data-section='artifacts']").scroll_into_view_if_needed()
    screenshot(page, "run-artifacts.png")
