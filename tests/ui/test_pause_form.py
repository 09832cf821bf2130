"""A paused run in a real JupyterLab (headless Chromium): its run view shows a form built
from the input it waits for; a bad value is refused at the field by the server, a good one
resumes the run, which completes. Screenshot: ``tests/artifacts/run-paused.png``."""

from __future__ import annotations

import subprocess
from typing import Any

import pytest

from tests.ui.lab import PY, Lab, screenshot, wait_for

pytest.importorskip("playwright")
from playwright.sync_api import expect  # noqa: E402

pytestmark = pytest.mark.slow

GATE = """
from jupyter_flows import flow
from jupyter_flows.flow_runs import pause_flow_run
from jupyter_flows.input import RunInput


class Approval(RunInput):
    '''Approve the quarterly report before it is sent.'''

    approved: bool
    copies: int = 1


@flow(name="approval-gate")
def gate() -> int:
    answer = pause_flow_run(wait_for_input=Approval, timeout=300, poll_interval=1)
    return answer.copies if answer.approved else 0


print(gate())
"""


def test_resume_a_paused_run_from_its_form(lab: Lab, page: Any) -> None:
    proc = subprocess.Popen([PY, "-c", GATE], env=lab.env, cwd=lab.root, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)  # fmt: skip
    try:
        row = page.locator("#jupyter-flows-panel .jp-Flows-runRow").first
        expect(row).to_have_attribute("data-state", "Paused", timeout=60_000)
        row.click()
        form = page.locator(".jp-Flows-pause")
        expect(form).to_contain_text("Approve the quarterly report", timeout=15_000)
        copies = form.locator("input[name='copies']")
        expect(copies).to_have_value("1")
        copies.fill("1.5")  # not an integer: the form says so, naming the field
        form.locator("button", has_text="Resume").click()
        expect(form.locator(".jp-Flows-banner")).to_contain_text("copies")
        form.locator("#jp-Flows-param-approved").check()
        copies.fill("3")
        screenshot(page, "run-paused.png")
        form.locator("button", has_text="Resume").click()
        header = page.locator(".jp-Flows-runHeader")
        expect(header).to_contain_text("Completed", timeout=30_000)
        out, _ = proc.communicate(timeout=30)
        assert out.strip().splitlines()[-1] == "3", out
    finally:
        if proc.poll() is None:
            proc.kill()
        wait_for(lambda: proc.poll() is not None, 10, "the flow process")
