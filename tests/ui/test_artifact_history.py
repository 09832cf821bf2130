"""An artifact key's history in the Flows panel of a real JupyterLab (headless Chromium):
several runs save artifacts under one key; a click on the key (or Enter) lists every version,
newest first, each with its run (a link to its run view), time, type and rendered content;
a version saved meanwhile appears. Screenshot (the 250 px side panel):
``tests/artifacts/artifact-history.png``."""

from __future__ import annotations

import subprocess
from typing import Any

import pytest

from tests.ui.lab import PY, Lab, panel_screenshot

pytest.importorskip("playwright")
from playwright.sync_api import expect  # noqa: E402

pytestmark = pytest.mark.slow

PANEL = "#jupyter-flows-panel"
KEY = "daily-report"
SCRIPT = """
import sys
from jupyter_flows import flow
from jupyter_flows.artifacts import create_markdown_artifact, create_table_artifact

@flow(name="daily")
def daily(day: int) -> None:
    if day < 3:
        text = f"# Report of day {day}\\n\\n**{day * 10}** rows"
        create_markdown_artifact(text, key="daily-report")
    else:
        create_table_artifact([{"day": day, "rows": day * 10}], key="daily-report")
    create_markdown_artifact("other key", key="other-key")

for day in map(int, sys.argv[1:]):
    daily(day)
"""


def _run_days(lab: Lab, *days: int) -> None:
    subprocess.run([PY, "-c", SCRIPT, *map(str, days)], env=lab.env, cwd=lab.root, check=True,
                   capture_output=True, timeout=120)  # fmt: skip


def test_a_keys_history_lists_every_version_with_its_run(lab: Lab, page: Any) -> None:
    _run_days(lab, 1, 2, 3)
    saved = lab.api("GET", f"artifacts?key={KEY}")["items"]
    assert [a["type"] for a in saved] == ["table", "markdown", "markdown"]  # newest first
    key = page.locator(f"{PANEL} .jp-Flows-artifactKeys [data-artifact-key='{KEY}'] button")
    expect(key).to_contain_text("table", timeout=20_000)
    key.focus()
    page.keyboard.press("Enter")

    history = page.get_by_role("region", name=f"History of {KEY}")
    expect(history.locator(".jp-Flows-historyCount")).to_have_text("3 versions")
    versions = history.locator(".jp-Flows-version")
    expect(versions).to_have_count(3)
    for version, artifact in zip(versions.all(), saved, strict=True):
        expect(version).to_have_attribute("data-artifact-id", artifact["id"])
        expect(version).to_contain_text(artifact["type"])
        expect(version.locator(".jp-Flows-versionRun")).to_have_text(artifact["flow_run_name"])
        expect(version.locator("time")).to_have_attribute("datetime", artifact["created"])
    expect(versions.nth(0)).to_contain_text("latest")
    expect(versions.nth(0).locator("table td").first).to_have_text("3")
    expect(versions.nth(1).locator(".jp-Flows-markdown h1")).to_contain_text("Report of day 2")
    expect(versions.nth(2).locator(".jp-Flows-markdown strong")).to_have_text("10")
    panel_screenshot(page, "artifact-history.png", history)

    _run_days(lab, 4)  # a new version shows up while the history is open
    expect(versions).to_have_count(4, timeout=20_000)
    expect(history.locator(".jp-Flows-historyCount")).to_have_text("4 versions")
    expect(versions.nth(0).locator("table td").first).to_have_text("4")

    oldest = saved[-1]
    versions.nth(3).locator(".jp-Flows-versionRun").click()
    view = page.locator(".jp-Flows-run")
    expect(view.locator(".jp-Flows-runHeader")).to_contain_text(oldest["flow_run_name"],
                                                                 timeout=15_000)  # fmt: skip
    expect(view.locator(f".jp-Flows-artifact[data-artifact-key='{KEY}'] h1")).to_contain_text(
        "Report of day 1"
    )

    history.get_by_role("button", name="Back to all artifact keys").click()
    expect(history).to_have_count(0)
    expect(page.locator(f"{PANEL} .jp-Flows-artifactKeys li")).to_have_count(2)
