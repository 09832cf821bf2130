"""Retry from failure in a real JupyterLab (headless Chromium): a failed deployment run's
view offers Retry; the retry opens in its own view, links back, reuses the completed task
run and completes. Screenshot: ``tests/artifacts/run-retry.png``."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.ui.lab import Lab, screenshot, wait_for

pytest.importorskip("playwright")
from playwright.sync_api import expect  # noqa: E402

pytestmark = pytest.mark.slow

FLAKY = """
from pathlib import Path
from jupyter_flows import flow, task

HERE = Path(__file__).parent

@task
def fetch() -> int:
    return 21

@task
def publish(n: int) -> int:
    if (HERE / "jammed").exists():
        raise RuntimeError("the printer is jammed")
    return n * 2

@flow(persist_result=True)
def printer() -> int:
    return publish(fetch())
"""


def test_retry_a_failed_run_from_the_run_view(lab: Lab, page: Any) -> None:
    (lab.root / "printer.py").write_text(FLAKY)
    (lab.root / "jammed").write_text("")
    deployment = lab.api(
        "POST", "deployments", {"name": "printer", "entrypoint": "printer.py:printer"}
    )
    first = lab.api("POST", f"deployments/{deployment['id']}/run", {})
    ended = ("COMPLETED", "FAILED", "CRASHED")
    wait_for(lambda: lab.api("GET", f"flow_runs/{first['id']}")["state_type"] in ended, 90,
             "the first run")  # fmt: skip
    assert lab.api("GET", f"flow_runs/{first['id']}")["state_name"] == "Failed"
    (lab.root / "jammed").unlink()

    row = page.locator("#jupyter-flows-panel .jp-Flows-runRow").first
    expect(row).to_have_attribute("data-state", "Failed", timeout=20_000)
    row.click()
    view = page.locator(f".jp-Flows-run[data-run-id='{first['id']}']")
    retry = view.locator("button", has_text=re.compile("^Retry$"))
    expect(retry).to_be_visible(timeout=15_000)
    retry.click()
    # the retry opens in a view of its own, which names the run it retries
    other = page.locator(f".jp-Flows-run:not([data-run-id='{first['id']}'])")
    expect(other.locator(".jp-Flows-runHeader")).to_contain_text("printer", timeout=15_000)
    expect(other.locator("button", has_text="Retry of")).to_be_visible()
    expect(other.locator(".jp-Flows-runHeader")).to_contain_text("Completed", timeout=90_000)
    expect(other.locator("table[aria-label='Task runs']")).to_contain_text("Cached")
    screenshot(page, "run-retry.png")
    other.locator("button", has_text="Retry of").click()
    expect(page.locator(f".jp-Flows-run[data-run-id='{first['id']}']")).to_be_visible()
